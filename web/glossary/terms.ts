// The glossary: every term that appears in field names, notes and narration, in one line
// each (plain words; the spec's own names). Loaded after the page's first paint: hover or focus
// a dotted term to read its line; the Glossary page lists them all. Sources: discv5-wire.md and
// discv5-theory.md (v5.1), EIP-778 (ENR), the Bitcoin developer reference and BIPs named.

export interface Term {
  term: string;
  /** One line, plain words. */
  def: string;
  /** Other spellings that mean the same (field names, plurals). */
  also?: string[];
  link?: string;
}

const DV5 = 'https://github.com/ethereum/devp2p/blob/master/discv5/discv5-wire.md';
const THEORY = 'https://github.com/ethereum/devp2p/blob/master/discv5/discv5-theory.md';
const BTC = 'https://developer.bitcoin.org/reference/p2p_networking.html';

export const TERMS: Term[] = [
  // Nodes and records
  { term: 'node', def: 'A program taking part in a peer-to-peer network; here your browser runs one, and the lab runs others.' },
  { term: 'peer', def: 'The other node you are talking to.', also: ['peers'] },
  { term: 'ENR', def: 'Ethereum Node Record: a signed, versioned card saying who a node is (its public key) and where to reach it (IP, ports).', also: ['ENRs', 'record', 'node record', 'record (RLP)'], link: 'https://eips.ethereum.org/EIPS/eip-778' },
  { term: 'enode', def: 'An older way to write a node’s address: enode://<public key>@ip:port. It has no signature and no seq.', also: ['enode URL'] },
  { term: 'node id', def: 'A node’s 32-byte name: keccak256 of its public key. Distances between nodes are measured on it.', also: ['node-id', 'node ids', 'id', 'node-id-A', 'node-id-B'] },
  { term: 'seq', def: 'An ENR’s version number: it goes up every time the node changes its record.', also: ['ENR seq'] },
  { term: 'enr-seq', def: 'The seq of the ENR the sender has of you (0 = none): if yours is newer, it asks for it.' },
  { term: 'v4', def: 'The ENR identity scheme “v4”: records signed with secp256k1 and node id = keccak256(public key).' },
  { term: 'secp256k1', def: 'The elliptic curve of Bitcoin and Ethereum keys; in an ENR, the node’s compressed public key (33 bytes).' },
  { term: 'signature', def: 'Proof made with a private key that anyone with the public key can check.' },
  { term: 'ip', def: 'The node’s IPv4 address, as its ENR states it.', also: ['ip6'] },
  { term: 'udp', def: 'The UDP port the node listens on, as its ENR states it.', also: ['udp6'] },
  { term: 'tcp', def: 'A TCP port in the ENR (for RLPx); also the connection transport Bitcoin uses.', also: [] },
  { term: 'key', def: 'In an ENR: the name of a key/value pair (id, ip, secp256k1, udp…). Elsewhere: a cryptographic key.' },
  { term: 'value', def: 'In an ENR: the value of a key/value pair.' },
  { term: 'eth', def: 'ENR entry of Ethereum mainnet-style nodes: the fork id (fork-hash, fork-next).', also: ['fork-hash', 'fork-next'] },
  { term: 'eth2', def: 'ENR entry of consensus-layer nodes: fork_digest, next_fork_version, next_fork_epoch.', also: ['fork_digest', 'next_fork_version', 'next_fork_epoch'] },
  { term: 'lab node', def: 'A real node (chainsafe discv5 or bcoin) started on this machine for you to talk to.', also: ['lab nodes', 'lab'] },
  { term: 'bridge', def: 'The small local server that carries your browser node’s packets to real UDP/TCP sockets; it refuses addresses its policy does not allow.' },
  // Packets
  { term: 'datagram', def: 'One UDP packet as it travels: discv5 sends each message in one datagram.' },
  { term: 'packet', def: 'One discv5 datagram: masking-iv, masked header, and (except WHOAREYOU) an encrypted message.' },
  { term: 'masking', def: 'The header is XORed with AES-CTR keyed by the recipient’s node id, so observers cannot read or fingerprint it.', also: ['masked', 'unmask', 'unmasked'] },
  { term: 'masking-iv', def: '16 random bytes at the start of a packet: the IV of the header masking.', link: `${DV5}#protocol-header` },
  { term: 'masked-header', def: 'The header as sent: masked with AES-CTR (key = recipient’s node id[:16], iv = masking-iv).', also: ['masked header', 'unmasked header'] },
  { term: 'masking-key', def: 'The key of the header masking: the first 16 bytes of the recipient’s node id.', also: ['masking-key (our node-id[:16])'] },
  { term: 'protocol-id', def: 'The 6 bytes "discv5" at the start of every unmasked header: wrong masking shows up here at once.' },
  { term: 'version', def: 'discv5: the header’s protocol version (0x0001). Bitcoin: the protocol version a node speaks (e.g. 70016), and the name of its first message.' },
  { term: 'flag', def: 'The packet type: 0 ordinary message, 1 WHOAREYOU, 2 handshake.' },
  { term: 'nonce', def: 'A number used once: discv5’s 12-byte AES-GCM nonce in each header; Bitcoin’s random 8 bytes that catch self-connections.', also: ['nonces', 'request-nonce'] },
  { term: 'authdata', def: 'The header’s variable part: what the packet type needs (src-id; the challenge; the handshake’s signature and key).' },
  { term: 'authdata-size', def: 'How many bytes of authdata follow in the header.' },
  { term: 'src-id', def: 'The sender’s node id, inside the masked header.' },
  { term: 'message', def: 'The request or answer inside a packet (PING, PONG, FINDNODE…); in the timeline also the name of an ordinary message packet.', also: ['messages', 'ordinary', 'ordinary message', 'message packet', 'message fields', 'message (plaintext)'] },
  { term: 'random packet', def: 'A first ordinary message packet sent before any session: sealed with a throw-away key, so the peer cannot read it and answers WHOAREYOU.', also: ['random'] },
  { term: 'WHOAREYOU', def: 'The challenge packet: “I could not read that — prove who you are”. Carries id-nonce and enr-seq; no message.', link: `${DV5}#whoareyou-packet-flag--1` },
  { term: 'handshake', def: 'discv5: the packet that answers WHOAREYOU with a signature, an ephemeral key and the re-sent message. Bitcoin: version/verack.', also: ['handshakes', 'handshake packet'] },
  { term: 'challenge', def: 'WHOAREYOU’s content: a random id-nonce the other side must sign.' },
  { term: 'challenge-data', def: 'The whole unmasked WHOAREYOU (masking-iv ‖ header): salts the keys and is covered by the signature.' },
  { term: 'id-nonce', def: '16 random bytes in WHOAREYOU: the initiator signs them, so an old signature cannot be replayed.', link: `${DV5}#whoareyou-packet-flag--1` },
  { term: 'id-signature', def: 'The initiator’s signature over challenge-data, its ephemeral public key and the recipient’s id: proves it owns its ENR’s key.' },
  { term: 'sig-size', def: 'Length of id-signature in bytes (64).' },
  { term: 'eph-key-size', def: 'Length of the ephemeral public key in bytes (33, compressed).' },
  { term: 'eph-pubkey', def: 'The handshake’s one-time public key; the recipient does ECDH with it.', also: ['ephemeral-pubkey'] },
  { term: 'ephemeral key', def: 'A key pair made for one handshake and then forgotten (forward secrecy).', also: ['ephemeral-key', 'ephemeral'] },
  { term: 'ciphertext', def: 'The encrypted message bytes.' },
  { term: 'tag', def: 'AES-GCM’s 16-byte authentication tag: any changed bit in the message or header makes decryption fail.' },
  { term: 'message-ad', def: 'The AES-GCM associated data: masking-iv ‖ unmasked header — authenticated, not encrypted.', also: ['associated data', 'AD'] },
  { term: 'message-pt', def: 'The message plaintext: message-type ‖ RLP(message-data).', also: ['plaintext'] },
  { term: 'message-type', def: 'One byte naming the message: 0x01 PING, 0x02 PONG, 0x03 FINDNODE, 0x04 NODES, 0x05 TALKREQ, 0x06 TALKRESP.' },
  { term: 'message-data', def: 'The message’s fields as an RLP list.' },
  { term: 'RLP', def: 'Recursive Length Prefix: Ethereum’s encoding of byte strings and lists, each prefixed with its length.', also: ['rlp prefix', 'rlp list prefix', 'message (RLP)'], link: 'https://ethereum.org/en/developers/docs/data-structures-and-encoding/rlp/' },
  { term: 'request-id', def: 'Chosen by the requester (≤ 8 bytes) and echoed in the answer, so answers match requests.' },
  { term: 'PING', def: 'discv5 request: are you alive? Carries your ENR seq.' },
  { term: 'PONG', def: 'Answer to PING: echoes the request-id and tells you the IP and port it saw you at.' },
  { term: 'recipient-ip', def: 'In PONG: the IP address your PING came from, as the peer saw it.' },
  { term: 'recipient-port', def: 'In PONG: the UDP port your PING came from, as the peer saw it.' },
  { term: 'FINDNODE', def: 'discv5 request: send me the nodes you know at these log-distances.' },
  { term: 'NODES', def: 'Answer to FINDNODE: ENRs, split over several packets when many (total says how many packets).' },
  { term: 'total', def: 'In NODES: how many NODES packets make up this answer (records are split so each fits in a datagram).' },
  { term: 'distances', def: 'The log-distances a FINDNODE asks for.', also: ['distance'] },
  { term: 'log-distance', def: 'Distance between two node ids: the position of the highest differing bit of their XOR (1–256; 0 = same id). Kademlia buckets by it.', also: ['log-distances', 'd'], link: `${THEORY}#node-table` },
  { term: 'TALKREQ', def: 'discv5 request carrying another protocol’s bytes (e.g. Portal); the protocol field names it.', also: ['Talk request'] },
  { term: 'TALKRESP', def: 'Answer to TALKREQ; empty when the peer does not speak that protocol.' },
  { term: 'protocol', def: 'In TALKREQ: the name of the protocol the request is for (e.g. "echo").' },
  { term: 'request', def: 'In TALKREQ: the application’s request bytes.' },
  { term: 'response', def: 'In TALKRESP: the application’s answer bytes.' },
  // Crypto
  { term: 'session', def: 'Two nodes that share keys after a handshake: later messages are encrypted at once, with no handshake.', also: ['session keys'] },
  { term: 'initiator', def: 'The side that sent the first packet and answered the WHOAREYOU.' },
  { term: 'recipient', def: 'The side that received the first packet and sent the WHOAREYOU.' },
  { term: 'initiator-key', def: 'The session key that encrypts initiator → recipient.' },
  { term: 'recipient-key', def: 'The session key that encrypts recipient → initiator.' },
  { term: 'ECDH', def: 'Elliptic-curve Diffie–Hellman: each side combines its private key with the other’s public key and both get the same secret.', also: ['shared secret', 'secret'] },
  { term: 'HKDF', def: 'HMAC-based key derivation (RFC 5869): extract a PRK from a secret and a salt, then expand it into keys.', also: ['HKDF-extract', 'HKDF-expand'], link: 'https://www.rfc-editor.org/rfc/rfc5869' },
  { term: 'PRK', def: 'Pseudo-random key: HKDF-extract’s output, HMAC-SHA256(salt, secret).' },
  { term: 'salt', def: 'HKDF’s non-secret input that makes keys unique to one context (here challenge-data).' },
  { term: 'IKM', def: 'Input keying material: the secret HKDF starts from (here the ECDH shared secret).' },
  { term: 'info', def: 'HKDF-expand’s context string: "discovery v5 key agreement" ‖ node-id-A ‖ node-id-B.' },
  { term: 'AES-GCM', def: 'Authenticated encryption: AES in counter mode plus a 16-byte tag that detects any change.', also: ['AES-128-GCM'] },
  { term: 'AES-CTR', def: 'AES in counter mode: a keystream XORed with the bytes (used for header masking).', also: ['AES-128-CTR'] },
  // Kademlia
  { term: 'routing table', def: 'A node’s list of other nodes, kept in buckets by log-distance.', also: ['table'] },
  { term: 'bucket', def: 'The routing table’s group of nodes at one log-distance (up to 16 each).', also: ['buckets'] },
  { term: 'lookup', def: 'Asking ever closer nodes (α = 3 at a time) for the nodes nearest a target id.' },
  { term: 'records', def: 'In a lookup or NODES answer: the ENRs received.' },
  // Tool words
  { term: 'Step mode', def: 'Your node stops before every packet it sends and after every packet it receives, and explains it.', also: ['Step'] },
  { term: 'Replay', def: 'The spec’s own test-vector handshake, run offline by two real engines and compared byte for byte.' },
  { term: 'test vector', def: 'Exact bytes a spec publishes so implementations can check they produce the same.', also: ['vector', 'vectors', 'spec vector'] },
  { term: 'lifeline', def: 'A vertical line on the timeline, one per node; arrows between them are packets.' },
  // Bitcoin
  { term: 'magic', def: 'Bitcoin: 4 bytes naming the network (mainnet f9beb4d9); a message with another magic is dropped.', link: `${BTC}#message-headers` },
  { term: 'command', def: 'Bitcoin: the message name in ASCII, padded to 12 bytes.' },
  { term: 'length', def: 'Bitcoin: the payload size in bytes.' },
  { term: 'checksum', def: 'Bitcoin: first 4 bytes of SHA256(SHA256(payload)); catches corruption, not tampering.' },
  { term: 'payload', def: 'Bitcoin: the message body after the 24-byte header.' },
  { term: 'message header', def: 'Bitcoin’s 24 bytes before every payload: magic, command, length, checksum.' },
  { term: 'verack', def: 'Bitcoin: “I accept your version”. One each way completes the handshake.' },
  { term: 'services', def: 'Bitcoin: bit flags of what a node offers (NODE_NETWORK: full blocks, NODE_WITNESS: segwit…).', also: ['addr_recv services', 'addr_trans services', 'NODE_NETWORK', 'NODE_WITNESS', 'NODE_BLOOM', 'NODE_NETWORK_LIMITED', 'NODE_COMPACT_FILTERS', 'NODE_P2P_V2', 'NODE_GETUTXO'] },
  { term: 'timestamp', def: 'Bitcoin: the sender’s clock, Unix seconds.' },
  { term: 'addr_recv', def: 'Bitcoin: how the sender sees your address and port.', also: ['addr_recv IP address', 'addr_recv port'] },
  { term: 'addr_trans', def: 'Bitcoin: the sender’s own address; modern nodes send zeros.', also: ['addr_trans IP address', 'addr_trans port'] },
  { term: 'user_agent', def: 'Bitcoin: the node software’s name and version, e.g. /bcoin:2.2.0/ (BIP 14).', also: ['user_agent bytes', 'user agent'] },
  { term: 'start_height', def: 'Bitcoin: the height of the sender’s best block.' },
  { term: 'relay', def: 'Bitcoin: whether to announce unconfirmed transactions to the sender (BIP 37).' },
  { term: 'compactSize', def: 'Bitcoin’s variable-length integer: 1, 3, 5 or 9 bytes.' },
  { term: 'wtxidrelay', def: 'Bitcoin (BIP 339): announce transactions by witness txid; sent between version and verack.' },
  { term: 'sendaddrv2', def: 'Bitcoin (BIP 155): send addresses in addrv2 format (Tor v3, I2P…); sent between version and verack.' },
  { term: 'feerate', def: 'Bitcoin feefilter (BIP 133): the lowest fee rate worth announcing, satoshis per 1000 bytes.' },
  { term: 'announce', def: 'Bitcoin sendcmpct (BIP 152): 1 = push new blocks as compact blocks at once.' },
  // Generic dissection words
  { term: 'unread', def: 'Bytes the decoder did not reach (decoding stopped earlier).', also: ['trailing bytes', 'extra bytes'] },
];

export type GlossaryIndex = Map<string, Term>;

/** Every spelling → its term (lower case). */
export function indexTerms(terms: readonly Term[] = TERMS): GlossaryIndex {
  const m: GlossaryIndex = new Map();
  for (const t of terms) for (const k of [t.term, ...(t.also ?? [])]) if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), t);
  return m;
}

/** A field name's term: its spelling, without an index ("distance[0]", "ENR[2]"), or its last word ("sendcmpct payload"). */
export function termOf(index: GlossaryIndex, name: string): Term | undefined {
  const key = termKey(index, name);
  return key === undefined ? undefined : index.get(key);
}

/** The index key a name is found under (see termOf). */
export function termKey(index: GlossaryIndex, name: string): string | undefined {
  const n = name.toLowerCase();
  return [n, n.replace(/\[\d+\]$/, ''), n.split(' ').at(-1) ?? n].find((k) => index.has(k));
}

// What Step mode says at each moment of a discv5 exchange: plain words for a workshop
// audience first, then the spec's own words (quoted from ethereum/devp2p discv5-theory.md and
// discv5-wire.md, v5.1) with a link to the section. Loaded with the stepper (registry `narration`).
import { SPEC } from '../../shared/discv5/spec.ts';
import type { Moment, Narration, RecordView } from './types.ts';

export interface NarrationText {
  id: string;
  title: string;
  /** Plain words; {peer}, {message}, {size} are filled in. */
  plain: string;
  /** The spec's words, quoted. */
  spec: string;
  /** Where the quote comes from. */
  section: string;
  link: string;
}

const text = (l: NarrationText) => l;

export const NARRATION = {
  sendRandom: text({
    id: 'send-random',
    title: 'About to send: a request nobody can read yet',
    plain:
      'Your browser has no session with {peer}, so it has no keys to encrypt with. It sends the {message} anyway, sealed with a throw-away random key. ' +
      '{peer} will fail to decrypt it — and that is the point: failing is how it learns it must ask “who are you?”. ' +
      'The header is readable by {peer} only: it is masked with {peer}’s node id.',
    spec:
      'If node A has session keys from prior communication with B, it encrypts its request with those keys. If no keys are known, it initiates the handshake by sending an ordinary message packet with random message content.',
    section: 'discv5-theory · Step 1: Node A sends message packet',
    link: SPEC.step1,
  }),
  arrived: text({
    id: 'arrived',
    title: 'A datagram arrived — not read yet',
    plain:
      '{size} bytes came in from {peer}. So far your node knows only the sender’s IP address and port. Press → to unmask the header with your own node id and see what it is.',
    spec:
      'The recipient constructs an AES/CTR stream cipher using its own node ID (dest-id) as the key and taking the IV from the packet. It can then decrypt the static-header and verify that protocol-id matches the expected string.',
    section: 'discv5-wire · Protocol Header',
    link: SPEC.header,
  }),
  recvWhoareyou: text({
    id: 'recv-whoareyou',
    title: 'Received WHOAREYOU: the peer challenges you',
    plain:
      '{peer} could not read your {message} and answers with a challenge. Its nonce is the nonce of your packet, so you know which request it answers. ' +
      'It carries a random id-nonce you must sign, and enr-seq: the version of your record {peer} already has (0 = none). ' +
      'This whole unmasked packet becomes “challenge-data”, which salts the session keys: they are bound to this one challenge.',
    spec:
      'Node A receives the challenge sent by node B, which confirms that node B is alive and is ready to perform the handshake. The challenge can be traced back to the request packet which solicited it by checking the nonce, which mirrors the request packet’s nonce.',
    section: 'discv5-theory · Step 3: Node A processes the challenge',
    link: SPEC.step3,
  }),
  sendHandshake: text({
    id: 'send-handshake',
    title: 'About to send: the handshake',
    plain:
      'Your node made a fresh ephemeral key pair, did ECDH with {peer}’s public key (from its ENR), and ran HKDF with challenge-data as salt to get two keys: initiator-key (you → {peer}) and recipient-key ({peer} → you). ' +
      'It signs the challenge with its identity key (id-signature) so {peer} knows who you are, and re-sends the {message}, now encrypted with initiator-key. See the Key schedule tab.',
    spec:
      'Node A creates the id-signature, which proves that it controls the private key which signed its node record. The signature also prevents replay of the handshake. […] The request is now re-sent, with the message encrypted using the new session keys.',
    section: 'discv5-theory · Step 3: Node A processes the challenge',
    link: SPEC.step3,
  }),
  recvResponse: text({
    id: 'recv-response',
    title: 'Received {message}: the session works',
    plain:
      '{peer} verified your signature, derived the same keys from your ephemeral public key, decrypted your request and answered it with recipient-key. ' +
      'Your node decrypted the answer: both sides hold the same keys, so the session is confirmed. Later requests skip the handshake.',
    spec:
      'Node A receives the message packet response and authenticates/decrypts it with the new session keys. If decryption/authentication succeeds, node B’s identity is verified and node A also considers the new session keys valid.',
    section: 'discv5-theory · Step 5: Node A receives response message',
    link: SPEC.step5,
  }),
  sendInSession: text({
    id: 'send-in-session',
    title: 'About to send: {message} in the existing session',
    plain: 'Your node already shares keys with {peer}, so the {message} goes straight out, encrypted with the session key and a fresh nonce. No handshake this time.',
    spec: 'If node A has session keys from prior communication with B, it encrypts its request with those keys.',
    section: 'discv5-theory · Step 1: Node A sends message packet',
    link: SPEC.step1,
  }),
  recvRandom: text({
    id: 'recv-random',
    title: 'Received a packet you cannot read: {peer} starts a handshake',
    plain:
      '{peer} sent a message, but your node has no session with it, so the message is unreadable (random to you). ' +
      'Now the roles are swapped: your browser is the recipient. It answers with WHOAREYOU, a challenge {peer} must sign.',
    spec:
      'If node B does not have session keys or decryption is not successful, it must initiate a handshake by responding with a WHOAREYOU packet. It first generates a unique id-nonce value and includes it in the packet.',
    section: 'discv5-theory · Step 2: Node B responds with challenge',
    link: SPEC.step2,
  }),
  sendWhoareyou: text({
    id: 'send-whoareyou',
    title: 'About to send: WHOAREYOU (you challenge {peer})',
    plain:
      'Your node picked a random id-nonce and says which version of {peer}’s record it knows (enr-seq, 0 = none). It remembers this challenge: {peer}’s handshake must sign exactly these bytes. WHOAREYOU carries no message.',
    spec:
      'Node B also checks if it has a copy of node A’s record. If it does, it also includes the sequence number of this record in the challenge packet, otherwise it sets the enr-seq field to zero.',
    section: 'discv5-theory · Step 2: Node B responds with challenge',
    link: SPEC.step2,
  }),
  recvHandshake: text({
    id: 'recv-handshake',
    title: 'Received {peer}’s handshake: verify, derive, decrypt',
    plain:
      'Your node checked the id-signature against the public key in {peer}’s record, did ECDH with its own key and {peer}’s ephemeral public key, derived the same two keys and decrypted the {message}. ' +
      'Everything matched: the session is established with your browser as the recipient.',
    spec:
      'Node B then verifies the id-signature against the identity public key of A’s record. After that, B can perform the key derivation using its own static private key and the ephemeral-pubkey from the handshake packet.',
    section: 'discv5-theory · Step 4: Node B receives handshake message',
    link: SPEC.step4,
  }),
  sendResponse: text({
    id: 'send-response',
    title: 'About to send: {message}, your answer',
    plain: 'Your node answers {peer}’s request in the session, encrypted with its own direction’s key. When {peer} reads it, {peer} knows the session works.',
    spec: 'If the message can be decrypted and authenticated, Node B considers the new session keys valid and responds to the message.',
    section: 'discv5-theory · Step 4: Node B receives handshake message',
    link: SPEC.step4,
  }),
  recvRequest: text({
    id: 'recv-request',
    title: 'Received a {message} in the session',
    plain: '{peer} sent a request encrypted with the session key; your node decrypted it and will answer.',
    spec: 'The first element of every message-data list is the request ID. […] The recipient of a message must mirror the value in the request-id element of the response.',
    section: 'discv5-wire · Protocol Messages',
    link: SPEC.messages,
  }),
  retransmit: text({
    id: 'retransmit',
    title: 'No answer: sending the same bytes again',
    plain:
      'Nothing came back in time. UDP may lose packets, so your node re-sends the very same datagram (same nonce): if {peer} got the first one, it recognises the repeat and answers the same way.',
    spec: 'Since UDP is a lossy transport, packets may be received in any order or not at all.',
    section: 'discv5-wire · UDP Communication',
    link: `${SPEC.header.split('#')[0]}#udp-communication`,
  }),
  rejected: text({
    id: 'rejected',
    title: 'Rejected: {reason}',
    plain: 'Your node refused this packet and changed nothing: a bad or unexpected packet can never break a session or the page.',
    spec: 'Implementations should not respond to packets with mismatching protocol-id.',
    section: 'discv5-wire · Protocol Header',
    link: SPEC.header,
  }),
  idle: text({
    id: 'idle',
    title: 'Step mode is on',
    plain:
      'Press Ping (or any action). Your node will stop before every packet it sends and after every packet it receives, and explain it. → steps one packet, Space plays or pauses. ' +
      'Your node’s clock stands still while it waits for you, so its timeouts never fire because you were talking.',
    spec: 'In the following definitions, we assume that node A wishes to communicate with node B, e.g. to send a FINDNODE message.',
    section: 'discv5-theory · Handshake Steps',
    link: SPEC.step1.replace(/#.*/, '#handshake-steps'),
  }),
} as const;

/** What each message is for, added under the narration when a packet carries it. */
export const MESSAGE_NOTES: Record<string, { plain: string; spec: string; link: string }> = {
  PING: { plain: 'PING asks “are you alive?” and tells the peer your record’s seq, so it can fetch a newer one.', spec: 'PING checks whether the recipient is alive and informs it about the sender’s ENR sequence number.', link: SPEC.ping },
  PONG: { plain: 'PONG answers PING and reports the IP and port it saw the PING come from: how the world sees you (here, the bridge’s UDP socket).', spec: 'PONG is the reply to PING.', link: SPEC.pong },
  FINDNODE: { plain: 'FINDNODE asks for the records the peer knows at given log-distances from itself (256 = the farthest half of all ids).', spec: 'FINDNODE queries for nodes at the given logarithmic distances from the recipient’s node ID.', link: SPEC.findnode },
  NODES: { plain: 'NODES carries signed node records (ENRs). Your node checks each one’s signature and distance before using it.', spec: 'When handling NODES as a response to FINDNODE, the recipient should verify that the received nodes match the requested distances.', link: SPEC.nodes },
  TALKREQ: { plain: 'TALKREQ carries a request for another protocol built on discv5 (e.g. Portal).', spec: 'TALKREQ sends an application-level request.', link: SPEC.talkreq },
  TALKRESP: { plain: 'TALKRESP answers TALKREQ; it is empty when the peer does not speak that protocol.', spec: 'If the protocol is unknown to the recipient, it must respond with a TALKRESP response containing empty response data.', link: SPEC.talkresp },
};

export interface MomentInput {
  phase: 'before-send' | 'after-receive' | 'arrived';
  peer: string;
  kind?: string;
  message?: string;
  retransmit?: boolean;
  rejected?: string;
  size?: number;
}

const REQUESTS = new Set(['PING', 'FINDNODE', 'TALKREQ']);

/** The narration for one moment, placeholders filled. */
export function narrationFor(m: MomentInput): NarrationText {
  const pick = (): NarrationText => {
    if (m.phase === 'arrived') return NARRATION.arrived;
    if (m.rejected) return NARRATION.rejected;
    const request = m.message ? REQUESTS.has(m.message) : false;
    if (m.phase === 'before-send') {
      if (m.retransmit) return NARRATION.retransmit;
      if (m.kind === 'random') return NARRATION.sendRandom;
      if (m.kind === 'handshake') return NARRATION.sendHandshake;
      if (m.kind === 'WHOAREYOU') return NARRATION.sendWhoareyou;
      return request ? NARRATION.sendInSession : NARRATION.sendResponse;
    }
    if (m.kind === 'WHOAREYOU') return NARRATION.recvWhoareyou;
    if (m.kind === 'handshake') return NARRATION.recvHandshake;
    if (m.kind === 'ordinary' && !m.message) return NARRATION.recvRandom;
    return request ? NARRATION.recvRequest : NARRATION.recvResponse;
  };
  const l = pick();
  const fill = (s: string) =>
    s
      .replaceAll('{peer}', m.peer)
      .replaceAll('{message}', m.message ?? 'request')
      .replaceAll('{size}', String(m.size ?? '?'))
      .replaceAll('{reason}', m.rejected ?? '');
  return { ...l, title: fill(l.title), plain: fill(l.plain) };
}

/** The request a packet carries, also for random packets (whose message only our note names). */
const requestOf = (r: RecordView) => r.message?.type ?? /our (PING|FINDNODE|TALKREQ)/.exec(r.note ?? '')?.[1];

const asNarration = (l: NarrationText): Narration => ({ title: l.title, plain: l.plain, spec: l.spec, section: l.section, link: l.link });

/** What Step mode says at one moment of a discv5 exchange. */
export function narrate(m: Moment): Narration {
  if (m.phase === 'arrived') return asNarration(narrationFor({ phase: 'arrived', peer: m.peer, size: m.size }));
  const r = m.record;
  const l = narrationFor({ phase: m.phase, peer: m.peer, kind: r.kind, message: requestOf(r), retransmit: r.retransmit, rejected: r.rejected, size: r.raw.length });
  const note = r.message && !(m.phase === 'after-receive' && r.kind === 'WHOAREYOU') ? MESSAGE_NOTES[r.message.type] : undefined;
  return { ...asNarration(l), ...(note ? { extra: note.plain } : {}) };
}

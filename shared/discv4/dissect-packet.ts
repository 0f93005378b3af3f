// Every byte of a discv4 packet, layer by layer: the datagram (hash ‖ signature ‖ packet-type ‖
// packet-data ‖ ignored trailing bytes), then packet-data's RLP with each element named as the
// spec names it. The UI renders this generically.
import { toHex } from '../bytes.ts';
import type { Dissection, Field, Layer } from '../dissect.ts';
import { rlpStructure } from '../dissect.ts';
import { decodeEnr, enrFields } from '../enr/index.ts';
import { attempt } from '../errors.ts';
import { bytesToIp } from '../ip.ts';
import type { RlpItem } from '../rlp.ts';
import { decodePacket, parseMessage, splitPacket, summarizeMessage, type DecodeOptions, type Discv4Message, type PacketParts } from './packet.ts';
import { HASH_SIZE, HEADER_SIZE, isPacketType, SIGNATURE_SIZE, SPEC, TYPE_NAMES, TYPE_SPEC } from './spec.ts';

const hex = (b: Uint8Array, max = 40) => `0x${toHex(b.subarray(0, max))}${b.length > max ? '…' : ''}`;

/** Dissects a datagram. Expiration is not checked by default: a recorded packet stays readable. */
export function dissectDiscv4(raw: Uint8Array, options: DecodeOptions = { checkExpiration: false }): Dissection {
  const parts = splitPacket(raw);
  if (!parts.ok) {
    return {
      protocol: 'discv4',
      kind: 'rejected',
      summary: `rejected: ${parts.error.reason}`,
      layers: [{ name: 'datagram', bytes: raw, fields: raw.length ? [{ name: 'datagram', offset: 0, length: raw.length, value: `${raw.length} bytes`, meaning: 'Bytes that do not form a discv4 packet (hash ‖ signature ‖ packet-type ‖ RLP packet-data, at most 1280 bytes).', spec: SPEC.wire }] : [] }],
      error: parts.error.reason,
    };
  }
  const p = parts.value;
  const decoded = decodePacket(raw, options);
  const layers: Layer[] = [datagramLayer(raw, p, decoded.ok ? toHex(decoded.value.nodeId) : undefined)];
  const name = isPacketType(p.type) ? TYPE_NAMES[p.type] : `type 0x${p.type.toString(16)}`;
  let message: Discv4Message | undefined;
  if (isPacketType(p.type)) {
    const m = attempt(() => parseMessage(p.type as 1, p.data, raw));
    if (m.ok) message = m.value;
  }
  // The list's elements are the layer's top-level fields (open at once); the list's meaning is the layer's note.
  const data = dataField(p.type, p.data, raw);
  layers.push({ name: 'packet-data (RLP)', bytes: raw.subarray(HEADER_SIZE, HEADER_SIZE + p.data.length), fields: data.children ?? [data], note: data.meaning });
  const error = decoded.ok ? undefined : decoded.error.reason;
  return {
    protocol: 'discv4',
    kind: error ? 'rejected' : name,
    summary: error ? `rejected: ${error}` : message ? summarizeMessage(message) : name,
    layers,
    ...(error ? { error } : {}),
  };
}

function datagramLayer(raw: Uint8Array, p: PacketParts, nodeId: string | undefined): Layer {
  const sig = p.signature;
  const fields: Field[] = [
    { name: 'hash', offset: 0, length: HASH_SIZE, value: hex(p.hash), meaning: 'keccak256(signature ‖ packet-type ‖ packet-data): an integrity check, and the id a PONG (ping-hash) or ENRResponse (request-hash) quotes back.', spec: SPEC.wire },
    {
      name: 'signature', offset: HASH_SIZE, length: SIGNATURE_SIZE, value: `${SIGNATURE_SIZE} bytes r ‖ s ‖ v`,
      meaning: `secp256k1 signature over keccak256(packet-type ‖ packet-data). The receiver recovers the sender's public key from it; keccak256 of that key is the sender's node id${nodeId ? ` (0x${nodeId.slice(0, 16)}…)` : ''}.`,
      spec: SPEC.wire,
      children: [
        { name: 'r', offset: HASH_SIZE, length: 32, value: hex(sig.subarray(0, 32)), meaning: 'The signature’s r: the x coordinate of the signer’s per-signature point.', spec: SPEC.wire },
        { name: 's', offset: HASH_SIZE + 32, length: 32, value: hex(sig.subarray(32, 64)), meaning: 'The signature’s s.', spec: SPEC.wire },
        { name: 'v', offset: HASH_SIZE + 64, length: 1, value: `${sig[64]}`, meaning: 'Recovery id (0 or 1): which of the two candidate points r names, so the public key can be recovered.', spec: SPEC.wire },
      ],
    },
    { name: 'packet-type', offset: HEADER_SIZE - 1, length: 1, value: `0x${p.type.toString(16).padStart(2, '0')} (${isPacketType(p.type) ? TYPE_NAMES[p.type] : 'unknown'})`, meaning: 'Which packet this is: 1 PING, 2 PONG, 3 FINDNODE, 4 NEIGHBORS, 5 ENRRequest, 6 ENRResponse.', spec: isPacketType(p.type) ? TYPE_SPEC[p.type] : SPEC.wire },
    { name: 'packet-data', offset: HEADER_SIZE, length: p.data.length, value: `RLP list of ${p.data.kind === 'list' ? p.data.items.length : 0} items, ${p.data.length} bytes`, meaning: 'The packet’s fields, RLP-encoded (next layer).', spec: isPacketType(p.type) ? TYPE_SPEC[p.type] : SPEC.wire },
  ];
  if (p.trailing > 0) fields.push({ name: 'trailing data', offset: raw.length - p.trailing, length: p.trailing, value: `${p.trailing} bytes`, meaning: 'Bytes after the RLP list. EIP-8: a receiver ignores them, so later versions can add data old nodes skip.', spec: SPEC.eip8 });
  return { name: 'datagram', bytes: raw, fields };
}

// ---------------------------------------------------------------- packet-data, element by element

interface Named {
  name: string;
  value?: string;
  meaning: string;
  spec?: string;
}

/** A byte-string element with its spec name (the RLP prefix, if any, stays its own child). */
function leaf(item: RlpItem, base: number, n: Named): Field {
  const f = rlpStructure(item, n.name, base);
  const value = n.value ?? f.value;
  if (f.children) return { ...f, value, meaning: n.meaning, ...(n.spec ? { spec: n.spec } : {}), children: f.children.map((c) => (c.name === 'rlp prefix' ? c : { ...c, name: n.name, value })) };
  return { ...f, value, meaning: n.meaning, ...(n.spec ? { spec: n.spec } : {}) };
}

/** A list element: its RLP prefix, then the named children. */
function list(item: RlpItem, base: number, n: Named, children: Field[]): Field {
  const f = rlpStructure(item, n.name, base);
  return { ...f, value: n.value ?? f.value, meaning: n.meaning, ...(n.spec ? { spec: n.spec } : {}), children: [f.children![0], ...children] };
}

/** Extra elements (EIP-8): named generically, shown as RLP. */
const extra = (item: RlpItem, base: number, i: number): Field => ({ ...rlpStructure(item, `extra[${i}]`, base), meaning: 'An element this version does not define. EIP-8: ignored, so a newer node can add fields.', spec: SPEC.eip8 });

const int = (item: RlpItem): string | undefined => {
  if (item.kind !== 'bytes' || item.value.length > 8) return undefined;
  let n = 0n;
  for (const b of item.value) n = (n << 8n) | BigInt(b);
  return n.toString();
};

function expirationField(item: RlpItem, base: number, spec: string): Field {
  const s = int(item);
  const when = s ? new Date(Number(s) * 1000).toISOString().replace('.000Z', 'Z') : undefined;
  return leaf(item, base, { name: 'expiration', value: s ? `${s} (${when})` : undefined, meaning: 'Unix time (seconds) after which the packet is void: a receiver drops expired packets, so a captured packet cannot be replayed later.', spec });
}

function endpointField(item: RlpItem, base: number, name: string, meaning: string, spec: string): Field {
  if (item.kind !== 'list') return leaf(item, base, { name, meaning, spec });
  const [ip, udp, tcp, ...rest] = item.items;
  const children: Field[] = [];
  if (ip) children.push(leaf(ip, base, { name: 'ip', value: ipText(ip), meaning: 'IP address: 4 bytes IPv4 or 16 bytes IPv6.', spec }));
  if (udp) children.push(leaf(udp, base, { name: 'udp-port', value: int(udp), meaning: 'UDP port: where discovery packets go.', spec }));
  if (tcp) children.push(leaf(tcp, base, { name: 'tcp-port', value: int(tcp), meaning: 'TCP port: where RLPx listens (0 when unknown).', spec }));
  rest.forEach((r, i) => children.push(extra(r, base, i)));
  return list(item, base, { name, meaning, spec, value: `${ip ? ipText(ip) : '?'} udp ${udp ? int(udp) : '?'} tcp ${tcp ? int(tcp) : '?'}` }, children);
}

const ipText = (item: RlpItem): string | undefined => (item.kind === 'bytes' ? bytesToIp(item.value) : undefined);

function enrSeqField(item: RlpItem, base: number, spec: string, i: number): Field {
  if (item.kind !== 'bytes') return extra(item, base, i);
  return leaf(item, base, { name: 'enr-seq', value: int(item), meaning: 'EIP-868: the sequence number of the sender’s node record. A higher one than you have means: ask for the new record (ENRRequest).', spec: SPEC.eip868 });
}

function dataField(type: number, data: RlpItem, raw: Uint8Array): Field {
  const base = HEADER_SIZE;
  if (data.kind !== 'list') return rlpStructure(data, 'packet-data', base);
  const items = data.items;
  const named = (fs: ((it: RlpItem) => Field)[]): Field[] => items.map((it, i) => (i < fs.length ? fs[i](it) : extra(it, base, i - fs.length)));
  const top = (spec: string, meaning: string, children: Field[]) => list(data, base, { name: 'packet-data', meaning, spec }, children);
  switch (type) {
    case 1:
      return top(SPEC.ping, 'PING: “are you there?” — also how two nodes prove their endpoints to each other (bonding).', named([
        (it) => leaf(it, base, { name: 'version', value: int(it), meaning: 'Protocol version: 4. EIP-8: a node accepts any version, and fields it does not know.', spec: SPEC.ping }),
        (it) => endpointField(it, base, 'from', 'The sender’s own endpoint as it believes it to be (receivers trust the UDP source address instead).', SPEC.ping),
        (it) => endpointField(it, base, 'to', 'The recipient’s endpoint as the sender sees it.', SPEC.ping),
        (it) => expirationField(it, base, SPEC.ping),
        (it) => enrSeqField(it, base, SPEC.eip868, 0),
      ]));
    case 2:
      return top(SPEC.pong, 'PONG: the answer to a PING. Quoting the PING’s hash proves the sender got it at this address: an endpoint proof.', named([
        (it) => endpointField(it, base, 'to', 'The address the PING came from, mirrored back: how a node learns its external endpoint.', SPEC.pong),
        (it) => leaf(it, base, { name: 'ping-hash', meaning: 'The hash of the PING this answers: only a node that received that PING can know it.', spec: SPEC.pong }),
        (it) => expirationField(it, base, SPEC.pong),
        (it) => enrSeqField(it, base, SPEC.eip868, 0),
      ]));
    case 3:
      return top(SPEC.findnode, 'FINDNODE: “which nodes do you know closest to this target?” Answered only for a node with a recent endpoint proof.', named([
        (it) => leaf(it, base, { name: 'target', meaning: 'A 64-byte public key; distance is measured to keccak256(target).', spec: SPEC.findnode }),
        (it) => expirationField(it, base, SPEC.findnode),
      ]));
    case 4: {
      const nodesField = (it: RlpItem): Field => {
        if (it.kind !== 'list') return leaf(it, base, { name: 'nodes', meaning: 'The nodes (a list was expected).', spec: SPEC.neighbors });
        return list(it, base, { name: 'nodes', value: `${it.items.length} nodes`, meaning: 'Up to 16 nodes closest to the target, split over several NEIGHBORS packets so each stays within 1280 bytes.', spec: SPEC.neighbors }, it.items.map((n, i) => nodeField(n, base, i)));
      };
      return top(SPEC.neighbors, 'NEIGHBORS: the answer to FINDNODE.', named([nodesField, (it) => expirationField(it, base, SPEC.neighbors)]));
    }
    case 5:
      return top(SPEC.enrRequest, 'ENRRequest (EIP-868): “send me your current node record”.', named([(it) => expirationField(it, base, SPEC.enrRequest)]));
    case 6:
      return top(SPEC.enrResponse, 'ENRResponse (EIP-868): the node record, and the hash of the request it answers.', named([
        (it) => leaf(it, base, { name: 'request-hash', meaning: 'The hash of the ENRRequest packet this answers.', spec: SPEC.enrResponse }),
        (it) => recordField(it, base, raw),
      ]));
    default:
      return rlpStructure(data, 'packet-data', base);
  }
}

function nodeField(n: RlpItem, base: number, i: number): Field {
  if (n.kind !== 'list') return leaf(n, base, { name: `node[${i}]`, meaning: 'A node (a list was expected).', spec: SPEC.neighbors });
  const [ip, udp, tcp, key, ...rest] = n.items;
  const children: Field[] = [];
  if (ip) children.push(leaf(ip, base, { name: 'ip', value: ipText(ip), meaning: 'The node’s IP address.', spec: SPEC.neighbors }));
  if (udp) children.push(leaf(udp, base, { name: 'udp-port', value: int(udp), meaning: 'Its discovery (UDP) port.', spec: SPEC.neighbors }));
  if (tcp) children.push(leaf(tcp, base, { name: 'tcp-port', value: int(tcp), meaning: 'Its RLPx (TCP) port.', spec: SPEC.neighbors }));
  if (key) children.push(leaf(key, base, { name: 'node-id', meaning: 'Its 64-byte public key (the spec calls it node-id here); the Kademlia id is keccak256 of it.', spec: SPEC.neighbors }));
  rest.forEach((r, j) => children.push(extra(r, base, j)));
  return list(n, base, { name: `node[${i}]`, value: `${ip ? ipText(ip) : '?'}:${udp ? int(udp) : '?'}`, meaning: 'One neighbour: [ip, udp-port, tcp-port, node-id].', spec: SPEC.neighbors }, children);
}

function recordField(it: RlpItem, base: number, raw: Uint8Array): Field {
  const bytes = raw.subarray(it.offset, it.offset + it.length);
  const enr = decodeEnr(bytes);
  const value = enr.ok ? `record seq ${enr.value.seq}, node 0x${toHex(enr.value.nodeId).slice(0, 16)}…, signature valid` : `record: ${enr.error.reason}`;
  const [f] = enrFields(bytes, it.offset - base);
  return { ...f, name: 'record', value, meaning: enr.ok ? 'The sender’s node record (EIP-778), signed by its key; it must be the sender’s own.' : 'A node record (EIP-778) that does not verify.', spec: SPEC.enrResponse };
}

// Discovery v4 packets (discv4.md "Wire Protocol", EIP-8, EIP-868):
//   packet = hash ‖ signature ‖ packet-type ‖ packet-data
//   hash = keccak256(signature ‖ packet-type ‖ packet-data)
//   signature = sign(keccak256(packet-type ‖ packet-data)), 65 bytes r ‖ s ‖ v
// The sender's node id is keccak256 of the public key recovered from the signature: nothing else
// in a packet says who sent it. EIP-8: extra list elements and bytes after the list are ignored.
import { bytesToBigint, equalBytes, toHex } from '../bytes.ts';
import { keccak256 } from '../crypto/hashes.ts';
import { convertPublicKey, recoverPublicKey, signHashRecoverable } from '../crypto/secp256k1.ts';
import { attempt, fail, type Result } from '../errors.ts';
import { bytesToIp, ipToBytes } from '../ip.ts';
import { asBigint, asBytes, asList, decodeRlpPrefix, encodeRlp, encodeRlpList, rlpUint, type RlpInput, type RlpItem } from '../rlp.ts';
import {
  ENR_REQUEST, ENR_RESPONSE, FINDNODE, HASH_SIZE, HEADER_SIZE, isPacketType, MAX_PACKET_SIZE, NEIGHBORS, PING, PONG, PUBKEY_SIZE,
  SIGNATURE_SIZE, TYPE_NAMES, type PacketType,
} from './spec.ts';

/** endpoint = [ip, udp-port, tcp-port]; a port of 0 is sent as the empty string. */
export interface NodeEndpoint {
  ip: string;
  udp: number;
  tcp: number;
}

/** A node as NEIGHBORS lists it: its endpoint and its 64-byte public key x ‖ y. */
export interface NeighborNode extends NodeEndpoint {
  publicKey: Uint8Array;
}

export type Discv4Message =
  | { type: 'PING'; version: number; from: NodeEndpoint; to: NodeEndpoint; expiration: number; enrSeq?: bigint }
  | { type: 'PONG'; to: NodeEndpoint; pingHash: Uint8Array; expiration: number; enrSeq?: bigint }
  | { type: 'FINDNODE'; target: Uint8Array; expiration: number }
  | { type: 'NEIGHBORS'; nodes: NeighborNode[]; expiration: number }
  | { type: 'ENRRequest'; expiration: number }
  | { type: 'ENRResponse'; requestHash: Uint8Array; record: Uint8Array };

export type MessageName = Discv4Message['type'];

const TYPE_OF: Record<MessageName, PacketType> = { PING, PONG, FINDNODE, NEIGHBORS, ENRRequest: ENR_REQUEST, ENRResponse: ENR_RESPONSE };

export interface EncodedPacket {
  raw: Uint8Array;
  hash: Uint8Array;
  /** keccak256(packet-type ‖ packet-data): what the signature signs. */
  signingHash: Uint8Array;
  signature: Uint8Array;
}

/** The layout of a packet before any check beyond sizes and RLP structure (for dissection too). */
export interface PacketParts {
  hash: Uint8Array;
  signature: Uint8Array;
  type: number;
  /** The packet-data list as decoded (offsets within the whole packet). */
  data: RlpItem;
  /** Bytes after the RLP list (EIP-8: ignored). */
  trailing: number;
}

export interface Discv4Packet extends PacketParts {
  type: PacketType;
  raw: Uint8Array;
  signingHash: Uint8Array;
  /** The sender's key recovered from the signature (33 bytes, compressed). */
  publicKey: Uint8Array;
  /** The same key as recovered: x ‖ y, 64 bytes (the form discv4 names nodes by). */
  wireKey: Uint8Array;
  /** keccak256 of the sender's uncompressed key x ‖ y. */
  nodeId: Uint8Array;
  message: Discv4Message;
}

export interface DecodeOptions {
  /** Seconds since the epoch; packets whose expiration is before it are refused. */
  nowSeconds?: number;
  /** Default true. False only to replay recorded packets (the EIP-8 vectors expired in 2006). */
  checkExpiration?: boolean;
}

// ---------------------------------------------------------------- encoding

function endpointRlp(e: NodeEndpoint): RlpInput {
  const ip = ipToBytes(e.ip);
  if (!ip) throw new RangeError(`not an IP address: ${e.ip}`);
  return [ip, rlpUint(e.udp), rlpUint(e.tcp)];
}

function packetData(m: Discv4Message): RlpInput {
  switch (m.type) {
    case 'PING':
      return [rlpUint(m.version), endpointRlp(m.from), endpointRlp(m.to), rlpUint(m.expiration), ...(m.enrSeq === undefined ? [] : [rlpUint(m.enrSeq)])];
    case 'PONG':
      return [endpointRlp(m.to), m.pingHash, rlpUint(m.expiration), ...(m.enrSeq === undefined ? [] : [rlpUint(m.enrSeq)])];
    case 'FINDNODE':
      return [m.target, rlpUint(m.expiration)];
    case 'NEIGHBORS':
      return [m.nodes.map((n) => [...(endpointRlp(n) as RlpInput[]), n.publicKey]), rlpUint(m.expiration)];
    case 'ENRRequest':
      return [rlpUint(m.expiration)];
    case 'ENRResponse':
      throw new RangeError('ENRResponse carries a pre-encoded record: see encodeData');
  }
}

/** packet-data's RLP, after `reserve` free bytes. ENRResponse splices the record in byte-exact. */
function encodeData(m: Discv4Message, reserve: number): Uint8Array {
  if (m.type !== 'ENRResponse') return encodeRlp(packetData(m), reserve);
  const list = encodeRlpList([encodeRlp(m.requestHash), m.record]);
  const out = new Uint8Array(reserve + list.length);
  out.set(list, reserve);
  return out;
}

/**
 * Signs and frames a message. The RLP is written after a reserved header, so the packet is one
 * buffer: the signature goes over its tail, the hash over signature and tail.
 */
export function encodePacket(m: Discv4Message, privateKey: Uint8Array): EncodedPacket {
  const raw = encodeData(m, HEADER_SIZE);
  raw[HEADER_SIZE - 1] = TYPE_OF[m.type];
  const signingHash = keccak256(raw.subarray(HEADER_SIZE - 1));
  const signature = signHashRecoverable(signingHash, privateKey);
  raw.set(signature, HASH_SIZE);
  const hash = keccak256(raw.subarray(HASH_SIZE));
  raw.set(hash, 0);
  return { raw, hash, signingHash, signature };
}

/** The encoded size of a NEIGHBORS packet with these nodes (to split an answer within 1280 bytes). */
export const neighborsSize = (nodes: NeighborNode[], expiration: number): number =>
  HEADER_SIZE + encodeRlp(packetData({ type: 'NEIGHBORS', nodes, expiration })).length;

// ---------------------------------------------------------------- decoding

/** Sizes and RLP structure only: no hash, signature or field checks. Never throws. */
export function splitPacket(raw: Uint8Array): Result<PacketParts> {
  return attempt(() => {
    if (raw.length > MAX_PACKET_SIZE) fail('too-large', 'packet', `${raw.length} bytes; a discv4 packet is at most ${MAX_PACKET_SIZE}`);
    if (raw.length <= HEADER_SIZE) fail('too-small', 'packet', `${raw.length} bytes; hash, signature, type and data need more than ${HEADER_SIZE}`);
    const data = decodeRlpPrefix(raw, HEADER_SIZE, 'packet-data');
    if (data.kind !== 'list') fail('bad-type', 'packet-data', 'packet-data must be an RLP list');
    return {
      hash: raw.subarray(0, HASH_SIZE),
      signature: raw.subarray(HASH_SIZE, HASH_SIZE + SIGNATURE_SIZE),
      type: raw[HEADER_SIZE - 1],
      data,
      trailing: raw.length - (HEADER_SIZE + data.length),
    };
  });
}

/**
 * Decodes and authenticates a packet: the hash must match, the type be known, the fields be
 * well-formed (extra elements and trailing bytes ignored, EIP-8), the expiration not past, and
 * the signature recover to a key. Never throws.
 */
export function decodePacket(raw: Uint8Array, options: DecodeOptions = {}): Result<Discv4Packet> {
  const parts = splitPacket(raw);
  if (!parts.ok) return parts;
  return attempt(() => {
    const p = parts.value;
    if (!equalBytes(keccak256(raw.subarray(HASH_SIZE)), p.hash)) fail('bad-value', 'hash', 'hash is not keccak256(signature ‖ packet-type ‖ packet-data)');
    if (!isPacketType(p.type)) fail('bad-value', 'packet-type', `unknown packet type 0x${p.type.toString(16).padStart(2, '0')}`);
    const message = parseMessage(p.type, p.data, raw);
    if (options.checkExpiration !== false && 'expiration' in message) {
      const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
      if (message.expiration < now) fail('bad-value', 'expiration', `expired ${now - message.expiration} s ago`);
    }
    const signingHash = keccak256(raw.subarray(HEADER_SIZE - 1));
    const full = recoverPublicKey(p.signature, signingHash, false);
    if (!full) fail('bad-signature', 'signature', 'no public key recovers from this signature');
    const xy = full.subarray(1);
    return { ...p, type: p.type, raw, signingHash, publicKey: convertPublicKey(full, true), wireKey: xy, nodeId: keccak256(xy), message };
  });
}

function endpointOf(item: RlpItem, field: string): NodeEndpoint {
  const l = asList(item, field);
  if (l.length < 3) fail('truncated', field, `endpoint has ${l.length} elements; [ip, udp-port, tcp-port] needs 3`);
  return { ip: ipOf(l[0], `${field}.ip`), udp: portOf(l[1], `${field}.udp-port`), tcp: portOf(l[2], `${field}.tcp-port`) };
}

function ipOf(item: RlpItem, field: string): string {
  const b = asBytes(item, field);
  const ip = bytesToIp(b);
  if (ip === undefined) fail('bad-length', field, `IP address of ${b.length} bytes; 4 (IPv4) or 16 (IPv6) expected`);
  return ip;
}

/** Ports are read leniently (leading zeros allowed): ethereumjs writes every port as two bytes. */
function portOf(item: RlpItem, field: string): number {
  const b = asBytes(item, field);
  if (b.length > 2) fail('too-large', field, `port of ${b.length} bytes; at most 2`);
  return Number(bytesToBigint(b));
}

/** EIP-868's enr-seq, where it sits: an integer. A list there is a pre-EIP-868 extra element (EIP-8). */
function enrSeqAt(items: RlpItem[], at: number, field: string): bigint | undefined {
  const item = items[at];
  return item?.kind === 'bytes' ? asBigint(item, field) : undefined;
}

function need(items: RlpItem[], n: number, what: string): void {
  if (items.length < n) fail('truncated', 'packet-data', `${what} has ${items.length} elements, needs ${n}`);
}

function expirationOf(item: RlpItem): number {
  return asNumber8(item, 'expiration');
}

const asNumber8 = (item: RlpItem, field: string): number => Number(asBigint(item, field, 8));

function bytesOfSize(item: RlpItem, size: number, field: string): Uint8Array {
  const b = asBytes(item, field);
  if (b.length !== size) fail('bad-length', field, `${b.length} bytes; ${size} expected`);
  return b;
}

/** The message of a packet-data list decoded from `buf` (throws WireError). */
export function parseMessage(type: PacketType, data: RlpItem, buf: Uint8Array): Discv4Message {
  const l = asList(data, 'packet-data');
  const name = TYPE_NAMES[type];
  switch (type) {
    case PING: {
      need(l, 4, name);
      const enrSeq = enrSeqAt(l, 4, 'enr-seq');
      return { type: 'PING', version: asNumber8(l[0], 'version'), from: endpointOf(l[1], 'from'), to: endpointOf(l[2], 'to'), expiration: expirationOf(l[3]), ...(enrSeq === undefined ? {} : { enrSeq }) };
    }
    case PONG: {
      need(l, 3, name);
      const enrSeq = enrSeqAt(l, 3, 'enr-seq');
      return { type: 'PONG', to: endpointOf(l[0], 'to'), pingHash: bytesOfSize(l[1], HASH_SIZE, 'ping-hash'), expiration: expirationOf(l[2]), ...(enrSeq === undefined ? {} : { enrSeq }) };
    }
    case FINDNODE:
      need(l, 2, name);
      return { type: 'FINDNODE', target: bytesOfSize(l[0], PUBKEY_SIZE, 'target'), expiration: expirationOf(l[1]) };
    case NEIGHBORS: {
      need(l, 2, name);
      const nodes = asList(l[0], 'nodes').map((n, i): NeighborNode => {
        const f = `nodes[${i}]`;
        const e = asList(n, f);
        if (e.length < 4) fail('truncated', f, `node has ${e.length} elements; [ip, udp-port, tcp-port, node-id] needs 4`);
        return { ip: ipOf(e[0], `${f}.ip`), udp: portOf(e[1], `${f}.udp-port`), tcp: portOf(e[2], `${f}.tcp-port`), publicKey: bytesOfSize(e[3], PUBKEY_SIZE, `${f}.node-id`) };
      });
      return { type: 'NEIGHBORS', nodes, expiration: expirationOf(l[1]) };
    }
    case ENR_REQUEST:
      need(l, 1, name);
      return { type: 'ENRRequest', expiration: expirationOf(l[0]) };
    case ENR_RESPONSE: {
      need(l, 2, name);
      if (l[1].kind !== 'list') fail('bad-type', 'record', 'the ENR must be an RLP list');
      return { type: 'ENRResponse', requestHash: bytesOfSize(l[0], HASH_SIZE, 'request-hash'), record: buf.subarray(l[1].offset, l[1].offset + l[1].length) };
    }
  }
}

/** The node id a NEIGHBORS entry names: keccak256(x ‖ y). */
export const neighborNodeId = (n: NeighborNode): Uint8Array => keccak256(n.publicKey);

/** One line per message, for timelines and logs. */
export function summarizeMessage(m: Discv4Message): string {
  const ep = (e: NodeEndpoint) => `${e.ip.includes(':') ? `[${e.ip}]` : e.ip}:${e.udp}`;
  switch (m.type) {
    case 'PING':
      return `PING v${m.version} from ${ep(m.from)} to ${ep(m.to)}${m.enrSeq === undefined ? '' : ` enr-seq=${m.enrSeq}`}`;
    case 'PONG':
      return `PONG to ${ep(m.to)} ping-hash=0x${toHex(m.pingHash).slice(0, 16)}…${m.enrSeq === undefined ? '' : ` enr-seq=${m.enrSeq}`}`;
    case 'FINDNODE':
      return `FINDNODE target=0x${toHex(m.target).slice(0, 16)}…`;
    case 'NEIGHBORS':
      return `NEIGHBORS ${m.nodes.length} node${m.nodes.length === 1 ? '' : 's'}`;
    case 'ENRRequest':
      return 'ENRRequest';
    case 'ENRResponse':
      return `ENRResponse ${m.record.length}-byte record for request 0x${toHex(m.requestHash).slice(0, 16)}…`;
  }
}

// Bitcoin P2P messages (v1 transport): the 24-byte header and the payloads of the
// handshake and the messages peers send around it. One reader decodes and, when asked,
// records every field, so the dissection is the decoder's own view of the bytes.
import { sha256d } from '../crypto/hashes.ts';
import { asWireError, attempt, fail, type Result } from '../errors.ts';
import type { Dissection, Field, Layer } from '../dissect.ts';
import { bytesToIp, ipToBytes } from '../ip.ts';
import {
  COMMAND_SIZE, describeServices, HEADER_SIZE, MAX_MESSAGE_LENGTH, MAX_USER_AGENT, networkByMagic, SPEC,
  VERSION_WITH_NONCE, VERSION_WITH_RELAY, type Network,
} from './spec.ts';
import { hexOf, Reader, Writer, type FieldDoc } from './wire.ts';

export interface Header {
  command: string;
  length: number;
  checksum: Uint8Array;
}

/** A network address as the version message carries it (no timestamp). */
export interface NetAddr {
  services: bigint;
  /** Text form; IPv4-mapped addresses as a.b.c.d. */
  ip: string;
  port: number;
}

export interface Version {
  command: 'version';
  version: number;
  services: bigint;
  timestamp: bigint;
  addrRecv: NetAddr;
  addrFrom?: NetAddr;
  nonce?: Uint8Array;
  userAgent?: string;
  startHeight?: number;
  relay?: boolean;
}

/** Messages with no payload. */
export const EMPTY_COMMANDS = ['verack', 'wtxidrelay', 'sendaddrv2', 'sendheaders', 'getaddr', 'mempool'] as const;
export type EmptyCommand = (typeof EMPTY_COMMANDS)[number];

export type BtcMessage =
  | Version
  | { command: EmptyCommand }
  | { command: 'ping' | 'pong'; nonce?: Uint8Array }
  | { command: 'sendcmpct'; highBandwidth: boolean; version: bigint }
  | { command: 'feefilter'; feerate: bigint }
  | { command: 'sendtxrcncl'; version: number; salt: bigint }
  | { command: 'alert'; payload: Uint8Array; signature: Uint8Array }
  | { command: string; unknown: true; payload: Uint8Array };

/** SHA256d of an empty payload (verack, wtxidrelay, sendaddrv2, …: half a handshake's messages), made once. */
const EMPTY_SHA256D = sha256d(new Uint8Array(0));
/** Read-only: never write into the result. */
const payloadHash = (payload: Uint8Array): Uint8Array => (payload.length === 0 ? EMPTY_SHA256D : sha256d(payload));

export const checksumOf = (payload: Uint8Array): Uint8Array => payloadHash(payload).slice(0, 4);

// ---- header ----

const H = {
  magic: { name: 'magic', meaning: 'Start string: which network this message belongs to; a node drops a connection whose magic is not its own.', spec: SPEC.header },
  command: { name: 'command', meaning: 'The message type in ASCII, padded with NUL bytes to 12 bytes.', spec: SPEC.header },
  length: { name: 'length', meaning: 'Payload size in bytes (uint32, little-endian); checked against the 4 MB limit before any byte of it is read.', spec: SPEC.header },
  checksum: { name: 'checksum', meaning: 'First 4 bytes of SHA256(SHA256(payload)): a node drops the message if they differ.', spec: SPEC.header },
  payload: { name: 'payload', meaning: 'The message body; the next layer shows its fields.', spec: SPEC.header },
} satisfies Record<string, FieldDoc>;

/** Reads and checks a header: magic (when `network` is given), command spelling, length limit. */
export function readHeader(r: Reader, network?: Network): Header {
  const at = r.skip(4, H.magic, (m) => `${hexOf(m)} (${networkByMagic(m)?.name ?? 'unknown network'})`);
  if (network) checkMagic(r.bytes, at, network);
  const command = parseCommand(r.bytes, r.skip(COMMAND_SIZE, H.command, commandText));
  const length = r.u32le(H.length, (n) => `${n} bytes`);
  if (length > MAX_MESSAGE_LENGTH) fail('too-large', 'length', `${length} bytes is over the ${MAX_MESSAGE_LENGTH}-byte message limit`);
  const checksum = r.bytesOf(4, H.checksum);
  return { command, length, checksum };
}

/** Throws unless the 4 bytes at `at` are the network's start string. */
export function checkMagic(bytes: Uint8Array, at: number, network: Network): void {
  const m = network.magic;
  if (bytes[at] === m[0] && bytes[at + 1] === m[1] && bytes[at + 2] === m[2] && bytes[at + 3] === m[3]) return;
  const magic = bytes.subarray(at, at + 4);
  const other = networkByMagic(magic);
  fail('bad-value', 'magic', `${hexOf(magic)} is not ${network.name}'s ${hexOf(network.magic)}${other ? ` (it is ${other.name}'s)` : ''}`);
}

function commandText(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += c === 0 ? '' : c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  return `"${s}"`;
}

/** The 12 bytes at `at`: printable ASCII, then only NULs (Core: CMessageHeader::IsCommandValid). */
function parseCommand(b: Uint8Array, at: number): string {
  let command = '';
  let ended = false;
  for (let i = 0; i < COMMAND_SIZE; i++) {
    const c = b[at + i];
    if (c === 0) ended = true;
    else if (ended || c < 0x20 || c > 0x7e) fail('bad-value', 'command', `byte ${i} (0x${c.toString(16).padStart(2, '0')}) is not allowed in a command`);
    else command += String.fromCharCode(c);
  }
  if (command.length === 0) fail('bad-value', 'command', 'empty command');
  return command;
}

// ---- payloads ----

const V = {
  version: { name: 'version', meaning: 'The highest protocol version the sender speaks; both sides then use the lower of the two.', spec: SPEC.version },
  services: { name: 'services', meaning: 'Service bits: what the sender offers to its peers.', spec: SPEC.services },
  timestamp: { name: 'timestamp', meaning: 'The sender\'s clock, Unix seconds (int64).', spec: SPEC.version },
  addrRecvServices: { name: 'addr_recv services', meaning: 'Services the sender believes the receiver has.', spec: SPEC.version },
  addrRecvIp: { name: 'addr_recv IP address', meaning: 'The receiver\'s address as the sender sees it (IPv6, or IPv4-mapped ::ffff:a.b.c.d).', spec: SPEC.version },
  addrRecvPort: { name: 'addr_recv port', meaning: 'The receiver\'s port as the sender sees it; the one big-endian number here.', spec: SPEC.version },
  addrFromServices: { name: 'addr_trans services', meaning: 'The sender\'s services again (nodes ignore this copy).', spec: SPEC.version },
  addrFromIp: { name: 'addr_trans IP address', meaning: 'The sender\'s own address; modern nodes send zeros and peers ignore it.', spec: SPEC.version },
  addrFromPort: { name: 'addr_trans port', meaning: 'The sender\'s own port (big-endian); ignored like the address.', spec: SPEC.version },
  nonce: { name: 'nonce', meaning: 'Random number: a node that receives its own nonce has connected to itself and drops the connection.', spec: SPEC.version },
  userAgentLength: { name: 'user_agent bytes', meaning: 'compactSize length of the user agent.', spec: SPEC.version },
  userAgent: { name: 'user_agent', meaning: 'The software and version, BIP 14 style: /Satoshi:27.0.0/.', spec: SPEC.version },
  startHeight: { name: 'start_height', meaning: 'The height of the sender\'s best block.', spec: SPEC.version },
  relay: { name: 'relay', meaning: 'Whether the sender wants unconfirmed transactions announced to it (BIP 37); 0 for light or block-only peers.', spec: SPEC.version },
} satisfies Record<string, FieldDoc>;

const EXTRA: FieldDoc = { name: 'extra bytes', meaning: 'Bytes past the fields this message defines: nodes ignore them (room for future fields).' };

const timeText = (t: bigint): string => {
  const ms = Number(t) * 1000;
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? `${t} (${new Date(ms).toISOString().replace('.000Z', 'Z')})` : `${t}`;
};
const servicesText = (s: bigint): string => `0x${s.toString(16).padStart(16, '0')} (${describeServices(s)})`;

function readNetAddr(r: Reader, d: { services: FieldDoc; ip: FieldDoc; port: FieldDoc }): NetAddr {
  const services = r.u64le(d.services, servicesText);
  const ip = ipAt(r.bytes, r.skip(16, d.ip, (b) => bytesToIp(b) ?? hexOf(b)));
  const port = r.u16be(d.port);
  return { services, ip, port };
}

/** The 16-byte address at `at` as text; IPv4-mapped ones (nearly all) without a copy. */
function ipAt(b: Uint8Array, at: number): string {
  let mapped = b[at + 10] === 0xff && b[at + 11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) mapped = b[at + i] === 0;
  return mapped ? `${b[at + 12]}.${b[at + 13]}.${b[at + 14]}.${b[at + 15]}` : (bytesToIp(b.subarray(at, at + 16)) ?? '::');
}

function readVersion(r: Reader): Version {
  const version = r.i32le(V.version);
  const services = r.u64le(V.services, servicesText);
  const timestamp = r.i64le(V.timestamp, timeText);
  const addrRecv = readNetAddr(r, { services: V.addrRecvServices, ip: V.addrRecvIp, port: V.addrRecvPort });
  const msg: Version = { command: 'version', version, services, timestamp, addrRecv };
  // Fields added in later protocol versions are read when the version says they are there.
  if (version < VERSION_WITH_NONCE || r.left === 0) return msg;
  msg.addrFrom = readNetAddr(r, { services: V.addrFromServices, ip: V.addrFromIp, port: V.addrFromPort });
  msg.nonce = r.bytesOf(8, V.nonce);
  const n = r.compactSize(V.userAgentLength, MAX_USER_AGENT);
  msg.userAgent = latin1(r.bytesOf(n, V.userAgent, (b) => JSON.stringify(latin1(b))));
  msg.startHeight = r.i32le(V.startHeight);
  if (version >= VERSION_WITH_RELAY && r.left > 0) msg.relay = r.u8(V.relay, (b) => (b ? `${b} (announce transactions)` : '0 (do not announce transactions)')) !== 0;
  return msg;
}

const latin1 = (b: Uint8Array): string => {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
};

const EMPTY_MEANING: Record<EmptyCommand, string> = {
  verack: 'Acknowledges the peer\'s version: with a verack each way the handshake is complete.',
  wtxidrelay: 'BIP 339: announce transactions by wtxid. Only valid between version and verack.',
  sendaddrv2: 'BIP 155: send addresses as addrv2 (Tor v3, I2P, CJDNS). Only valid between version and verack.',
  sendheaders: 'BIP 130: announce new blocks with headers instead of inv.',
  getaddr: 'Asks the peer for addresses of other nodes.',
  mempool: 'Asks for the transactions in the peer\'s mempool.',
};

const EMPTY_SPEC: Partial<Record<EmptyCommand, string>> = { verack: SPEC.verack, wtxidrelay: SPEC.wtxidrelay, sendaddrv2: SPEC.sendaddrv2, sendheaders: SPEC.sendheaders };

export const isEmptyCommand = (c: string): c is EmptyCommand => (EMPTY_COMMANDS as readonly string[]).includes(c);

/** What a payload means, by command; unknown commands are kept as bytes, never an error. */
function readPayload(command: string, r: Reader): BtcMessage {
  let msg: BtcMessage;
  if (command === 'version') msg = readVersion(r);
  else if (isEmptyCommand(command)) msg = { command };
  else if (command === 'ping' || command === 'pong') {
    // Pings before BIP 31 (protocol 60000) had no nonce.
    const nonce = r.left === 0 && command === 'ping' ? undefined : r.bytesOf(8, { name: 'nonce', meaning: command === 'ping' ? 'Random number the pong must echo.' : 'The nonce of the ping this answers.', spec: SPEC[command] });
    msg = { command, ...(nonce ? { nonce } : {}) };
  } else if (command === 'sendcmpct') {
    const hb = r.u8({ name: 'announce', meaning: 'BIP 152: 1 asks the peer to push new blocks as compact blocks at once (high bandwidth), 0 to announce them first.', spec: SPEC.sendcmpct });
    msg = { command, highBandwidth: hb !== 0, version: r.u64le({ name: 'version', meaning: 'Compact block version: 2 includes witnesses.', spec: SPEC.sendcmpct }) };
  } else if (command === 'feefilter') {
    msg = { command, feerate: r.i64le({ name: 'feerate', meaning: 'BIP 133: do not announce transactions paying less than this, in satoshis per 1000 vbytes.', spec: SPEC.feefilter }, (v) => `${v} sat/kvB`) };
  } else if (command === 'sendtxrcncl') {
    msg = { command, version: r.u32le({ name: 'version', meaning: 'BIP 330 reconciliation protocol version.', spec: SPEC.sendtxrcncl }), salt: r.u64le({ name: 'salt', meaning: 'This side\'s share of the short-id salt.', spec: SPEC.sendtxrcncl }) };
  } else if (command === 'alert') {
    const payload = varBytes(r, 'alert payload', 'The alert body (version, expiry, ids, text): the retired alert system, signed by a key that is now public.');
    msg = { command, payload, signature: varBytes(r, 'signature', 'DER signature over the alert body by the former alert key.') };
  } else {
    msg = { command, unknown: true, payload: r.bytes.subarray(r.at) };
    r.rest({ name: 'payload', meaning: `A "${command}" message: not part of the handshake, so not decoded here.` });
    return msg;
  }
  r.rest(EXTRA);
  return msg;
}

function varBytes(r: Reader, name: string, meaning: string): Uint8Array {
  const n = r.compactSize({ name: `${name} length`, meaning: 'compactSize byte count.', spec: SPEC.alert });
  return r.bytesOf(n, { name, meaning, spec: SPEC.alert });
}

/** Decodes a payload whose command is known from its header. */
export function decodePayload(command: string, payload: Uint8Array): Result<BtcMessage> {
  return attempt(() => readPayload(command, new Reader(payload)));
}

// ---- whole messages ----

export interface Decoded {
  header: Header;
  message: BtcMessage;
}

/** Decodes one complete message (header + payload), checking magic, length and checksum. */
export function decodeMessage(raw: Uint8Array, network?: Network): Result<Decoded> {
  return attempt(() => {
    const r = new Reader(raw);
    const header = readHeader(r, network);
    return { header, message: readBody(header, raw.subarray(HEADER_SIZE)) };
  });
}

/** Checks the length and checksum, then reads the payload. Throws WireError. */
export function readBody(header: Header, rest: Uint8Array, fields?: Field[]): BtcMessage {
  if (rest.length < header.length) fail('truncated', 'payload', `header says ${header.length} bytes, ${rest.length} present`);
  if (rest.length > header.length) fail('trailing-bytes', 'payload', `${rest.length - header.length} bytes after the payload`);
  const sum = payloadHash(rest);
  const c = header.checksum;
  if (sum[0] !== c[0] || sum[1] !== c[1] || sum[2] !== c[2] || sum[3] !== c[3]) fail('bad-value', 'checksum', `${hexOf(header.checksum)} does not match the payload (SHA256d gives ${hexOf(sum.subarray(0, 4))})`);
  return readPayload(header.command, new Reader(rest, fields));
}

export function encodePayload(msg: BtcMessage, w = new Writer()): Writer {
  switch (msg.command) {
    case 'version': {
      const v = msg as Version;
      w.u32le(v.version).u64le(v.services).u64le(v.timestamp);
      writeNetAddr(w, v.addrRecv);
      if (v.version < VERSION_WITH_NONCE) return w;
      writeNetAddr(w, v.addrFrom ?? { services: 0n, ip: '::', port: 0 });
      w.bytes(v.nonce ?? new Uint8Array(8));
      const ua = v.userAgent ?? '';
      w.compactSize(ua.length).latin1(ua).u32le(v.startHeight ?? 0);
      if (v.version >= VERSION_WITH_RELAY) w.u8(v.relay === false ? 0 : 1);
      return w;
    }
    case 'ping':
    case 'pong': {
      const nonce = (msg as { nonce?: Uint8Array }).nonce;
      return nonce ? w.bytes(nonce) : w;
    }
    case 'sendcmpct': {
      const m = msg as { highBandwidth: boolean; version: bigint };
      return w.u8(m.highBandwidth ? 1 : 0).u64le(m.version);
    }
    case 'feefilter':
      return w.u64le((msg as { feerate: bigint }).feerate);
    case 'sendtxrcncl': {
      const m = msg as { version: number; salt: bigint };
      return w.u32le(m.version).u64le(m.salt);
    }
    case 'alert': {
      const m = msg as { payload: Uint8Array; signature: Uint8Array };
      return w.compactSize(m.payload.length).bytes(m.payload).compactSize(m.signature.length).bytes(m.signature);
    }
    default:
      if ('unknown' in msg) w.bytes(msg.payload);
      return w;
  }
}

function writeNetAddr(w: Writer, a: NetAddr): void {
  w.u64le(a.services);
  const ip = ipToBytes(a.ip) ?? new Uint8Array(16);
  if (ip.length === 4) w.bytes(V4_MAPPED).bytes(ip);
  else w.bytes(ip);
  w.u16be(a.port);
}

const V4_MAPPED = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff);

/** Header + payload, ready to write to the stream. */
export function encodeMessage(network: Network, msg: BtcMessage): Uint8Array {
  if (msg.command.length === 0 || msg.command.length > COMMAND_SIZE) throw new RangeError(`command "${msg.command}" must be 1–12 characters`);
  const w = new Writer(160);
  w.skip(HEADER_SIZE);
  encodePayload(msg, w);
  const out = w.finish();
  const payload = out.subarray(HEADER_SIZE);
  out.set(network.magic, 0);
  for (let i = 0; i < msg.command.length; i++) out[4 + i] = msg.command.charCodeAt(i);
  const n = payload.length;
  out[16] = n & 0xff;
  out[17] = (n >>> 8) & 0xff;
  out[18] = (n >>> 16) & 0xff;
  out[19] = (n >>> 24) & 0xff;
  const sum = payloadHash(payload);
  out[20] = sum[0];
  out[21] = sum[1];
  out[22] = sum[2];
  out[23] = sum[3];
  return out;
}

// ---- dissection ----

/** Every byte of a message as layers: the header (with the payload as one field), then the payload's fields. */
export function dissectBitcoin(raw: Uint8Array, network?: Network): Dissection {
  const headerFields: Field[] = [];
  const payloadFields: Field[] = [];
  const r = new Reader(raw, headerFields);
  const layers: Layer[] = [{ name: 'message header', bytes: raw, fields: headerFields }];
  let kind = 'message';
  try {
    const header = readHeader(r, network);
    kind = header.command;
    const rest = raw.subarray(HEADER_SIZE);
    if (rest.length > 0) {
      headerFields.push({ name: H.payload.name, offset: HEADER_SIZE, length: rest.length, value: `${rest.length} bytes`, meaning: H.payload.meaning, spec: H.payload.spec });
      layers.push({ name: `${header.command} payload`, bytes: rest, fields: payloadFields });
    }
    const message = readBody(header, rest, payloadFields);
    return { protocol: 'bitcoin', kind, summary: summarizeBitcoin(message, raw.length), layers };
  } catch (e) {
    const error = asWireError(e);
    // Show what could be read; the unread rest as one field, so each layer still tiles its bytes.
    for (const layer of layers) {
      const covered = layer.fields.reduce((m, f) => Math.max(m, f.offset + f.length), 0);
      if (covered < layer.bytes.length) layer.fields.push({ name: 'unread', offset: covered, length: layer.bytes.length - covered, value: `${layer.bytes.length - covered} bytes`, meaning: 'Not decoded: the message was refused before this point.' });
    }
    return { protocol: 'bitcoin', kind, layers, error: error.reason };
  }
}

/** One line: "version 70016 /Satoshi:27.0.0/ height 870000", "ping nonce=0x…", "unknown command inv, 37 bytes". */
export function summarizeBitcoin(msg: BtcMessage, size?: number): string {
  switch (msg.command) {
    case 'version': {
      const v = msg as Version;
      return `version ${v.version}${v.userAgent !== undefined ? ` ${v.userAgent || '(no user agent)'}` : ''}${v.startHeight !== undefined ? ` height ${v.startHeight}` : ''} services ${describeServices(v.services)}`;
    }
    case 'ping':
    case 'pong': {
      const n = (msg as { nonce?: Uint8Array }).nonce;
      return `${msg.command}${n ? ` nonce=${hexOf(n)}` : ''}`;
    }
    case 'sendcmpct': {
      const m = msg as { highBandwidth: boolean; version: bigint };
      return `sendcmpct version ${m.version}${m.highBandwidth ? ' high-bandwidth' : ''}`;
    }
    case 'feefilter':
      return `feefilter ${(msg as { feerate: bigint }).feerate} sat/kvB`;
    default:
      if ('unknown' in msg) return `unknown command "${msg.command}", ${size ?? msg.payload.length} bytes`;
      return msg.command;
  }
}

/** The command of a raw message without decoding the rest (for labels of refused bytes). */
export function peekCommand(raw: Uint8Array): string | undefined {
  if (raw.length < HEADER_SIZE) return undefined;
  const r = attempt(() => parseCommand(raw, 4));
  return r.ok ? r.value : undefined;
}

// The bridge tunnel frame format (docs/tunnel.md), defined once and used by both ends:
// the browser's TunnelClient and the Node bridge. One WebSocket binary message = one frame.
//
//   version u8 (= 1) · type u8 · id u16 (big-endian) · body (by type)
//
// Decoding never throws and never allocates from a length it has not checked: every
// length is bounded by the frame itself (the WebSocket message) and by TunnelLimits.
import type { Endpoint, StreamEndReason } from '../transport.ts';
import { type Result, attempt, fail } from '../errors.ts';
import { utf8 } from '../bytes.ts';
import { formatIp, parseIp } from './ip.ts';

export const TUNNEL_VERSION = 1;
export const HEADER_SIZE = 4;
/** Largest fixed part of any frame (header + port + ip-length + IPv6 + timeout): the slack over a payload. */
export const FRAME_OVERHEAD = HEADER_SIZE + 2 + 1 + 16 + 4;
/** Longest text field (ERROR message, TCP_CLOSE detail), in bytes. */
export const MAX_TEXT = 256;
/** Longest DNS name (RFC 1035 §2.3.4, presentation form without the root dot). */
export const MAX_DNS_NAME = 253;
/** Most addresses in one DNS_RESULT. */
export const MAX_DNS_ANSWERS = 32;

export const FrameType = {
  HELLO: 0x00,
  ERROR: 0x01,
  UDP_OPEN: 0x10,
  UDP_OPENED: 0x11,
  UDP_SEND: 0x12,
  UDP_RECV: 0x13,
  UDP_CLOSE: 0x14,
  TCP_CONNECT: 0x20,
  TCP_CONNECTED: 0x21,
  TCP_DATA: 0x22,
  TCP_ACK: 0x23,
  TCP_END: 0x24,
  TCP_CLOSE: 0x25,
  TCP_LISTEN: 0x26,
  TCP_LISTENING: 0x27,
  TCP_ACCEPTED: 0x28,
  DNS_RESOLVE: 0x30,
  DNS_RESULT: 0x31,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

export const frameTypeName = (t: number): string =>
  Object.entries(FrameType).find(([, v]) => v === t)?.[0] ?? `0x${t.toString(16).padStart(2, '0')}`;

/** Which end may send a frame type: the bridge answers anything else with ERROR unexpected. */
export const CLIENT_TYPES: ReadonlySet<number> = new Set([
  FrameType.UDP_OPEN,
  FrameType.UDP_SEND,
  FrameType.UDP_CLOSE,
  FrameType.TCP_CONNECT,
  FrameType.TCP_DATA,
  FrameType.TCP_ACK,
  FrameType.TCP_END,
  FrameType.TCP_CLOSE,
  FrameType.TCP_LISTEN,
  FrameType.DNS_RESOLVE,
]);

/** Connection ids the bridge gives to accepted connections: the upper half, so they never meet the client's. */
export const FIRST_ACCEPTED_ID = 0x8000;

/** Codes carried by ERROR and UDP_CLOSE frames. */
export const TunnelErrorCode = {
  malformed: 1, // the frame did not decode
  'unsupported-version': 2,
  'unknown-type': 3,
  unexpected: 4, // wrong direction, unknown id, id already in use
  policy: 5, // target refused by the bridge policy
  'too-large': 6, // datagram over the limit
  quota: 7, // too many sockets / connections / lookups
  'rate-limited': 8,
  'bind-failed': 9,
  'send-failed': 10,
  'dns-failed': 11,
  'window-exceeded': 12, // TCP data beyond the granted window
  'timed-out': 13,
  internal: 14,
} as const;
export type TunnelErrorName = keyof typeof TunnelErrorCode;
const ERROR_NAMES = new Map<number, TunnelErrorName>(
  Object.entries(TunnelErrorCode).map(([k, v]) => [v, k as TunnelErrorName]),
);
export const tunnelErrorName = (code: number): TunnelErrorName | undefined => ERROR_NAMES.get(code);

/** TCP_CLOSE reasons, in wire order. */
export const CLOSE_REASONS: readonly StreamEndReason[] = ['closed', 'refused', 'reset', 'timed-out', 'policy', 'error'];

/** What the bridge grants a session; sent in HELLO. */
export interface TunnelLimits {
  maxDatagram: number;
  maxUdpSockets: number;
  maxTcpConnections: number;
  /** TCP flow-control window per connection and direction, in bytes. */
  window: number;
  /** Largest frame either end may send (the WebSocket maxPayload). */
  maxFrame: number;
}

export type Frame =
  | ({ type: 'hello' } & TunnelLimits)
  | { type: 'error'; id: number; refType: number; code: number; message: string }
  | { type: 'udp-open'; id: number; ip: string; port: number }
  | { type: 'udp-opened'; id: number; ip: string; port: number }
  | { type: 'udp-send'; id: number; peer: Endpoint; payload: Uint8Array }
  | { type: 'udp-recv'; id: number; peer: Endpoint; payload: Uint8Array }
  | { type: 'udp-close'; id: number; code: number }
  | { type: 'tcp-connect'; id: number; peer: Endpoint; timeoutMs: number }
  | { type: 'tcp-connected'; id: number; window: number }
  | { type: 'tcp-data'; id: number; payload: Uint8Array }
  | { type: 'tcp-ack'; id: number; bytes: number }
  | { type: 'tcp-end'; id: number }
  | { type: 'tcp-close'; id: number; reason: StreamEndReason; detail: string }
  /** Listen for TCP connections (the recipient role); ip '' and port 0: the bridge chooses. */
  | { type: 'tcp-listen'; id: number; ip: string; port: number }
  | { type: 'tcp-listening'; id: number; ip: string; port: number }
  /** A peer connected to listener `listener`; `id` (upper half) names the new connection. */
  | { type: 'tcp-accepted'; id: number; listener: number; peer: Endpoint; window: number }
  | { type: 'dns-resolve'; id: number; name: string }
  | { type: 'dns-result'; id: number; addresses: string[] };

export type FrameName = Frame['type'];

const TYPE_OF: Record<FrameName, number> = {
  hello: FrameType.HELLO,
  error: FrameType.ERROR,
  'udp-open': FrameType.UDP_OPEN,
  'udp-opened': FrameType.UDP_OPENED,
  'udp-send': FrameType.UDP_SEND,
  'udp-recv': FrameType.UDP_RECV,
  'udp-close': FrameType.UDP_CLOSE,
  'tcp-connect': FrameType.TCP_CONNECT,
  'tcp-connected': FrameType.TCP_CONNECTED,
  'tcp-data': FrameType.TCP_DATA,
  'tcp-ack': FrameType.TCP_ACK,
  'tcp-end': FrameType.TCP_END,
  'tcp-close': FrameType.TCP_CLOSE,
  'tcp-listen': FrameType.TCP_LISTEN,
  'tcp-listening': FrameType.TCP_LISTENING,
  'tcp-accepted': FrameType.TCP_ACCEPTED,
  'dns-resolve': FrameType.DNS_RESOLVE,
  'dns-result': FrameType.DNS_RESULT,
};
export const typeCode = (name: FrameName): number => TYPE_OF[name];

/** The header of a frame, if it has one: lets an ERROR reply name the frame it refuses. */
export function peekHeader(bytes: Uint8Array): { version: number; type: number; id: number } | undefined {
  if (bytes.length < HEADER_SIZE) return undefined;
  return { version: bytes[0], type: bytes[1], id: (bytes[2] << 8) | bytes[3] };
}

// ---------------------------------------------------------------- encoding

/** Cuts text to at most `max` UTF-8 bytes without splitting a character. */
function boundedUtf8(text: string, max: number): Uint8Array {
  let b = utf8(text);
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // back off a continuation byte
  b = b.subarray(0, end);
  return b;
}

class Writer {
  readonly out: Uint8Array;
  private at = 0;
  constructor(size: number) {
    this.out = new Uint8Array(size);
  }
  u8(v: number): this {
    this.out[this.at++] = v;
    return this;
  }
  u16(v: number): this {
    this.out[this.at++] = v >>> 8;
    this.out[this.at++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.u16(v >>> 16);
    return this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): this {
    this.out.set(b, this.at);
    this.at += b.length;
    return this;
  }
}

const isU16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;
const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

function checkId(id: number, zeroOk = false): void {
  if (!isU16(id) || (id === 0 && !zeroOk)) fail('bad-value', 'id', `id must be 1..65535, got ${id}`);
}
function checkPort(port: number, zeroOk: boolean): void {
  if (!isU16(port) || (port === 0 && !zeroOk)) fail('bad-value', 'port', `port must be ${zeroOk ? 0 : 1}..65535, got ${port}`);
}
function ipBytes(ip: string, emptyOk: boolean): Uint8Array {
  if (ip === '' && emptyOk) return new Uint8Array(0);
  const b = parseIp(ip);
  if (!b) fail('bad-value', 'ip', `not an IPv4 or IPv6 address: ${ip.slice(0, 64)}`);
  return b;
}

function header(size: number, type: number, id: number): Writer {
  return new Writer(HEADER_SIZE + size).u8(TUNNEL_VERSION).u8(type).u16(id);
}

function encodeOrThrow(f: Frame): Uint8Array {
  const t = TYPE_OF[f.type];
  if (t === undefined) fail('bad-value', 'type', 'unknown frame type');
  switch (f.type) {
    case 'hello': {
      if (!isU16(f.maxDatagram)) fail('bad-value', 'max-datagram', 'must fit 16 bits');
      if (f.maxUdpSockets > 255 || f.maxTcpConnections > 255) fail('bad-value', 'max-udp-sockets', 'must fit 8 bits');
      if (!isU32(f.window) || !isU32(f.maxFrame)) fail('bad-value', 'window', 'must fit 32 bits');
      return header(12, t, 0).u16(f.maxDatagram).u8(f.maxUdpSockets).u8(f.maxTcpConnections).u32(f.window).u32(f.maxFrame).out;
    }
    case 'error': {
      checkId(f.id, true);
      const msg = boundedUtf8(f.message, MAX_TEXT);
      return header(2 + msg.length, t, f.id).u8(f.refType & 0xff).u8(f.code & 0xff).bytes(msg).out;
    }
    case 'udp-open':
    case 'udp-opened':
    case 'tcp-listen':
    case 'tcp-listening': {
      checkId(f.id);
      const asked = f.type === 'udp-open' || f.type === 'tcp-listen';
      checkPort(f.port, asked);
      const ip = ipBytes(f.ip, asked);
      return header(3 + ip.length, t, f.id).u16(f.port).u8(ip.length).bytes(ip).out;
    }
    case 'udp-send':
    case 'udp-recv': {
      checkId(f.id);
      checkPort(f.peer.port, false);
      const ip = ipBytes(f.peer.ip, false);
      return header(3 + ip.length + f.payload.length, t, f.id).u16(f.peer.port).u8(ip.length).bytes(ip).bytes(f.payload).out;
    }
    case 'udp-close':
      checkId(f.id);
      return header(1, t, f.id).u8(f.code & 0xff).out;
    case 'tcp-connect': {
      checkId(f.id);
      checkPort(f.peer.port, false);
      if (!isU32(f.timeoutMs)) fail('bad-value', 'timeout-ms', 'must fit 32 bits');
      const ip = ipBytes(f.peer.ip, false);
      return header(7 + ip.length, t, f.id).u16(f.peer.port).u8(ip.length).bytes(ip).u32(f.timeoutMs).out;
    }
    case 'tcp-accepted': {
      checkId(f.id);
      checkId(f.listener);
      checkPort(f.peer.port, false);
      if (!isU32(f.window) || f.window === 0) fail('bad-value', 'window', 'must be 1..2^32-1');
      const ip = ipBytes(f.peer.ip, false);
      return header(9 + ip.length, t, f.id).u16(f.listener).u16(f.peer.port).u8(ip.length).bytes(ip).u32(f.window).out;
    }
    case 'tcp-connected':
      checkId(f.id);
      if (!isU32(f.window) || f.window === 0) fail('bad-value', 'window', 'must be 1..2^32-1');
      return header(4, t, f.id).u32(f.window).out;
    case 'tcp-data':
      checkId(f.id);
      if (f.payload.length === 0) fail('too-small', 'payload', 'TCP_DATA carries at least one byte');
      return header(f.payload.length, t, f.id).bytes(f.payload).out;
    case 'tcp-ack':
      checkId(f.id);
      if (!isU32(f.bytes) || f.bytes === 0) fail('bad-value', 'bytes', 'must be 1..2^32-1');
      return header(4, t, f.id).u32(f.bytes).out;
    case 'tcp-end':
      checkId(f.id);
      return header(0, t, f.id).out;
    case 'tcp-close': {
      checkId(f.id);
      const r = CLOSE_REASONS.indexOf(f.reason);
      if (r < 0) fail('bad-value', 'reason', `unknown reason ${f.reason}`);
      const detail = boundedUtf8(f.detail, MAX_TEXT);
      return header(1 + detail.length, t, f.id).u8(r).bytes(detail).out;
    }
    case 'dns-resolve': {
      checkId(f.id);
      const name = utf8(f.name);
      if (!isDnsName(f.name) || name.length > MAX_DNS_NAME) fail('bad-value', 'name', 'not a DNS name');
      return header(name.length, t, f.id).bytes(name).out;
    }
    case 'dns-result': {
      checkId(f.id);
      if (f.addresses.length > MAX_DNS_ANSWERS) fail('too-large', 'count', `at most ${MAX_DNS_ANSWERS} addresses`);
      const ips = f.addresses.map((a) => ipBytes(a, false));
      const size = 1 + ips.reduce((n, b) => n + 1 + b.length, 0);
      const w = header(size, t, f.id).u8(ips.length);
      for (const b of ips) w.u8(b.length).bytes(b);
      return w.out;
    }
  }
}

/** Encodes a frame; a typed error (never a throw) for a value that cannot be put on the wire. */
export function encodeFrame(frame: Frame): Result<Uint8Array> {
  return attempt(() => encodeOrThrow(frame));
}

// ---------------------------------------------------------------- decoding

/** Letters, digits, hyphens and dots; labels 1..63; no IP literals are special-cased here. */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_DNS_NAME) return false;
  const labels = name.endsWith('.') ? name.slice(0, -1).split('.') : name.split('.');
  return labels.every((l) => l.length >= 1 && l.length <= 63 && /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(l));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  at = HEADER_SIZE;
  constructor(readonly b: Uint8Array) {}
  get left(): number {
    return this.b.length - this.at;
  }
  need(n: number, field: string): void {
    if (this.left < n) fail('truncated', field, `needs ${n} bytes, ${this.left} left`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.b[this.at++];
  }
  u16(field: string): number {
    this.need(2, field);
    const v = (this.b[this.at] << 8) | this.b[this.at + 1];
    this.at += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = ((this.b[this.at] << 24) >>> 0) + ((this.b[this.at + 1] << 16) | (this.b[this.at + 2] << 8) | this.b[this.at + 3]);
    this.at += 4;
    return v;
  }
  /** A view (no copy) of the next n bytes; n is checked against what is there first. */
  take(n: number, field: string): Uint8Array {
    this.need(n, field);
    const v = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  rest(): Uint8Array {
    return this.take(this.left, 'payload');
  }
  end(): void {
    if (this.left !== 0) fail('trailing-bytes', 'body', `${this.left} bytes after the frame's last field`);
  }
  ip(emptyOk: boolean): string {
    const len = this.u8('ip-length');
    if (len === 0 && emptyOk) return '';
    if (len !== 4 && len !== 16) fail('bad-length', 'ip-length', `must be 4 or 16${emptyOk ? ' (or 0)' : ''}, got ${len}`);
    return formatIp(this.take(len, 'ip'));
  }
  port(zeroOk: boolean): number {
    const p = this.u16('port');
    if (p === 0 && !zeroOk) fail('bad-value', 'port', 'port 0 is not a destination');
    return p;
  }
  text(): string {
    const b = this.rest();
    if (b.length > MAX_TEXT) fail('too-large', 'message', `text over ${MAX_TEXT} bytes`);
    try {
      return strictUtf8.decode(b);
    } catch {
      return fail('bad-value', 'message', 'not UTF-8');
    }
  }
}

export interface DecodeLimits {
  /** Largest UDP payload accepted (UDP_SEND / UDP_RECV). */
  maxDatagram: number;
  /** Largest frame accepted as a whole. */
  maxFrame: number;
}

const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDatagram: 65507, maxFrame: 1 << 20 };

function decodeOrThrow(b: Uint8Array, limits: DecodeLimits): Frame {
  if (b.length > limits.maxFrame) fail('too-large', 'frame', `${b.length} bytes, over ${limits.maxFrame}`);
  if (b.length < HEADER_SIZE) fail('truncated', 'header', `a frame has a ${HEADER_SIZE}-byte header, got ${b.length} bytes`);
  if (b[0] !== TUNNEL_VERSION) fail('bad-version', 'version', `version ${b[0]}, this end speaks ${TUNNEL_VERSION}`);
  const type = b[1];
  const id = (b[2] << 8) | b[3];
  const r = new Reader(b);
  const needId = () => {
    if (id === 0) fail('bad-value', 'id', 'id 0 is reserved');
  };
  let f: Frame;
  switch (type) {
    case FrameType.HELLO: {
      if (id !== 0) fail('bad-value', 'id', 'HELLO has id 0');
      const maxDatagram = r.u16('max-datagram');
      const maxUdpSockets = r.u8('max-udp-sockets');
      const maxTcpConnections = r.u8('max-tcp-connections');
      const window = r.u32('window');
      const maxFrame = r.u32('max-frame');
      f = { type: 'hello', maxDatagram, maxUdpSockets, maxTcpConnections, window, maxFrame };
      break;
    }
    case FrameType.ERROR: {
      const refType = r.u8('ref-type');
      const code = r.u8('code');
      f = { type: 'error', id, refType, code, message: r.text() };
      break;
    }
    case FrameType.UDP_OPEN:
    case FrameType.UDP_OPENED:
    case FrameType.TCP_LISTEN:
    case FrameType.TCP_LISTENING: {
      needId();
      const asked = type === FrameType.UDP_OPEN || type === FrameType.TCP_LISTEN;
      const port = r.port(asked);
      const ip = r.ip(asked);
      const name = type === FrameType.UDP_OPEN ? 'udp-open' : type === FrameType.UDP_OPENED ? 'udp-opened' : type === FrameType.TCP_LISTEN ? 'tcp-listen' : 'tcp-listening';
      f = { type: name, id, ip, port };
      break;
    }
    case FrameType.TCP_ACCEPTED: {
      needId();
      const listener = r.u16('listener');
      if (listener === 0) fail('bad-value', 'listener', 'listener id 0 is reserved');
      const port = r.port(false);
      const ip = r.ip(false);
      const window = r.u32('window');
      if (window === 0) fail('bad-value', 'window', 'a zero window would stall the stream');
      f = { type: 'tcp-accepted', id, listener, peer: { ip, port }, window };
      break;
    }
    case FrameType.UDP_SEND:
    case FrameType.UDP_RECV: {
      needId();
      const port = r.port(false);
      const ip = r.ip(false);
      const payload = r.rest();
      if (payload.length > limits.maxDatagram)
        fail('too-large', 'payload', `datagram of ${payload.length} bytes, over ${limits.maxDatagram}`);
      f = { type: type === FrameType.UDP_SEND ? 'udp-send' : 'udp-recv', id, peer: { ip, port }, payload };
      break;
    }
    case FrameType.UDP_CLOSE:
      needId();
      f = { type: 'udp-close', id, code: r.u8('code') };
      break;
    case FrameType.TCP_CONNECT: {
      needId();
      const port = r.port(false);
      const ip = r.ip(false);
      f = { type: 'tcp-connect', id, peer: { ip, port }, timeoutMs: r.u32('timeout-ms') };
      break;
    }
    case FrameType.TCP_CONNECTED: {
      needId();
      const window = r.u32('window');
      if (window === 0) fail('bad-value', 'window', 'a zero window would stall the stream');
      f = { type: 'tcp-connected', id, window };
      break;
    }
    case FrameType.TCP_DATA: {
      needId();
      const payload = r.rest();
      if (payload.length === 0) fail('too-small', 'payload', 'TCP_DATA carries at least one byte');
      f = { type: 'tcp-data', id, payload };
      break;
    }
    case FrameType.TCP_ACK: {
      needId();
      const bytes = r.u32('bytes');
      if (bytes === 0) fail('bad-value', 'bytes', 'an ACK acknowledges at least one byte');
      f = { type: 'tcp-ack', id, bytes };
      break;
    }
    case FrameType.TCP_END:
      needId();
      f = { type: 'tcp-end', id };
      break;
    case FrameType.TCP_CLOSE: {
      needId();
      const code = r.u8('reason');
      const reason = CLOSE_REASONS[code];
      if (reason === undefined) fail('bad-value', 'reason', `unknown close reason ${code}`);
      f = { type: 'tcp-close', id, reason, detail: r.text() };
      break;
    }
    case FrameType.DNS_RESOLVE: {
      needId();
      const raw = r.rest();
      if (raw.length === 0 || raw.length > MAX_DNS_NAME) fail('bad-length', 'name', `a DNS name is 1..${MAX_DNS_NAME} bytes`);
      let name = '';
      for (const c of raw) name += String.fromCharCode(c); // ASCII only: checked next
      if (!isDnsName(name)) fail('bad-value', 'name', 'letters, digits, hyphens and dots only');
      f = { type: 'dns-resolve', id, name };
      break;
    }
    case FrameType.DNS_RESULT: {
      needId();
      const count = r.u8('count');
      if (count > MAX_DNS_ANSWERS) fail('too-large', 'count', `at most ${MAX_DNS_ANSWERS} addresses`);
      // Each address takes at least 5 bytes: checked before the array is grown.
      if (count * 5 > r.left) fail('truncated', 'addresses', `${count} addresses cannot fit in ${r.left} bytes`);
      const addresses: string[] = [];
      for (let i = 0; i < count; i++) addresses.push(r.ip(false));
      f = { type: 'dns-result', id, addresses };
      break;
    }
    default:
      return fail('bad-type', 'type', `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
  }
  r.end();
  return f;
}

/** Decodes one frame. Payloads are views into `bytes` (no copy): copy before keeping them past `bytes`. */
export function decodeFrame(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Result<Frame> {
  return attempt(() => decodeOrThrow(bytes, limits));
}

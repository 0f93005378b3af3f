// A session as a pcapng file for Wireshark: the recorded bytes wrapped in synthesized IPv4 /
// IPv6 and UDP / TCP headers (RFC 791, RFC 8200, RFC 768, RFC 793), timestamps from the
// records. File format: the PCAP Now Generic capture file format, draft-ietf-opsawg-pcapng
// (Section Header, Interface Description and Enhanced Packet blocks). One interface of
// LINKTYPE_RAW, so one file holds IPv4 and IPv6 packets alike.
import { utf8 } from './bytes.ts';
import { attempt, fail, type Result } from './errors.ts';
import type { ConnectionId } from './engine.ts';
import { ipToBytes } from './ip.ts';
import type { Endpoint } from './transport.ts';
import { IPPROTO_TCP, IPPROTO_UDP, ipPacket, maxSegment, TCP_HEADER, tcpHeader, UDP_HEADER, udpHeader, type Addresses } from './capture/ip-packets.ts';
import { TcpFlow, type Segment, type Side } from './capture/tcp-flow.ts';

/** What an export needs of a record: a WireRecord or a discv5 PacketRecord fits. */
export interface CaptureRecord {
  direction: 'in' | 'out';
  /** Milliseconds since the Unix epoch (fractions kept to the microsecond). */
  at: number;
  peer: Endpoint;
  raw: Uint8Array;
  /** The stream the bytes travelled on; a record without one is a UDP datagram. */
  conn?: ConnectionId;
  /** Where the bytes start within their direction of the stream; counted on from the previous record when absent. */
  streamOffset?: number;
  summary?: string;
  kind?: string;
  rejected?: string;
}

/** What the records do not say about a TCP connection. Every field has a default. */
export interface ConnectionInfo {
  /** Our end (default: the export's local address; port `local.port` if the peer dialled, else an ephemeral one). */
  local?: Endpoint;
  /** Their end (default: the peer of the first record on the connection). */
  remote?: Endpoint;
  /** Who sent the SYN (default: the side of the first record: in Bitcoin the dialler speaks first). */
  opener?: Side;
  /** When the SYN went out (default: the first record's time). */
  openedAt?: number;
  /** The connection ended inside the capture: a FIN exchange (or a RST) follows its last record. */
  closed?: { by: Side; at?: number; reset?: boolean };
}

export interface PcapngOptions {
  /** Our side of every datagram, and the default address of our side of each connection. */
  local: Endpoint;
  connections?: ReadonlyMap<ConnectionId, ConnectionInfo>;
  /** Largest TCP payload per segment (default 1400, clamped to 64..65495). */
  mss?: number;
  /** Put each record's summary in its packet's comment (default true). */
  comments?: boolean;
  /** Refuse an export that would be larger (default 256 MiB). */
  maxBytes?: number;
  /** Written as shb_userappl. */
  application?: string;
}

/** LINKTYPE_RAW: the packet starts with an IPv4 or IPv6 header (tcpdump.org link-layer header types). */
export const LINKTYPE_RAW = 101;
export const BLOCK = { SHB: 0x0a0d0d0a, IDB: 0x00000001, EPB: 0x00000006 } as const;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Option codes (draft-ietf-opsawg-pcapng §3.5, §4.2, §4.3). */
export const OPTION = { endofopt: 0, comment: 1, shb_userappl: 4, if_name: 2, if_tsresol: 9 } as const;
/**
 * if_tsresol 6: timestamps count microseconds. A record's `at` is a double of milliseconds, which
 * at today's epoch resolves about 0.24 µs: finer units would only write noise.
 */
const TS_RESOLUTION = 6;

const DEFAULT_MSS = 1400;
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Fixed part of an EPB: type, length, interface, timestamp (2), captured and original length, trailing length. */
const EPB_OVERHEAD = 32;
const MAX_COMMENT = 1000;
/** Latest time accepted, in ms: year 275760, the end of a JavaScript Date (a 64-bit µs count goes further). */
const MAX_AT_MS = 8.64e15;
/** Stand-ins when our address and the peer's are of different families (RFC 5737, RFC 3849 documentation ranges). */
const STAND_IN = { 4: Uint8Array.of(192, 0, 2, 1), 6: Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1) };
const EPHEMERAL_BASE = 49152;

interface Packet {
  at: number;
  bytes: Uint8Array;
  comment?: string;
}

/** The records as a pcapng file; a record or option that makes no sense is refused with its field named. */
export function toPcapng(records: readonly CaptureRecord[], options: PcapngOptions): Result<Uint8Array> {
  return attempt(() => writeFile(buildPackets(records, options), options));
}

// ---- records → IP packets ----

interface Flow {
  tcp: TcpFlow;
  local: Endpoint;
  remote: Endpoint;
  addresses: Record<Side, Addresses>;
  info: ConnectionInfo;
  lastAt: number;
}

function buildPackets(records: readonly CaptureRecord[], options: PcapngOptions): Packet[] {
  if (!Array.isArray(records)) fail('bad-type', 'records', 'not a list');
  if (!options || typeof options !== 'object') fail('bad-type', 'options', 'not an object');
  const local = checkEndpoint(options.local, 'local');
  const mss = clampMss(options.mss);
  const maxBytes = typeof options.maxBytes === 'number' && options.maxBytes > 0 ? options.maxBytes : DEFAULT_MAX_BYTES;
  const comments = options.comments !== false;
  const flows = new Map<ConnectionId, Flow>();
  const packets: Packet[] = [];
  let size = 0;
  let ipId = 1;
  const add = (at: number, bytes: Uint8Array, comment?: string): void => {
    size += EPB_OVERHEAD + bytes.length + 4 + (comment ? comment.length * 3 + 8 : 0);
    if (size > maxBytes) fail('too-large', 'records', `the capture would exceed ${maxBytes} bytes`);
    packets.push({ at, bytes, ...(comments && comment ? { comment } : {}) });
  };
  // Refuse before synthesizing anything when the payloads alone are over the limit.
  let payload = 0;
  for (const r of records) payload += r?.raw?.length ?? 0;
  if (payload > maxBytes) fail('too-large', 'records', `${payload} bytes of payload exceed the ${maxBytes}-byte limit`);

  const emit = (flow: Flow, s: Segment, comment?: string) => {
    const [srcPort, dstPort] = s.from === 'local' ? [flow.local.port, flow.remote.port] : [flow.remote.port, flow.local.port];
    const header = tcpHeader({ srcPort, dstPort, seq: s.seq, ack: s.ack, flags: s.flags, ...(s.options ? { options: s.options } : {}) });
    add(s.at, ipPacket(flow.addresses[s.from], IPPROTO_TCP, header, s.payload, ipId++), s.synthesized ?? comment);
  };

  records.forEach((r, i) => {
    const rec = checkRecord(r, i);
    const comment = commentOf(rec);
    if (rec.conn === undefined) {
      const a = addresses(local, rec.peer);
      const [src, dst] = rec.direction === 'out' ? [a.local, a.remote] : [a.remote, a.local];
      const family = src.length === 4 ? 4 : 6;
      if (UDP_HEADER + rec.raw.length > maxSegment(family)) fail('too-large', `records[${i}].raw`, `${rec.raw.length} bytes do not fit one UDP datagram over IPv${family}`);
      const [srcPort, dstPort] = rec.direction === 'out' ? [local.port, rec.peer.port] : [rec.peer.port, local.port];
      add(rec.at, ipPacket({ src, dst }, IPPROTO_UDP, udpHeader(srcPort, dstPort, rec.raw.length), rec.raw, ipId++), comment);
      return;
    }
    let flow = flows.get(rec.conn);
    if (!flow) {
      flow = openFlow(rec.conn, rec, flows.size, local, mss, options.connections?.get(rec.conn));
      flows.set(rec.conn, flow);
      for (const s of flow.tcp.open(Math.min(rec.at, flow.info.openedAt ?? rec.at))) emit(flow, s);
    }
    const from: Side = rec.direction === 'out' ? 'local' : 'remote';
    const offset = rec.streamOffset ?? flow.tcp.nextOffset(from);
    flow.lastAt = Math.max(flow.lastAt, rec.at);
    for (const s of flow.tcp.data(from, offset, rec.raw, rec.at, i)) emit(flow, s, s.part && comment ? `${comment} (segment ${s.part.index} of ${s.part.of})` : comment);
  });

  for (const [conn, flow] of flows) {
    const closed = flow.info.closed;
    if (!closed) continue;
    const at = closed.at ?? flow.lastAt;
    if (!Number.isFinite(at) || at < 0 || at > MAX_AT_MS) fail('bad-value', `connections[${conn}].closed.at`, `${at} is not a time`);
    for (const s of flow.tcp.close(closed.by, Math.max(at, flow.lastAt), closed.reset === true)) emit(flow, s);
  }
  // Stable: packets of one flow stay in the order they were made.
  return packets.sort((a, b) => a.at - b.at);
}

function openFlow(conn: ConnectionId, rec: CaptureRecord, flowIndex: number, local: Endpoint, mss: number, given: ConnectionInfo | undefined): Flow {
  const field = `connections[${conn}]`;
  const info = given ?? {};
  const opener = info.opener ?? (rec.direction === 'out' ? 'local' : 'remote');
  if (opener !== 'local' && opener !== 'remote') fail('bad-value', `${field}.opener`, `"${String(opener)}" is neither local nor remote`);
  if (info.closed && info.closed.by !== 'local' && info.closed.by !== 'remote') fail('bad-value', `${field}.closed.by`, `"${String(info.closed.by)}" is neither local nor remote`);
  if (info.openedAt !== undefined) checkTime(info.openedAt, `${field}.openedAt`);
  const ours = info.local ? checkEndpoint(info.local, `${field}.local`) : { ip: local.ip, port: opener === 'remote' ? local.port : EPHEMERAL_BASE + (flowIndex % 16384) };
  const theirs = info.remote ? checkEndpoint(info.remote, `${field}.remote`) : rec.peer;
  const a = addresses(ours, theirs);
  // Distinct, reproducible initial sequence numbers per flow and side.
  const isn = (k: number) => Math.imul(flowIndex + 1, 0x9e3779b1) ^ Math.imul(k, 0x85ebca6b);
  return {
    tcp: new TcpFlow(opener, mss, isn(1), isn(2)),
    local: ours,
    remote: theirs,
    addresses: { local: { src: a.local, dst: a.remote }, remote: { src: a.remote, dst: a.local } },
    info,
    lastAt: rec.at,
  };
}

/** Both addresses as bytes of one family: ours gives way to a documentation address when they differ. */
function addresses(local: Endpoint, remote: Endpoint): { local: Uint8Array; remote: Uint8Array } {
  const theirs = ipToBytes(remote.ip)!;
  let ours = ipToBytes(local.ip)!;
  if (ours.length !== theirs.length) ours = STAND_IN[theirs.length === 4 ? 4 : 6];
  return { local: ours, remote: theirs };
}

/** The packet comment: the record's summary, and why it was refused. Only strings are taken (records may come from a file). */
const commentOf = (r: CaptureRecord): string | undefined => {
  const text = [r.summary ?? r.kind, typeof r.rejected === 'string' ? `refused: ${r.rejected}` : undefined].filter((s) => typeof s === 'string' && s.length > 0).join(' — ');
  if (!text) return undefined;
  return text.length > MAX_COMMENT ? `${text.slice(0, MAX_COMMENT)}…` : text;
};

function clampMss(mss: number | undefined): number {
  if (mss === undefined || !Number.isFinite(mss)) return DEFAULT_MSS;
  return Math.min(maxSegment(4) - TCP_HEADER, Math.max(64, Math.floor(mss)));
}

// ---- checks on untrusted records (an imported session file is one) ----

function checkEndpoint(e: Endpoint | undefined, field: string): Endpoint {
  if (!e || typeof e !== 'object') fail('bad-type', field, 'not an endpoint');
  if (typeof e.ip !== 'string' || !ipToBytes(e.ip)) fail('bad-value', `${field}.ip`, `${JSON.stringify(String(e.ip).slice(0, 60))} is not an IP address`);
  if (!Number.isInteger(e.port) || e.port < 0 || e.port > 0xffff) fail('bad-value', `${field}.port`, `${String(e.port)} is not a port (0..65535)`);
  return { ip: e.ip, port: e.port };
}

function checkTime(at: number, field: string): void {
  if (typeof at !== 'number' || !Number.isFinite(at) || at < 0 || at > MAX_AT_MS) fail('bad-value', field, `${String(at)} is not a time a capture can hold`);
}

function checkRecord(r: CaptureRecord, i: number): CaptureRecord {
  const field = `records[${i}]`;
  if (!r || typeof r !== 'object') fail('bad-type', field, 'not a record');
  if (!(r.raw instanceof Uint8Array)) fail('bad-type', `${field}.raw`, 'not bytes');
  if (r.direction !== 'in' && r.direction !== 'out') fail('bad-value', `${field}.direction`, `"${String(r.direction)}" is neither in nor out`);
  checkTime(r.at, `${field}.at`);
  checkEndpoint(r.peer, `${field}.peer`);
  if (r.conn !== undefined && typeof r.conn !== 'string') fail('bad-type', `${field}.conn`, 'not a connection id');
  if (r.streamOffset !== undefined && (!Number.isSafeInteger(r.streamOffset) || r.streamOffset < 0)) fail('bad-value', `${field}.streamOffset`, `${String(r.streamOffset)} is not a stream offset`);
  return r;
}

// ---- pcapng blocks (draft-ietf-opsawg-pcapng §4), little-endian ----

type Option = [code: number, value: Uint8Array];

const pad4 = (n: number): number => (n + 3) & ~3;

function optionsLength(options: Option[]): number {
  if (options.length === 0) return 0;
  return options.reduce((n, [, v]) => n + 4 + pad4(v.length), 0) + 4; // + opt_endofopt
}

/** Type, total length, body (padded), options ending in opt_endofopt, total length again. */
function block(type: number, body: Uint8Array, options: Option[]): Uint8Array {
  const total = 12 + pad4(body.length) + optionsLength(options);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  out.set(body, 8);
  let at = 8 + pad4(body.length);
  for (const [code, value] of options) {
    v.setUint16(at, code, true);
    v.setUint16(at + 2, value.length, true);
    out.set(value, at + 4);
    at += 4 + pad4(value.length);
  }
  if (options.length > 0) at += 4; // opt_endofopt: code 0, length 0 (already zero)
  v.setUint32(at, total, true);
  return out;
}

function sectionHeader(application: string): Uint8Array {
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, BYTE_ORDER_MAGIC, true);
  v.setUint16(4, 1, true); // major version
  v.setUint16(6, 0, true); // minor version
  v.setBigInt64(8, -1n, true); // section length: not given
  return block(BLOCK.SHB, body, [[OPTION.shb_userappl, utf8(application)]]);
}

function interfaceDescription(): Uint8Array {
  const body = new Uint8Array(8);
  const v = new DataView(body.buffer);
  v.setUint16(0, LINKTYPE_RAW, true);
  v.setUint32(4, 0, true); // snaplen: no limit
  return block(BLOCK.IDB, body, [[OPTION.if_name, utf8('handshake-lab')], [OPTION.if_tsresol, Uint8Array.of(TS_RESOLUTION)]]);
}

/** Milliseconds (with fractions) to whole microseconds, without passing through a float of 10^15 and more. */
export function microseconds(at: number): bigint {
  const ms = Math.floor(at);
  return BigInt(ms) * 1000n + BigInt(Math.round((at - ms) * 1000)); // a fraction that rounds to 1000 µs carries
}

function enhancedPacket(p: Packet): Uint8Array {
  const body = new Uint8Array(20 + p.bytes.length);
  const v = new DataView(body.buffer);
  const us = microseconds(p.at);
  v.setUint32(0, 0, true); // interface 0
  v.setUint32(4, Number(us >> 32n), true);
  v.setUint32(8, Number(us & 0xffffffffn), true);
  v.setUint32(12, p.bytes.length, true); // captured
  v.setUint32(16, p.bytes.length, true); // original: nothing was cut
  body.set(p.bytes, 20);
  // Comments are capped at MAX_COMMENT characters, well inside an option's 65535 bytes.
  return block(BLOCK.EPB, body, p.comment ? [[OPTION.comment, utf8(p.comment)]] : []);
}

function writeFile(packets: Packet[], options: PcapngOptions): Uint8Array {
  const blocks = [sectionHeader(options.application ?? 'Handshake Lab'), interfaceDescription(), ...packets.map(enhancedPacket)];
  let total = 0;
  for (const b of blocks) total += b.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

// Export and import of a session as JSON: every packet with its bytes, timestamps, decrypted
// message and dissection, plus the crypto trace. Import re-derives everything it shows from the
// bytes (the dissections in the file are for other tools), and checks every value it reads.
import { parseHex, toHex } from '../../shared/bytes.ts';
import type { Dissection, Field } from '../../shared/dissect.ts';
import { decodeMessage } from '../../shared/discv5/messages.ts';
import type { PacketKind } from '../../shared/discv5/engine.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import type { Endpoint } from '../../shared/transport.ts';
import type { PacketInfo } from './protocol.ts';
import type { RlpxDetail } from '../../shared/rlpx/engine.ts';
import { isProtocolId } from '../protocols/registry.ts';

export const FORMAT = 'handshake-lab/session';
/** 2: packets name their protocol (and a stream's connection); 1 (discv5 only) still imports. */
export const VERSION = 2;
const MAX_PACKETS = 20_000;
const MAX_BYTES = 65_535;
const KINDS: PacketKind[] = ['random', 'ordinary', 'WHOAREYOU', 'handshake'];

export interface SessionNote {
  at: number;
  level: 'error' | 'info' | 'ok';
  text: string;
}

export interface SessionData {
  local: { nodeId: string; enr?: string };
  /** Names shown for peers (node id hex → name). */
  names: Record<string, string>;
  packets: PacketInfo[];
  trace: TraceRecord[];
  notes: SessionNote[];
}

interface JsonField { name: string; offset: number; length: number; value: string; meaning: string; spec?: string; secret?: boolean; children?: JsonField[] }
const fieldJson = (f: Field): JsonField => ({ ...f, ...(f.children ? { children: f.children.map(fieldJson) } : {}) });

/** Trace values that are your node's long-term private key: left out of an export unless asked for. */
export const PRIVATE_KEY_VALUES = new Set(['static-key']);
export const KEY_LEFT_OUT = 'left out of this export: your node’s private key (tick “include my node’s private key” to keep it)';

/** The trace with the node's private key blanked (hex empty, a note saying so). */
const withoutPrivateKey = (trace: TraceRecord[]): TraceRecord[] =>
  trace.map((t) => {
    const blank = (vs: TraceRecord['inputs']) => vs.map((x) => (PRIVATE_KEY_VALUES.has(x.name) ? { ...x, hex: '', note: KEY_LEFT_OUT } : x));
    return { ...t, inputs: blank(t.inputs), outputs: blank(t.outputs) };
  });

/**
 * The session as a JSON text (bytes as hex, bigints as decimal strings). Your node's private key
 * is left out (and the file says so) unless `includePrivateKey`: session keys and secrets stay,
 * so the key schedule can still be recomputed from the file (docs/recompute-keys.mjs).
 */
export function exportSession(s: SessionData, dissect: (p: PacketInfo) => Dissection, exportedAt = new Date(), options: { includePrivateKey?: boolean } = {}): string {
  const packets = s.packets.filter((p) => !p.held).map((p) => {
    const d = dissect(p);
    return {
      seq: p.seq,
      protocol: p.protocol ?? 'discv5',
      ...(p.conn ? { conn: p.conn } : {}),
      ...(p.streamOffset !== undefined ? { streamOffset: p.streamOffset } : {}),
      ...(p.summary ? { summary: p.summary } : {}),
      direction: p.direction,
      at: p.at,
      peer: p.peer,
      ...(p.peerId ? { peerId: p.peerId } : {}),
      destId: p.destId,
      ...(p.kind ? { kind: p.kind } : {}),
      raw: toHex(p.raw),
      ...(p.plaintext ? { plaintext: toHex(p.plaintext) } : {}),
      ...(p.messageKey ? { messageKey: toHex(p.messageKey) } : {}),
      ...streamDetailJson(p),
      ...(p.retransmit ? { retransmit: true } : {}),
      ...(p.rejected ? { rejected: p.rejected } : {}),
      ...(p.note ? { note: p.note } : {}),
      dissection: { kind: d.kind, summary: d.summary, ...(d.error ? { error: d.error } : {}), layers: d.layers.map((l) => ({ name: l.name, ...(l.note ? { note: l.note } : {}), bytes: toHex(l.bytes), fields: l.fields.map(fieldJson) })) },
    };
  });
  const protocols = [...new Set(packets.map((p) => p.protocol))];
  const privateKey = options.includePrivateKey ? 'included' : 'left out';
  const trace = options.includePrivateKey ? s.trace : withoutPrivateKey(s.trace);
  return JSON.stringify({ format: FORMAT, version: VERSION, protocols, exportedAt: exportedAt.toISOString(), privateKey, local: s.local, names: s.names, packets, trace, notes: s.notes }, null, 1);
}

/** A stream protocol's decrypted layers (RLPx frames, libp2p's Noise payloads): the bytes alone cannot give them back. */
function streamDetailJson(p: PacketInfo): Record<string, unknown> {
  const d = p.rlpx;
  return {
    ...(p.continues !== undefined ? { continues: p.continues } : {}),
    ...(p.streams ? { streams: p.streams } : {}),
    ...(p.noiseStatic ? { noiseStatic: toHex(p.noiseStatic) } : {}),
    ...(d?.layer === 'handshake' ? { rlpx: { layer: d.layer, kind: d.kind, format: d.format, plaintext: toHex(d.plaintext), ...(d.rlpLength !== undefined ? { rlpLength: d.rlpLength } : {}) } } : {}),
    ...(d?.layer === 'frame' ? { rlpx: { layer: d.layer, headerPlain: toHex(d.headerPlain), framePlain: toHex(d.framePlain), ctx: d.ctx } } : {}),
  };
}

export type ImportResult = { ok: true; session: SessionData } | { ok: false; reason: string };

class Bad extends Error {}
const bad = (why: string): never => {
  throw new Bad(why);
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, what: string, max = 4096): string => (typeof v === 'string' && v.length <= max ? v : bad(`${what} must be text`));
const num = (v: unknown, what: string): number => (typeof v === 'number' && Number.isFinite(v) ? v : bad(`${what} must be a number`));
function bytes(v: unknown, what: string): Uint8Array {
  const s = str(v, what, MAX_BYTES * 2);
  const b = parseHex(s);
  return b ?? bad(`${what} is not hex`);
}
const hexId = (v: unknown, what: string): string => {
  const s = str(v, what, 64);
  return /^[0-9a-f]{64}$/.test(s) ? s : bad(`${what} must be 64 lowercase hex digits`);
};

function endpoint(v: unknown, what: string): Endpoint {
  if (!isObj(v)) return bad(`${what} must be {ip, port}`);
  const port = num(v.port, `${what}.port`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad(`${what}.port is not a port`);
  return { ip: str(v.ip, `${what}.ip`, 64), port };
}

function packet(v: unknown, i: number, version: number): PacketInfo {
  const w = `packets[${i}]`;
  if (!isObj(v)) return bad(`${w} is not an object`);
  const direction: 'in' | 'out' = v.direction === 'in' || v.direction === 'out' ? v.direction : bad(`${w}.direction must be "in" or "out"`);
  // Version 1 files hold discv5 only.
  const protocol = version === 1 || v.protocol === undefined ? 'discv5' : str(v.protocol, `${w}.protocol`, 20);
  if (!isProtocolId(protocol)) bad(`${w}.protocol "${protocol}" is not one this page knows`);
  const common = { seq: num(v.seq, `${w}.seq`), protocol, direction, at: num(v.at, `${w}.at`), peer: endpoint(v.peer, `${w}.peer`), raw: bytes(v.raw, `${w}.raw`) };
  const tail = {
    ...(v.rejected !== undefined ? { rejected: str(v.rejected, `${w}.rejected`) } : {}),
    ...(v.note !== undefined ? { note: str(v.note, `${w}.note`) } : {}),
  };
  if (protocol !== 'discv5') return { ...streamPacket(v, w), ...common, ...tail };
  const kind = v.kind === undefined ? undefined : KINDS.includes(v.kind as PacketKind) ? (v.kind as PacketKind) : bad(`${w}.kind is unknown`);
  const plaintext = v.plaintext === undefined ? undefined : bytes(v.plaintext, `${w}.plaintext`);
  const decoded = plaintext ? decodeMessage(plaintext) : undefined;
  return {
    ...common,
    ...(v.peerId !== undefined ? { peerId: hexId(v.peerId, `${w}.peerId`) } : {}),
    destId: hexId(v.destId, `${w}.destId`),
    ...(kind ? { kind } : {}),
    ...(plaintext ? { plaintext } : {}),
    ...(decoded?.ok ? { message: decoded.value } : {}),
    ...(v.messageKey !== undefined ? { messageKey: bytes(v.messageKey, `${w}.messageKey`) } : {}),
    ...(v.retransmit === true ? { retransmit: true } : {}),
    ...tail,
  };
}

/** A stream protocol's own fields: its kind, connection and place in it; everything shown is re-read from the bytes. */
function streamPacket(v: Record<string, unknown>, w: string): Pick<PacketInfo, 'kind' | 'conn' | 'streamOffset' | 'summary' | 'destId' | 'peerId' | 'plaintext' | 'continues' | 'streams' | 'noiseStatic' | 'rlpx'> {
  const kind = v.kind === undefined ? undefined : str(v.kind, `${w}.kind`, 40);
  if (kind !== undefined && !/^[\x20-\x7e]+$/.test(kind)) bad(`${w}.kind must be printable text`);
  const streamOffset = v.streamOffset === undefined ? undefined : num(v.streamOffset, `${w}.streamOffset`);
  if (streamOffset !== undefined && (!Number.isInteger(streamOffset) || streamOffset < 0)) bad(`${w}.streamOffset is not a byte offset`);
  return {
    destId: '',
    ...(kind ? { kind } : {}),
    ...(v.conn !== undefined ? { conn: str(v.conn, `${w}.conn`, 40) } : {}),
    ...(streamOffset !== undefined ? { streamOffset } : {}),
    ...(v.summary !== undefined ? { summary: str(v.summary, `${w}.summary`, 400) } : {}),
    ...(v.peerId !== undefined ? { peerId: printable(v.peerId, `${w}.peerId`, 200) } : {}),
    ...(v.plaintext !== undefined ? { plaintext: bytes(v.plaintext, `${w}.plaintext`) } : {}),
    ...(v.continues !== undefined ? { continues: count(v.continues, `${w}.continues`) } : {}),
    ...(v.streams !== undefined ? { streams: streamNames(v.streams, `${w}.streams`) } : {}),
    ...(v.noiseStatic !== undefined ? { noiseStatic: sized(v.noiseStatic, 32, `${w}.noiseStatic`) } : {}),
    ...(v.rlpx !== undefined ? { rlpx: rlpxDetail(v.rlpx, `${w}.rlpx`) } : {}),
  };
}

const printable = (v: unknown, what: string, max: number): string => {
  const s = str(v, what, max);
  return /^[\x20-\x7e]*$/.test(s) ? s : bad(`${what} must be printable text`);
};
const count = (v: unknown, what: string, max = MAX_BYTES): number => {
  const n = num(v, what);
  return Number.isInteger(n) && n >= 0 && n <= max ? n : bad(`${what} must be a whole number from 0 to ${max}`);
};
const sized = (v: unknown, size: number, what: string): Uint8Array => {
  const b = bytes(v, what);
  return b.length === size ? b : bad(`${what} must be ${size} bytes`);
};

/** libp2p: each yamux stream's protocol, by stream id. */
function streamNames(v: unknown, what: string): Record<number, string> {
  if (!isObj(v)) return bad(`${what} must be an object`);
  const entries = Object.entries(v);
  if (entries.length > 256) bad(`${what} has more than 256 streams`);
  const out: Record<number, string> = {};
  for (const [k, name] of entries) {
    if (!/^\d{1,10}$/.test(k)) bad(`${what} keys must be stream ids`);
    out[Number(k)] = printable(name, `${what}[${k}]`, 200);
  }
  return out;
}

/** RLPx: the decrypted auth/ack body, or a frame's decrypted header and frame-data with the capabilities in force. */
function rlpxDetail(v: unknown, what: string): RlpxDetail {
  if (!isObj(v)) return bad(`${what} must be an object`);
  if (v.layer === 'handshake') {
    const kind = v.kind === 'auth' || v.kind === 'ack' ? v.kind : bad(`${what}.kind must be "auth" or "ack"`);
    const format = v.format === 'eip8' || v.format === 'pre-eip8' ? v.format : bad(`${what}.format must be "eip8" or "pre-eip8"`);
    return { layer: 'handshake', kind, format, plaintext: bytes(v.plaintext, `${what}.plaintext`), ...(v.rlpLength !== undefined ? { rlpLength: count(v.rlpLength, `${what}.rlpLength`) } : {}) };
  }
  if (v.layer !== 'frame') return bad(`${what}.layer must be "handshake" or "frame"`);
  const ctx = isObj(v.ctx) ? v.ctx : bad(`${what}.ctx must be an object`);
  if (typeof ctx.compressed !== 'boolean') bad(`${what}.ctx.compressed must be true or false`);
  const caps = Array.isArray(ctx.caps) && ctx.caps.length <= 32 ? ctx.caps : bad(`${what}.ctx.caps must be a list of at most 32 capabilities`);
  return {
    layer: 'frame',
    headerPlain: sized(v.headerPlain, 16, `${what}.headerPlain`),
    framePlain: bytes(v.framePlain, `${what}.framePlain`),
    ctx: {
      compressed: ctx.compressed as boolean,
      caps: caps.map((c, i) => {
        const cw = `${what}.ctx.caps[${i}]`;
        if (!isObj(c)) return bad(`${cw} must be an object`);
        return { name: printable(c.name, `${cw}.name`, 32), version: count(c.version, `${cw}.version`, 0xffff), offset: count(c.offset, `${cw}.offset`, 0xffff), length: count(c.length, `${cw}.length`, 0xffff) };
      }),
    },
  };
}

function traceRecord(v: unknown, i: number): TraceRecord {
  const w = `trace[${i}]`;
  if (!isObj(v)) return bad(`${w} is not an object`);
  const values = (a: unknown, what: string) =>
    (Array.isArray(a) ? a : bad(`${what} must be a list`)).map((x, j) => {
      if (!isObj(x)) return bad(`${what}[${j}] is not an object`);
      return {
        name: str(x.name, `${what}[${j}].name`, 200),
        hex: str(x.hex, `${what}[${j}].hex`, MAX_BYTES * 2),
        ...(x.secret === true ? { secret: true } : {}),
        ...(x.note !== undefined ? { note: str(x.note, `${what}[${j}].note`) } : {}),
      };
    });
  return {
    step: str(v.step, `${w}.step`, 40) as TraceRecord['step'],
    title: str(v.title, `${w}.title`, 400),
    inputs: values(v.inputs, `${w}.inputs`),
    outputs: values(v.outputs, `${w}.outputs`),
    ...(typeof v.ok === 'boolean' ? { ok: v.ok } : {}),
    ...(v.spec !== undefined ? { spec: str(v.spec, `${w}.spec`, 400) } : {}),
    ...(v.peer !== undefined ? { peer: str(v.peer, `${w}.peer`, 64) } : {}),
    ...(v.packet !== undefined ? { packet: num(v.packet, `${w}.packet`) } : {}),
  };
}

/** Reads a session file; any problem is one sentence naming the bad value. */
export function importSession(text: string): ImportResult {
  try {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return { ok: false, reason: `not JSON: ${(e as Error).message}` };
    }
    if (!isObj(doc) || doc.format !== FORMAT) return { ok: false, reason: `not a Handshake Lab session (format "${FORMAT}" expected)` };
    if (doc.version !== 1 && doc.version !== VERSION) return { ok: false, reason: `session format version ${String(doc.version)} is not supported (1 and ${VERSION} are)` };
    const version = doc.version;
    const list = Array.isArray(doc.packets) ? doc.packets : bad('packets must be a list');
    if (list.length > MAX_PACKETS) bad(`${list.length} packets: at most ${MAX_PACKETS}`);
    const local = isObj(doc.local) ? doc.local : bad('local must be an object');
    const names: Record<string, string> = {};
    if (isObj(doc.names)) for (const [k, v] of Object.entries(doc.names)) if (/^[0-9a-f]{64}$/.test(k) && typeof v === 'string') names[k] = v.slice(0, 40);
    const notes: SessionNote[] = (Array.isArray(doc.notes) ? doc.notes : []).slice(0, MAX_PACKETS).flatMap((n) =>
      isObj(n) && typeof n.text === 'string' && typeof n.at === 'number' ? [{ at: n.at, level: n.level === 'error' || n.level === 'ok' ? n.level : 'info', text: n.text.slice(0, 400) } as SessionNote] : [],
    );
    return {
      ok: true,
      session: {
        local: { nodeId: hexId(local.nodeId, 'local.nodeId'), ...(typeof local.enr === 'string' ? { enr: local.enr.slice(0, 1000) } : {}) },
        names,
        packets: list.map((p, i) => packet(p, i, version)),
        trace: (Array.isArray(doc.trace) ? doc.trace : []).slice(0, MAX_PACKETS * 8).map(traceRecord),
        notes,
      },
    };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, reason: e.message };
    throw e;
  }
}

// yamux framing (libp2p/specs yamux/README.md, after hashicorp/yamux spec.md): a 12-byte
// header — version (0), type, flags, stream id, length — then `length` bytes of data for
// Data frames; for the other types `length` is the value (window delta, ping opaque, go-away code).
import { attempt, fail, type Result } from '../errors.ts';
import type { Field } from '../dissect.ts';
import { Reader } from '../bitcoin/wire.ts';
import { SPEC, YAMUX_HEADER } from './spec.ts';

export const YAMUX_TYPES = ['Data', 'Window Update', 'Ping', 'Go Away'] as const;
export type YamuxType = (typeof YAMUX_TYPES)[number];
export const FLAG = { SYN: 1, ACK: 2, FIN: 4, RST: 8 } as const;
export const GO_AWAY = ['normal termination', 'protocol error', 'internal error'] as const;

export interface YamuxFrame {
  type: YamuxType;
  flags: number;
  streamId: number;
  /** Data length, window delta, ping opaque value or go-away code. */
  length: number;
  data?: Uint8Array;
}

export const flagNames = (flags: number): string => (Object.entries(FLAG).filter(([, b]) => flags & b).map(([n]) => n).join('|') || 'none');

const DOCS = {
  version: { name: 'version', meaning: 'yamux version: always 0.', spec: SPEC.yamuxHeader },
  type: { name: 'type', meaning: '0 Data, 1 Window Update, 2 Ping, 3 Go Away.', spec: SPEC.yamuxHeader },
  flags: { name: 'flags', meaning: 'SYN (1) opens a stream, ACK (2) accepts it, FIN (4) half-closes, RST (8) resets.', spec: SPEC.yamuxFlags },
  streamId: { name: 'stream id', meaning: 'Which stream: odd ids are opened by the dialer, even by the listener; 0 is the session itself (ping, go away).', spec: SPEC.yamuxStreams },
  length: { name: 'length', meaning: 'Data: how many bytes follow. Window Update: the window delta. Ping: an opaque value echoed back. Go Away: the reason code.', spec: SPEC.yamuxHeader },
};

/** Reads and checks a 12-byte header (the data is not read here). */
export function readYamuxHeader(r: Reader): YamuxFrame {
  const version = r.u8(DOCS.version);
  if (version !== 0) fail('bad-version', 'version', `yamux version ${version}, only 0 exists`);
  const t = r.u8(DOCS.type, (v) => `${v} (${YAMUX_TYPES[v] ?? 'unknown'})`);
  const type = YAMUX_TYPES[t];
  if (!type) fail('bad-value', 'type', `frame type ${t} does not exist`);
  const flags = r.u16be(DOCS.flags, (f) => `0x${f.toString(16).padStart(4, '0')} (${flagNames(f)})`);
  if (flags & ~0xf) fail('bad-flag', 'flags', `unknown flag bits 0x${(flags & ~0xf).toString(16)}`);
  const streamId = r.u32be(DOCS.streamId);
  const length = r.u32be(DOCS.length, (v) => (type === 'Data' ? `${v} bytes` : type === 'Go Away' ? `${v} (${GO_AWAY[v] ?? 'unknown code'})` : String(v)));
  if ((type === 'Ping' || type === 'Go Away') && streamId !== 0) fail('bad-value', 'stream id', `${type} belongs to stream 0, not ${streamId}`);
  return { type, flags, streamId, length };
}

export const decodeYamuxHeader = (bytes: Uint8Array, fields?: Field[]): Result<YamuxFrame> => attempt(() => readYamuxHeader(new Reader(bytes, fields)));

export function encodeYamux(type: YamuxType, flags: number, streamId: number, lengthOrData: number | Uint8Array): Uint8Array {
  const data = typeof lengthOrData === 'number' ? undefined : lengthOrData;
  const length = data ? data.length : (lengthOrData as number);
  const out = new Uint8Array(YAMUX_HEADER + (data?.length ?? 0));
  out[0] = 0;
  out[1] = YAMUX_TYPES.indexOf(type);
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  const dv = new DataView(out.buffer);
  dv.setUint32(4, streamId);
  dv.setUint32(8, length);
  if (data) out.set(data, YAMUX_HEADER);
  return out;
}

export function describeYamux(f: YamuxFrame): string {
  const flags = f.flags ? ` ${flagNames(f.flags)}` : '';
  if (f.type === 'Data') return `yamux Data${flags} stream ${f.streamId}, ${f.length} bytes`;
  if (f.type === 'Window Update') return `yamux Window Update${flags} stream ${f.streamId} +${f.length}`;
  if (f.type === 'Ping') return `yamux Ping${flags} ${f.length}`;
  return `yamux Go Away (${GO_AWAY[f.length] ?? f.length})`;
}

// multistream-select 1.0: each message is a varint length, then UTF-8 text ending in "\n"
// (the length counts it). Both sides first send "/multistream/1.0.0"; the dialer proposes a
// protocol id; the listener echoes it to agree, or answers "na".
import { attempt, fail, WireError, type ErrorCode, type Result } from '../errors.ts';
import { printableAscii, utf8 } from '../bytes.ts';
import type { Field } from '../dissect.ts';
import type { ByteQueue, FrameResult } from '../framing.ts';
import { Reader, hexOf } from '../bitcoin/wire.ts';
import { MAX_MULTISTREAM_LINE, MULTISTREAM, SPEC } from './spec.ts';
import { peekUvarint, readUvarint, uvarint } from './varint.ts';

export function encodeLine(text: string): Uint8Array {
  const body = utf8(`${text}\n`);
  const len = uvarint(body.length);
  const out = new Uint8Array(len.length + body.length);
  out.set(len);
  out.set(body, len.length);
  return out;
}

/** Several lines as one write (header and proposal go together). */
export function encodeLines(...texts: string[]): Uint8Array {
  const parts = texts.map(encodeLine);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const DOCS = {
  length: { name: 'length', meaning: 'Unsigned varint: how many bytes follow, the newline included.', spec: SPEC.multistream },
  text: { name: 'protocol id', meaning: 'The message: "/multistream/1.0.0" opens the negotiation; then a proposed protocol id, its echo (agreed) or "na" (not available).', spec: SPEC.multistream },
  newline: { name: 'newline', meaning: 'Every multistream message ends with "\\n".', spec: SPEC.multistream },
};

/** Reads one line; the text must be printable ASCII and end in a newline. */
export function readLine(r: Reader): string {
  const len = readUvarint(r, DOCS.length, 2, (n) => `${n} bytes`);
  if (len === 0) fail('too-small', 'length', 'an empty multistream message');
  if (len > MAX_MULTISTREAM_LINE) fail('too-large', 'length', `${len} bytes is over the ${MAX_MULTISTREAM_LINE}-byte line limit`);
  if (r.left < len) fail('truncated', 'protocol id', `needs ${len} bytes, ${r.left} left`);
  const body = r.bytes.subarray(r.at, r.at + len);
  if (body[len - 1] !== 0x0a) fail('bad-value', 'newline', 'a multistream message must end with "\\n"');
  const text = printableAscii(body.subarray(0, len - 1));
  if (text === undefined && len > 1) fail('bad-value', 'protocol id', 'not printable ASCII');
  if (len > 1) r.bytesOf(len - 1, DOCS.text, () => JSON.stringify(text));
  r.bytesOf(1, DOCS.newline, () => '0x0a');
  return text ?? '';
}

export const decodeLine = (bytes: Uint8Array): Result<string> =>
  attempt(() => {
    const r = new Reader(bytes);
    const s = readLine(r);
    if (r.left) fail('trailing-bytes', 'line', `${r.left} bytes after the newline`);
    return s;
  });

/** Takes one line off a stream; a bad length is refused as soon as its bytes are in. */
export function multistreamFramer(q: ByteQueue): FrameResult<string> {
  const offset = q.offset;
  const head = q.peek(Math.min(q.length, 2)) ?? new Uint8Array(0);
  const v = peekUvarint(head, 2);
  if (v === -1) return { type: 'error', error: wireError('too-large', 'length', `over the ${MAX_MULTISTREAM_LINE}-byte line limit`), raw: q.drain(), offset };
  if (v === undefined) return { type: 'need-more' };
  if (v.value === 0 || v.value > MAX_MULTISTREAM_LINE) return { type: 'error', error: wireError(v.value ? 'too-large' : 'too-small', 'length', v.value ? `${v.value} bytes is over the ${MAX_MULTISTREAM_LINE}-byte line limit` : 'an empty multistream message'), raw: q.drain(), offset };
  if (q.length < v.size + v.value) return { type: 'need-more' };
  const raw = q.take(v.size + v.value)!;
  const r = decodeLine(raw);
  return r.ok ? { type: 'frame', frame: r.value, raw, offset } : { type: 'error', error: r.error, raw, offset };
}

const wireError = (code: ErrorCode, field: string, message: string) => new WireError(code, field, message);

/** The fields of one or more lines back to back (a header and a proposal in one write). */
export function dissectLines(bytes: Uint8Array): { fields: Field[]; lines: string[]; error?: string } {
  const fields: Field[] = [];
  const lines: string[] = [];
  const r = new Reader(bytes, fields);
  const res = attempt(() => {
    while (r.left > 0) {
      const start = r.at;
      const inner: Field[] = [];
      const sub = new Reader(bytes, inner);
      sub.at = start;
      const text = readLine(sub);
      r.at = sub.at;
      lines.push(text);
      fields.push({ name: lineName(text), offset: start, length: r.at - start, value: JSON.stringify(text), meaning: lineMeaning(text), spec: SPEC.multistream, children: inner });
    }
  });
  if (!res.ok && r.left > 0) fields.push({ name: 'undecodable', offset: r.at, length: r.left, value: hexOf(bytes.subarray(r.at)), meaning: `Not a multistream message: ${res.error.reason}.` });
  return { fields, lines, ...(res.ok ? {} : { error: res.error.reason }) };
}

const lineName = (text: string) => (text === MULTISTREAM ? 'multistream header' : text === 'na' ? 'na' : 'protocol');
function lineMeaning(text: string): string {
  if (text === MULTISTREAM) return 'The multistream-select header: "I speak multistream-select 1.0". Each side sends it first.';
  if (text === 'na') return '"na": the protocol proposed is not available here.';
  if (text === 'ls') return '"ls": list the protocols you support.';
  return `A protocol id: proposed by the dialer, echoed by the listener to agree.`;
}

export const describeLine = (raw: Uint8Array): string => {
  const r = decodeLine(raw);
  return r.ok ? r.value : 'bad line';
};

// Protocol Buffers wire format, just enough for libp2p's small messages: varint fields and
// length-delimited fields (bytes, strings, nested messages), read by a schema that also
// names every byte. Unknown fields are skipped (proto3 rules) and shown as such.
import { fail } from '../errors.ts';
import { printableOrHex } from '../bytes.ts';
import type { Field } from '../dissect.ts';
import { Reader, hexOf } from '../bitcoin/wire.ts';
import { SPEC } from './spec.ts';
import { readUvarint, uvarint } from './varint.ts';

export interface ProtoFieldSpec {
  name: string;
  type: 'varint' | 'bytes' | 'string' | 'message';
  meaning: string;
  spec?: string;
  /** For type 'message'. */
  message?: ProtoSchema;
  /** How a value is shown (bytes/string). */
  show?: (b: Uint8Array) => string;
  showNumber?: (n: number) => string;
}

export type ProtoSchema = Record<number, ProtoFieldSpec>;

/** Values by field number, in wire order; nested messages as their own decoded maps. */
export interface ProtoMessage {
  fields: Map<number, ProtoValue[]>;
  /** The message's own bytes (a nested message's encoding, as a key's peer id is made from). */
  raw: Uint8Array;
}
export type ProtoValue = number | Uint8Array | ProtoMessage;

const TAG_DOC = { name: 'tag', meaning: 'Protobuf key: field number × 8 + wire type (0 varint, 2 length-delimited).', spec: SPEC.protobuf };
const LEN_DOC = { name: 'length', meaning: 'How many bytes the value takes.', spec: SPEC.protobuf };
/** Nested messages deeper than this are refused (none of libp2p's go past 2). */
const MAX_DEPTH = 4;

/** Reads a whole message from `start` to `end` of `bytes`; `fields` collects the dissection. */
export function readProto(bytes: Uint8Array, schema: ProtoSchema, fields?: Field[], start = 0, end = bytes.length, depth = 0): ProtoMessage {
  if (depth > MAX_DEPTH) fail('too-large', 'protobuf', 'messages nested too deep');
  const r = new Reader(bytes.subarray(0, end), fields ? [] : undefined);
  r.at = start;
  const out: ProtoMessage = { fields: new Map(), raw: bytes.subarray(start, end) };
  while (r.left > 0) {
    const fieldStart = r.at;
    const parts: Field[] = [];
    const pr = new Reader(r.bytes, fields ? parts : undefined);
    pr.at = r.at;
    const key = readUvarint(pr, TAG_DOC, 5, (k) => `field ${Math.floor(k / 8)}, wire type ${k & 7}`);
    const num = Math.floor(key / 8);
    const wire = key & 7;
    if (num === 0) fail('bad-value', 'tag', 'field number 0');
    const spec = schema[num];
    let value: ProtoValue | undefined;
    let shown = '';
    if (wire === 0) {
      if (spec && spec.type !== 'varint') fail('bad-type', spec.name, `wire type 0 for a ${spec.type} field`);
      const v = readUvarint(pr, { name: spec?.name ?? `field ${num}`, meaning: spec?.meaning ?? 'An unknown varint field: skipped.', spec: spec?.spec ?? SPEC.protobuf }, 10, (n) => spec?.showNumber?.(n) ?? String(n));
      value = v;
      shown = spec?.showNumber?.(v) ?? String(v);
    } else if (wire === 2) {
      if (spec && spec.type === 'varint') fail('bad-type', spec.name, 'wire type 2 for a varint field');
      const len = readUvarint(pr, LEN_DOC, 5, (n) => `${n} bytes`);
      if (len > pr.left) fail('truncated', spec?.name ?? `field ${num}`, `needs ${len} bytes, ${pr.left} left`);
      const vStart = pr.at;
      const b = pr.bytes.subarray(vStart, vStart + len);
      if (spec?.type === 'message') {
        const inner: Field[] = [];
        value = readProto(pr.bytes, spec.message ?? {}, fields ? inner : undefined, vStart, vStart + len, depth + 1);
        pr.at = vStart + len;
        if (fields && len > 0) parts.push({ name: spec.name, offset: vStart, length: len, value: `${len} bytes`, meaning: spec.meaning, ...(spec.spec ? { spec: spec.spec } : {}), children: inner });
        shown = `message of ${len} bytes`;
      } else {
        if (spec?.type === 'string' && !isUtf8(b)) fail('bad-value', spec.name, 'not UTF-8 text');
        const show = spec?.show ?? (spec?.type === 'string' ? (x: Uint8Array) => JSON.stringify(new TextDecoder().decode(x)) : hexOf);
        pr.bytesOf(len, { name: spec?.name ?? `field ${num}`, meaning: spec?.meaning ?? 'An unknown field: skipped.', spec: spec?.spec ?? SPEC.protobuf }, show);
        value = b;
        shown = len === 0 ? '(empty)' : show(b);
      }
    } else if (wire === 1 || wire === 5) {
      if (spec) fail('bad-type', spec.name, `wire type ${wire} for a ${spec.type} field`);
      pr.bytesOf(wire === 1 ? 8 : 4, { name: `field ${num}`, meaning: 'An unknown fixed-width field: skipped.', spec: SPEC.protobuf });
    } else fail('bad-type', 'tag', `wire type ${wire} is not allowed`);
    r.at = pr.at;
    if (value !== undefined && spec) {
      const list = out.fields.get(num) ?? [];
      list.push(value);
      out.fields.set(num, list);
    }
    fields?.push({ name: spec?.name ?? `unknown field ${num}`, offset: fieldStart, length: r.at - fieldStart, value: shown || '(skipped)', meaning: spec?.meaning ?? 'A field this schema does not define: protobuf readers skip it.', spec: spec?.spec ?? SPEC.protobuf, children: parts });
  }
  return out;
}

function isUtf8(b: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
}

/** The last value of a bytes field (proto3: the last one wins), undefined when absent. */
export const bytesField = (m: ProtoMessage, n: number): Uint8Array | undefined => {
  const v = m.fields.get(n)?.at(-1);
  return v instanceof Uint8Array ? v : typeof v === 'object' ? v.raw : undefined;
};
export const stringsField = (m: ProtoMessage, n: number): string[] =>
  (m.fields.get(n) ?? []).filter((v): v is Uint8Array => v instanceof Uint8Array).map((b) => new TextDecoder().decode(b));
export const messageField = (m: ProtoMessage, n: number): ProtoMessage | undefined => {
  const v = m.fields.get(n)?.at(-1);
  return v && typeof v === 'object' && !(v instanceof Uint8Array) ? v : undefined;
};
export const numberField = (m: ProtoMessage, n: number): number | undefined => {
  const v = m.fields.get(n)?.at(-1);
  return typeof v === 'number' ? v : undefined;
};

/** Writes fields in the order given: [number, value] with bytes/strings length-delimited. */
export function encodeProto(entries: [number, number | Uint8Array | string][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [n, v] of entries) {
    if (typeof v === 'number') parts.push(uvarint(n * 8), uvarint(v));
    else {
      const b = typeof v === 'string' ? new TextEncoder().encode(v) : v;
      parts.push(uvarint(n * 8 + 2), uvarint(b.length), b);
    }
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const showText = (b: Uint8Array): string => printableOrHex(b);

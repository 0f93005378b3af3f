// Unsigned varints (LEB128: 7 bits a byte, low group first, high bit = more follow), as
// multistream, protobuf and identify use them. Minimal encoding only, like multiformats.
import { fail } from '../errors.ts';
import type { Reader, FieldDoc } from '../bitcoin/wire.ts';
import { SPEC } from './spec.ts';

/** Reads a varint of at most `maxBytes` bytes (≤ 7: the value stays exact as a number). */
export function readUvarint(r: Reader, doc: FieldDoc, maxBytes = 7, show: (v: number) => string = String): number {
  const start = r.at;
  let v = 0;
  for (let i = 0; ; i++) {
    if (i >= maxBytes) fail('too-large', doc.name, `varint longer than ${maxBytes} bytes`);
    if (r.at >= r.bytes.length) fail('truncated', doc.name, 'varint ends early');
    const b = r.bytes[r.at++];
    v += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) {
      if (b === 0 && i > 0) fail('non-canonical', doc.name, 'varint with a trailing zero group');
      break;
    }
  }
  r.record(start, { ...doc, spec: doc.spec ?? SPEC.varint }, show(v));
  return v;
}

/** How many bytes a varint needs at the front of `bytes`, or undefined while incomplete; -1 past maxBytes. */
export function peekUvarint(bytes: Uint8Array, maxBytes = 7): { value: number; size: number } | undefined | -1 {
  let v = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (i >= maxBytes) return -1;
    const b = bytes[i];
    v += (b & 0x7f) * 2 ** (7 * i);
    if (!(b & 0x80)) return b === 0 && i > 0 ? -1 : { value: v, size: i + 1 };
  }
  return bytes.length >= maxBytes ? -1 : undefined;
}

export function uvarint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

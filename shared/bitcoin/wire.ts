// Reading and writing Bitcoin's serialization (little-endian integers, compactSize,
// var_str, net_addr) with one reader that can also record each field it reads, so the
// decoder and the dissector are the same code.
import { fail } from '../errors.ts';
import type { Field } from '../dissect.ts';
import { SPEC } from './spec.ts';

/** Core's MAX_SIZE: no compactSize length may exceed it (serialize.h). */
export const MAX_COMPACT_SIZE = 0x02000000;

export interface FieldDoc {
  name: string;
  meaning: string;
  spec?: string;
}

export class Reader {
  at = 0;
  constructor(
    readonly bytes: Uint8Array,
    /** When given, every read appends a field with its offset, length and shown value. */
    readonly fields?: Field[],
  ) {}

  get left(): number {
    return this.bytes.length - this.at;
  }

  private need(n: number, name: string): void {
    if (n > this.left) fail('truncated', name, `needs ${n} byte${n === 1 ? '' : 's'}, ${this.left} left`);
  }

  /** Records the bytes read since `start` as one field. */
  record(start: number, doc: FieldDoc, value: string, children?: Field[]): void {
    this.fields?.push({ name: doc.name, offset: start, length: this.at - start, value, meaning: doc.meaning, ...(doc.spec ? { spec: doc.spec } : {}), ...(children ? { children } : {}) });
  }

  /** Claims `n` bytes as a field without copying or viewing them (the caller reads them in place). */
  skip(n: number, doc: FieldDoc, show: (b: Uint8Array) => string = hexOf): number {
    this.need(n, doc.name);
    const start = this.at;
    this.at += n;
    if (this.fields && n > 0) this.record(start, doc, show(this.bytes.subarray(start, start + n)));
    return start;
  }

  bytesOf(n: number, doc: FieldDoc, show: (b: Uint8Array) => string = hexOf): Uint8Array {
    this.need(n, doc.name);
    const start = this.at;
    const b = this.bytes.subarray(start, start + n);
    this.at += n;
    // Zero bytes are no field (the length before them already says 0): fields tile their layer.
    if (this.fields && n > 0) this.record(start, doc, show(b));
    return b;
  }

  u8(doc: FieldDoc, show: (v: number) => string = String): number {
    this.need(1, doc.name);
    const v = this.bytes[this.at++];
    if (this.fields) this.record(this.at - 1, doc, show(v));
    return v;
  }

  u32le(doc: FieldDoc, show: (v: number) => string = String): number {
    this.need(4, doc.name);
    const v = readU32le(this.bytes, this.at);
    this.at += 4;
    if (this.fields) this.record(this.at - 4, doc, show(v));
    return v;
  }

  i32le(doc: FieldDoc, show: (v: number) => string = String): number {
    this.need(4, doc.name);
    const v = readU32le(this.bytes, this.at) | 0;
    this.at += 4;
    if (this.fields) this.record(this.at - 4, doc, show(v));
    return v;
  }

  u64le(doc: FieldDoc, show: (v: bigint) => string = String): bigint {
    this.need(8, doc.name);
    const v = readU64le(this.bytes, this.at);
    this.at += 8;
    if (this.fields) this.record(this.at - 8, doc, show(v));
    return v;
  }

  i64le(doc: FieldDoc, show: (v: bigint) => string = String): bigint {
    return BigInt.asIntN(64, this.u64le(doc, (v) => show(BigInt.asIntN(64, v))));
  }

  u16be(doc: FieldDoc, show: (v: number) => string = String): number {
    this.need(2, doc.name);
    const v = (this.bytes[this.at] << 8) | this.bytes[this.at + 1];
    this.at += 2;
    if (this.fields) this.record(this.at - 2, doc, show(v));
    return v;
  }

  u32be(doc: FieldDoc, show: (v: number) => string = String): number {
    this.need(4, doc.name);
    const b = this.bytes;
    const v = ((b[this.at] << 24) | (b[this.at + 1] << 16) | (b[this.at + 2] << 8) | b[this.at + 3]) >>> 0;
    this.at += 4;
    if (this.fields) this.record(this.at - 4, doc, show(v));
    return v;
  }

  /** compactSize, canonical only (Core refuses a longer form than needed), at most `max`. */
  compactSize(doc: FieldDoc, max = MAX_COMPACT_SIZE): number {
    this.need(1, doc.name);
    const start = this.at;
    const first = this.bytes[this.at++];
    let v: number;
    if (first < 0xfd) v = first;
    else {
      const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8;
      this.need(width, doc.name);
      let n = 0n;
      for (let i = width - 1; i >= 0; i--) n = (n << 8n) | BigInt(this.bytes[this.at + i]);
      this.at += width;
      const least = width === 2 ? 0xfdn : width === 4 ? 0x10000n : 0x100000000n;
      if (n < least) fail('non-canonical', doc.name, `compactSize ${n} written in ${width + 1} bytes`);
      if (n > BigInt(max)) fail('too-large', doc.name, `${n} is over the limit of ${max}`);
      v = Number(n);
    }
    if (v > max) fail('too-large', doc.name, `${v} is over the limit of ${max}`);
    if (this.fields) this.record(start, { ...doc, spec: doc.spec ?? SPEC.compactSize }, `${v}`);
    return v;
  }

  /** Whatever is left, as one field (bytes a message does not define: nodes ignore them). */
  rest(doc: FieldDoc): Uint8Array | undefined {
    if (this.left === 0) return undefined;
    return this.bytesOf(this.left, doc);
  }
}

export const hexOf = (b: Uint8Array): string => (b.length === 0 ? '(empty)' : `0x${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`);

export function readU32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

export function readU64le(b: Uint8Array, at: number): bigint {
  const hi = readU32le(b, at + 4);
  const lo = readU32le(b, at);
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

// Messages are encoded into slices of a shared slab (as Node pools small Buffers): a typed
// array's backing store costs more to allocate than the whole of a verack's encoding.
const SLAB_SIZE = 16 * 1024;
let slab = new Uint8Array(SLAB_SIZE);
let slabAt = 0;

/** A growable buffer for encoding; small messages take a fresh, zeroed part of the slab. */
export class Writer {
  private buf: Uint8Array;
  private at = 0;
  constructor(capacity = 128) {
    if (capacity > SLAB_SIZE / 4) this.buf = new Uint8Array(capacity);
    else {
      if (slabAt + capacity > SLAB_SIZE) {
        slab = new Uint8Array(SLAB_SIZE);
        slabAt = 0;
      }
      this.buf = slab.subarray(slabAt, slabAt + capacity);
      slabAt += capacity;
    }
  }
  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.at + n));
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
    return this;
  }
  /** Latin-1 text, one byte per character (Bitcoin's var_str payloads are ASCII). */
  latin1(text: string): this {
    this.room(text.length);
    for (let i = 0; i < text.length; i++) this.buf[this.at++] = text.charCodeAt(i) & 0xff;
    return this;
  }
  /** Leaves `n` zero bytes to fill in later (a header whose length and checksum follow the payload). */
  skip(n: number): this {
    this.room(n);
    this.at += n;
    return this;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.at++] = v & 0xff;
    return this;
  }
  u16be(v: number): this {
    this.room(2);
    this.buf[this.at++] = (v >>> 8) & 0xff;
    this.buf[this.at++] = v & 0xff;
    return this;
  }
  u32le(v: number): this {
    this.room(4);
    for (let i = 0; i < 4; i++) this.buf[this.at++] = (v >>> (8 * i)) & 0xff;
    return this;
  }
  u64le(v: bigint): this {
    if (v >= 0n && v <= 0xffffffffn) return this.u32le(Number(v)).u32le(0); // the common case, without 64-bit BigInt math
    const u = BigInt.asUintN(64, v);
    this.u32le(Number(u & 0xffffffffn));
    return this.u32le(Number(u >> 32n));
  }
  compactSize(n: number): this {
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfd).u8(n).u8(n >>> 8);
    if (n <= 0xffffffff) return this.u8(0xfe).u32le(n);
    return this.u8(0xff).u64le(BigInt(n));
  }
  get length(): number {
    return this.at;
  }
  finish(): Uint8Array {
    return this.at === this.buf.length ? this.buf : this.buf.subarray(0, this.at);
  }
}

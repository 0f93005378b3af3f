// Byte helpers shared by every codec. Hex is lowercase, no 0x prefix on output.
import { bytesToHex } from '@noble/hashes/utils.js';

export const toHex = (b: Uint8Array): string => bytesToHex(b);
/** Joins byte strings. A plain loop: it runs several times per packet, where noble's checked concatBytes showed up. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    // TypedArray.set has a fixed cost that dominates for the few bytes of a header field.
    if (p.length < 64) for (let i = 0; i < p.length; i++) out[at + i] = p[i];
    else out.set(p, at);
    at += p.length;
  }
  return out;
}
/** Hex of the first `maxBytes` bytes, with "…" when there are more: ids and values in one-line text. */
export function shortHex(value: Uint8Array | string, maxBytes = 8): string {
  const hex = typeof value === 'string' ? value : toHex(value.length > maxBytes ? value.subarray(0, maxBytes) : value);
  const more = typeof value === 'string' ? value.length > maxBytes * 2 : value.length > maxBytes;
  return more ? `${hex.slice(0, maxBytes * 2)}…` : hex;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const fromUtf8 = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Printable ASCII (0x20–0x7e) as text, else undefined (also for no bytes). */
export function printableAscii(b: Uint8Array): string | undefined {
  if (b.length === 0) return undefined;
  let s = '';
  for (const c of b) {
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Printable ASCII as text, anything else as 0x-hex: how names and ids from the wire are shown. */
export const printableOrHex = (b: Uint8Array): string => printableAscii(b) ?? `0x${toHex(b)}`;

/** Parses hex (optional 0x, even length); undefined for anything else. For user input. */
export function parseHex(text: string): Uint8Array | undefined {
  const s = text.trim().replace(/^0x/i, '');
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex for trusted constants (vectors, literals): throws on malformed input. */
export function fromHex(text: string): Uint8Array {
  const b = parseHex(text);
  if (!b) throw new Error(`not hex: ${text.slice(0, 40)}`);
  return b;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Comparison whose time depends only on the lengths (tokens, tags). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Big-endian unsigned integer, any length. */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length <= 6) {
    // Exact as a double: one BigInt conversion instead of one per byte.
    let v = 0;
    for (let i = 0; i < b.length; i++) v = v * 256 + b[i];
    return BigInt(v);
  }
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

/** Minimal big-endian bytes (empty for zero), as RLP wants integers. */
export function bigintToBytes(n: bigint | number): Uint8Array {
  if (typeof n === 'number' ? n < 0 : n < 0n) throw new Error('negative integer');
  // Ports, distances and most seqs fit a double exactly: no BigInt arithmetic for them.
  if (typeof n === 'number' || n <= 0x1fffffffffffffn) {
    let v = Number(n);
    let len = 0;
    for (let x = v; x > 0; x = Math.floor(x / 256)) len++;
    const out = new Uint8Array(len);
    for (let i = len - 1; i >= 0; i--, v = Math.floor(v / 256)) out[i] = v % 256;
    return out;
  }
  const out: number[] = [];
  for (let v = n; v > 0n; v >>= 8n) out.unshift(Number(v & 0xffn));
  return Uint8Array.from(out);
}

/** Fixed-width big-endian bytes. */
export function uintBytes(n: bigint | number, width: number): Uint8Array {
  const out = new Uint8Array(width);
  let v = BigInt(n);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export const readU16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1];

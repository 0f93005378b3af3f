// Key derivation: HKDF-SHA256 (RFC 5869), discv5's session-key schedule. noble's code, pure and
// synchronous; tracing of what it computes is the protocol module's job (it knows the spec names).
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from './hashes.ts';

export const hkdfSha256 = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array =>
  hkdf(sha256, ikm, salt, info, length);

/**
 * NIST SP 800-56 concatenation KDF over SHA-256 (RLPx's ECIES): SHA256(counter ‖ z ‖ info) for
 * counter 1, 2, … (32-bit big-endian), concatenated and cut to `length`.
 */
export function concatKdfSha256(z: Uint8Array, length: number, info: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(length);
  const input = new Uint8Array(4 + z.length + info.length);
  input.set(z, 4);
  input.set(info, 4 + z.length);
  for (let counter = 1, at = 0; at < length; counter++, at += 32) {
    input[0] = counter >>> 24;
    input[1] = (counter >>> 16) & 0xff;
    input[2] = (counter >>> 8) & 0xff;
    input[3] = counter & 0xff;
    const block = sha256(input);
    out.set(block.subarray(0, Math.min(32, length - at)), at);
  }
  return out;
}

/** HMAC-SHA256 (RFC 2104) over the concatenation of `parts`. */
export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = hmac.create(sha256, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HKDF-SHA256 in its two halves, so the PRK between them can be shown: extract = HMAC-SHA256(salt, ikm); expand(prk, info, length). */
export const hkdfExtractSha256 = (ikm: Uint8Array, salt: Uint8Array): Uint8Array => extract(sha256, ikm, salt);
export const hkdfExpandSha256 = (prk: Uint8Array, info: Uint8Array, length: number): Uint8Array => expand(sha256, prk, info, length);

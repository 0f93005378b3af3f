// Key derivation: HKDF-SHA256 (RFC 5869), discv5's session-key schedule. noble's code, pure and
// synchronous; tracing of what it computes is the protocol module's job (it knows the spec names).
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from './hashes.ts';

/** HKDF-SHA256 in its two halves, so the PRK between them can be shown: extract = HMAC-SHA256(salt, ikm); expand(prk, info, length). */
export const hkdfExtractSha256 = (ikm: Uint8Array, salt: Uint8Array): Uint8Array => extract(sha256, ikm, salt);
export const hkdfExpandSha256 = (prk: Uint8Array, info: Uint8Array, length: number): Uint8Array => expand(sha256, prk, info, length);

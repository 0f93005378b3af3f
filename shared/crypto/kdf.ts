// Key derivation: HKDF-SHA256 (RFC 5869), discv5's session-key schedule. noble's code, pure and
// synchronous; tracing of what it computes is the protocol module's job (it knows the spec names).
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from './hashes.ts';

export const hkdfSha256 = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array =>
  hkdf(sha256, ikm, salt, info, length);

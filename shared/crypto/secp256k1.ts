// secp256k1 keys, ECDH and ECDSA over 32-byte digests: discv5 and ENR "v4" identities, and the
// Ethereum protocols after them. noble's code, pure and synchronous; tracing of what it computes
// is the protocol module's job (it knows the spec names of the values).
import * as secp from '@noble/secp256k1';
import { hmac } from '@noble/hashes/hmac.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Lru } from '../lru.ts';
import { sha256 } from './hashes.ts';

// Synchronous signing needs these (noble v3 leaves the hash backend to the caller).
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key: Uint8Array, msg: Uint8Array) => hmac(sha256, key, msg);

export const randomPrivateKey = (random: (n: number) => Uint8Array): Uint8Array => {
  for (;;) {
    const k = random(32);
    if (isValidPrivateKey(k)) return k;
  }
};

export function isValidPrivateKey(k: Uint8Array): boolean {
  try {
    return k.length === 32 && secp.utils.isValidSecretKey(k);
  } catch {
    return false;
  }
}

/**
 * Uncompressed forms of compressed keys seen lately. Decompressing costs a square root mod p
 * (about a tenth of a signature check), and a handshake meets the same key several times: the
 * record's key for its node id, its signature and the id-signature; the peer's key for ECDH.
 * Public keys only; bounded.
 */
const DECOMPRESSED_KEPT = 2048;
const decompressed = new Lru<string, Uint8Array>(DECOMPRESSED_KEPT);

/** The 65-byte form of a 33- or 65-byte public key; throws on an invalid key. */
function uncompressed(pub: Uint8Array): Uint8Array {
  if (pub.length !== 33) return secp.Point.fromBytes(pub).toBytes(false);
  const id = bytesToHex(pub);
  const hit = decompressed.peek(id);
  if (hit) return hit;
  const full = secp.Point.fromBytes(pub).toBytes(false);
  decompressed.set(id, full);
  return full;
}

export function isValidPublicKey(pub: Uint8Array): boolean {
  try {
    uncompressed(pub);
    return true;
  } catch {
    return false;
  }
}

/** 33-byte compressed (default) or 65-byte uncompressed public key. */
export const publicKeyOf = (priv: Uint8Array, compressed = true): Uint8Array => secp.getPublicKey(priv, compressed);

/** Converts a valid public key (33 or 65 bytes) to the other forms. Throws on an invalid key. */
export function convertPublicKey(pub: Uint8Array, compressed: boolean): Uint8Array {
  return compressed ? secp.Point.fromBytes(pub).toBytes(true) : uncompressed(pub).slice();
}

/** ECDH as discv5 uses it: the compressed shared point (33 bytes). Throws on an invalid key. */
export const ecdhCompressed = (priv: Uint8Array, pub: Uint8Array): Uint8Array => secp.getSharedSecret(priv, uncompressed(pub), true);

/** ECDSA over a 32-byte hash: 64 bytes r ‖ s (low-s). */
export const signHash = (hash: Uint8Array, priv: Uint8Array): Uint8Array => secp.sign(hash, priv, { prehash: false, format: 'compact' });

/** Signature check that never throws (bad encodings are just false). */
export function verifyHash(sig: Uint8Array, hash: Uint8Array, pub: Uint8Array): boolean {
  try {
    return sig.length === 64 && secp.verify(sig, hash, uncompressed(pub), { prehash: false, format: 'compact' });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- recoverable signatures
// discv4 packets and RLPx auth carry 65-byte signatures r ‖ s ‖ v (v = recovery id 0 or 1) from
// which the receiver recovers the signer's key. noble's 'recovered' format puts the recovery byte
// first (v ‖ r ‖ s), so these move it to the end and back. Recovery is @noble/secp256k1's unless
// secp256k1-fast-recovery.ts installed @noble/curves' (about 2.5× faster, and larger): the CLI and
// the page's discv4 and RLPx hosts do, where every packet received costs one recovery; the page's
// first load (which only dissects) stays small.

type Recover = (vrs: Uint8Array, hash: Uint8Array, compressed: boolean) => Uint8Array;
let recover: Recover = (vrs, hash, compressed) => secp.recoverPublicKey(vrs, hash, { prehash: false, isCompressed: compressed });

/** Replaces the recovery implementation (same results; see secp256k1-fast-recovery.ts). */
export function useRecovery(r: Recover): void {
  recover = r;
}

/** ECDSA over a 32-byte hash, Ethereum layout: 65 bytes r ‖ s ‖ v (low-s, v ∈ {0, 1}). */
export function signHashRecoverable(hash: Uint8Array, priv: Uint8Array): Uint8Array {
  const vrs = secp.sign(hash, priv, { prehash: false, format: 'recovered' });
  const rsv = new Uint8Array(65);
  rsv.set(vrs.subarray(1), 0);
  rsv[64] = vrs[0];
  return rsv;
}

/**
 * The public key (33-byte compressed by default, or 65-byte uncompressed) that made a 65-byte
 * r ‖ s ‖ v signature over `hash`, or undefined for a wrong length, v outside {0, 1}, or a
 * signature no key could have made. Never throws.
 */
export function recoverPublicKey(sig: Uint8Array, hash: Uint8Array, compressed = true): Uint8Array | undefined {
  if (sig.length !== 65 || sig[64] > 1 || hash.length !== 32) return undefined;
  const vrs = new Uint8Array(65);
  vrs[0] = sig[64];
  vrs.set(sig.subarray(0, 64), 1);
  try {
    return recover(vrs, hash, compressed);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- RLPx forms
// RLPx writes public keys as 64 bytes x ‖ y (uncompressed, no 0x04) and uses the x coordinate
// of the ECDH point as the shared secret.

/** ECDH, x coordinate only (32 bytes): RLPx's ECIES and its static/ephemeral secrets. Throws on an invalid key. */
export const ecdhX = (priv: Uint8Array, pub: Uint8Array): Uint8Array => ecdhCompressed(priv, pub).slice(1);

/** 64-byte x ‖ y of a valid public key in any form. Throws on an invalid key. */
export const publicKey64 = (pub: Uint8Array): Uint8Array => uncompressed(pub).slice(1);

/** The 65-byte key (0x04 ‖ x ‖ y) from 64 bytes, or undefined when they are not a point on the curve. */
export function publicKeyFrom64(xy: Uint8Array): Uint8Array | undefined {
  if (xy.length !== 64) return undefined;
  const full = new Uint8Array(65);
  full[0] = 4;
  full.set(xy, 1);
  return isValidPublicKey(full) ? full : undefined;
}

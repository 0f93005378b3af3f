// The few noble calls every protocol uses. Pure and synchronous; tracing of what they
// compute is the protocol module's job (it knows the spec names of the values).
import * as secp from '@noble/secp256k1';
import { gcm, ctr } from '@noble/ciphers/aes.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

// Synchronous signing needs these (noble v3 leaves the hash backend to the caller).
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key: Uint8Array, msg: Uint8Array) => hmac(sha256, key, msg);

export { sha256 };
export const keccak256 = (data: Uint8Array): Uint8Array => keccak_256(data);

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

export function isValidPublicKey(pub: Uint8Array): boolean {
  try {
    secp.Point.fromBytes(pub);
    return true;
  } catch {
    return false;
  }
}

/** 33-byte compressed (default) or 65-byte uncompressed public key. */
export const publicKeyOf = (priv: Uint8Array, compressed = true): Uint8Array => secp.getPublicKey(priv, compressed);

/** Converts a valid public key (33 or 65 bytes) to the other forms. Throws on an invalid key. */
export function convertPublicKey(pub: Uint8Array, compressed: boolean): Uint8Array {
  return secp.Point.fromBytes(pub).toBytes(compressed);
}

/** ECDH as discv5 uses it: the compressed shared point (33 bytes). Throws on an invalid key. */
export const ecdhCompressed = (priv: Uint8Array, pub: Uint8Array): Uint8Array => secp.getSharedSecret(priv, pub, true);

/** ECDSA over a 32-byte hash: 64 bytes r ‖ s (low-s). */
export const signHash = (hash: Uint8Array, priv: Uint8Array): Uint8Array => secp.sign(hash, priv, { prehash: false, format: 'compact' });

/** Signature check that never throws (bad encodings are just false). */
export function verifyHash(sig: Uint8Array, hash: Uint8Array, pub: Uint8Array): boolean {
  try {
    return sig.length === 64 && secp.verify(sig, hash, pub, { prehash: false, format: 'compact' });
  } catch {
    return false;
  }
}

export const hkdfSha256 = (ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array =>
  hkdf(sha256, ikm, salt, info, length);

/** AES-GCM seal: ciphertext ‖ 16-byte tag. */
export const aesGcmSeal = (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array =>
  gcm(key, nonce, ad).encrypt(plaintext);

/** AES-GCM open: the plaintext, or undefined when the tag does not verify. */
export function aesGcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  if (sealed.length < 16) return undefined;
  try {
    return gcm(key, nonce, ad).decrypt(sealed);
  } catch {
    return undefined;
  }
}

/** AES-CTR keystream XOR (encrypt and decrypt are the same). */
export const aesCtr = (key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array => ctr(key, iv).encrypt(data);

// ECIES as RLPx uses it (rlpx.md, "ECIES Encryption"): an ephemeral secp256k1 key R, the shared
// x coordinate S of r·K_B, the NIST SP 800-56 concat KDF over SHA-256 → kE ‖ kM, AES-128-CTR under
// kE from a random IV, and HMAC-SHA256 under SHA256(kM) over iv ‖ c ‖ shared-mac-data (EIP-8 puts
// the 2-byte size prefix there, so it is authenticated though not encrypted).
//   packet = R (65, uncompressed) ‖ iv (16) ‖ c ‖ d (32)
import { constantTimeEqual } from '../bytes.ts';
import { aesCtrKey } from '../crypto/aes.ts';
import { sha256 } from '../crypto/hashes.ts';
import { concatKdfSha256, hmacSha256 } from '../crypto/kdf.ts';
import { ecdhX, isValidPublicKey, publicKeyOf } from '../crypto/secp256k1.ts';
import { err, ok, type Result } from '../errors.ts';
import { ECIES_OVERHEAD } from './spec.ts';

/** Every value ECIES computes for one message: the key-schedule view shows them. */
export interface EciesKeys {
  /** R: the sender's one-off public key, 65 bytes. */
  ephemeralPublicKey: Uint8Array;
  /** S = x(r·K_B): the ECDH shared secret. */
  shared: Uint8Array;
  /** kE: the AES-128 key (first 16 bytes of the KDF output). */
  encKey: Uint8Array;
  /** SHA256(kM): the HMAC key (kM is the KDF output's second 16 bytes). */
  macKey: Uint8Array;
  iv: Uint8Array;
  /** d: HMAC-SHA256(macKey, iv ‖ c ‖ shared-mac-data). */
  tag: Uint8Array;
}

function keysFrom(shared: Uint8Array): { encKey: Uint8Array; macKey: Uint8Array } {
  const k = concatKdfSha256(shared, 32);
  return { encKey: k.slice(0, 16), macKey: sha256(k.subarray(16, 32)) };
}

/** Encrypts to `recipient` (33 or 65 bytes) with the given one-off key and IV (injected randomness). */
export function eciesEncrypt(recipient: Uint8Array, plaintext: Uint8Array, sharedMacData: Uint8Array, ephemeralPrivateKey: Uint8Array, iv: Uint8Array): { packet: Uint8Array; keys: EciesKeys } {
  const ephemeralPublicKey = publicKeyOf(ephemeralPrivateKey, false);
  const shared = ecdhX(ephemeralPrivateKey, recipient);
  const { encKey, macKey } = keysFrom(shared);
  const packet = new Uint8Array(ECIES_OVERHEAD + plaintext.length);
  packet.set(ephemeralPublicKey, 0);
  packet.set(iv, 65);
  const c = packet.subarray(81, 81 + plaintext.length);
  aesCtrKey(encKey)(iv, plaintext, packet, 81);
  const tag = hmacSha256(macKey, iv, c, sharedMacData);
  packet.set(tag, 81 + plaintext.length);
  return { packet, keys: { ephemeralPublicKey, shared, encKey, macKey, iv: iv.slice(), tag } };
}

/**
 * Decrypts a packet sent to us. The tag is checked before anything is decrypted. Never throws:
 * a short packet, a key off the curve or a wrong tag are typed errors.
 */
export function eciesDecrypt(privateKey: Uint8Array, packet: Uint8Array, sharedMacData: Uint8Array): Result<{ plaintext: Uint8Array; keys: EciesKeys }> {
  if (packet.length < ECIES_OVERHEAD + 1) return err('truncated', 'ecies', `an ECIES message is at least ${ECIES_OVERHEAD + 1} bytes, got ${packet.length}`);
  if (packet[0] !== 0x04) return err('bad-value', 'ecies-pubkey', `the one-off public key must be uncompressed (0x04 …), starts with 0x${packet[0].toString(16).padStart(2, '0')}`);
  const ephemeralPublicKey = packet.subarray(0, 65);
  if (!isValidPublicKey(ephemeralPublicKey)) return err('bad-value', 'ecies-pubkey', 'the one-off public key is not a point on secp256k1');
  let shared: Uint8Array;
  try {
    shared = ecdhX(privateKey, ephemeralPublicKey);
  } catch {
    return err('bad-value', 'ecies-pubkey', 'ECDH with the one-off public key failed');
  }
  const { encKey, macKey } = keysFrom(shared);
  const iv = packet.subarray(65, 81);
  const c = packet.subarray(81, packet.length - 32);
  const d = packet.subarray(packet.length - 32);
  const tag = hmacSha256(macKey, iv, c, sharedMacData);
  if (!constantTimeEqual(tag, d)) return err('decrypt-failed', 'ecies-mac', 'the HMAC tag does not match: not encrypted to our key, or altered (the size prefix is covered too)');
  const plaintext = aesCtrKey(encKey)(iv, c);
  return ok({ plaintext, keys: { ephemeralPublicKey: ephemeralPublicKey.slice(), shared, encKey, macKey, iv: iv.slice(), tag } });
}

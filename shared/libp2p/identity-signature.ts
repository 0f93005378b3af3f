// Signatures by libp2p identity keys (peer-ids.md): secp256k1 signs SHA-256(data), DER-encoded;
// Ed25519 keys (js-libp2p's default) are verified too.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '../crypto/hashes.ts';
import { signHash, verifyHash } from '../crypto/secp256k1.ts';
import { err, ok, type Result } from '../errors.ts';
import { compactToDer, derToCompact } from './der.ts';
import type { Identity, PublicKey } from './keys.ts';

/** libp2p secp256k1 signature: ECDSA over SHA-256(data), DER. */
export const signIdentity = (id: Identity, data: Uint8Array): Uint8Array => compactToDer(signHash(sha256(data), id.privateKey));

/** Verifies a signature by a libp2p key over `data`; a reason when it fails. */
export function verifyIdentity(key: PublicKey, data: Uint8Array, sig: Uint8Array): Result<true> {
  if (key.type === 'Ed25519') {
    let good = false;
    try {
      good = sig.length === 64 && ed25519.verify(sig, data, key.data);
    } catch {
      good = false;
    }
    return good ? ok(true) : err('bad-signature', 'identity_sig', 'the Ed25519 signature does not verify');
  }
  const compact = derToCompact(sig);
  if (!compact.ok) return compact as Result<true>;
  return verifyHash(compact.value, sha256(data), key.data) ? ok(true) : err('bad-signature', 'identity_sig', 'the secp256k1 signature does not verify against identity_key');
}

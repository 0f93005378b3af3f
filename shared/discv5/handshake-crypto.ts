// The handshake's key schedule (discv5-theory.md "Step 3"), each step also emitted as a
// trace record with the spec's names, so the key-schedule panel is a view over the trace.
import { concat, toHex } from '../bytes.ts';
import { sha256 } from '../crypto/hashes.ts';
import { hkdfExpandSha256, hkdfExtractSha256 } from '../crypto/kdf.ts';
import { ecdhCompressed, signHash, verifyHash } from '../crypto/secp256k1.ts';
import { DISCV5_STEPS, type Tracer, type TraceRecord } from '../trace.ts';
import { ID_SIGNATURE_TEXT, KDF_INFO_TEXT, SPEC } from './spec.ts';

export interface SessionKeys {
  initiatorKey: Uint8Array;
  recipientKey: Uint8Array;
}

const v = (name: string, bytes: Uint8Array, secret = false, note?: string) => ({ name, hex: toHex(bytes), ...(secret ? { secret } : {}), ...(note ? { note } : {}) });

/** secret = ecdh(pubkey, privkey): the compressed shared point (`precomputed`: made earlier from the same keys, traced now). */
export function ecdh(privateKey: Uint8Array, publicKey: Uint8Array, role: 'initiator' | 'recipient', trace?: Tracer, ctx?: Partial<TraceRecord>, precomputed?: Uint8Array): Uint8Array {
  const secret = precomputed ?? ecdhCompressed(privateKey, publicKey);
  trace?.({
    step: DISCV5_STEPS.ecdh,
    title: role === 'initiator' ? 'ECDH: our ephemeral-key × their static public key' : "ECDH: our static key × their ephemeral-pubkey",
    inputs: role === 'initiator'
      ? [v('ephemeral-key', privateKey, true), v('dest-pubkey', publicKey)]
      : [v('static-key', privateKey, true), v('ephemeral-pubkey', publicKey)],
    outputs: [v('secret', secret, true, '33 bytes: y-parity byte ‖ x of the shared point')],
    spec: SPEC.crypto,
    ...ctx,
  });
  return secret;
}

/** kdf-info = "discovery v5 key agreement" ‖ node-id-A ‖ node-id-B; key-data = HKDF(challenge-data, secret, kdf-info). */
export function deriveKeys(secret: Uint8Array, challengeData: Uint8Array, initiatorId: Uint8Array, recipientId: Uint8Array, trace?: Tracer, ctx?: Partial<TraceRecord>): SessionKeys {
  const info = concat(KDF_INFO_TEXT, initiatorId, recipientId);
  // HKDF in its two halves (RFC 5869), so the trace can show the PRK between them.
  const prk = hkdfExtractSha256(secret, challengeData);
  const keyData = hkdfExpandSha256(prk, info, 32);
  const keys = { initiatorKey: keyData.subarray(0, 16), recipientKey: keyData.subarray(16, 32) };
  trace?.({
    step: DISCV5_STEPS.hkdf,
    title: 'HKDF-SHA256: session keys from the shared secret, salted with the challenge',
    inputs: [v('salt (challenge-data)', challengeData, false, 'masking-iv ‖ static-header ‖ authdata of the WHOAREYOU'), v('IKM (secret)', secret, true), v('kdf-info', info, false, '"discovery v5 key agreement" ‖ node-id-A ‖ node-id-B')],
    outputs: [v('PRK', prk, true, 'HKDF-extract: HMAC-SHA256(key = salt, data = IKM)'), v('initiator-key', keys.initiatorKey, true, 'encrypts initiator → recipient'), v('recipient-key', keys.recipientKey, true, 'encrypts recipient → initiator')],
    spec: SPEC.step3,
    ...ctx,
  });
  return keys;
}

/** id-signature-input = "discovery v5 identity proof" ‖ challenge-data ‖ ephemeral-pubkey ‖ node-id-B. */
export const idSignatureInput = (challengeData: Uint8Array, ephPubkey: Uint8Array, recipientId: Uint8Array): Uint8Array =>
  concat(ID_SIGNATURE_TEXT, challengeData, ephPubkey, recipientId);

export function signId(staticKey: Uint8Array, challengeData: Uint8Array, ephPubkey: Uint8Array, recipientId: Uint8Array, trace?: Tracer, ctx?: Partial<TraceRecord>): Uint8Array {
  const input = idSignatureInput(challengeData, ephPubkey, recipientId);
  const hash = sha256(input);
  const sig = signHash(hash, staticKey);
  trace?.({
    step: DISCV5_STEPS.idSign,
    title: 'id-signature: prove we hold the key of our ENR, bound to this challenge',
    inputs: [v('id-signature-input', input, false, '"discovery v5 identity proof" ‖ challenge-data ‖ ephemeral-pubkey ‖ node-id-B'), v('sha256(id-signature-input)', hash), v('static-key', staticKey, true)],
    outputs: [v('id-signature', sig, false, '64 bytes r ‖ s')],
    spec: SPEC.step3,
    ...ctx,
  });
  return sig;
}

export function verifyId(publicKey: Uint8Array, signature: Uint8Array, challengeData: Uint8Array, ephPubkey: Uint8Array, recipientId: Uint8Array, trace?: Tracer, ctx?: Partial<TraceRecord>): boolean {
  const input = idSignatureInput(challengeData, ephPubkey, recipientId);
  const hash = sha256(input);
  const ok = verifyHash(signature, hash, publicKey);
  trace?.({
    step: DISCV5_STEPS.idVerify,
    title: ok ? 'id-signature verified with the sender’s ENR public key' : 'id-signature does NOT verify',
    inputs: [v('id-signature-input', input), v('sha256(id-signature-input)', hash), v('id-signature', signature), v('public key (from ENR)', publicKey)],
    outputs: [],
    ok,
    spec: SPEC.step4,
    ...ctx,
  });
  return ok;
}

// libp2p identities (peer-ids.md): a public key travels as the protobuf PublicKey { KeyType
// Type = 1; bytes Data = 2 }; the peer id is the multihash of that encoding (identity when
// it is 42 bytes or less, which secp256k1's 37 are), written in base58btc: "16Uiu2…".
// Signing and verifying with these keys: identity-signature.ts (it carries Ed25519, which the
// page's first load does not need).
import { base58 } from '@scure/base';
import { sha256 } from '../crypto/hashes.ts';
import { isValidPublicKey, publicKeyOf } from '../crypto/secp256k1.ts';
import { attempt, err, fail, ok, type Result } from '../errors.ts';
import { equalBytes } from '../bytes.ts';
import { bytesField, encodeProto, numberField, readProto, type ProtoSchema } from './protobuf.ts';
import { SPEC } from './spec.ts';

export const KEY_TYPES = ['RSA', 'Ed25519', 'Secp256k1', 'ECDSA'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const PUBLIC_KEY_SCHEMA: ProtoSchema = {
  1: { name: 'Type', type: 'varint', meaning: 'KeyType: 0 RSA, 1 Ed25519, 2 Secp256k1, 3 ECDSA.', spec: SPEC.keys, showNumber: (n) => `${n} (${KEY_TYPES[n] ?? 'unknown'})` },
  2: { name: 'Data', type: 'bytes', meaning: 'The key itself: for secp256k1 the 33-byte compressed point, for Ed25519 the 32-byte key.', spec: SPEC.keys },
};

export interface PublicKey {
  type: KeyType;
  /** The key's own bytes (33 compressed for secp256k1, 32 for Ed25519). */
  data: Uint8Array;
  /** The protobuf encoding the peer id is made from. */
  encoded: Uint8Array;
}

/** Decodes and checks a PublicKey protobuf: a known type and a valid key of it. */
export function decodePublicKey(encoded: Uint8Array): Result<PublicKey> {
  return attempt(() => {
    const m = readProto(encoded, PUBLIC_KEY_SCHEMA);
    const t = numberField(m, 1);
    const data = bytesField(m, 2);
    if (t === undefined || data === undefined) fail('bad-value', 'identity_key', 'PublicKey needs Type and Data');
    const type = KEY_TYPES[t];
    if (type === 'Secp256k1') {
      if (data.length !== 33 || !isValidPublicKey(data)) fail('bad-value', 'identity_key', 'not a compressed secp256k1 point');
    } else if (type === 'Ed25519') {
      if (data.length !== 32) fail('bad-length', 'identity_key', `an Ed25519 key is 32 bytes, not ${data.length}`);
    } else fail('unknown-scheme', 'identity_key', `key type ${type ?? t} is not supported here (secp256k1 and Ed25519 are)`);
    return { type, data, encoded };
  });
}

export const encodeSecp256k1PublicKey = (compressed: Uint8Array): Uint8Array => encodeProto([[1, 2], [2, compressed]]);

/** The peer id's bytes: identity multihash (0x00, length) of the encoded key when ≤ 42 bytes, else sha2-256 (0x12 0x20). */
export function peerIdBytes(encodedKey: Uint8Array): Uint8Array {
  if (encodedKey.length <= 42) return Uint8Array.from([0x00, encodedKey.length, ...encodedKey]);
  return Uint8Array.from([0x12, 0x20, ...sha256(encodedKey)]);
}

export const peerIdText = (encodedKey: Uint8Array): string => base58.encode(peerIdBytes(encodedKey));

/** The multihash bytes of a text peer id ("16Uiu2…", "12D3Koo…", "Qm…"), base58btc only. */
export function parsePeerId(text: string): Result<Uint8Array> {
  if (!/^[1-9A-HJ-NP-Za-km-z]{30,120}$/.test(text)) return err('bad-value', 'peer id', 'not a base58btc peer id');
  let b: Uint8Array;
  try {
    b = base58.decode(text);
  } catch {
    return err('bad-value', 'peer id', 'not base58btc');
  }
  if (b[0] === 0x00 && b[1] === b.length - 2) return ok(b);
  if (b[0] === 0x12 && b[1] === 0x20 && b.length === 34) return ok(b);
  return err('bad-value', 'peer id', 'not an identity or sha2-256 multihash');
}

export const peerIdMatches = (expected: Uint8Array, encodedKey: Uint8Array): boolean => equalBytes(expected, peerIdBytes(encodedKey));

/** A secp256k1 identity: private key, its PublicKey encoding and peer id. */
export interface Identity {
  privateKey: Uint8Array;
  publicKey: PublicKey;
  peerId: string;
}

export function secp256k1Identity(privateKey: Uint8Array): Identity {
  const data = publicKeyOf(privateKey, true);
  const encoded = encodeSecp256k1PublicKey(data);
  return { privateKey, publicKey: { type: 'Secp256k1', data, encoded }, peerId: peerIdText(encoded) };
}

// The libp2p handshake payload inside Noise messages 2 and 3 (noise/README.md):
//   NoiseHandshakePayload { bytes identity_key = 1; bytes identity_sig = 2; NoiseExtensions extensions = 4; }
//   NoiseExtensions { repeated bytes webtransport_certhashes = 1; repeated string stream_muxers = 2; }
// identity_sig signs "noise-libp2p-static-key:" ‖ the sender's Noise static key.
import { concat, utf8 } from '../bytes.ts';
import { attempt, fail, type Result } from '../errors.ts';
import type { Field } from '../dissect.ts';
import { decodePublicKey, peerIdText, type Identity, type PublicKey } from './keys.ts';
import { signIdentity, verifyIdentity } from './identity-signature.ts';
import { EXTENSIONS_SCHEMA, PAYLOAD_SCHEMA } from './payload-schema.ts';
import { bytesField, encodeProto, messageField, readProto, stringsField } from './protobuf.ts';
import { STATIC_KEY_PREFIX } from './spec.ts';

export { EXTENSIONS_SCHEMA, PAYLOAD_SCHEMA };

export interface HandshakePayload {
  identityKey?: Uint8Array;
  identitySig?: Uint8Array;
  streamMuxers: string[];
}

export function decodePayload(bytes: Uint8Array, fields?: Field[]): Result<HandshakePayload> {
  return attempt(() => {
    const m = readProto(bytes, PAYLOAD_SCHEMA, fields);
    const ext = messageField(m, 4);
    const identityKey = bytesField(m, 1);
    const identitySig = bytesField(m, 2);
    return { ...(identityKey ? { identityKey } : {}), ...(identitySig ? { identitySig } : {}), streamMuxers: ext ? stringsField(ext, 2) : [] };
  });
}

export const signedData = (noiseStatic: Uint8Array): Uint8Array => concat(utf8(STATIC_KEY_PREFIX), noiseStatic);

/** Our payload: identity key, its signature over our Noise static key, and the muxers we offer. */
export function encodePayload(id: Identity, noiseStatic: Uint8Array, streamMuxers: string[]): Uint8Array {
  const sig = signIdentity(id, signedData(noiseStatic));
  const ext = encodeProto(streamMuxers.map((m) => [2, m] as [number, string]));
  return encodeProto([[1, id.publicKey.encoded], [2, sig], ...(streamMuxers.length ? [[4, ext] as [number, Uint8Array]] : [])]);
}

export interface VerifiedPeer {
  key: PublicKey;
  peerId: string;
}

/** Checks a received payload against the Noise static key it came with: key present and valid, signature good. */
export function verifyPayload(p: HandshakePayload, remoteStatic: Uint8Array): Result<VerifiedPeer> {
  return attempt(() => {
    if (!p.identityKey) fail('bad-value', 'identity_key', 'missing: the peer did not say who it is');
    if (!p.identitySig) fail('bad-value', 'identity_sig', 'missing: the Noise key is not bound to an identity');
    const key = decodePublicKey(p.identityKey);
    if (!key.ok) throw key.error;
    const v = verifyIdentity(key.value, signedData(remoteStatic), p.identitySig);
    if (!v.ok) throw v.error;
    return { key: key.value, peerId: peerIdText(key.value.encoded) };
  });
}

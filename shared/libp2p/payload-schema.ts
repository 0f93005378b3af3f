// The Noise handshake payload's protobuf schema (libp2p noise spec): data only, so the dissector
// reads it without the signing code.
import { PUBLIC_KEY_SCHEMA } from './keys.ts';
import type { ProtoSchema } from './protobuf.ts';
import { SPEC } from './spec.ts';

export const EXTENSIONS_SCHEMA: ProtoSchema = {
  1: { name: 'webtransport_certhashes', type: 'bytes', meaning: 'Certificate hashes for WebTransport (unused over TCP).', spec: SPEC.noiseExtensions },
  2: { name: 'stream_muxers', type: 'string', meaning: 'A stream muxer the sender supports, in order of preference: when both sides list one, the first of the initiator’s that the responder also lists is used, with no multistream round for the muxer.', spec: SPEC.earlyMuxer },
};

export const PAYLOAD_SCHEMA: ProtoSchema = {
  1: { name: 'identity_key', type: 'message', message: PUBLIC_KEY_SCHEMA, meaning: 'The sender’s libp2p identity key (a PublicKey protobuf); its peer id is derived from these bytes.', spec: SPEC.noisePayload },
  2: { name: 'identity_sig', type: 'bytes', meaning: 'The identity key’s signature over "noise-libp2p-static-key:" ‖ the sender’s Noise static key: binds the Noise key to the peer id (secp256k1: ECDSA over SHA-256, DER).', spec: SPEC.noiseSignature },
  4: { name: 'extensions', type: 'message', message: EXTENSIONS_SCHEMA, meaning: 'NoiseExtensions: here the stream muxers the sender offers.', spec: SPEC.noiseExtensions },
};

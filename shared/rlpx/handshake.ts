// The RLPx auth and ack messages (rlpx.md "Initial Handshake", EIP-8): building them (EIP-8
// form), reading both forms (EIP-8 RLP with padding and extra elements; pre-EIP-8 fixed size),
// and cutting them off a TCP stream. Both roles: the initiator writes auth and reads ack; the
// recipient reads auth, recovers the initiator's ephemeral key from the signature, writes ack.
import { concat, equalBytes, readU16 } from '../bytes.ts';
import { keccak256 } from '../crypto/hashes.ts';
import { ecdhX, publicKey64, publicKeyOf, publicKeyFrom64, recoverPublicKey, signHashRecoverable } from '../crypto/secp256k1.ts';
import { asWireError, attempt, fail, WireError, type Result } from '../errors.ts';
import type { ByteQueue, FrameResult } from '../framing.ts';
import { asBytes, asList, asNumber, decodeRlpPrefix, encodeRlp, rlpUint } from '../rlp.ts';
import { eciesDecrypt, eciesEncrypt, type EciesKeys } from './ecies.ts';
import { ACK_V4_PLAIN, ACK_V4_SIZE, AUTH_V4_PLAIN, AUTH_V4_SIZE, ECIES_OVERHEAD, HANDSHAKE_VERSION } from './spec.ts';

export type HandshakeKind = 'auth' | 'ack';
export type HandshakeFormat = 'eip8' | 'pre-eip8';

export interface Auth {
  /** r ‖ s ‖ v over static-shared-secret ⊕ initiator-nonce, made with the initiator's ephemeral key. */
  signature: Uint8Array;
  /** The initiator's static public key, 64 bytes. */
  initiatorPublicKey: Uint8Array;
  initiatorNonce: Uint8Array;
  version: number;
}

export interface Ack {
  /** The recipient's ephemeral public key, 64 bytes. */
  recipientEphemeralKey: Uint8Array;
  recipientNonce: Uint8Array;
  version: number;
}

/** An auth or ack as read from the wire (or as we built it), with everything the views show. */
export interface HandshakePacket<T> {
  kind: HandshakeKind;
  format: HandshakeFormat;
  /** The whole packet as sent: the size prefix (EIP-8) included. */
  packet: Uint8Array;
  /** The decrypted body: RLP then padding (EIP-8), or the fixed layout (pre-EIP-8). */
  plaintext: Uint8Array;
  /** EIP-8: where the RLP list ends in the plaintext (padding follows). */
  rlpLength?: number;
  message: T;
  ecies: EciesKeys;
}

const MIN_PADDING = 100;

/** An EIP-8 packet: size (2 bytes, big-endian) ‖ ECIES(body ‖ padding) with the size as shared-mac-data. */
function seal(body: Uint8Array, padding: Uint8Array, recipient: Uint8Array, eciesKey: Uint8Array, iv: Uint8Array): { packet: Uint8Array; plaintext: Uint8Array; keys: EciesKeys } {
  const plaintext = concat(body, padding);
  const size = plaintext.length + ECIES_OVERHEAD;
  const prefix = Uint8Array.of(size >>> 8, size & 0xff);
  const { packet, keys } = eciesEncrypt(recipient, plaintext, prefix, eciesKey, iv);
  return { packet: concat(prefix, packet), plaintext, keys };
}

export interface Randomness {
  /** The ECIES one-off key (32 bytes) and IV (16). */
  eciesKey: Uint8Array;
  iv: Uint8Array;
  /** EIP-8 padding: random bytes, at least 100 of them. */
  padding: Uint8Array;
}

/** The initiator's auth (EIP-8 form), and the static shared secret and signed value it used. */
export function makeAuth(o: { staticKey: Uint8Array; remoteStaticKey: Uint8Array; ephemeralKey: Uint8Array; nonce: Uint8Array } & Randomness) {
  const staticShared = ecdhX(o.staticKey, o.remoteStaticKey);
  const signed = xor32(staticShared, o.nonce);
  const signature = signHashRecoverable(signed, o.ephemeralKey);
  const initiatorPublicKey = publicKey64(publicKeyOfPriv(o.staticKey));
  const body = encodeRlp([signature, initiatorPublicKey, o.nonce, rlpUint(HANDSHAKE_VERSION)]);
  const s = seal(body, o.padding, o.remoteStaticKey, o.eciesKey, o.iv);
  const message: Auth = { signature, initiatorPublicKey, initiatorNonce: o.nonce, version: HANDSHAKE_VERSION };
  return { auth: { kind: 'auth', format: 'eip8', packet: s.packet, plaintext: s.plaintext, rlpLength: body.length, message, ecies: s.keys } as HandshakePacket<Auth>, staticShared, signed };
}

/** The recipient's ack (EIP-8 form). */
export function makeAck(o: { remoteStaticKey: Uint8Array; ephemeralKey: Uint8Array; nonce: Uint8Array } & Randomness): HandshakePacket<Ack> {
  const recipientEphemeralKey = publicKey64(publicKeyOfPriv(o.ephemeralKey));
  const body = encodeRlp([recipientEphemeralKey, o.nonce, rlpUint(HANDSHAKE_VERSION)]);
  const s = seal(body, o.padding, o.remoteStaticKey, o.eciesKey, o.iv);
  return { kind: 'ack', format: 'eip8', packet: s.packet, plaintext: s.plaintext, rlpLength: body.length, message: { recipientEphemeralKey, recipientNonce: o.nonce, version: HANDSHAKE_VERSION }, ecies: s.keys };
}

export const paddingLength = (randomByte: number): number => MIN_PADDING + (randomByte % 200);

// ---- reading ----

/** Reads an auth body (after ECIES), either form. Throws WireError. */
export function readAuthBody(plaintext: Uint8Array, format: HandshakeFormat): { message: Auth; rlpLength?: number; ephemeralKeyHash?: Uint8Array } {
  if (format === 'pre-eip8') {
    if (plaintext.length !== AUTH_V4_PLAIN) fail('bad-length', 'auth', `a pre-EIP-8 auth body is ${AUTH_V4_PLAIN} bytes, got ${plaintext.length}`);
    if (plaintext[193] !== 0) fail('bad-value', 'token-flag', 'the pre-EIP-8 auth ends with 0x00 (no session token)');
    return {
      message: { signature: plaintext.slice(0, 65), initiatorPublicKey: plaintext.slice(97, 161), initiatorNonce: plaintext.slice(161, 193), version: 4 },
      ephemeralKeyHash: plaintext.slice(65, 97),
    };
  }
  const list = decodeRlpPrefix(plaintext, 0, 'auth-body');
  const items = asList(list, 'auth-body');
  if (items.length < 4) fail('truncated', 'auth-body', `auth has ${items.length} elements, at least 4 are required (sig, initiator-pubk, initiator-nonce, auth-vsn)`);
  const signature = fixed(items[0], 65, 'sig');
  const initiatorPublicKey = fixed(items[1], 64, 'initiator-pubk');
  const initiatorNonce = fixed(items[2], 32, 'initiator-nonce');
  const version = asNumber(items[3], 'auth-vsn', 4);
  return { message: { signature, initiatorPublicKey, initiatorNonce, version }, rlpLength: list.length };
}

/** Reads an ack body (after ECIES), either form. Throws WireError. */
export function readAckBody(plaintext: Uint8Array, format: HandshakeFormat): { message: Ack; rlpLength?: number } {
  if (format === 'pre-eip8') {
    if (plaintext.length !== ACK_V4_PLAIN) fail('bad-length', 'ack', `a pre-EIP-8 ack body is ${ACK_V4_PLAIN} bytes, got ${plaintext.length}`);
    if (plaintext[96] !== 0) fail('bad-value', 'token-flag', 'the pre-EIP-8 ack ends with 0x00 (no session token)');
    return { message: { recipientEphemeralKey: plaintext.slice(0, 64), recipientNonce: plaintext.slice(64, 96), version: 4 } };
  }
  const list = decodeRlpPrefix(plaintext, 0, 'ack-body');
  const items = asList(list, 'ack-body');
  if (items.length < 3) fail('truncated', 'ack-body', `ack has ${items.length} elements, at least 3 are required (recipient-ephemeral-pubk, recipient-nonce, ack-vsn)`);
  const recipientEphemeralKey = fixed(items[0], 64, 'recipient-ephemeral-pubk');
  const recipientNonce = fixed(items[1], 32, 'recipient-nonce');
  const version = asNumber(items[2], 'ack-vsn', 4);
  if (!publicKeyFrom64(recipientEphemeralKey)) fail('bad-value', 'recipient-ephemeral-pubk', 'not a point on secp256k1');
  return { message: { recipientEphemeralKey, recipientNonce, version }, rlpLength: list.length };
}

function fixed(item: Parameters<typeof asBytes>[0], n: number, field: string): Uint8Array {
  const b = asBytes(item, field);
  if (b.length !== n) fail('bad-length', field, `${n} bytes expected, got ${b.length}`);
  return b.slice();
}

/** What the recipient learns from an auth: the initiator's keys, checked. Throws WireError. */
export function verifyAuth(ourStaticKey: Uint8Array, auth: Auth, ephemeralKeyHash?: Uint8Array) {
  const initiatorKey = publicKeyFrom64(auth.initiatorPublicKey);
  if (!initiatorKey) fail('bad-value', 'initiator-pubk', 'not a point on secp256k1');
  const staticShared = ecdhX(ourStaticKey, initiatorKey);
  const signed = xor32(staticShared, auth.initiatorNonce);
  const ephemeral = recoverPublicKey(auth.signature, signed, false);
  if (!ephemeral) fail('bad-signature', 'sig', 'no public key can be recovered from the signature over static-shared-secret ⊕ initiator-nonce');
  const remoteEphemeralKey = ephemeral.subarray(1);
  if (ephemeralKeyHash && !equalBytes(keccak256(remoteEphemeralKey), ephemeralKeyHash)) fail('bad-value', 'ephemeral-pubk-hash', 'keccak256 of the recovered ephemeral key differs from the hash in the auth');
  return { initiatorKey, staticShared, signed, remoteEphemeralKey };
}

/** Decrypts and reads one whole auth or ack packet sent to us. Never throws. */
export function readHandshake<K extends HandshakeKind>(kind: K, ourStaticKey: Uint8Array, packet: Uint8Array, format: HandshakeFormat): Result<HandshakePacket<K extends 'auth' ? Auth : Ack> & { ephemeralKeyHash?: Uint8Array }> {
  return attempt(() => {
    const macData = format === 'eip8' ? packet.subarray(0, 2) : new Uint8Array(0);
    const body = format === 'eip8' ? packet.subarray(2) : packet;
    if (format === 'eip8' && readU16(packet, 0) !== body.length) fail('bad-length', `${kind}-size`, `the size prefix says ${readU16(packet, 0)}, ${body.length} bytes follow`);
    const d = eciesDecrypt(ourStaticKey, body, macData);
    if (!d.ok) throw d.error;
    const r = kind === 'auth' ? readAuthBody(d.value.plaintext, format) : readAckBody(d.value.plaintext, format);
    return { kind, format, packet, plaintext: d.value.plaintext, ...(r.rlpLength !== undefined ? { rlpLength: r.rlpLength } : {}), message: r.message, ecies: d.value.keys, ...('ephemeralKeyHash' in r && r.ephemeralKeyHash ? { ephemeralKeyHash: r.ephemeralKeyHash } : {}) } as HandshakePacket<K extends 'auth' ? Auth : Ack> & { ephemeralKeyHash?: Uint8Array };
  });
}

/**
 * Cuts an auth or ack off the front of a stream. A pre-EIP-8 packet has a fixed size and starts
 * with 0x04 (the ECIES key); an EIP-8 one starts with its size. As go-ethereum does, the fixed
 * size is tried first when the bytes could be one, then the size prefix.
 */
export function handshakeFramer<K extends HandshakeKind>(kind: K, ourStaticKey: Uint8Array) {
  const legacySize = kind === 'auth' ? AUTH_V4_SIZE : ACK_V4_SIZE;
  return (q: ByteQueue): FrameResult<HandshakePacket<K extends 'auth' ? Auth : Ack> & { ephemeralKeyHash?: Uint8Array }> => {
    const offset = q.offset;
    if (q.length < 2) return { type: 'need-more' };
    const head = q.peek(2)!;
    if (head[0] === 0x04 && q.length >= legacySize) {
      const legacy = readHandshake(kind, ourStaticKey, q.peek(legacySize)!, 'pre-eip8');
      if (legacy.ok) {
        q.take(legacySize);
        return { type: 'frame', frame: legacy.value, raw: legacy.value.packet, offset };
      }
    }
    const size = readU16(head, 0);
    if (size < ECIES_OVERHEAD + 1) return { type: 'error', error: new WireError('too-small', `${kind}-size`, `${size} bytes cannot hold an ECIES message (at least ${ECIES_OVERHEAD + 1})`), raw: q.drain(), offset };
    if (q.length < 2 + size) return { type: 'need-more' };
    const raw = q.take(2 + size)!;
    const r = readHandshake(kind, ourStaticKey, raw, 'eip8');
    if (!r.ok) return { type: 'error', error: asWireError(r.error), raw, offset };
    return { type: 'frame', frame: r.value, raw, offset };
  };
}

export function xor32(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = a[i] ^ b[i];
  return out;
}

const publicKeyOfPriv = (k: Uint8Array): Uint8Array => publicKeyOf(k, false);

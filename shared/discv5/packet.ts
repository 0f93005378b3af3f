// discv5 packet codec: masking-iv ‖ masked-header ‖ message (discv5-wire.md "Packet Encoding").
// Encoding takes an already-encrypted message; decoding unmasks and parses the header and
// authdata, and leaves decryption to the session layer, which holds the keys.
import { concat, equalBytes, readU16, toHex, uintBytes, bytesToBigint } from '../bytes.ts';
import { aesCtrKey } from '../crypto/aes.ts';
import { Lru } from '../lru.ts';
import { attempt, fail, type Result } from '../errors.ts';
import {
  EPH_KEY_SIZE_V4, FLAG_HANDSHAKE, FLAG_MESSAGE, FLAG_WHOAREYOU, HANDSHAKE_AUTHDATA_HEAD_SIZE, ID_NONCE_SIZE,
  MASKING_IV_SIZE, MAX_PACKET_SIZE, MESSAGE_AUTHDATA_SIZE, MIN_PACKET_SIZE, NONCE_SIZE, PROTOCOL_ID, SIG_SIZE_V4,
  STATIC_HEADER_SIZE, VERSION, WHOAREYOU_AUTHDATA_SIZE, type Flag,
} from './spec.ts';

export interface MessageAuthdata { flag: typeof FLAG_MESSAGE; srcId: Uint8Array }
export interface WhoareyouAuthdata { flag: typeof FLAG_WHOAREYOU; idNonce: Uint8Array; enrSeq: bigint }
export interface HandshakeAuthdata {
  flag: typeof FLAG_HANDSHAKE;
  srcId: Uint8Array;
  idSignature: Uint8Array;
  ephPubkey: Uint8Array;
  /** The sender's ENR (raw RLP), when included. */
  record?: Uint8Array;
}
export type Authdata = MessageAuthdata | WhoareyouAuthdata | HandshakeAuthdata;

export interface Packet {
  maskingIv: Uint8Array;
  flag: Flag;
  nonce: Uint8Array;
  authdata: Authdata;
  /** Unmasked static-header ‖ authdata: message-ad is masking-iv ‖ header. */
  header: Uint8Array;
  /** Encrypted message (ciphertext ‖ tag); empty for WHOAREYOU. */
  message: Uint8Array;
  /** The datagram as it went on the wire. */
  raw: Uint8Array;
}

export function encodeAuthdata(a: Authdata): Uint8Array {
  switch (a.flag) {
    case FLAG_MESSAGE:
      return a.srcId;
    case FLAG_WHOAREYOU:
      return concat(a.idNonce, uintBytes(a.enrSeq, 8));
    case FLAG_HANDSHAKE:
      return concat(a.srcId, Uint8Array.of(a.idSignature.length, a.ephPubkey.length), a.idSignature, a.ephPubkey, a.record ?? new Uint8Array(0));
  }
}

/** static-header ‖ authdata, unmasked. */
export function encodeHeader(flag: Flag, nonce: Uint8Array, authdata: Uint8Array): Uint8Array {
  // One buffer for static-header ‖ authdata (this runs for every packet sent).
  const header = new Uint8Array(STATIC_HEADER_SIZE + authdata.length);
  header.set(PROTOCOL_ID, 0);
  header[6] = VERSION >> 8;
  header[7] = VERSION & 0xff;
  header[8] = flag;
  header.set(nonce, 9);
  header[21] = authdata.length >> 8;
  header[22] = authdata.length & 0xff;
  header.set(authdata, STATIC_HEADER_SIZE);
  return header;
}

/** message-ad = masking-iv ‖ header. For WHOAREYOU the same bytes are the challenge-data. */
export const messageAd = (maskingIv: Uint8Array, header: Uint8Array): Uint8Array => concat(maskingIv, header);

/** masking-key = dest-id[:16]. */
export const maskingKey = (destId: Uint8Array): Uint8Array => destId.subarray(0, 16);

/**
 * The masking cipher for a destination, its key schedule kept: a node unmasks every packet with
 * its own id and masks with the ids of the few peers it talks to. Masking keys are public (node ids).
 */
type Masker = (iv: Uint8Array, data: Uint8Array, dst?: Uint8Array, dstOffset?: number) => Uint8Array;
const MASKERS_KEPT = 256;
const maskers = new Lru<string, Masker>(MASKERS_KEPT);
/** The same id arrays come back on every packet (our own id, a session's peer id): found without hex. */
const byArray = new WeakMap<Uint8Array, { key: Uint8Array; masker: Masker }>();
function masker(destId: Uint8Array): Masker {
  const known = byArray.get(destId);
  if (known && equalBytes(known.key, destId.subarray(0, 16))) return known.masker;
  const key = maskingKey(destId).slice();
  const id = toHex(key);
  let m = maskers.peek(id);
  if (!m) {
    m = aesCtrKey(key);
    maskers.set(id, m);
  }
  byArray.set(destId, { key, masker: m });
  return m;
}

/** masking-iv ‖ aesctr(dest-id[:16], masking-iv, header) ‖ message. */
export function encodePacket(destId: Uint8Array, maskingIv: Uint8Array, header: Uint8Array, message: Uint8Array): Uint8Array {
  const out = new Uint8Array(maskingIv.length + header.length + message.length);
  out.set(maskingIv, 0);
  masker(destId)(maskingIv, header, out, maskingIv.length); // masked in place, no copy
  out.set(message, maskingIv.length + header.length);
  return out;
}

/** Unmasks and parses a datagram addressed to `localId`. Never throws. */
export function decodePacket(localId: Uint8Array, raw: Uint8Array): Result<Packet> {
  return attempt(() => decodePacketUnchecked(localId, raw));
}

function decodePacketUnchecked(localId: Uint8Array, raw: Uint8Array): Packet {
  if (raw.length < MIN_PACKET_SIZE) fail('too-small', 'packet', `${raw.length} bytes; a discv5 packet has at least ${MIN_PACKET_SIZE}`);
  if (raw.length > MAX_PACKET_SIZE) fail('too-large', 'packet', `${raw.length} bytes; at most ${MAX_PACKET_SIZE} allowed`);
  const maskingIv = raw.subarray(0, MASKING_IV_SIZE);
  const unmask = masker(localId);
  // One pass over the first 55 bytes unmasks the static header and, for the two short kinds
  // (ordinary message: 32-byte authdata; WHOAREYOU: 24), the whole header.
  const first = unmask(maskingIv, raw.subarray(MASKING_IV_SIZE, Math.min(raw.length, MASKING_IV_SIZE + STATIC_HEADER_SIZE + MESSAGE_AUTHDATA_SIZE)));
  const staticHeader = first.subarray(0, STATIC_HEADER_SIZE);
  if (!equalBytes(staticHeader.subarray(0, 6), PROTOCOL_ID))
    fail('bad-protocol-id', 'protocol-id', 'unmasks to something other than "discv5": not for us, or not discv5');
  const version = readU16(staticHeader, 6);
  if (version !== VERSION) fail('bad-version', 'version', `0x${version.toString(16).padStart(4, '0')}; only 0x0001 is known`);
  const flag = staticHeader[8];
  if (flag > FLAG_HANDSHAKE) fail('bad-flag', 'flag', `${flag} is not 0 (message), 1 (WHOAREYOU) or 2 (handshake)`);
  const authdataSize = readU16(staticHeader, 21);
  const headerEnd = MASKING_IV_SIZE + STATIC_HEADER_SIZE + authdataSize;
  if (headerEnd > raw.length) fail('truncated', 'authdata-size', `${authdataSize} bytes claimed, ${raw.length - MASKING_IV_SIZE - STATIC_HEADER_SIZE} remain`);
  // CTR is a stream: unmasking the whole header again yields the same static header.
  const header = headerEnd - MASKING_IV_SIZE <= first.length ? first.subarray(0, headerEnd - MASKING_IV_SIZE) : unmask(maskingIv, raw.subarray(MASKING_IV_SIZE, headerEnd));
  const authdataBytes = header.subarray(STATIC_HEADER_SIZE);
  const message = raw.subarray(headerEnd);
  const authdata = parseAuthdata(flag as Flag, authdataBytes, message.length);
  return { maskingIv, flag: flag as Flag, nonce: header.subarray(9, 9 + NONCE_SIZE), authdata, header, message, raw };
}

function parseAuthdata(flag: Flag, a: Uint8Array, messageLength: number): Authdata {
  switch (flag) {
    case FLAG_MESSAGE:
      if (a.length !== MESSAGE_AUTHDATA_SIZE) fail('bad-length', 'authdata-size', `${a.length} for an ordinary message; must be ${MESSAGE_AUTHDATA_SIZE}`);
      return { flag, srcId: a };
    case FLAG_WHOAREYOU:
      if (a.length !== WHOAREYOU_AUTHDATA_SIZE) fail('bad-length', 'authdata-size', `${a.length} for WHOAREYOU; must be ${WHOAREYOU_AUTHDATA_SIZE}`);
      if (messageLength !== 0) fail('bad-length', 'message', `WHOAREYOU carries no message, found ${messageLength} bytes`);
      return { flag, idNonce: a.subarray(0, ID_NONCE_SIZE), enrSeq: bytesToBigint(a.subarray(ID_NONCE_SIZE)) };
    case FLAG_HANDSHAKE: {
      if (a.length < HANDSHAKE_AUTHDATA_HEAD_SIZE) fail('bad-length', 'authdata-size', `${a.length} for a handshake; authdata-head alone is ${HANDSHAKE_AUTHDATA_HEAD_SIZE}`);
      const sigSize = a[32];
      const ephKeySize = a[33];
      if (sigSize !== SIG_SIZE_V4) fail('bad-value', 'sig-size', `${sigSize}; the "v4" identity scheme uses ${SIG_SIZE_V4}`);
      if (ephKeySize !== EPH_KEY_SIZE_V4) fail('bad-value', 'eph-key-size', `${ephKeySize}; the "v4" identity scheme uses ${EPH_KEY_SIZE_V4}`);
      const fixed = HANDSHAKE_AUTHDATA_HEAD_SIZE + sigSize + ephKeySize;
      if (a.length < fixed) fail('truncated', 'authdata-size', `${a.length}; id-signature and eph-pubkey need ${fixed}`);
      const record = a.length > fixed ? a.subarray(fixed) : undefined;
      return {
        flag,
        srcId: a.subarray(0, 32),
        idSignature: a.subarray(HANDSHAKE_AUTHDATA_HEAD_SIZE, HANDSHAKE_AUTHDATA_HEAD_SIZE + sigSize),
        ephPubkey: a.subarray(HANDSHAKE_AUTHDATA_HEAD_SIZE + sigSize, fixed),
        ...(record ? { record } : {}),
      };
    }
  }
}

/** Short description for logs: "WHOAREYOU nonce=0102…". */

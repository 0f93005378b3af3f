// RLPx frames (rlpx.md "Framing" and "MAC"): after the handshake every message travels as
//   header-ciphertext (16) ‖ header-mac (16) ‖ frame-ciphertext (frame-size padded to 16) ‖ frame-mac (16)
// header = frame-size (3 bytes) ‖ header-data (rlp [capability-id, context-id] = c2 80 80) ‖ zero pad.
// One AES-256-CTR keystream per direction (key aes-secret, zero IV) runs across all headers and
// bodies; each MAC is a running keccak256 state, its digest mixed with AES-256-ECB(mac-secret).
// Reading checks each MAC on a copy of the state and decrypts only what verified: a rejected
// header or body leaves the session exactly as it was.
import { aesCtrStream, aesEcbKey, type AesCtrStream } from '../crypto/aes.ts';
import type { KeccakState } from '../crypto/hashes.ts';
import { err, ok, type Result } from '../errors.ts';
import { MAX_FRAME_SIZE } from './spec.ts';

export const HEADER_SIZE = 32; // header-ciphertext ‖ header-mac
export const HEADER_DATA = Uint8Array.of(0xc2, 0x80, 0x80);

export const paddedSize = (size: number): number => (size + 15) & ~15;
/** The bytes a frame of `size` takes on the wire. */
export const frameLength = (size: number): number => HEADER_SIZE + paddedSize(size) + 16;

export interface FrameKeys {
  aesSecret: Uint8Array;
  macSecret: Uint8Array;
  egressMac: KeccakState;
  ingressMac: KeccakState;
}

/** What writing or reading one frame computed (the dissection and the key-schedule view show it). */
export interface FrameCrypto {
  headerPlain: Uint8Array;
  headerMac: Uint8Array;
  framePlain: Uint8Array;
  frameMac: Uint8Array;
  /** The MAC state's digest before this frame (when traced). */
  macBefore?: Uint8Array;
}

class Direction {
  readonly ctr: AesCtrStream;
  /** A second state to check a MAC on before the real one moves (swapped in when it verifies). */
  private spare: KeccakState;
  constructor(aesSecret: Uint8Array, public mac: KeccakState, private readonly ecb: (b: Uint8Array, out?: Uint8Array) => Uint8Array) {
    this.ctr = aesCtrStream(aesSecret, new Uint8Array(16));
    this.spare = mac.copy();
  }
  /** A copy of the MAC state to compute on; commit() makes it the state. */
  trial(): KeccakState {
    this.spare = this.mac.copyTo(this.spare);
    return this.spare;
  }
  commit(state: KeccakState): void {
    if (state !== this.spare) {
      this.mac = state;
      return;
    }
    this.spare = this.mac;
    this.mac = state;
  }
  /** header-mac = digest after update(aes(mac-secret, digest[:16]) ⊕ header-ciphertext). */
  headerMac(state: KeccakState, headerCipher: Uint8Array): Uint8Array {
    const seed = this.ecb(state.peek());
    for (let i = 0; i < 16; i++) seed[i] ^= headerCipher[i];
    return state.update(seed).peek().subarray(0, 16);
  }
  /** frame-mac = digest after update(frame-ciphertext), then update(aes(mac-secret, digest[:16]) ⊕ digest[:16]). */
  frameMac(state: KeccakState, frameCipher: Uint8Array): Uint8Array {
    const digest = state.update(frameCipher).peek();
    const seed = this.ecb(digest);
    for (let i = 0; i < 16; i++) seed[i] ^= digest[i];
    return state.update(seed).peek().subarray(0, 16);
  }
}

const macsEqual = (a: Uint8Array, b: Uint8Array, at: number): boolean => {
  let diff = 0;
  for (let i = 0; i < 16; i++) diff |= a[i] ^ b[at + i];
  return diff === 0;
};

export class FrameCodec {
  private readonly egress: Direction;
  private readonly ingress: Direction;
  /** The frame-size of a header read whose body has not come yet. */
  private pendingSize: number | undefined;
  private pendingHeader: Uint8Array | undefined;
  private pendingHeaderMac: Uint8Array | undefined;
  private pendingMacBefore: Uint8Array | undefined;

  /** `trace`: keep each read frame's MAC digest before it (the key-schedule view shows it). */
  constructor(keys: FrameKeys, private readonly trace = false) {
    const ecb = aesEcbKey(keys.macSecret);
    this.egress = new Direction(keys.aesSecret, keys.egressMac, ecb);
    this.ingress = new Direction(keys.aesSecret, keys.ingressMac, ecb);
  }

  /** Encrypts and MACs one frame around `frameData` (rlp(msg-id) ‖ msg-data). */
  write(frameData: Uint8Array, trace = false): { bytes: Uint8Array; crypto?: FrameCrypto } {
    const size = frameData.length;
    if (size > MAX_FRAME_SIZE) throw new RangeError(`frame of ${size} bytes is over the 3-byte frame-size limit`);
    const padded = paddedSize(size);
    const out = new Uint8Array(HEADER_SIZE + padded + 16);
    const header = out.subarray(0, 16);
    header[0] = size >>> 16;
    header[1] = (size >>> 8) & 0xff;
    header[2] = size & 0xff;
    header.set(HEADER_DATA, 3);
    const headerPlain = trace ? header.slice() : undefined;
    const macBefore = trace ? this.egress.mac.peek() : undefined;
    this.egress.ctr.xor(header, out, 0);
    const headerMac = this.egress.headerMac(this.egress.mac, header);
    out.set(headerMac, 16);
    const body = out.subarray(HEADER_SIZE, HEADER_SIZE + padded);
    body.set(frameData);
    const framePlain = trace ? body.slice() : undefined;
    this.egress.ctr.xor(body, out, HEADER_SIZE);
    const frameMac = this.egress.frameMac(this.egress.mac, body);
    out.set(frameMac, HEADER_SIZE + padded);
    return { bytes: out, ...(trace ? { crypto: { headerPlain: headerPlain!, headerMac: headerMac.slice(), framePlain: framePlain!, frameMac: frameMac.slice(), macBefore: macBefore! } } : {}) };
  }

  /** How many more bytes the next read needs: 32 for a header, else the pending frame's rest. */
  get need(): number {
    return this.pendingSize === undefined ? HEADER_SIZE : paddedSize(this.pendingSize) + 16;
  }

  get pendingFrameSize(): number | undefined {
    return this.pendingSize;
  }

  /** Checks a header's MAC and decrypts it; on any error nothing changes. */
  readHeader(bytes: Uint8Array): Result<{ size: number; headerPlain: Uint8Array }> {
    if (this.pendingSize !== undefined) return err('unexpected', 'header', 'a frame body is due, not a header');
    if (bytes.length !== HEADER_SIZE) return err('bad-length', 'header', `a header and its MAC are ${HEADER_SIZE} bytes, got ${bytes.length}`);
    const cipher = bytes.subarray(0, 16);
    const state = this.ingress.trial();
    const macBefore = this.trace ? state.peek() : undefined;
    const mac = this.ingress.headerMac(state, cipher);
    if (!macsEqual(mac, bytes, 16)) return err('bad-signature', 'header-mac', 'the header MAC does not match: the bytes were altered, or the keys differ — the connection cannot go on');
    // Verified: now the session moves on.
    this.ingress.commit(state);
    const headerPlain = this.ingress.ctr.xor(cipher);
    const size = (headerPlain[0] << 16) | (headerPlain[1] << 8) | headerPlain[2];
    this.pendingSize = size;
    this.pendingHeader = headerPlain;
    this.pendingHeaderMac = mac.slice();
    this.pendingMacBefore = macBefore;
    return ok({ size, headerPlain });
  }

  /** Checks the pending frame's MAC and decrypts its body; on any error nothing changes. */
  readBody(bytes: Uint8Array): Result<{ frameData: Uint8Array; crypto: FrameCrypto }> {
    const size = this.pendingSize;
    if (size === undefined) return err('unexpected', 'frame', 'no header has been read');
    const padded = paddedSize(size);
    if (bytes.length !== padded + 16) return err('bad-length', 'frame', `the frame body and its MAC are ${padded + 16} bytes, got ${bytes.length}`);
    const cipher = bytes.subarray(0, padded);
    const state = this.ingress.trial();
    const mac = this.ingress.frameMac(state, cipher);
    if (!macsEqual(mac, bytes, padded)) return err('bad-signature', 'frame-mac', 'the frame MAC does not match: the bytes were altered, or the keys differ — the connection cannot go on');
    this.ingress.commit(state);
    const framePlain = this.ingress.ctr.xor(cipher);
    const crypto: FrameCrypto = { headerPlain: this.pendingHeader!, headerMac: this.pendingHeaderMac!, framePlain, frameMac: mac.slice(), ...(this.pendingMacBefore ? { macBefore: this.pendingMacBefore } : {}) };
    this.pendingSize = this.pendingHeader = this.pendingHeaderMac = this.pendingMacBefore = undefined;
    return ok({ frameData: framePlain.subarray(0, size), crypto });
  }

  /** The MAC digests now (tests: equal on both sides of a session). */
  macDigests(): { egress: Uint8Array; ingress: Uint8Array } {
    return { egress: this.egress.mac.peek(), ingress: this.ingress.mac.peek() };
  }
}

// AES: one-shot AES-GCM (discv5 message packets), and keyed AES-GCM / AES-CTR that keep the key
// schedule per key (discv5 sessions and header masking). noble's AES rounds and GHASH, pure and
// synchronous; tracing of what they compute is the protocol module's job.
import { gcm, unsafe as aesBlocks } from '@noble/ciphers/aes.js';
import { GHASH } from '@noble/ciphers/_polyval.js';

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

// ---------------------------------------------------------------- keyed ciphers
// The one-shot calls above expand the AES key (and, for GCM, build the GHASH tables) on every
// call: most of the cost for a discv5-sized packet. A session seals and opens many packets with
// the same two keys, and masking always uses one node id as key, so these keep that work per key.
// The AES rounds and the GHASH multiplication are noble's; only the CTR/GCM bookkeeping is here,
// done on 32-bit words so that no typed-array views are made per block (for packets of a few
// blocks, making those views cost more than the cipher). Checked against gcm()/ctr() in
// test/crypto-keyed.test.ts.

/** Little-endian 32-bit word at b[i..i+4) (bytes past the end read as 0): noble's AES and GHASH word order. */
const le32 = (b: Uint8Array, i: number, end: number): number =>
  (i < end ? b[i] : 0) | (i + 1 < end ? b[i + 1] << 8 : 0) | (i + 2 < end ? b[i + 2] << 16 : 0) | (i + 3 < end ? b[i + 3] << 24 : 0);

/**
 * dst[0..n) = src[0..n) XOR AES-CTR keystream from the counter block `ctr` (16 bytes, advanced in
 * place: the whole block as a big-endian integer, or only its last 32 bits for GCM's inc32).
 */
function ctrXor(xk: Uint32Array, ctr: Uint8Array, inc32: boolean, src: Uint8Array, dst: Uint8Array, dstOffset = 0): void {
  const n = src.length;
  for (let at = 0; at < n; at += 16) {
    const k = aesBlocks.encrypt(xk, le32(ctr, 0, 16), le32(ctr, 4, 16), le32(ctr, 8, 16), le32(ctr, 12, 16));
    const end = Math.min(16, n - at);
    for (let j = 0; j < end; j++) {
      const w = j < 8 ? (j < 4 ? k.s0 : k.s1) : j < 12 ? k.s2 : k.s3;
      dst[dstOffset + at + j] = src[at + j] ^ ((w >>> ((j & 3) * 8)) & 0xff);
    }
    for (let j = 15, carry = 1; j >= (inc32 ? 12 : 0) && carry; j--) {
      const v = ctr[j] + carry;
      ctr[j] = v & 0xff;
      carry = v >> 8;
    }
  }
}

/** A 32-bit word's bytes reversed. */
const bswap = (x: number): number => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

/** noble's GHASH, fed words directly, its per-key tables kept across messages. */
class KeyedGhash extends GHASH {
  constructor(h: Uint8Array) {
    // A length hint above 1 KiB selects 4-bit windows: tables of 512 entries, made once per key.
    super(h, 2048);
  }
  /** GHASH(ad ‖ pad ‖ ct ‖ pad ‖ len(ad) ‖ len(ct)), XORed with `mask`, into `out`. */
  tag(ad: Uint8Array, ct: Uint8Array, mask: Uint8Array, out: Uint8Array, at: number): void {
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.absorb(ad);
    this.absorb(ct);
    // Lengths in bits, each a 64-bit big-endian number, as two words apiece (messages are < 2^29 bytes).
    this._updateBlock(0, bswap(ad.length * 8), 0, bswap(ct.length * 8));
    for (let j = 0; j < 16; j++) {
      const w = j < 8 ? (j < 4 ? this.s0 : this.s1) : j < 12 ? this.s2 : this.s3;
      out[at + j] = ((w >>> ((j & 3) * 8)) & 0xff) ^ mask[j];
    }
  }
  private absorb(b: Uint8Array): void {
    const n = b.length;
    for (let i = 0; i < n; i += 16) this._updateBlock(le32(b, i, n), le32(b, i + 4, n), le32(b, i + 8, n), le32(b, i + 12, n));
  }
}

export interface AesGcmKey {
  /** ciphertext ‖ 16-byte tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Uint8Array;
  /** The plaintext, or undefined when the tag does not verify. */
  open(nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array | undefined;
}

/** AES-128-GCM with a 12-byte nonce under one key, for many messages. */
export function aesGcmKey(key: Uint8Array): AesGcmKey {
  if (key.length !== 16) throw new Error('aes-gcm: key must be 16 bytes');
  const xk = aesBlocks.expandKeyLE(key);
  const h = new Uint8Array(16);
  ctrXor(xk, new Uint8Array(16), true, h, h); // H = E(K, 0^128)
  const ghash = new KeyedGhash(h);
  const zero = new Uint8Array(16);
  // Scratch blocks, reused: every call runs to completion before the next (no re-entry).
  const ctr = new Uint8Array(16);
  const mask = new Uint8Array(16);
  const expected = new Uint8Array(16);
  /** J0 = nonce ‖ 1: `mask` = E(K, J0) for the tag, `ctr` left at inc32(J0) for the payload. */
  const start = (nonce: Uint8Array): void => {
    if (nonce.length !== 12) throw new Error('aes-gcm: nonce must be 12 bytes');
    ctr.set(nonce);
    ctr[12] = ctr[13] = ctr[14] = 0;
    ctr[15] = 1;
    ctrXor(xk, ctr, true, zero, mask);
  };
  return {
    seal(nonce, plaintext, ad) {
      start(nonce);
      const out = new Uint8Array(plaintext.length + 16);
      const ct = out.subarray(0, plaintext.length);
      ctrXor(xk, ctr, true, plaintext, ct);
      ghash.tag(ad, ct, mask, out, plaintext.length);
      return out;
    },
    open(nonce, sealed, ad) {
      if (sealed.length < 16) return undefined;
      start(nonce);
      const ct = sealed.subarray(0, sealed.length - 16);
      ghash.tag(ad, ct, mask, expected, 0);
      let diff = 0;
      for (let i = 0; i < 16; i++) diff |= expected[i] ^ sealed[ct.length + i];
      if (diff !== 0) return undefined; // verify before decrypting: no unauthenticated plaintext
      const out = new Uint8Array(ct.length);
      ctrXor(xk, ctr, true, ct, out);
      return out;
    },
  };
}

/**
 * AES-CTR keystream XOR under one key (the 16-byte IV is the initial counter block). The result
 * goes to a new array, or into `dst` at `dstOffset` (which is then returned).
 */
export function aesCtrKey(key: Uint8Array): (iv: Uint8Array, data: Uint8Array, dst?: Uint8Array, dstOffset?: number) => Uint8Array {
  if (key.length !== 16) throw new Error('aes-ctr: key must be 16 bytes');
  const xk = aesBlocks.expandKeyLE(key);
  const ctr = new Uint8Array(16);
  return (iv, data, dst, dstOffset = 0) => {
    if (iv.length !== 16) throw new Error('aes-ctr: iv must be 16 bytes');
    if (dst && dstOffset + data.length > dst.length) throw new Error('aes-ctr: dst too short');
    const out = dst ?? new Uint8Array(data.length);
    ctr.set(iv);
    ctrXor(xk, ctr, false, data, out, dst ? dstOffset : 0);
    return out;
  };
}

// ---------------------------------------------------------------- RLPx ciphers
// RLPx frames use AES-256-CTR as ONE keystream per direction (zero IV, never restarted: go-ethereum
// keeps one cipher.Stream each way) and single AES-256 block encryptions (ECB) inside the keccak
// MAC update. ECIES uses AES-128-CTR from a fresh IV per message (aesCtrKey above).

/** A continuous AES-CTR keystream: each call XORs the next `data.length` bytes of it. */
export interface AesCtrStream {
  xor(data: Uint8Array, dst?: Uint8Array, dstOffset?: number): Uint8Array;
}

export function aesCtrStream(key: Uint8Array, iv: Uint8Array): AesCtrStream {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new Error('aes-ctr: key must be 16, 24 or 32 bytes');
  if (iv.length !== 16) throw new Error('aes-ctr: iv must be 16 bytes');
  const xk = aesBlocks.expandKeyLE(key);
  const ctr = iv.slice();
  // Keystream left over from a block a previous call did not use up (calls need not be block-sized).
  const left = new Uint8Array(16);
  let leftAt = 16;
  const zero = new Uint8Array(16);
  return {
    xor(data, dst, dstOffset = 0) {
      if (dst && dstOffset + data.length > dst.length) throw new Error('aes-ctr: dst too short');
      const out = dst ?? new Uint8Array(data.length);
      const base = dst ? dstOffset : 0;
      let i = 0;
      for (; i < data.length && leftAt < 16; i++) out[base + i] = data[i] ^ left[leftAt++];
      const whole = (data.length - i) & ~15;
      if (whole > 0) {
        ctrXor(xk, ctr, false, data.subarray(i, i + whole), out, base + i);
        i += whole;
      }
      if (i < data.length) {
        ctrXor(xk, ctr, false, zero, left);
        leftAt = 0;
        for (; i < data.length; i++) out[base + i] = data[i] ^ left[leftAt++];
      }
      return out;
    },
  };
}

/** One AES block encryption (ECB) under a key kept expanded: `out` = AES(key, block[0..16)). */
export function aesEcbKey(key: Uint8Array): (block: Uint8Array, out?: Uint8Array) => Uint8Array {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new Error('aes-ecb: key must be 16, 24 or 32 bytes');
  const xk = aesBlocks.expandKeyLE(key);
  return (block, out = new Uint8Array(16)) => {
    if (block.length < 16) throw new Error('aes-ecb: a block is 16 bytes');
    const k = aesBlocks.encrypt(xk, le32(block, 0, 16), le32(block, 4, 16), le32(block, 8, 16), le32(block, 12, 16));
    for (let j = 0; j < 16; j++) {
      const w = j < 8 ? (j < 4 ? k.s0 : k.s1) : j < 12 ? k.s2 : k.s3;
      out[j] = (w >>> ((j & 3) * 8)) & 0xff;
    }
    return out;
  };
}

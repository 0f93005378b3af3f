// The keyed ciphers (key schedule and GHASH tables kept per key) against noble's one-shot
// gcm()/ctr(), over many lengths, offsets and keys, plus tag-forgery refusal.
import { describe, expect, it } from 'vitest';
import { gcm, ctr } from '@noble/ciphers/aes.js';
import { toHex } from '../shared/bytes.ts';
import { aesCtrKey, aesGcmKey } from '../shared/crypto/aes.ts';
import { prng } from './helpers/prng.ts';

/** A view at an odd offset, as a subarray of a received datagram is. */
const unaligned = (b: Uint8Array, shift: number): Uint8Array => {
  const buf = new Uint8Array(b.length + shift);
  buf.set(b, shift);
  return buf.subarray(shift);
};

describe('keyed AES-GCM and AES-CTR', () => {
  it('seal/open match noble gcm() for every length 0..100 and larger, aligned or not, many messages per key', () => {
    const rng = prng(0x6c3);
    for (let k = 0; k < 8; k++) {
      const key = rng.bytes(16);
      const keyed = aesGcmKey(key);
      for (let len = 0; len <= 1300; len += len < 100 ? 1 : 97) {
        const nonce = rng.bytes(12);
        const pt = unaligned(rng.bytes(len), len % 4);
        const ad = unaligned(rng.bytes(rng.int(120)), (len + 1) % 4);
        const expected = gcm(key, nonce, ad).encrypt(pt);
        const sealed = keyed.seal(nonce, pt, ad);
        expect(toHex(sealed)).toBe(toHex(expected));
        expect(toHex(keyed.open(nonce, unaligned(sealed, 3), ad)!)).toBe(toHex(pt));
      }
    }
  });

  it('open refuses a flipped bit anywhere, a wrong ad or nonce, and short input', () => {
    const rng = prng(0x6c4);
    const key = rng.bytes(16);
    const keyed = aesGcmKey(key);
    const nonce = rng.bytes(12);
    const ad = rng.bytes(40);
    const sealed = keyed.seal(nonce, rng.bytes(50), ad);
    for (let i = 0; i < sealed.length * 8; i++) {
      const bad = sealed.slice();
      bad[i >> 3] ^= 1 << (i & 7);
      expect(keyed.open(nonce, bad, ad)).toBeUndefined();
    }
    expect(keyed.open(nonce, sealed, ad.subarray(1))).toBeUndefined();
    expect(keyed.open(rng.bytes(12), sealed, ad)).toBeUndefined();
    expect(keyed.open(nonce, sealed.subarray(0, 15), ad)).toBeUndefined();
    expect(keyed.open(nonce, sealed, ad)).toBeDefined();
  });

  it('ctr matches noble ctr() and leaves the iv untouched', () => {
    const rng = prng(0x6c5);
    for (let k = 0; k < 8; k++) {
      const key = rng.bytes(16);
      const keyed = aesCtrKey(key);
      for (let len = 0; len <= 300; len += 7) {
        const iv = rng.bytes(16);
        if (len % 3 === 0) iv.fill(0xff, 8); // counter carries across the 64-bit boundary
        const data = unaligned(rng.bytes(len), len % 4);
        const before = toHex(iv);
        expect(toHex(keyed(iv, data))).toBe(toHex(ctr(key, iv).encrypt(data)));
        expect(toHex(iv)).toBe(before);
        // Into a caller's buffer at an offset (how a packet is masked in place).
        const dst = new Uint8Array(len + 21).fill(0xaa);
        expect(keyed(iv, data, dst, 5)).toBe(dst);
        expect(toHex(dst.subarray(5, 5 + len))).toBe(toHex(ctr(key, iv).encrypt(data)));
        expect([...dst.subarray(0, 5), ...dst.subarray(5 + len)].every((x) => x === 0xaa)).toBe(true);
      }
    }
    expect(() => aesCtrKey(new Uint8Array(16))(new Uint8Array(16), new Uint8Array(8), new Uint8Array(10), 5)).toThrow();
  });
});

// The running Keccak-256 state (our sponge over an unrolled Keccak-f[1600]) against noble's
// keccak_256: every length from 0 to 600 bytes, absorbed in random pieces, read (peek) between
// pieces without disturbing it, copied and continued on both copies.
import { describe, expect, it } from 'vitest';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { toHex, utf8 } from '../shared/bytes.ts';
import { keccakState } from '../shared/crypto/hashes.ts';
import { prng } from './helpers/prng.ts';

describe('keccakState', () => {
  it('the empty input and "abc" give the known Keccak-256 digests', () => {
    expect(toHex(keccakState().peek())).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
    expect(toHex(keccakState().update(utf8('abc')).peek())).toBe('4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45');
  });

  it('matches noble for 0..600 bytes in random pieces, with peeks and copies along the way', () => {
    const g = prng(0x6b6563);
    for (let len = 0; len <= 600; len++) {
      const data = g.bytes(len);
      const k = keccakState();
      for (let at = 0; at < len; ) {
        const n = Math.min(len - at, 1 + g.int(150));
        k.update(data.subarray(at, at + n));
        at += n;
        expect(toHex(k.peek())).toBe(toHex(keccak_256(data.subarray(0, at))));
      }
      expect(toHex(k.peek())).toBe(toHex(keccak_256(data)));
      const c = k.copy();
      const tail = g.bytes(g.int(300));
      expect(toHex(c.update(tail).peek())).toBe(toHex(keccak_256(new Uint8Array([...data, ...tail]))));
      expect(toHex(k.peek())).toBe(toHex(keccak_256(data)));
      const into = keccakState().update(g.bytes(10));
      expect(toHex(k.copyTo(into).peek())).toBe(toHex(keccak_256(data)));
    }
  });
});

// A tiny deterministic PRNG for tests (xorshift32 after a splitmix-style seed scramble), so
// "random" ids are the same on every run. Not for anything but tests.
export interface Prng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Integer in [0, max). */
  int(max: number): number;
  bytes(length: number): Uint8Array;
  /** In-place Fisher–Yates shuffle; returns the array. */
  shuffle<T>(items: T[]): T[];
}

export function prng(seed: number): Prng {
  // Scramble the seed so nearby seeds give unrelated streams, and never start at 0 (a fixed point).
  let s = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) >>> 0;
  s = (s ^ (s >>> 13)) >>> 0 || 0x6d2b79f5;
  const u32 = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  for (let i = 0; i < 8; i++) u32();
  const int = (max: number): number => Math.floor((u32() / 2 ** 32) * max);
  return {
    u32,
    int,
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = u32() >>> 24;
      return out;
    },
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [items[i], items[j]] = [items[j], items[i]];
      }
      return items;
    },
  };
}

/** XOR distance as a bigint: the brute-force yardstick the table and lookup are checked against. */
export function xorDistance(a: Uint8Array, b: Uint8Array): bigint {
  let n = 0n;
  for (let i = 0; i < a.length; i++) n = (n << 8n) | BigInt(a[i] ^ b[i]);
  return n;
}

/** A 32-byte id at log-distance d (1..256) from `base`: bit d-1 flipped, lower bits random. */
export function idAtDistance(base: Uint8Array, d: number, rng: Prng): Uint8Array {
  const id = base.slice();
  const bit = d - 1; // counted from the least significant bit
  const byte = id.length - 1 - (bit >> 3);
  id[byte] ^= 1 << (bit & 7);
  const mask = (1 << (bit & 7)) - 1;
  id[byte] = (id[byte] & ~mask) | (rng.u32() & mask);
  for (let i = byte + 1; i < id.length; i++) id[i] = rng.u32() & 0xff;
  return id;
}

// Randomness is injected into every engine, so a run can be replayed byte for byte.
export type RandomSource = (length: number) => Uint8Array;

/** The platform CSPRNG (WebCrypto: browsers and Node ≥ 20 alike). */
export const secureRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
};

/** Replays the given byte strings in order, then falls back (tests, spec-vector replay). */
export function scriptedRandom(script: Uint8Array[], fallback: RandomSource = secureRandom): RandomSource {
  const queue = [...script];
  return (length) => {
    const next = queue[0];
    if (next && next.length === length) {
      queue.shift();
      return next.slice();
    }
    return fallback(length);
  };
}

// XOR distance between node ids (Kademlia): the log-distance buckets and lookups use, and an
// ordering by closeness to a target. Ids are equal-length big-endian byte strings.

/** Log-distance between two ids: bit length of a XOR b (0 when equal). */
export function logDistance(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) return (a.length - i - 1) * 8 + (32 - Math.clz32(x));
  }
  return 0;
}

/** -1, 0, 1: which of a, b is closer to target by XOR distance. */
export function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = a[i] ^ target[i];
    const db = b[i] ^ target[i];
    if (da !== db) return da < db ? -1 : 1;
  }
  return 0;
}

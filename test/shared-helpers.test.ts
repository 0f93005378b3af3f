// The helpers shared/ keeps one copy of: the bounded LRU map, truncated hex, the ENR keys for a
// UDP endpoint, and discv5 request-ids from injected randomness.
import { describe, expect, it } from 'vitest';
import { shortHex, toHex } from '../shared/bytes.ts';
import { randomRequestId } from '../shared/discv5/messages.ts';
import { createEnr, udpEndpoint, udpFields } from '../shared/enr/index.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Lru } from '../shared/lru.ts';
import { scriptedRandom } from '../shared/random.ts';
import { prng } from './helpers/prng.ts';

describe('Lru', () => {
  it('forgets the least recently used entry beyond capacity; get is a use, peek is not', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.peek('a')).toBe(1); // not a use: 'a' stays the oldest
    c.set('c', 3);
    expect([...c.entries()]).toEqual([['b', 2], ['c', 3]]);
    expect(c.get('b')).toBe(2); // a use: 'c' is now the oldest
    c.set('d', 4);
    expect([...c.entries()]).toEqual([['b', 2], ['d', 4]]);
    c.set('b', 5); // a replace is a use too
    c.set('e', 6);
    expect([...c.values()]).toEqual([5, 6]);
    expect(c.size).toBe(2);
    expect(c.delete('b')).toBe(true);
    expect(c.has('b')).toBe(false);
  });

  it('stays bounded under a flood of distinct keys', () => {
    const c = new Lru<number, number>(64);
    for (let i = 0; i < 10_000; i++) c.set(i, i);
    expect(c.size).toBe(64);
    expect([...c.values()][0]).toBe(10_000 - 64);
  });

  it('refuses a capacity that bounds nothing', () => {
    expect(() => new Lru(0)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
  });
});

describe('shortHex', () => {
  it('cuts bytes and hex text alike, with "…" only when something was cut', () => {
    const id = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(shortHex(id)).toBe('0001020304050607…');
    expect(shortHex(id, 4)).toBe('00010203…');
    expect(shortHex(toHex(id), 4)).toBe('00010203…');
    expect(shortHex(id.subarray(0, 4), 4)).toBe('00010203');
    expect(shortHex('abcd', 2)).toBe('abcd');
    expect(shortHex(new Uint8Array(0))).toBe('');
  });
});

describe('udpFields', () => {
  it('gives ip/udp for IPv4 and ip6/udp6 for IPv6, and a record made with them points back there', () => {
    expect(udpFields({ ip: '127.0.0.1', port: 9000 })).toEqual({ ip: '127.0.0.1', udp: 9000 });
    expect(udpFields({ ip: '::1', port: 9001 })).toEqual({ ip6: '::1', udp6: 9001 });
    const gen = prng(7);
    const privateKey = randomPrivateKey((n) => gen.bytes(n));
    for (const ep of [{ ip: '127.0.0.1', port: 9000 }, { ip: '::1', port: 9001 }]) expect(udpEndpoint(createEnr({ privateKey, ...udpFields(ep) }))).toEqual(ep);
  });
});

describe('randomRequestId', () => {
  it('draws 8 bytes from the injected source, again while the first byte is zero or the id is taken', () => {
    const zero = Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7);
    const taken = Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9);
    const good = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const random = scriptedRandom([zero, taken, good], () => {
      throw new Error('drew more than scripted');
    });
    expect(randomRequestId(random, (hex) => hex === toHex(taken))).toEqual(good);
  });

  it('never returns a leading zero, even from a source of zeros', () => {
    const id = randomRequestId((n) => new Uint8Array(n));
    expect(id).toHaveLength(8);
    expect(id[0]).not.toBe(0);
  });
});

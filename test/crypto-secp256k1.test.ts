// Recoverable signatures in Ethereum's r ‖ s ‖ v layout, checked against an independent
// implementation: bcrypto 0.3.7's JS secp256k1 (elliptic underneath), which recovers from r ‖ s
// plus the recovery id as a separate parameter.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as nobleSecp from '@noble/secp256k1';
import { toHex } from '../shared/bytes.ts';
import { publicKeyOf, randomPrivateKey, recoverPublicKey, signHash, signHashRecoverable, useRecovery } from '../shared/crypto/secp256k1.ts';
import { installFastRecovery } from '../shared/crypto/secp256k1-fast-recovery.ts';
import { prng } from './helpers/prng.ts';

interface PeerSecp {
  native: number;
  sign(msg: Buffer, key: Buffer): Buffer;
  recover(msg: Buffer, sig: Buffer, param: number, compress: boolean): Buffer | null;
}
const peer = createRequire(import.meta.url)('bcrypto/lib/secp256k1') as PeerSecp;
const hexOf = (b: Uint8Array | null | undefined): string | undefined => (b ? toHex(b) : undefined);

describe('secp256k1 recoverable signatures (r ‖ s ‖ v)', () => {
  it('the peer implementation is the JS one, not a binding of the same code', () => {
    expect(peer.native).toBe(0);
  });

  it('sign: r ‖ s is the compact signature, v is the recovery id the peer recovers our key with', () => {
    const rng = prng(0x5ec9);
    const seen = new Set<number>();
    for (let i = 0; i < 48; i++) {
      const priv = randomPrivateKey(rng.bytes);
      const hash = rng.bytes(32);
      const sig = signHashRecoverable(hash, priv);
      expect(sig.length).toBe(65);
      expect(toHex(sig.subarray(0, 64))).toBe(toHex(signHash(hash, priv)));
      expect([0, 1]).toContain(sig[64]);
      seen.add(sig[64]);
      const key = toHex(publicKeyOf(priv));
      expect(hexOf(peer.recover(Buffer.from(hash), Buffer.from(sig.subarray(0, 64)), sig[64], true))).toBe(key);
      expect(hexOf(recoverPublicKey(sig, hash))).toBe(key);
      expect(hexOf(recoverPublicKey(sig, hash, false))).toBe(toHex(publicKeyOf(priv, false)));
    }
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('recover: a signature the peer made gives the peer key, the other v or another hash a different one', () => {
    const rng = prng(0x7ec0);
    for (let i = 0; i < 24; i++) {
      const priv = randomPrivateKey(rng.bytes);
      const hash = rng.bytes(32);
      const key = toHex(publicKeyOf(priv));
      const rs = peer.sign(Buffer.from(hash), Buffer.from(priv));
      const v = [0, 1].find((p) => hexOf(peer.recover(Buffer.from(hash), rs, p, true)) === key);
      expect(v).toBeDefined();
      const sig = new Uint8Array([...rs, v!]);
      expect(hexOf(recoverPublicKey(sig, hash))).toBe(key);
      expect(hexOf(recoverPublicKey(new Uint8Array([...rs, v! ^ 1]), hash))).not.toBe(key);
      const otherHash = hash.slice();
      otherHash[i % 32] ^= 1;
      expect(hexOf(recoverPublicKey(sig, otherHash))).not.toBe(key);
    }
  });

  it('the fast recovery (@noble/curves, installed by the CLI and the discv4/RLPx hosts) gives the same bytes as the default, and refuses the same', () => {
    const rng = prng(0xfa57);
    const cases = Array.from({ length: 64 }, (_, i) => {
      const hash = rng.bytes(32);
      const sig = i % 4 === 3 ? Uint8Array.of(...rng.bytes(64), i & 1) : signHashRecoverable(hash, randomPrivateKey(rng.bytes));
      return { sig, hash };
    });
    const run = () => cases.flatMap(({ sig, hash }) => [hexOf(recoverPublicKey(sig, hash)), hexOf(recoverPublicKey(sig, hash, false))]);
    let defaultCalls = 0;
    useRecovery((vrs, hash, compressed) => (defaultCalls++, nobleSecp.recoverPublicKey(vrs, hash, { prehash: false, isCompressed: compressed })));
    const slow = run();
    expect(defaultCalls).toBe(128);
    installFastRecovery();
    expect(run()).toEqual(slow);
    expect(defaultCalls).toBe(128); // the second run did not use the default
    expect(slow.filter((x) => x === undefined).length).toBeGreaterThan(0); // random r, s: some refused by both
  });

  it('recover refuses bad lengths, v outside {0, 1} and impossible r, s without throwing', () => {
    const rng = prng(0xbad5);
    const priv = randomPrivateKey(rng.bytes);
    const hash = rng.bytes(32);
    const sig = signHashRecoverable(hash, priv);
    expect(recoverPublicKey(sig.subarray(0, 64), hash)).toBeUndefined();
    expect(recoverPublicKey(new Uint8Array([...sig, 0]), hash)).toBeUndefined();
    expect(recoverPublicKey(sig, hash.subarray(0, 31))).toBeUndefined();
    for (const v of [2, 3, 27, 28, 255]) expect(recoverPublicKey(new Uint8Array([...sig.subarray(0, 64), v]), hash)).toBeUndefined();
    const zeroR = sig.slice();
    zeroR.fill(0, 0, 32);
    expect(recoverPublicKey(zeroR, hash)).toBeUndefined();
    const zeroS = sig.slice();
    zeroS.fill(0, 32, 64);
    expect(recoverPublicKey(zeroS, hash)).toBeUndefined();
    const bigR = sig.slice();
    bigR.fill(0xff, 0, 32); // r ≥ n
    expect(recoverPublicKey(bigR, hash)).toBeUndefined();
    for (let i = 0; i < 200; i++) {
      const junk = rng.bytes(65);
      junk[64] &= 1;
      expect(() => recoverPublicKey(junk, hash)).not.toThrow();
    }
  });
});

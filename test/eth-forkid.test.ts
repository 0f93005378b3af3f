// EIP-2124 fork ids against go-ethereum's forkid_test.go tables (test/vectors/forkid.json): every
// TestCreation row for mainnet and Sepolia, every TestValidation case (accept, remote stale,
// local incompatible), the RLP encodings; and the eth Status against eth-status.json's examples.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../shared/bytes.ts';
import { CHAINS, type Chain } from '../shared/eth/chains.ts';
import { crc32Update, forkIdOf, forkSums, validateForkId } from '../shared/eth/forkid.ts';
import { decodeStatus, encodeStatus, genesisStatus, isStatus69 } from '../shared/eth/status.ts';
import { encodeRlp, rlpUint } from '../shared/rlp.ts';
import forkid from './vectors/forkid.json';
import ethStatus from './vectors/eth-status.json';

describe('ForkID creation (EIP-2124)', () => {
  for (const name of ['mainnet', 'sepolia'] as const) {
    const net = forkid.networks.find((n) => n.name === name)!;
    it(`${name}: the CRC32 chain and all ${net.cases.length} TestCreation rows`, () => {
      const chain = CHAINS[name];
      expect(chain.genesisHash).toBe(net.genesisHash);
      expect(chain.forks.filter((f) => f.by === 'block').map((f) => f.at)).toEqual(net.derivedForks.byBlock);
      expect(chain.forks.filter((f) => f.by === 'time').map((f) => f.at)).toEqual(net.derivedForks.byTime);
      expect(forkSums(chain).map((s) => s.toString(16).padStart(8, '0'))).toEqual(net.derivedCrcChain.map((c) => c.hash));
      for (const c of net.cases) {
        const id = forkIdOf(chain, { number: c.head, time: c.time });
        expect({ hash: toHex(id.hash), next: id.next }, c.comment).toEqual({ hash: c.hash, next: BigInt(c.next) });
        expect(toHex(encodeRlp([id.hash, rlpUint(id.next)]))).toBe(c.derivedRlp);
      }
    });
  }

  it('the TestEncoding RLP vectors', () => {
    for (const e of forkid.encoding) expect(toHex(encodeRlp([fromHex(e.hash), rlpUint(BigInt(e.next))]))).toBe(e.rlp);
  });

  it('CRC32-IEEE of "123456789" is cbf43926 (the check value)', () => {
    expect(crc32Update(0, new TextEncoder().encode('123456789')).toString(16)).toBe('cbf43926');
  });
});

describe('ForkID validation (EIP-2124 rules)', () => {
  const legacyNil = new Set(forkid.validation.legacyMainnetNilTimes as string[]);
  const timeNames: Record<string, string> = { ShanghaiTime: 'Shanghai', CancunTime: 'Cancun', PragueTime: 'Prague', OsakaTime: 'Osaka', BPO1Time: 'BPO1', BPO2Time: 'BPO2' };
  const nilNames = new Set([...legacyNil].map((n) => timeNames[n]));
  const legacy: Chain = { ...CHAINS.mainnet, forks: CHAINS.mainnet.forks.filter((f) => !(f.by === 'time' && nilNames.has(f.name))) };
  it(`all ${forkid.validation.cases.length} TestValidation cases, with the deciding rule`, () => {
    for (const c of forkid.validation.cases) {
      const chain = c.config === 'legacyMainnet' ? legacy : CHAINS.mainnet;
      const hash = (c as { hash?: string }).hash ?? (c as { derivedHash?: string }).derivedHash!;
      const v = validateForkId(chain, { number: c.head, time: c.time }, { hash: fromHex(hash), next: BigInt(c.next) });
      const expected = c.expectedError === null ? 'accept' : c.expectedError === 'ErrRemoteStale' ? '2-stale' : 'reject';
      const got = v.accept ? 'accept' : v.rule === '2-stale' ? '2-stale' : 'reject';
      expect(got, `${c.comment} → ${v.words}`).toBe(expected);
      expect(v.words).toMatch(/^Rule [1-4]/);
    }
  });
});

describe('eth Status', () => {
  for (const ex of ethStatus.derivedExamples) {
    it(`${ex.name}: encodes to the derived bytes and reads back`, () => {
      const version = 'vsn' in ex.values ? (ex.values as { vsn: number }).vsn : (ex.values as { version: number }).version;
      const s = genesisStatus(CHAINS.mainnet, version);
      expect(toHex(encodeStatus(s))).toBe(ex.rlp);
      const back = decodeStatus(fromHex(ex.rlp), version);
      if (!back.ok) throw back.error;
      expect(isStatus69(back.value)).toBe(version >= 69);
      expect(toHex(back.value.forkId.hash)).toBe(ex.values.forkid.hash);
      // Read with the other version's field order, it is refused (the vsn does not match).
      expect(decodeStatus(fromHex(ex.rlp), version >= 69 ? 68 : 69).ok).toBe(false);
    });
  }
});

// ENR (EIP-778 / devp2p enr.md, "v4" scheme): the spec vector both ways, round trips, every
// rejection (each malformed record is built and re-signed so only the fault under test is present),
// well-known keys, enode URLs and dissection coverage.
import { describe, expect, it } from 'vitest';
import { concat, fromHex, fromUtf8, toHex, utf8 } from '../shared/bytes.ts';
import { publicKeyOf, isValidPublicKey } from '../shared/crypto/secp256k1.ts';
import { coverageProblems, fieldAt, type Field, type Layer } from '../shared/dissect.ts';
import { WireError, type Result } from '../shared/errors.ts';
import { encodeRlp, encodeRlpList, rlpUint } from '../shared/rlp.ts';
import {
  createEnr,
  decodeAttnets,
  decodeEnr,
  decodeEth2,
  decodeEthEntry,
  decodeSyncnets,
  describeEnrValue,
  dissectEnr,
  encodeAttnets,
  encodeEnrText,
  encodeEth2,
  encodeEthEntry,
  encodeSyncnets,
  enodeFromEnr,
  enrFields,
  enrToEnode,
  FAR_FUTURE_EPOCH,
  formatEnode,
  getPair,
  MAX_RECORD_SIZE,
  MAX_SEQ,
  nodeIdOf,
  parseEnode,
  parseEnrText,
  signEnrContent,
  tcpEndpoint,
  udpEndpoint,
  updateEnr,
} from '../shared/enr/index.ts';
import vectorFile from './vectors/enr.json';

const vec = vectorFile.vectors[0];
const priv = fromHex(vec.privateKey);
const pub = publicKeyOf(priv);
const otherPriv = fromHex('45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8');

function ok<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${r.error.code} ${r.error.reason}`);
  return r.value;
}

function expectError(r: Result<unknown>, code: string, field: string): WireError {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('unreachable');
  expect(r.error).toBeInstanceOf(WireError);
  expect({ code: r.error.code, field: r.error.field }).toEqual({ code, field });
  return r.error;
}

// ---- building records by hand: raw content items, signed as given ----
type RawPair = [key: string | Uint8Array, rawValue: Uint8Array];
const enc = (b: Uint8Array | string) => encodeRlp(typeof b === 'string' ? utf8(b) : b);
const basePairs = (): RawPair[] => [
  ['id', enc('v4')],
  ['ip', enc(fromHex('7f000001'))],
  ['secp256k1', enc(pub)],
  ['udp', enc(fromHex('765f'))],
];
function build(pairs: RawPair[], seq: Uint8Array = encodeRlp(rlpUint(1)), key = priv): Uint8Array {
  return signEnrContent(key, [seq, ...pairs.flatMap(([k, v]) => [enc(k), v])]);
}
const replace = (pairs: RawPair[], key: string, rawValue: Uint8Array): RawPair[] => pairs.map(([k, v]) => [k, k === key ? rawValue : v]);

function walk(fields: Field[], fn: (f: Field, path: string) => void, prefix = ''): void {
  for (const f of fields) {
    fn(f, `${prefix}${f.name}`);
    if (f.children) walk(f.children, fn, `${prefix}${f.name}/`);
  }
}
const child = (f: Field | undefined, name: string): Field | undefined => f?.children?.find((c) => c.name === name);

describe('spec vector (enr.md "Test Vectors")', () => {
  it('decodes the text form: seq, signature, pairs, node id, typed keys', () => {
    const enr = ok(parseEnrText(vec.text));
    expect(enr.seq).toBe(BigInt(vec.expected.seq));
    expect(toHex(enr.signature)).toBe(vec.expected.signature);
    expect(toHex(enr.nodeId)).toBe(vec.expected.nodeId);
    expect(toHex(enr.publicKey)).toBe(vec.expected.decoded.secp256k1);
    expect(toHex(enr.raw)).toBe(vec.derived.rlp);
    expect(enr.raw.length).toBe(vec.derived.rlpLength);
    expect(enr.pairs.map((p) => p.key)).toEqual(vec.expected.pairs.map((p) => p.key));
    for (const [i, p] of vec.expected.pairs.entries()) {
      const want = p.valueEncoding === 'utf8' ? utf8(p.value) : fromHex(p.value);
      expect(toHex(enr.pairs[i].value!)).toBe(toHex(want));
      expect(toHex(enr.pairs[i].rawValue)).toBe(toHex(encodeRlp(want)));
    }
    expect(enr.id).toBe('v4');
    expect(enr.ip).toBe(vec.expected.decoded.ip);
    expect(enr.udp).toBe(vec.expected.decoded.udp);
    expect(enr.tcp).toBeUndefined();
    expect(enr.ip6).toBeUndefined();
    expect(encodeEnrText(enr)).toBe(vec.text);
  });

  it('derives the node id from the key in any form', () => {
    expect(toHex(nodeIdOf(pub))).toBe(vec.expected.nodeId);
    const uncompressed = fromHex(vec.derived.publicKeyUncompressed);
    expect(toHex(nodeIdOf(uncompressed))).toBe(vec.expected.nodeId);
    expect(toHex(nodeIdOf(uncompressed.subarray(1)))).toBe(vec.expected.nodeId);
  });

  it('createEnr with the private key and pairs gives the exact same record', () => {
    const enr = createEnr({ privateKey: priv, seq: 1n, ip: '127.0.0.1', udp: 30303 });
    expect(toHex(enr.raw)).toBe(vec.derived.rlp);
    expect(encodeEnrText(enr)).toBe(vec.text);
    expect(toHex(enr.signature)).toBe(vec.expected.signature);
    // The same pairs given as raw values (in a different order: createEnr sorts).
    const fromRaw = createEnr({
      privateKey: priv,
      seq: 1n,
      extra: [
        { key: 'udp', rawValue: encodeRlp(fromHex('765f')) },
        { key: 'ip', rawValue: encodeRlp(fromHex('7f000001')) },
      ],
    });
    expect(encodeEnrText(fromRaw)).toBe(vec.text);
    // And the hand builder the rejection tests use reproduces it, so they differ only by their fault.
    expect(toHex(build(basePairs()))).toBe(vec.derived.rlp);
  });

  it('tolerates whitespace around the text and rejects other text', () => {
    expect(toHex(ok(parseEnrText(`  \n\t${vec.text}\r\n `)).nodeId)).toBe(vec.expected.nodeId);
    expectError(parseEnrText(vec.text.slice(4)), 'bad-value', 'enr');
    expectError(parseEnrText(`ENR:${vec.text.slice(4)}`), 'bad-value', 'enr');
    expectError(parseEnrText(`${vec.text}=`), 'bad-value', 'enr'); // padding is not allowed
    expectError(parseEnrText(vec.text.replace('_', '/')), 'bad-value', 'enr'); // standard alphabet
    expectError(parseEnrText(`enr:${'A'.repeat(404)}`), 'too-large', 'record');
    expectError(parseEnrText('enr:'), 'truncated', 'record');
  });
});

describe('round trips', () => {
  it('every typed key and extra pairs survive decode and text', () => {
    const enr = createEnr({
      privateKey: otherPriv,
      seq: 7n,
      ip: '192.168.1.20',
      tcp: 30303,
      udp: 30304,
      ip6: '2001:db8::7',
      tcp6: 30305,
      udp6: 0,
      extra: [{ key: 'zz', rawValue: encodeRlp(utf8('hello')) }],
    });
    const back = ok(decodeEnr(enr.raw));
    expect(back).toEqual(enr);
    expect(ok(parseEnrText(encodeEnrText(enr)))).toEqual(enr);
    expect({ ip: back.ip, tcp: back.tcp, udp: back.udp, ip6: back.ip6, tcp6: back.tcp6, udp6: back.udp6 }).toEqual({
      ip: '192.168.1.20', tcp: 30303, udp: 30304, ip6: '2001:db8::7', tcp6: 30305, udp6: 0,
    });
    expect(back.pairs.map((p) => p.key)).toEqual(['id', 'ip', 'ip6', 'secp256k1', 'tcp', 'tcp6', 'udp', 'udp6', 'zz']);
    expect(toHex(getPair(back, 'udp6')!.rawValue)).toBe('80'); // port 0 is the empty string
    expect(toHex(back.nodeId)).toBe(toHex(nodeIdOf(publicKeyOf(otherPriv))));
  });

  it('seq 2^64-1 is the largest, and 0 encodes as the empty string', () => {
    const max = createEnr({ privateKey: priv, seq: MAX_SEQ, udp: 1 });
    expect(MAX_SEQ).toBe(18446744073709551615n);
    expect(toHex(max.raw)).toContain('88ffffffffffffffff');
    expect(ok(decodeEnr(max.raw)).seq).toBe(MAX_SEQ);
    expect(() => updateEnr(max, priv, { udp: 2 })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, seq: MAX_SEQ + 1n })).toThrow(WireError);
    const zero = createEnr({ privateKey: priv, seq: 0n });
    expect(ok(decodeEnr(zero.raw)).seq).toBe(0n);
    expect(zero.raw[2 + 66]).toBe(0x80); // after the list header (2 bytes) and the signature item (0xb840 + 64)
  });

  it('updateEnr bumps seq, applies changes and removals, keeps the rest byte-exact', () => {
    const custom = encodeRlp([utf8('x'), [rlpUint(5), new Uint8Array(0)]]);
    const a = createEnr({ privateKey: priv, ip: '10.0.0.1', udp: 9000, tcp: 9001, extra: [{ key: 'custom', rawValue: custom }] });
    const b = updateEnr(a, priv, { ip: '10.0.0.2', udp: undefined });
    expect(b.seq).toBe(a.seq + 1n);
    expect(b.ip).toBe('10.0.0.2');
    expect(b.udp).toBeUndefined();
    expect(b.tcp).toBe(9001);
    expect(toHex(getPair(b, 'custom')!.rawValue)).toBe(toHex(custom));
    expect(getPair(b, 'custom')!.value).toBeUndefined();
    expect(updateEnr(b, priv, { seq: 100n }).seq).toBe(100n);
    const c = updateEnr(b, priv, { extra: [{ key: 'custom', rawValue: encodeRlp(utf8('y')) }] });
    expect(fromUtf8(getPair(c, 'custom')!.value!)).toBe('y');
    expect(() => updateEnr(a, otherPriv, { udp: 1 })).toThrow(/does not belong/);
  });

  it('createEnr refuses bad input', () => {
    expect(() => createEnr({ privateKey: new Uint8Array(32) })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, ip: '::1' })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, ip: '127.1' })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, ip6: '127.0.0.1' })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, ip6: 'fe80::1%eth0' })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, ip: '01.2.3.4' })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, udp: 65536 })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, tcp: 1.5 })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, udp: 1, extra: [{ key: 'udp', rawValue: encodeRlp(rlpUint(2)) }] })).toThrow(/twice/);
    expect(() => createEnr({ privateKey: priv, extra: [{ key: 'id', rawValue: enc('v4') }] })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, extra: [{ key: 'x', rawValue: fromHex('8101') }] })).toThrow(WireError); // non-canonical
    expect(() => createEnr({ privateKey: priv, extra: [{ key: 'ip', rawValue: enc(fromHex('7f0000')) }] })).toThrow(WireError);
    expect(() => createEnr({ privateKey: priv, extra: [{ key: 'big', rawValue: enc(new Uint8Array(250)) }] })).toThrow(/300/);
  });
});

describe('unknown keys', () => {
  it('are preserved byte-exact through decode, text and update, list or string', () => {
    const listValue = encodeRlp([[fromHex('01020304'), rlpUint(99)], utf8('more')]);
    const raw = build([...basePairs(), ['zlist', listValue], ['zstr', enc(fromHex('00ff10'))]]);
    const enr = ok(decodeEnr(raw));
    expect(toHex(getPair(enr, 'zlist')!.rawValue)).toBe(toHex(listValue));
    expect(getPair(enr, 'zlist')!.value).toBeUndefined();
    expect(toHex(getPair(enr, 'zstr')!.value!)).toBe('00ff10');
    expect(toHex(ok(parseEnrText(encodeEnrText(enr))).raw)).toBe(toHex(raw));
    const bumped = updateEnr(enr, priv, {});
    expect(toHex(getPair(bumped, 'zlist')!.rawValue)).toBe(toHex(listValue));
    expect(toHex(getPair(bumped, 'zstr')!.rawValue)).toBe(toHex(enc(fromHex('00ff10'))));
    // Same content at seq 2: re-signing the same pairs reproduces the record byte for byte.
    expect(toHex(bumped.raw)).toBe(toHex(build([...basePairs(), ['zlist', listValue], ['zstr', enc(fromHex('00ff10'))]], encodeRlp(rlpUint(2)))));
  });

  it('the decoded record does not alias the caller buffer', () => {
    const raw = build(basePairs());
    const enr = ok(decodeEnr(raw));
    raw[raw.length - 1] ^= 1;
    expect(toHex(enr.raw)).toBe(vec.derived.rlp);
    expect(enr.udp).toBe(30303);
  });
});

describe('rejections', () => {
  it('records over 300 bytes (and accepts exactly 300)', () => {
    const sized = (n: number) => build([...basePairs(), ['zz', enc(new Uint8Array(n).fill(0xaa))]]);
    let n = 0;
    while (sized(n).length < MAX_RECORD_SIZE) n++;
    expect(sized(n).length).toBe(300);
    expect(ok(decodeEnr(sized(n))).raw.length).toBe(300);
    expect(sized(n + 1).length).toBe(301);
    expectError(decodeEnr(sized(n + 1)), 'too-large', 'record');
  });

  it('unsorted and duplicate keys', () => {
    const [id, ip, secp, udp] = basePairs();
    expectError(decodeEnr(build([id, secp, ip, udp])), 'unsorted-keys', 'ip');
    expectError(decodeEnr(build([ip, id, secp, udp])), 'unsorted-keys', 'id');
    expectError(decodeEnr(build([id, ip, secp, udp, ['udp', enc(fromHex('765f'))]])), 'duplicate-key', 'udp');
    expectError(decodeEnr(build([id, ip, ['ip', enc(fromHex('7f000002'))], secp, udp])), 'duplicate-key', 'ip');
    // Sorting is by bytes: "ip6" sorts after "ip" and before "secp256k1".
    ok(decodeEnr(build([id, ip, ['ip6', enc(new Uint8Array(16))], secp, udp])));
  });

  it('bad signatures: another key, changed content, changed signature, wrong length', () => {
    expectError(decodeEnr(build(basePairs(), undefined, otherPriv)), 'bad-signature', 'signature');
    const changed = build(basePairs());
    changed[changed.length - 1] ^= 1; // udp 30303 → 30302, signature unchanged
    expectError(decodeEnr(changed), 'bad-signature', 'signature');
    const flipped = build(basePairs());
    flipped[10] ^= 0x40; // inside r
    expectError(decodeEnr(flipped), 'bad-signature', 'signature');
    const content = [encodeRlp(rlpUint(1)), ...basePairs().flatMap(([k, v]) => [enc(k), v])];
    const sig = fromHex(vec.expected.signature);
    ok(decodeEnr(encodeRlpList([encodeRlp(sig), ...content])));
    expectError(decodeEnr(encodeRlpList([encodeRlp(sig.subarray(0, 63)), ...content])), 'bad-length', 'signature');
    expectError(decodeEnr(encodeRlpList([encodeRlp(concat(sig, Uint8Array.of(0))), ...content])), 'bad-length', 'signature');
    expectError(decodeEnr(encodeRlpList([encodeRlp([sig]), ...content])), 'bad-type', 'signature');
  });

  it('wrong-length ip / ip6 and bad ports, each naming its field', () => {
    expectError(decodeEnr(build(replace(basePairs(), 'ip', enc(fromHex('7f00000101'))))), 'bad-length', 'ip');
    expectError(decodeEnr(build(replace(basePairs(), 'ip', enc(fromHex('7f0000'))))), 'bad-length', 'ip');
    expectError(decodeEnr(build(replace(basePairs(), 'ip', encodeRlp([fromHex('7f000001')])))), 'bad-type', 'ip');
    const [id, ip, secp, udp] = basePairs();
    expectError(decodeEnr(build([id, ip, ['ip6', enc(fromHex('7f000001'))], secp, udp])), 'bad-length', 'ip6');
    expectError(decodeEnr(build(replace(basePairs(), 'udp', enc(fromHex('01765f'))))), 'too-large', 'udp');
    expectError(decodeEnr(build([id, ip, secp, ['tcp', enc(fromHex('0050'))], udp])), 'non-canonical', 'tcp');
    expectError(decodeEnr(build([id, ip, secp, udp, ['udp6', enc(fromHex('010000'))]])), 'too-large', 'udp6');
    expectError(decodeEnr(build([id, ip, secp, ['tcp6', enc(fromHex('00'))], udp])), 'non-canonical', 'tcp6');
  });

  it('non-canonical and truncated RLP, trailing bytes, wrong shapes', () => {
    // A single byte below 0x80 with a string prefix: not the canonical form.
    expectError(decodeEnr(build(basePairs(), fromHex('8101'))), 'non-canonical', 'record');
    // Long-form length for a short value.
    expectError(decodeEnr(build(replace(basePairs(), 'udp', fromHex('b802765f')))), 'non-canonical', 'record');
    // seq with a leading zero byte.
    expectError(decodeEnr(build(basePairs(), fromHex('820001'))), 'non-canonical', 'seq');
    const raw = build(basePairs());
    expectError(decodeEnr(raw.subarray(0, raw.length - 1)), 'truncated', 'record');
    expectError(decodeEnr(raw.subarray(0, 1)), 'truncated', 'record');
    expectError(decodeEnr(new Uint8Array(0)), 'truncated', 'record');
    expectError(decodeEnr(concat(raw, Uint8Array.of(0))), 'trailing-bytes', 'record');
    expectError(decodeEnr(encodeRlp(utf8('not a list'))), 'bad-type', 'record');
    expectError(decodeEnr(encodeRlpList([encodeRlp(new Uint8Array(64))])), 'truncated', 'record');
  });

  it('keys that are lists or not UTF-8', () => {
    const content = [encodeRlp(rlpUint(1)), encodeRlp([utf8('id')]), enc('v4')];
    expectError(decodeEnr(signEnrContent(priv, content)), 'bad-type', 'key');
    expectError(decodeEnr(build([...basePairs(), [fromHex('ff'), enc('x')]])), 'bad-value', 'key');
  });

  it('unknown identity scheme and missing or invalid secp256k1 key', () => {
    expectError(decodeEnr(build(replace(basePairs(), 'id', enc('v5')))), 'unknown-scheme', 'id');
    expectError(decodeEnr(build(basePairs().filter(([k]) => k !== 'id'))), 'unknown-scheme', 'id');
    expectError(decodeEnr(build(replace(basePairs(), 'id', encodeRlp([utf8('v4')])))), 'bad-type', 'id');
    expectError(decodeEnr(build(basePairs().filter(([k]) => k !== 'secp256k1'))), 'bad-value', 'secp256k1');
    expectError(decodeEnr(build(replace(basePairs(), 'secp256k1', enc(publicKeyOf(priv, false))))), 'bad-length', 'secp256k1');
    // A 33-byte string that is not a curve point: find an x with no y.
    let bad: Uint8Array | undefined;
    for (let x = 1; !bad; x++) {
      const candidate = concat(Uint8Array.of(2), new Uint8Array(31), Uint8Array.of(x));
      if (!isValidPublicKey(candidate)) bad = candidate;
    }
    expectError(decodeEnr(build(replace(basePairs(), 'secp256k1', enc(bad)))), 'bad-value', 'secp256k1');
  });

  it('odd number of list elements and seq over 8 bytes', () => {
    const content = [encodeRlp(rlpUint(1)), ...basePairs().flatMap(([k, v]) => [enc(k), v]), enc('zz')];
    expectError(decodeEnr(signEnrContent(priv, content)), 'bad-length', 'record');
    expectError(decodeEnr(build(basePairs(), encodeRlp(rlpUint(2n ** 64n)))), 'too-large', 'seq');
    expect(ok(decodeEnr(build(basePairs(), encodeRlp(rlpUint(2n ** 64n - 1n))))).seq).toBe(MAX_SEQ);
  });

  it('never throws and never accepts a record with a bit flipped in any byte', () => {
    const raw = fromHex(vec.derived.rlp);
    for (let i = 0; i < raw.length; i++) {
      const m = raw.slice();
      m[i] ^= 1 << ((i * 3) % 8); // one bit per byte, a different position each time
      const r = decodeEnr(m);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).not.toBe('internal');
      expect(coverageProblems(dissectEnr(m).layers[0])).toEqual([]);
    }
    for (let n = 0; n < raw.length; n++) expect(decodeEnr(raw.subarray(0, n)).ok).toBe(false);
  });
});

describe('well-known keys', () => {
  const eth2Bytes = encodeEth2({ forkDigest: fromHex('6a95a1a9'), nextForkVersion: fromHex('05000000'), nextForkEpoch: 258n });
  const attnets = encodeAttnets([0, 9, 63]);
  const syncnets = encodeSyncnets([1, 3]);
  const eth = encodeEthEntry({ forkHash: fromHex('fc64ec04'), forkNext: 1150000n });
  const record = () =>
    createEnr({
      privateKey: priv,
      ip: '10.1.2.3',
      udp: 9000,
      tcp: 9000,
      extra: [
        { key: 'eth2', rawValue: encodeRlp(eth2Bytes) },
        { key: 'attnets', rawValue: encodeRlp(attnets) },
        { key: 'syncnets', rawValue: encodeRlp(syncnets) },
        { key: 'eth', rawValue: eth },
      ],
    });

  it('encodes SSZ ENRForkID and bitvectors as the consensus specs lay them out', () => {
    expect(toHex(eth2Bytes)).toBe('6a95a1a9' + '05000000' + '0201000000000000'); // epoch uint64 little-endian
    expect(toHex(attnets)).toBe('0102000000000080'); // bit i at byte i/8, bit i%8
    expect(toHex(syncnets)).toBe('0a');
    expect(toHex(eth)).toBe('cac984fc64ec0483118c30'); // [[fork-hash, fork-next]]
  });

  it('decodes eth2, attnets, syncnets and eth from a record', () => {
    const enr = ok(decodeEnr(record().raw));
    const f = ok(decodeEth2(getPair(enr, 'eth2')!.value!));
    expect(toHex(f.forkDigest)).toBe('6a95a1a9');
    expect(toHex(f.nextForkVersion)).toBe('05000000');
    expect(f.nextForkEpoch).toBe(258n);
    expect(ok(decodeAttnets(getPair(enr, 'attnets')!.value!))).toEqual([0, 9, 63]);
    expect(ok(decodeSyncnets(getPair(enr, 'syncnets')!.value!))).toEqual([1, 3]);
    const e = ok(decodeEthEntry(getPair(enr, 'eth')!.rawValue));
    expect(toHex(e.forkHash)).toBe('fc64ec04');
    expect(e.forkNext).toBe(1150000n);
  });

  it('rejects malformed values with the key as field, and describes them without throwing', () => {
    expectError(decodeEth2(new Uint8Array(15)), 'bad-length', 'eth2');
    expectError(decodeAttnets(new Uint8Array(4)), 'bad-length', 'attnets');
    expectError(decodeSyncnets(Uint8Array.of(0x10)), 'bad-value', 'syncnets');
    expectError(decodeEthEntry(encodeRlp([[fromHex('fc64ec'), rlpUint(1)]])), 'bad-length', 'fork-hash');
    expectError(decodeEthEntry(encodeRlp([])), 'truncated', 'eth');
    // Later list elements are ignored (enr-entries/eth.md).
    expect(ok(decodeEthEntry(encodeRlp([[fromHex('fc64ec04'), rlpUint(0)], utf8('future')]))).forkNext).toBe(0n);
    expect(describeEnrValue('eth2', encodeRlp(new Uint8Array(15))).problem).toMatch(/16 bytes/);
    expect(describeEnrValue('ip', fromHex('8101')).problem).toBeDefined();
    expect(describeEnrValue('attnets', encodeRlp([])).problem).toBeDefined();
    expect(describeEnrValue('eth2', encodeRlp(encodeEth2({ forkDigest: new Uint8Array(4), nextForkVersion: new Uint8Array(4), nextForkEpoch: FAR_FUTURE_EPOCH }))).text).toMatch(/FAR_FUTURE_EPOCH/);
    expect(describeEnrValue('zz', encodeRlp(utf8('abc'))).text).toMatch(/"abc"/);
  });

  it('dissects the keys with decoded values, SSZ sub-fields and spec links', () => {
    const enr = record();
    const layer = dissectEnr(enr.raw).layers[0];
    expect(coverageProblems(layer)).toEqual([]);
    const root = layer.fields[0];
    const eth2 = child(root, 'eth2')!;
    expect(eth2.value).toBe('fork_digest 0x6a95a1a9, next_fork_version 0x05000000, next_fork_epoch 258');
    expect(eth2.spec).toMatch(/consensus-specs\/.*phase0\/p2p-interface\.md#eth2-field$/);
    const payload = child(eth2, 'value')!.children!.find((c) => c.children)!;
    const parts = payload.children!;
    expect(parts.map((p) => p.name)).toEqual(['fork_digest', 'next_fork_version', 'next_fork_epoch']);
    expect(toHex(enr.raw.subarray(parts[0].offset, parts[0].offset + 4))).toBe('6a95a1a9');
    expect(toHex(enr.raw.subarray(parts[2].offset, parts[2].offset + parts[2].length))).toBe('0201000000000000');
    expect(child(root, 'attnets')!.value).toBe('subnets 0, 9, 63 (3 of 64)');
    expect(child(root, 'attnets')!.spec).toMatch(/#attestation-subnet-bitfield$/);
    expect(child(root, 'syncnets')!.value).toBe('subnets 1, 3 (2 of 4)');
    expect(child(root, 'syncnets')!.spec).toMatch(/altair\/p2p-interface\.md#syncnets-bitfield$/);
    const ethField = child(root, 'eth')!;
    expect(ethField.value).toBe('fork-hash 0xfc64ec04, fork-next 1150000');
    const named: string[] = [];
    walk([ethField], (_f, path) => named.push(path));
    expect(named.some((p) => p.endsWith('/fork-hash'))).toBe(true);
    expect(named.some((p) => p.endsWith('/fork-next'))).toBe(true);
  });
});

describe('endpoints', () => {
  it('udp: ip+udp, else ip6+udp6, else ip6+udp (udp applies to both)', () => {
    expect(udpEndpoint(ok(parseEnrText(vec.text)))).toEqual({ ip: '127.0.0.1', port: 30303 });
    expect(udpEndpoint(createEnr({ privateKey: priv, ip: '10.0.0.1', ip6: '::1', udp6: 5 }))).toEqual({ ip: '::1', port: 5 });
    expect(udpEndpoint(createEnr({ privateKey: priv, ip6: 'fe80::1', udp: 7 }))).toEqual({ ip: 'fe80::1', port: 7 });
    // An IPv4-mapped ip6 value (built by hand: createEnr refuses it) is reached as plain IPv4.
    const [id, ip, secp, udp] = basePairs();
    const mapped = ok(decodeEnr(build([id, ip, ['ip6', enc(fromHex('00000000000000000000ffff01020304'))], secp, udp])));
    expect(mapped.ip6).toBe('1.2.3.4');
    expect(udpEndpoint({ ...mapped, ip: undefined })).toEqual({ ip: '1.2.3.4', port: 30303 });
    expect(udpEndpoint(createEnr({ privateKey: priv, udp: 7 }))).toBeUndefined();
    expect(udpEndpoint(createEnr({ privateKey: priv, ip: '10.0.0.1', tcp: 7 }))).toBeUndefined();
    expect(tcpEndpoint(createEnr({ privateKey: priv, ip: '10.0.0.1', tcp: 7, udp: 8 }))).toEqual({ ip: '10.0.0.1', port: 7 });
  });
});

describe('enode URLs', () => {
  const keyHex = vec.derived.publicKeyUncompressed.slice(2);

  it('the spec record as an enode (no tcp: port 0, discport carries udp)', () => {
    const enr = ok(parseEnrText(vec.text));
    expect(enrToEnode(enr)).toBe(`enode://${keyHex}@127.0.0.1:0?discport=30303`);
  });

  it('ENR → enode → parse → ENR with the same key gives the same enode and node id', () => {
    const enr = createEnr({ privateKey: priv, ip: '10.3.4.5', tcp: 30303, udp: 30303 });
    const url = enrToEnode(enr);
    expect(url).toBe(`enode://${keyHex}@10.3.4.5:30303`);
    const e = ok(parseEnode(url));
    expect(toHex(e.publicKey)).toBe(toHex(enr.publicKey));
    expect(toHex(e.nodeId)).toBe(vec.expected.nodeId);
    expect({ ip: e.ip, tcp: e.tcp, udp: e.udp }).toEqual({ ip: '10.3.4.5', tcp: 30303, udp: 30303 });
    const again = createEnr({ privateKey: priv, ip: e.ip, tcp: e.tcp, udp: e.udp });
    expect(toHex(again.raw)).toBe(toHex(enr.raw));
    expect(formatEnode(enodeFromEnr(again))).toBe(url);
  });

  it('IPv6 in brackets, written canonically; IPv4-mapped becomes IPv4', () => {
    const enr = createEnr({ privateKey: priv, ip6: '2001:db8::1', tcp6: 30303, udp6: 30301 });
    const url = enrToEnode(enr);
    expect(url).toBe(`enode://${keyHex}@[2001:db8::1]:30303?discport=30301`);
    const e = ok(parseEnode(`  enode://${keyHex.toUpperCase()}@[2001:0DB8:0:0:0:0:0:1]:30303?discport=30301\n`));
    expect({ ip: e.ip, tcp: e.tcp, udp: e.udp }).toEqual({ ip: '2001:db8::1', tcp: 30303, udp: 30301 });
    expect(formatEnode(e)).toBe(url);
    expect(ok(parseEnode(`enode://${keyHex}@[::ffff:1.2.3.4]:1`)).ip).toBe('1.2.3.4');
    expect(() => enrToEnode(createEnr({ privateKey: priv, udp: 1 }))).toThrow(WireError);
  });

  it('rejects bad enode URLs, naming the part', () => {
    const cases: [string, string, string][] = [
      [`enr://${keyHex}@1.2.3.4:1`, 'bad-value', 'enode'],
      [`enode://${keyHex}`, 'bad-value', 'enode'],
      [`enode://${keyHex.slice(2)}@1.2.3.4:1`, 'bad-length', 'public-key'],
      [`enode://${keyHex.slice(1)}g@1.2.3.4:1`, 'bad-value', 'public-key'],
      [`enode://${'00'.repeat(64)}@1.2.3.4:1`, 'bad-value', 'public-key'],
      [`enode://${keyHex}@1.2.3.4`, 'bad-value', 'tcp'],
      [`enode://${keyHex}@1.2.3.4:65536`, 'bad-value', 'tcp'],
      [`enode://${keyHex}@1.2.3.4:-1`, 'bad-value', 'tcp'],
      [`enode://${keyHex}@1.2.3.4:1?discport=x`, 'bad-value', 'discport'],
      [`enode://${keyHex}@1.2.3.4:1?foo=1`, 'bad-value', 'discport'],
      [`enode://${keyHex}@2001:db8::1:30303`, 'bad-value', 'ip'],
      [`enode://${keyHex}@[2001:db8::1:30303`, 'bad-value', 'ip'],
      [`enode://${keyHex}@[1.2.3.4]:1`, 'bad-value', 'ip'],
      [`enode://${keyHex}@example.com:30303`, 'bad-value', 'ip'],
      [`enode://${keyHex}@1.2.3.256:1`, 'bad-value', 'ip'],
      [`enode://${keyHex}@[fe80::1%eth0]:1`, 'bad-value', 'ip'],
    ];
    for (const [url, code, field] of cases) expectError(parseEnode(url), code, field);
  });
});

describe('dissection', () => {
  const layerOf = (raw: Uint8Array): Layer => dissectEnr(raw).layers[0];

  it('names every part of the spec record with decoded values, covering each byte once', () => {
    const raw = fromHex(vec.derived.rlp);
    const d = dissectEnr(raw);
    expect(d.error).toBeUndefined();
    expect(d.summary).toBe('seq=1 v4 127.0.0.1 udp=30303 node a448f24c…');
    const layer = d.layers[0];
    expect(coverageProblems(layer)).toEqual([]);
    const root = layer.fields[0];
    expect(root.children!.map((c) => c.name)).toEqual(['rlp prefix', 'signature', 'seq', 'id', 'ip', 'secp256k1', 'udp']);
    expect(child(root, 'signature')!.value).toBe(`0x${vec.expected.signature}`);
    expect(child(root, 'seq')!.value).toBe('1');
    expect(child(root, 'id')!.value).toBe('v4');
    expect(child(root, 'ip')!.value).toBe('127.0.0.1');
    expect(child(root, 'secp256k1')!.value).toBe(`0x${vec.expected.decoded.secp256k1}`);
    expect(child(root, 'udp')!.value).toBe('30303');
    walk(layer.fields, (f) => {
      expect(f.meaning.length).toBeGreaterThan(0);
      expect(f.value.length).toBeGreaterThan(0);
    });
    for (const c of root.children!.slice(1)) expect(c.spec).toMatch(/^https:\/\/github\.com\/ethereum\/devp2p\/blob\/master\/enr\.md#/);
    // The last two bytes are the udp port's payload.
    expect(fieldAt(layer.fields, raw.length - 1)!.map((f) => f.name)).toEqual(['enr', 'udp', 'value', 'value']);
  });

  it('embeds at an offset: enrFields(raw, base) is enrFields(raw) shifted by base', () => {
    const raw = fromHex(vec.derived.rlp);
    const plain: [string, number][] = [];
    const shifted: [string, number][] = [];
    walk(enrFields(raw), (f, p) => plain.push([p, f.offset + 10]));
    walk(enrFields(raw, 10), (f, p) => shifted.push([p, f.offset]));
    expect(shifted).toEqual(plain);
    const outer: Layer = { name: 'outer', bytes: concat(new Uint8Array(10), raw), fields: [{ name: 'pad', offset: 0, length: 10, value: '10 bytes', meaning: 'padding' }, ...enrFields(raw, 10)] };
    expect(coverageProblems(outer)).toEqual([]);
  });

  it('covers invalid records too, with the error set', () => {
    const raw = build(basePairs());
    const oddContent = [encodeRlp(rlpUint(1)), ...basePairs().flatMap(([k, v]) => [enc(k), v]), enc('zz')];
    const big = build([...basePairs(), ['zz', enc(new Uint8Array(200))]]);
    const cases: [Uint8Array, RegExp][] = [
      [raw.subarray(0, raw.length - 3), /truncated|runs past|claims/],
      [concat(raw, fromHex('c0')), /after the RLP item/],
      [signEnrContent(priv, oddContent), /odd number/],
      [encodeRlp(utf8('hello')), /list/],
      [fromHex('ffffffff'), /.+/],
      [new Uint8Array(0), /.+/],
      [big, /300/],
      [build(replace(basePairs(), 'ip', enc(fromHex('7f00000101')))), /^ip:/],
      [build(basePairs(), undefined, otherPriv), /^signature:/],
      [build([...basePairs(), [fromHex('ff'), enc('x')]]), /^key:/],
    ];
    for (const [bytes, why] of cases) {
      const d = dissectEnr(bytes);
      expect(d.error).toMatch(why);
      expect(coverageProblems(d.layers[0])).toEqual([]);
    }
    const badIp = layerOf(build(replace(basePairs(), 'ip', enc(fromHex('7f00000101')))));
    expect(child(badIp.fields[0], 'ip')!.value).toMatch(/4 bytes/);
  });
});

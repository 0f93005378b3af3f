// RLP: the yellow paper's examples (appendix B, and ethereum.org's RLP page), boundary
// lengths, offsets kept for dissections, and every non-canonical or truncated form refused.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../shared/bytes.ts';
import { WireError } from '../shared/errors.ts';
import { asBigint, decodeRlp, encodeRlp, rlpUint, type RlpInput, type RlpItem } from '../shared/rlp.ts';

const lorem = utf8('Lorem ipsum dolor sit amet, consectetur adipisicing elit');

const examples: [string, RlpInput, string][] = [
  ['"dog"', utf8('dog'), '83646f67'],
  ['["cat", "dog"]', [utf8('cat'), utf8('dog')], 'c88363617483646f67'],
  ['empty string', new Uint8Array(0), '80'],
  ['empty list', [], 'c0'],
  ['integer 0', rlpUint(0), '80'],
  ['byte 0x00', Uint8Array.of(0), '00'],
  ['byte 0x0f', Uint8Array.of(15), '0f'],
  ['integer 1024', rlpUint(1024), '820400'],
  ['set of three', [[], [[]], [[], [[]]]], 'c7c0c1c0c3c0c1c0'],
  ['56-byte string', lorem, `b838${toHex(lorem)}`],
];

/** Decoded back to the input form, to compare with what was encoded. */
const plain = (item: RlpItem): RlpInput => (item.kind === 'bytes' ? item.value : item.items.map(plain));

describe('RLP encode and decode', () => {
  it.each(examples)('%s', (_name, input, hex) => {
    expect(toHex(encodeRlp(input))).toBe(hex);
    expect(plain(decodeRlp(fromHex(hex)))).toEqual(input);
  });

  it.each([0, 1, 55, 56, 255, 256, 1024, 65535, 65536])('a string of %i bytes round-trips with the right header', (n) => {
    const s = new Uint8Array(n).fill(0xaa);
    const enc = encodeRlp(s);
    const header = n < 56 ? 1 : 1 + Math.ceil(Math.log2(n + 1) / 8); // 0xaa needs a prefix even alone
    expect(enc.length).toBe(header + n);
    const d = decodeRlp(enc);
    expect(d.kind === 'bytes' && d.value.length).toBe(n);
    expect(d.headerLength).toBe(header);
  });

  it('lists longer than 55 bytes use the long form, and the reserve leaves room before the item', () => {
    const list = Array.from({ length: 30 }, () => utf8('ab'));
    const enc = encodeRlp(list, 2);
    expect(enc[0]).toBe(0);
    expect(enc[1]).toBe(0);
    expect(toHex(enc.subarray(2, 4))).toBe('f85a');
    expect((decodeRlp(enc.subarray(2)) as { items: unknown[] }).items).toHaveLength(30);
  });

  it('keeps the offset and header length of every item (dissections point at them)', () => {
    const d = decodeRlp(fromHex('c88363617483646f67'));
    expect(d.kind).toBe('list');
    if (d.kind !== 'list') return;
    expect(d.items.map((i) => [i.offset, i.headerLength, i.length])).toEqual([
      [1, 1, 4],
      [5, 1, 4],
    ]);
  });

  it('reads integers: no leading zero, at most the size asked', () => {
    expect(asBigint(decodeRlp(fromHex('820400')), 'n')).toBe(1024n);
    expect(asBigint(decodeRlp(fromHex('88ffffffffffffffff')), 'n')).toBe(2n ** 64n - 1n);
    expect(() => asBigint(decodeRlp(fromHex('820004')), 'n')).toThrow(/leading zero/);
    expect(() => asBigint(decodeRlp(fromHex('89010000000000000000')), 'n')).toThrow(/at most 8/);
  });
});

describe('RLP refuses bad input with a typed error', () => {
  const bad: [string, string, string][] = [
    ['empty input', '', 'truncated'],
    ['a single byte below 0x80 with a prefix', '8100', 'non-canonical'],
    ['long form for a short string', 'b80161', 'non-canonical'],
    ['long form for a short list', 'f80180', 'non-canonical'],
    ['a length with a leading zero', 'b9003861', 'non-canonical'],
    ['a string longer than the input', '8361', 'truncated'],
    ['a list longer than the input', 'c3c0', 'truncated'],
    ['a long length that runs past the end', 'b9', 'truncated'],
    ['a huge length (no allocation from it)', 'bbffffffff', 'truncated'],
    ['an absurd length of length', 'bf0100000000000000', 'too-large'],
    ['bytes after the item', '8000', 'trailing-bytes'],
    ['an item that spills out of its list', 'c28361', 'truncated'],
  ];
  it.each(bad)('%s', (_name, hex, code) => {
    let caught: unknown;
    try {
      decodeRlp(fromHex(hex));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(WireError);
    expect((caught as WireError).code).toBe(code);
  });

  it('nesting deeper than any message needs is refused, not recursed into', () => {
    // [[[[…]]]] 40 deep: c0+39, c0+38, …, c1, c0 (each list holds exactly the next).
    const deep = Uint8Array.from({ length: 40 }, (_, i) => 0xc0 + 39 - i);
    expect(() => decodeRlp(deep)).toThrow(/nested deeper/);
  });
});

// Fuzzing the RLPx decoders with a seeded PRNG (the same seed replays a failing case): at least
// 100,000 inputs each for the auth/ack envelope reader (the stream framer) and the auth/ack body
// readers, the frame header (MAC check) and header dissection, Hello, Status (eth/68 and 69),
// snappy, and frame-data. Inputs are mutations of valid ones (bit flips, truncation, RLP length
// and type edits, splices, oversized varints) and random bytes. Zero escapes: nothing throws past
// a decoder's boundary, no error is an internal one, and a rejected header or frame leaves the
// session exactly as it was (the true frame reads after it). ECDH costs milliseconds here, so
// cases that reach it (the envelope with its key intact, bodies re-sealed to our key) are fewer.
import { describe, expect, it } from 'vitest';
import { compress } from 'snappyjs';
import { concat, equalBytes, fromHex, toHex } from '../shared/bytes.ts';
import { attempt, type Result } from '../shared/errors.ts';
import { ByteQueue } from '../shared/framing.ts';
import { CHAINS } from '../shared/eth/chains.ts';
import { decodeStatus, encodeStatus, genesisStatus } from '../shared/eth/status.ts';
import { FrameCodec } from '../shared/rlpx/frame.ts';
import { eciesEncrypt } from '../shared/rlpx/ecies.ts';
import { handshakeFramer, readAckBody, readAuthBody } from '../shared/rlpx/handshake.ts';
import { decodeFrameData, encodeFrameData } from '../shared/rlpx/messages.ts';
import { decodeHello, encodeHello } from '../shared/rlpx/p2p.ts';
import { snappyDecompress } from '../shared/rlpx/snappy.ts';
import { dissectRlpx } from '../shared/rlpx/dissect.ts';
import { coverageProblems } from '../shared/dissect.ts';
import { keccakState } from '../shared/crypto/hashes.ts';
import { publicKeyOf } from '../shared/crypto/secp256k1.ts';
import { prng, type Prng } from './helpers/prng.ts';
import vectors from './vectors/rlpx.json';

const CASES = 100_000;
const SEED = 0x21f0;

function mutate(g: Prng, m: Uint8Array): Uint8Array {
  switch (g.int(8)) {
    case 0: {
      const out = m.slice();
      for (let i = 1 + g.int(6); i > 0 && out.length; i--) out[g.int(out.length)] ^= 1 << g.int(8);
      return out;
    }
    case 1:
      return m.subarray(0, g.int(m.length + 1));
    case 2: // an RLP prefix byte somewhere replaced by a long-form or list one
      {
        const out = m.slice();
        if (out.length) out[g.int(Math.min(out.length, 8))] = [0xb8, 0xb9, 0xbf, 0xf8, 0xf9, 0xff, 0xc0, 0x80, 0x00][g.int(9)];
        return out;
      }
    case 3:
      return concat(m, g.bytes(g.int(40)));
    case 4: {
      const at = g.int(m.length + 1);
      return concat(m.subarray(0, at), g.bytes(g.int(8)), m.subarray(at + g.int(8)));
    }
    case 5:
      return g.bytes(g.int(2 * m.length + 2));
    case 6: { // a length byte after a long-form prefix set huge
      const out = m.slice();
      const at = out.findIndex((b) => b >= 0xb8 && b <= 0xbf) ;
      if (at >= 0 && at + 1 < out.length) out[at + 1] = 0xff;
      return out;
    }
    default: {
      const out = m.slice();
      if (out.length) out[g.int(out.length)] = g.int(256);
      return out;
    }
  }
}

/** A decoder's boundary: a Result whose error, if any, is a typed one, never 'internal'. */
function expectTyped<T>(r: Result<T>, what: string, i: number): void {
  if (!r.ok && r.error.code === 'internal') throw new Error(`${what} case ${i}: internal error escaped: ${r.error.message}`);
}

const K = vectors.keys;
const keyB = fromHex(K.staticKeyB);
const keyA = fromHex(K.staticKeyA);
const packets = vectors.handshakeMessages.map((m) => ({ kind: m.kind as 'auth' | 'ack', bytes: fromHex(m.packet), plain: fromHex(m.derived.plaintext), format: m.format === 'pre-EIP-8' ? ('pre-eip8' as const) : ('eip8' as const) }));

describe('fuzz: auth and ack', () => {
  it(`${CASES} envelopes through the stream framer: typed errors only, no internal ones`, () => {
    const g = prng(SEED);
    let frames = 0;
    let ecdhCases = 0;
    for (let i = 0; i < CASES; i++) {
      const p = packets[g.int(packets.length)];
      let input = mutate(g, p.bytes);
      // Keep the one-off key (and so an ECDH, milliseconds each) intact in a few hundred cases only.
      const keyAt = p.format === 'eip8' ? 2 : 0;
      const keyIntact = input.length > keyAt + 65 && equalBytes(input.subarray(keyAt, keyAt + 65), p.bytes.subarray(keyAt, keyAt + 65));
      if (keyIntact) {
        if (ecdhCases >= 300) input = input.slice(), (input[keyAt + 10] ^= 0x40);
        else ecdhCases++;
      }
      const q = new ByteQueue(70_000);
      q.push(input);
      const framer = handshakeFramer(p.kind, p.kind === 'auth' ? keyB : keyA);
      let r;
      try {
        r = framer(q);
      } catch (e) {
        throw new Error(`framer case ${i} threw: ${(e as Error).message}`);
      }
      if (r.type === 'error' && r.error.code === 'internal') throw new Error(`framer case ${i}: internal error: ${r.error.message}`);
      if (r.type === 'frame') frames++;
      if (r.type !== 'need-more') {
        const d = dissectRlpx(r.raw, undefined, p.kind);
        for (const l of d.layers) expect(coverageProblems(l)).toEqual([]);
      }
    }
    expect(ecdhCases).toBeGreaterThan(50);
    // Mutations past the tag (appended bytes are not part of the EIP-8 size) still read.
    expect(frames).toBeGreaterThan(0);
  });

  it(`${CASES} auth and ack bodies (after ECIES): typed errors only`, () => {
    const g = prng(SEED + 1);
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const p = packets[g.int(packets.length)];
      const input = mutate(g, p.plain);
      const r = attempt(() => (p.kind === 'auth' ? readAuthBody(input, p.format) : readAckBody(input, p.format)));
      expectTyped(r, 'body', i);
      if (r.ok) ok++;
      if (i % 20 === 0) {
        const d = dissectRlpx(p.bytes, { layer: 'handshake', kind: p.kind, format: p.format, plaintext: input });
        for (const l of d.layers) expect(coverageProblems(l), `case ${i} ${l.name}`).toEqual([]);
      }
    }
    expect(ok).toBeGreaterThan(1000);
  });

  it('200 mutated bodies re-sealed to our key reach the body reader through the envelope', () => {
    const g = prng(SEED + 2);
    const remote = publicKeyOf(keyB, false);
    let refusedInBody = 0;
    for (let i = 0; i < 200; i++) {
      const q = new ByteQueue(70_000);
      q.push(sealBody(mutate(g, packets[1].plain), remote, g));
      const r = handshakeFramer('auth', keyB)(q);
      if (r.type === 'error' && r.error.code === 'internal') throw new Error(`case ${i}: internal error ${r.error.message}`);
      if (r.type === 'error' && r.error.field !== 'ecies-mac') refusedInBody++;
    }
    // The tag verified, so these were refused by the body reader (or read).
    expect(refusedInBody).toBeGreaterThan(20);
  });
});

/** An EIP-8 packet whose body is exactly `plaintext`, sealed to `to`: a mutated body behind a valid tag. */
function sealBody(plaintext: Uint8Array, to: Uint8Array, g: Prng): Uint8Array {
  const size = plaintext.length + 113;
  const prefix = Uint8Array.of(size >>> 8, size & 0xff);
  return concat(prefix, eciesEncrypt(to, plaintext, prefix, fromHex(K.ephemeralKeyB), g.bytes(16)).packet);
}

describe('fuzz: frames', () => {
  const keys = () => ({ aesSecret: fromHex('80e8632c05fed6fc2a13b0f8d31a3cf645366239170ea067065aba8e28bac487'), macSecret: fromHex('2ea74ec5dae199227dff1af715362700e989d889d7a493cb0639691efb8e5f98') });
  const pair = () => {
    const e = keccakState().update(Uint8Array.of(1));
    const i = keccakState().update(Uint8Array.of(2));
    return { writer: new FrameCodec({ ...keys(), egressMac: e.copy(), ingressMac: i.copy() }), reader: new FrameCodec({ ...keys(), egressMac: i.copy(), ingressMac: e.copy() }) };
  };

  it(`${CASES} frame headers: every forged one refused with the session unchanged, the true frames read after`, () => {
    const g = prng(SEED + 3);
    const { writer, reader } = pair();
    let next = writer.write(encodeFrameData(2, Uint8Array.of(0xc0), true)).bytes;
    let accepted = 0;
    for (let i = 0; i < CASES; i++) {
      const before = reader.macDigests();
      const forged = g.int(2) ? mutate(g, next.subarray(0, 32)) : g.bytes(32);
      const input = forged.length === 32 ? forged : concat(forged, new Uint8Array(32)).subarray(0, 32);
      if (!equalBytes(input, next.subarray(0, 32))) {
        const h = reader.readHeader(input);
        expectTyped(h, 'header', i);
        if (h.ok) throw new Error(`case ${i}: a forged header was accepted`);
        const after = reader.macDigests();
        if (!equalBytes(before.ingress, after.ingress)) throw new Error(`case ${i}: a refused header changed the ingress MAC`);
      }
      if (i % 1000 === 999) {
        // The true frame still reads: the keystream and the MAC state did not move.
        const h2 = reader.readHeader(next.subarray(0, 32));
        if (!h2.ok) throw new Error(`case ${i}: the true header was refused after forgeries: ${h2.error.reason}`);
        const b = reader.readBody(next.subarray(32));
        if (!b.ok) throw new Error(`case ${i}: the true body was refused: ${b.error.reason}`);
        accepted++;
        next = writer.write(encodeFrameData(2 + (i & 1), Uint8Array.of(0xc0), true)).bytes;
      }
    }
    expect(accepted).toBe(100);
  });

  it(`${CASES} decrypted headers through the dissector: layers always tile`, () => {
    const g = prng(SEED + 4);
    const ctx = { compressed: true, caps: [{ name: 'eth', version: 68, offset: 16, length: 17 }] };
    for (let i = 0; i < CASES; i++) {
      const headerPlain = g.int(2) ? mutate(g, fromHex('000006c2808000000000000000000000')).slice(0, 16) : g.bytes(16);
      const h = headerPlain.length === 16 ? headerPlain : concat(headerPlain, new Uint8Array(16)).subarray(0, 16);
      const framePlain = g.bytes(16 * (1 + g.int(3)));
      const d = dissectRlpx(g.bytes(32 + framePlain.length + 16), { layer: 'frame', headerPlain: h, framePlain, ctx });
      for (const l of d.layers) if (coverageProblems(l).length) throw new Error(`case ${i} ${l.name}: ${coverageProblems(l).join('; ')}`);
    }
  });

  it(`${CASES} frame-data (msg-id ‖ snappy ‖ RLP): typed errors only`, () => {
    const g = prng(SEED + 5);
    const hello = encodeHello({ protocolVersion: 5, clientId: 'x', capabilities: [{ name: 'eth', version: 68 }], listenPort: 0, nodeId: new Uint8Array(64) });
    const seeds = [encodeFrameData(0, hello, false), encodeFrameData(1, Uint8Array.of(0xc1, 0x04), true), encodeFrameData(1, Uint8Array.of(0x04), false), encodeFrameData(2, Uint8Array.of(0xc0), true), encodeFrameData(16, encodeStatus(genesisStatus(CHAINS.mainnet, 68)), true), encodeFrameData(17, Uint8Array.of(0xc0), true), encodeFrameData(0x30, g.bytes(20), true)];
    const ctx = { compressed: true, caps: [{ name: 'eth', version: 68, offset: 16, length: 17 }] };
    for (let i = 0; i < CASES; i++) expectTyped(decodeFrameData(mutate(g, seeds[g.int(seeds.length)]), ctx), 'frame-data', i);
  });
});

describe('fuzz: messages and snappy', () => {
  it(`${CASES} Hellos: typed errors only`, () => {
    const g = prng(SEED + 6);
    const seeds = [fromHex(vectors.hello[0].payload), encodeHello({ protocolVersion: 5, clientId: 'ethereumjs-devp2p/v10.0.0', capabilities: [{ name: 'eth', version: 66 }, { name: 'eth', version: 67 }, { name: 'eth', version: 68 }], listenPort: 30303, nodeId: g.bytes(64) })];
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const r = decodeHello(mutate(g, seeds[g.int(2)]));
      expectTyped(r, 'hello', i);
      if (r.ok) ok++;
    }
    expect(ok).toBeGreaterThan(1000);
  });

  it(`${CASES} Status messages (eth/68 and eth/69): typed errors only`, () => {
    const g = prng(SEED + 7);
    const seeds = [68, 69].map((v) => ({ v, bytes: encodeStatus(genesisStatus(CHAINS.mainnet, v)) }));
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const s = seeds[g.int(2)];
      const r = decodeStatus(mutate(g, s.bytes), g.int(4) ? s.v : 137 - s.v);
      expectTyped(r, 'status', i);
      if (r.ok) ok++;
    }
    expect(ok).toBeGreaterThan(1000);
  });

  it(`${CASES} snappy blocks: typed errors only, the 16 MiB cap before allocation, valid ones match snappyjs`, () => {
    const g = prng(SEED + 8);
    const originals = [new Uint8Array(0), Uint8Array.of(0xc0), encodeStatus(genesisStatus(CHAINS.mainnet, 68)), new Uint8Array(300).fill(7), g.bytes(200), concat(g.bytes(50), g.bytes(50).fill(1), g.bytes(70))];
    const blocks = originals.map((o) => compress(o));
    for (let i = 0; i < originals.length; i++) expect(toHex(unwrapOk(snappyDecompress(blocks[i])))).toBe(toHex(originals[i]));
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      const input = g.int(20) === 0 ? concat(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), g.bytes(g.int(8))) : mutate(g, blocks[g.int(blocks.length)]);
      const r = snappyDecompress(input);
      expectTyped(r, 'snappy', i);
      if (r.ok) ok++;
    }
    expect(ok).toBeGreaterThan(1000);
    // 9 bytes that keep snappyjs 0.7.0's uncompress() (used by ethereumjs devp2p on every message
    // after Hello) busy for minutes: a literal whose 4-byte length is negative as a 32-bit int
    // walks its read position back 2 GiB. Ours refuses it at once.
    const negativeLiteral = snappyDecompress(Uint8Array.of(10, 0xfc, 0x00, 0x00, 0x00, 0x80, 1, 2, 3));
    expect(negativeLiteral.ok).toBe(false);
    if (!negativeLiteral.ok) expect(negativeLiteral.error.field).toBe('snappy-literal');
    // A block that claims 4 GiB is refused by its length alone.
    const huge = snappyDecompress(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f, 0x00));
    expect(huge.ok).toBe(false);
    if (!huge.ok) expect(huge.error.code).toBe('too-large');
  });
});

function unwrapOk<T>(r: Result<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

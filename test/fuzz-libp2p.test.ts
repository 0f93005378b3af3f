// Fuzzing the libp2p decoders with a seeded PRNG (the same seed replays a failing case): at
// least 100,000 inputs each for the multistream line, the Noise message (framer, dissection and
// the handshake state reading messages 1–3), the handshake payload protobuf (with its PublicKey
// and DER signature) and the yamux frame (header reader and the plaintext dissection); and the
// engine fed hostile streams after a valid start. Inputs are mutations of valid messages (bit
// flips, truncation, extension, length edits) and random bytes. Zero escapes: nothing throws,
// no error is an internal one, every dissection layer tiles its bytes.
import { describe, expect, it } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { coverageProblems, type Dissection } from '../shared/dissect.ts';
import type { Result } from '../shared/errors.ts';
import { ByteQueue } from '../shared/framing.ts';
import { derToCompact } from '../shared/libp2p/der.ts';
import { dissectLibp2p } from '../shared/libp2p/dissect.ts';
import { frameNoise, Libp2pEngine } from '../shared/libp2p/engine.ts';
import { noiseFramer } from '../shared/libp2p/framer.ts';
import { decodePublicKey, secp256k1Identity } from '../shared/libp2p/keys.ts';
import { decodeLine, dissectLines, encodeLine, encodeLines, multistreamFramer } from '../shared/libp2p/multistream.ts';
import { HandshakeState, keyPairOf, nobleX25519, type X25519 } from '../shared/libp2p/noise.ts';
import { decodePayload, encodePayload } from '../shared/libp2p/payload.ts';
import { encodeYamux, readYamuxHeader, FLAG } from '../shared/libp2p/yamux.ts';
import { Reader } from '../shared/bitcoin/wire.ts';
import { attempt } from '../shared/errors.ts';
import { prng, type Prng } from './helpers/prng.ts';

const CASES = 100_000;

/** Real X25519, each result kept: mutations that leave a key alone reuse its (correct) output. */
const memo = new Map<string, Uint8Array>();
const cachedX25519: X25519 = {
  publicKey: (priv) => {
    const k = `p${toHex(priv)}`;
    let v = memo.get(k);
    if (!v) memo.set(k, (v = nobleX25519.publicKey(priv)));
    return v;
  },
  sharedSecret: (priv, pub) => {
    const k = `s${toHex(priv)}${toHex(pub)}`;
    let v = memo.get(k);
    if (!v) {
      if (memo.size > 50_000) memo.clear();
      memo.set(k, (v = nobleX25519.sharedSecret(priv, pub)));
    }
    return v;
  },
};

function mutate(g: Prng, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  switch (g.int(7)) {
    case 0: // bit flips
      for (let i = 0, n = 1 + g.int(3); i < n && out.length; i++) out[g.int(out.length)] ^= 1 << g.int(8);
      return out;
    case 1: // truncated
      return out.subarray(0, g.int(out.length + 1));
    case 2: { // extended
      const ext = new Uint8Array(out.length + 1 + g.int(40));
      ext.set(out);
      ext.set(g.bytes(ext.length - out.length), out.length);
      return ext;
    }
    case 3: // a byte set to an edge value
      if (out.length) out[g.int(out.length)] = [0, 0x7f, 0x80, 0xff, 0x0a][g.int(5)];
      return out;
    case 4: // random bytes
      return g.bytes(g.int(80));
    case 5: { // a slice moved
      if (out.length < 4) return out;
      const at = g.int(out.length - 2);
      out.copyWithin(g.int(out.length), at, at + 1 + g.int(8));
      return out;
    }
    default: // bytes inserted in the middle
    {
      const at = g.int(out.length + 1);
      const ins = g.bytes(1 + g.int(5));
      const r = new Uint8Array(out.length + ins.length);
      r.set(out.subarray(0, at));
      r.set(ins, at);
      r.set(out.subarray(at), at + ins.length);
      return r;
    }
  }
}

/** No internal errors; every layer tiled. */
function checkResult<T>(r: Result<T>, what: string, i: number): void {
  if (!r.ok) expect(r.error.code, `${what} case ${i}: ${r.error.message}`).not.toBe('internal');
}
function checkDissection(d: Dissection, i: number): void {
  for (const l of d.layers) {
    const problems = coverageProblems(l);
    if (problems.length) throw new Error(`case ${i} ${d.kind} layer ${l.name}: ${problems.join('; ')}`);
  }
}

/** Takes whole frames off random chunkings of `bytes`; nothing may throw. */
function chunked(g: Prng, bytes: Uint8Array, framer: (q: ByteQueue) => { type: string }, limit = 70_000): number {
  const q = new ByteQueue(limit);
  let frames = 0;
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + g.int(Math.max(1, bytes.length - at));
    q.push(bytes.subarray(at, at + n));
    at += n;
    for (;;) {
      const r = framer(q);
      if (r.type === 'need-more') break;
      frames++;
      if (r.type === 'error') return frames;
    }
  }
  return frames;
}

describe('fuzz: multistream line', () => {
  it(`${CASES} mutated and random lines: decodeLine, the framer, the dissection`, () => {
    const g = prng(0x1157);
    const corpus = [encodeLine('/multistream/1.0.0'), encodeLine('/noise'), encodeLine('na'), encodeLine('/yamux/1.0.0'), encodeLine('/ipfs/ping/1.0.0'), encodeLine('x'.repeat(200)), encodeLines('/multistream/1.0.0', '/noise')];
    let decoded = 0;
    for (let i = 0; i < CASES; i++) {
      const b = mutate(g, corpus[g.int(corpus.length)]);
      const r = decodeLine(b);
      checkResult(r, 'line', i);
      if (r.ok) decoded++;
      const d = dissectLines(b);
      if (b.length) checkDissection({ protocol: 'libp2p', kind: 'multistream', layers: [{ name: 'l', bytes: b, fields: d.fields }] }, i);
      chunked(g, b, multistreamFramer);
    }
    // The mutations reach both sides of the decoder.
    expect(decoded).toBeGreaterThan(CASES / 20);
    expect(decoded).toBeLessThan(CASES);
  }, 180_000);
});

describe('fuzz: Noise message', () => {
  // One real transcript, keys fixed: every state below is rebuilt from them (X25519 memoized).
  const g0 = prng(0x4015e);
  const initS = g0.bytes(32), initE = g0.bytes(32), respS = g0.bytes(32), respE = g0.bytes(32);
  const id = secp256k1Identity(randomPrivateKey((n) => g0.bytes(n)));
  const initiator = () => new HandshakeState(true, keyPairOf(initS, cachedX25519), initE, new Uint8Array(0), cachedX25519);
  const responder = () => new HandshakeState(false, keyPairOf(respS, cachedX25519), respE, new Uint8Array(0), cachedX25519);
  const i0 = initiator(), r0 = responder();
  const m1 = i0.writeMessage(new Uint8Array(0)).message;
  r0.readMessage(m1);
  const p2 = encodePayload(id, keyPairOf(respS, cachedX25519).pub, ['/yamux/1.0.0']);
  const m2 = r0.writeMessage(p2).message;
  i0.readMessage(m2);
  const p3 = encodePayload(id, keyPairOf(initS, cachedX25519).pub, ['/yamux/1.0.0']);
  const m3 = i0.writeMessage(p3).message;
  const kinds = ['noise-e', 'noise-e-ee-s-es', 'noise-s-se'];

  // The state just before each message is read, made once and cloned per case.
  const ready = [responder(), initiator(), responder()];
  ready[1].writeMessage(new Uint8Array(0));
  ready[2].readMessage(m1);
  ready[2].writeMessage(p2);

  it(`${CASES} mutated Noise messages 1–3: framer, dissection, ReadMessage at the right state`, () => {
    const g = prng(0x401e);
    const outcomes = { ok: 0, refused: 0 };
    for (let i = 0; i < CASES; i++) {
      const which = g.int(3);
      const msg = mutate(g, [m1, m2, m3][which]);
      const state = ready[which].clone();
      const r = attempt(() => state.readMessage(msg));
      expect(r.ok, `case ${i}`).toBe(true);
      if (r.ok) {
        checkResult(r.value, 'noise', i);
        if (r.value.ok) outcomes.ok++;
        else outcomes.refused++;
      }
      const framed = g.int(4) === 0 ? mutate(g, frameNoise(msg)) : frameNoise(msg);
      const plaintext = r.ok && r.value.ok ? r.value.value.payload : undefined;
      checkDissection(dissectLibp2p({ raw: framed, kind: kinds[which], ...(plaintext?.length ? { plaintext } : {}) }), i);
      chunked(g, framed, noiseFramer);
    }
    expect(outcomes.ok).toBeGreaterThan(1000);
    expect(outcomes.refused).toBeGreaterThan(CASES / 2);
  }, 180_000);
});

describe('fuzz: handshake payload protobuf', () => {
  it(`${CASES} mutated payloads: the protobuf, its PublicKey, its DER signature, the dissection`, () => {
    const g = prng(0x9a7);
    const ids = [0, 1, 2].map(() => secp256k1Identity(randomPrivateKey((n) => g.bytes(n))));
    const corpus = ids.flatMap((id) => [encodePayload(id, g.bytes(32), ['/yamux/1.0.0']), encodePayload(id, g.bytes(32), [])]);
    let keys = 0;
    let ders = 0;
    for (let i = 0; i < CASES; i++) {
      const b = mutate(g, corpus[g.int(corpus.length)]);
      const p = decodePayload(b);
      checkResult(p, 'payload', i);
      if (p.ok) {
        if (p.value.identityKey) {
          const k = decodePublicKey(p.value.identityKey);
          checkResult(k, 'key', i);
          if (k.ok) keys++;
        }
        if (p.value.identitySig) {
          const d = derToCompact(p.value.identitySig);
          checkResult(d, 'der', i);
          if (d.ok) ders++;
        }
      }
      if (b.length) checkDissection(dissectLibp2p({ raw: frameNoise(new Uint8Array(48 + b.length + 16)), kind: 'noise-s-se', plaintext: b }), i);
    }
    expect(keys).toBeGreaterThan(CASES / 10);
    expect(ders).toBeGreaterThan(CASES / 10);
  }, 180_000);

  it('DER: 20,000 mutated DER-shaped signatures give typed results', () => {
    const g = prng(0xde7);
    for (let i = 0; i < 20_000; i++) {
      const b = mutate(g, Uint8Array.from([0x30, 0x44, 0x02, 0x20, ...g.bytes(32), 0x02, 0x20, ...g.bytes(32)]));
      checkResult(derToCompact(b), 'der', i);
    }
  });
});

describe('fuzz: yamux frame', () => {
  it(`${CASES} mutated and random frames: the header reader and the plaintext dissection`, () => {
    const g = prng(0x7a3);
    const corpus = [
      encodeYamux('Data', FLAG.SYN, 1, encodeLines('/multistream/1.0.0', '/ipfs/ping/1.0.0')),
      encodeYamux('Data', 0, 1, g.bytes(32)),
      encodeYamux('Window Update', FLAG.ACK, 2, 0),
      encodeYamux('Window Update', FLAG.FIN, 3, 262144),
      encodeYamux('Ping', FLAG.SYN, 0, 7),
      encodeYamux('Go Away', 0, 0, 1),
    ];
    let headers = 0;
    for (let i = 0; i < CASES; i++) {
      const n = 1 + g.int(3);
      const parts = Array.from({ length: n }, () => corpus[g.int(corpus.length)]);
      const joined = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) (joined.set(p, at), (at += p.length));
      const b = mutate(g, joined);
      const h = attempt(() => readYamuxHeader(new Reader(b, [])));
      checkResult(h, 'yamux', i);
      if (h.ok) headers++;
      if (b.length) checkDissection(dissectLibp2p({ raw: frameNoise(new Uint8Array(b.length + 16)), kind: 'noise-transport', plaintext: b, continues: g.int(4) === 0 ? g.int(b.length + 1) : 0, streams: { 1: '/ipfs/ping/1.0.0', 3: '/ipfs/id/1.0.0' } }), i);
    }
    expect(headers).toBeGreaterThan(CASES / 4);
  }, 180_000);
});

describe('fuzz: the engine fed hostile streams', () => {
  it('10,000 listeners fed a valid start and then mutated bytes: each ends FAILED, never a throw', () => {
    const g = prng(0xe9);
    const identity = secp256k1Identity(randomPrivateKey((n) => g.bytes(n)));
    const keys = [g.bytes(32), g.bytes(32)];
    const start = [encodeLines('/multistream/1.0.0', '/noise'), frameNoise(m1OfInitiator(keys))];
    let failed = 0;
    for (let i = 0; i < 10_000; i++) {
      let k = 0;
      const engine = new Libp2pEngine({ identity, random: (n) => (n === 32 ? keys[k++ % 2] : g.bytes(n)), accept: true, x25519: cachedX25519 });
      const conn = `c${i}`;
      engine.handle({ type: 'stream-opened', conn, remote: { ip: '127.0.0.1', port: 1 }, direction: 'inbound' }, 0);
      const script = [...start.slice(0, g.int(3)), mutate(g, start[g.int(2)]), g.bytes(g.int(100))];
      for (const bytes of script) {
        const out = engine.handle({ type: 'stream-data', conn, bytes }, 1);
        for (const e of out.events) if (e.type === 'outcome' && e.outcome === 'FAILED') failed++;
        for (const r of out.records) checkDissection(dissectLibp2p(r), i);
      }
      // Without a third message no listener can succeed: each ends FAILED, refused or timed out.
      for (const e of engine.tick(1_000_000).events) if (e.type === 'outcome' && e.outcome === 'FAILED') failed++;
      expect(engine.connections).toBe(0);
    }
    expect(failed).toBe(10_000);
  }, 180_000);
});

function m1OfInitiator(keys: Uint8Array[]): Uint8Array {
  return new HandshakeState(true, keyPairOf(keys[0], cachedX25519), keys[1], new Uint8Array(0), cachedX25519).writeMessage(new Uint8Array(0)).message;
}

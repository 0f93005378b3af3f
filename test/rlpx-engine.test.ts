// The RLPx engine in memory (two engines joined by test/helpers/stream-wire.ts, a clock the test
// moves): both roles to SUCCESS with the stream cut into single bytes; a forged frame refused with
// the connection closed while another connection on the same engine goes on; a dial to the wrong
// key fails at the ECIES tag; timeouts name what did not come; a pre-EIP-8 auth from the spec is
// read by a listener; Disconnect's bare form is accepted.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../shared/bytes.ts';
import { publicKeyOf, randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { RlpxEngine, type RlpxCommand, type RlpxEvent } from '../shared/rlpx/engine.ts';
import { scriptedRandom, secureRandom } from '../shared/random.ts';
import { side, StreamWire, type Side } from './helpers/stream-wire.ts';
import vectors from './vectors/rlpx.json';

const A = { ip: '127.0.0.1', port: 1000 };
const B = { ip: '127.0.0.2', port: 30303 };

function pair(cfgB: Partial<ConstructorParameters<typeof RlpxEngine>[0]> = {}) {
  const keyB = randomPrivateKey(secureRandom);
  const a = side('a', new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom }), A);
  const b = side('b', new RlpxEngine({ privateKey: keyB, random: secureRandom, accept: true, afterHandshake: 'stay', ...cfgB }), B);
  return { a, b, keyB, wire: new StreamWire([a, b]) };
}
const outcomes = (s: Side<RlpxCommand, RlpxEvent>) => s.events.filter((e): e is Extract<RlpxEvent, { type: 'outcome' }> => e.type === 'outcome');

describe('RLPx engine in memory', () => {
  it('both roles reach SUCCESS with every byte delivered on its own', () => {
    const { a, b, keyB, wire } = pair();
    wire.split = (bytes) => Array.from(bytes, (x) => Uint8Array.of(x));
    wire.command(a, { type: 'connect', to: B, remoteKey: publicKeyOf(keyB), conn: 'c1' });
    wire.run(200_000);
    expect(outcomes(a).map((o) => o.outcome)).toEqual(['SUCCESS']);
    expect(outcomes(b).map((o) => o.outcome)).toEqual(['SUCCESS']);
    expect(outcomes(a)[0].shared?.map((c) => `${c.name}/${c.version}`)).toEqual(['eth/69']);
  });

  it("a forged frame is refused and its connection closed; the engine's other connections go on", () => {
    const keyB = randomPrivateKey(secureRandom);
    const a = side('a', new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom, afterHandshake: 'stay' }), A);
    const b = side('b', new RlpxEngine({ privateKey: keyB, random: secureRandom, accept: true, afterHandshake: 'stay' }), B);
    const wire = new StreamWire([a, b]);
    wire.command(a, { type: 'connect', to: B, remoteKey: publicKeyOf(keyB), conn: 'c1' });
    wire.command(a, { type: 'connect', to: B, remoteKey: publicKeyOf(keyB), conn: 'c2' });
    wire.run();
    expect(outcomes(b).map((o) => o.outcome)).toEqual(['SUCCESS', 'SUCCESS']);
    expect((b.engine as RlpxEngine).connections).toBe(2);
    const inbound = wire.peerOf(a, 'c1')!.conn;
    wire.inject(b, inbound, new Uint8Array(32).fill(0x55));
    expect(b.records.at(-1)?.rejected).toMatch(/^header-mac: the header MAC does not match/);
    expect(b.events.some((e) => e.type === 'closed' && e.conn === inbound)).toBe(true);
    expect((b.engine as RlpxEngine).connections).toBe(1);
    // A new connection on the same engine still reaches SUCCESS.
    wire.command(a, { type: 'connect', to: B, remoteKey: publicKeyOf(keyB), conn: 'c3', goal: 'ping' });
    wire.run();
    expect(outcomes(a).find((o) => o.conn === 'c3')?.outcome).toBe('SUCCESS');
    expect((b.engine as RlpxEngine).connections).toBe(2);
  });

  it('dialling with the wrong key: the recipient refuses the auth (its ECIES tag), FAILED on both sides', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'connect', to: B, remoteKey: publicKeyOf(randomPrivateKey(secureRandom)), conn: 'c1' });
    wire.run();
    expect(outcomes(b)[0]).toMatchObject({ outcome: 'FAILED', reason: expect.stringMatching(/ecies-mac/) });
    expect(outcomes(a)[0]).toMatchObject({ outcome: 'FAILED', reason: expect.stringMatching(/closed/) });
  });

  it('timeouts name what did not come', () => {
    const keyB = randomPrivateKey(secureRandom);
    const a = side('a', new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom, timeoutMs: 1000 }), A);
    const silent = side('s', { protocol: 'silent', handle: () => ({ transmits: [], events: [], records: [], trace: [] }), tick: () => ({ transmits: [], events: [], records: [], trace: [] }), nextDeadline: () => undefined }, B);
    const wire = new StreamWire([a, silent]);
    wire.command(a, { type: 'connect', to: B, remoteKey: publicKeyOf(keyB), conn: 'c1' });
    wire.run();
    wire.now += 1001;
    wire.tick(a);
    expect(outcomes(a)[0]).toMatchObject({ outcome: 'FAILED', reason: 'timeout: no ack within 1000 ms' });
  });

  it('a listener reads the spec\'s pre-EIP-8 auth (auth1) and answers with an EIP-8 ack', () => {
    const b = side('b', new RlpxEngine({ privateKey: fromHex(vectors.keys.staticKeyB), random: scriptedRandom([fromHex(vectors.keys.ephemeralKeyB), fromHex(vectors.keys.nonceB)]), accept: true }), B);
    const wire = new StreamWire([b]);
    wire.take(b, b.engine.handle({ type: 'stream-opened', conn: 'in-1', remote: A, direction: 'inbound' }, wire.now));
    wire.inject(b, 'in-1', fromHex(vectors.handshakeMessages[0].packet));
    expect(b.records.map((r) => `${r.direction}:${r.kind}`)).toEqual(['in:auth', 'out:ack', 'out:Hello']);
    expect(b.records[0].summary).toMatch(/pre-EIP-8/);
  });
});

import { decodeFrameData, encodeFrameData } from '../shared/rlpx/messages.ts';
import { DISCONNECT_REASONS } from '../shared/rlpx/spec.ts';

describe('Disconnect in every encoding', () => {
  const ctx = (compressed: boolean) => ({ compressed, caps: [] });
  it.each([
    ['[reason], compressed', encodeFrameData(1, Uint8Array.of(0xc1, 0x04), true), true, 'list'],
    ['[reason], not compressed although snappy is on', encodeFrameData(1, Uint8Array.of(0xc1, 0x04), false), true, 'list'],
    ['bare byte, compressed', encodeFrameData(1, Uint8Array.of(0x04), true), true, 'bare'],
    ['bare byte, before snappy', encodeFrameData(1, Uint8Array.of(0x04), false), false, 'bare'],
  ])('%s: reason 0x04 (too many peers)', (_name, frameData, compressed, form) => {
    const m = decodeFrameData(frameData, ctx(compressed));
    if (!m.ok) throw m.error;
    expect(m.value.decoded).toMatchObject({ name: 'Disconnect', reason: 4, form });
  });

  it('every reason code of rlpx.md has a name', () => {
    expect(Object.keys(DISCONNECT_REASONS).map(Number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16]);
  });
});

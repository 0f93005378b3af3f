// The libp2p engine against itself, sans-IO (no sockets): a dialer and a listener wired back to
// back, bytes handed over in random pieces. Both ways of agreeing on yamux, identify answered,
// a peer that never answers identify, the stream cap, timeouts.
import { describe, expect, it } from 'vitest';
import type { EngineOutput, Transmit } from '../shared/engine.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Libp2pEngine, type Libp2pConfig, type Libp2pEvent } from '../shared/libp2p/engine.ts';
import { secp256k1Identity } from '../shared/libp2p/keys.ts';
import { peerIdBytes } from '../shared/libp2p/keys.ts';
import { encodeYamux, FLAG } from '../shared/libp2p/yamux.ts';
import { prng } from './helpers/prng.ts';

const g = prng(0x12);
const id = () => secp256k1Identity(randomPrivateKey((n) => g.bytes(n)));
const A = { ip: '127.0.0.1', port: 1000 };
const B = { ip: '127.0.0.1', port: 2000 };

/** Runs a dialer and a listener until quiet; `filter` may drop or change bytes on their way. */
function pair(dialerCfg: Partial<Libp2pConfig> = {}, listenerCfg: Partial<Libp2pConfig> = {}, expectId = true) {
  const dialerId = id();
  const listenerId = id();
  const dialer = new Libp2pEngine({ identity: dialerId, random: (n) => g.bytes(n), afterPing: 'close', ...dialerCfg });
  const listener = new Libp2pEngine({ identity: listenerId, random: (n) => g.bytes(n), accept: true, ...listenerCfg });
  const events: { dialer: Libp2pEvent[]; listener: Libp2pEvent[] } = { dialer: [], listener: [] };
  let now = 0;
  const queue: { to: 'dialer' | 'listener'; t: Transmit }[] = [];
  const take = (who: 'dialer' | 'listener', o: EngineOutput<Libp2pEvent>) => {
    events[who].push(...o.events);
    for (const t of o.transmits) queue.push({ to: who === 'dialer' ? 'listener' : 'dialer', t });
  };
  take('dialer', dialer.handle({ type: 'command', command: { type: 'dial', to: B, conn: 'd', ...(expectId ? { peerId: peerIdBytes(listenerId.publicKey.encoded) } : {}) } }, now));
  const run = (steps = 1000) => {
    for (let i = 0; i < steps && queue.length; i++) {
      const { to, t } = queue.shift()!;
      now += 1;
      const engine = to === 'dialer' ? dialer : listener;
      const conn = to === 'dialer' ? 'd' : 'l';
      if (t.type === 'connect') {
        take('listener', listener.handle({ type: 'stream-opened', conn: 'l', remote: A, direction: 'inbound' }, now));
        take('dialer', dialer.handle({ type: 'stream-opened', conn: 'd', remote: B, direction: 'outbound' }, now));
        if (t.initialData) queue.push({ to: 'listener', t: { type: 'stream-write', conn: 'l', bytes: t.initialData } });
      } else if (t.type === 'stream-write') {
        // TCP may split anywhere: deliver in random pieces.
        for (let at = 0; at < t.bytes.length; ) {
          const n = 1 + g.int(t.bytes.length - at);
          take(to, engine.handle({ type: 'stream-data', conn, bytes: t.bytes.subarray(at, at + n) }, now));
          at += n;
        }
      }
    }
  };
  return { dialer, listener, events, run, tick: (ms: number) => { now += ms; take('dialer', dialer.tick(now)); take('listener', listener.tick(now)); }, listenerId };
}

const outcome = (es: Libp2pEvent[]) => es.find((e): e is Extract<Libp2pEvent, { type: 'outcome' }> => e.type === 'outcome');

describe('libp2p engine, back to back', () => {
  it('inlined muxer negotiation, ping and identify both ways', () => {
    const p = pair();
    p.run();
    expect(outcome(p.events.dialer)).toMatchObject({ outcome: 'SUCCESS', peerId: p.listenerId.peerId, muxer: '/yamux/1.0.0' });
    expect(outcome(p.events.dialer)?.identify?.agentVersion).toBe('handshake-lab/0.1.0');
    expect(outcome(p.events.listener)).toMatchObject({ outcome: 'SUCCESS', direction: 'inbound' });
    expect(p.events.dialer.find((e) => e.type === 'muxer')).toMatchObject({ how: 'noise-extensions' });
  });

  it('multistream-select for yamux when either side does not offer it in Noise', () => {
    for (const [d, l] of [[{ earlyMuxer: false }, {}], [{}, { earlyMuxer: false }]] as const) {
      const p = pair(d, l);
      p.run();
      expect(outcome(p.events.dialer)).toMatchObject({ outcome: 'SUCCESS', muxer: '/yamux/1.0.0' });
      expect(p.events.dialer.find((e) => e.type === 'muxer')).toMatchObject({ how: 'multistream' });
    }
  });

  it('a peer that never answers identify: SUCCESS on the ping after a short grace, not a timeout', () => {
    const p = pair({ timeoutMs: 60_000 });
    // The listener's identify answer never comes: drop its stream 3 data by not serving identify.
    (p.listener as unknown as { streamLine: unknown }).streamLine = function (this: unknown, c: unknown, s: { id: number; protocol?: string }, line: string, now: number) {
      if (line === '/ipfs/id/1.0.0') return; // silence
      return (Libp2pEngine.prototype as unknown as { streamLine: (...a: unknown[]) => unknown }).streamLine.call(this, c, s, line, now);
    };
    p.run();
    expect(outcome(p.events.dialer)).toBeUndefined();
    expect(p.events.dialer.some((e) => e.type === 'ping')).toBe(true);
    p.tick(2500);
    const o = outcome(p.events.dialer);
    expect(o).toMatchObject({ outcome: 'SUCCESS' });
    expect(o?.identify).toBeUndefined();
  });

  it('a listener that goes silent: FAILED at the timeout, naming the step it waited for', () => {
    const p = pair({ timeoutMs: 5000 });
    p.run(1); // only the connect: the listener's answers never come
    p.tick(6000);
    expect(outcome(p.events.dialer)?.reason).toBe('timeout: no multistream-select answer for /noise within 5000 ms');
  });

  it('more than 64 streams from the peer are reset, not kept', () => {
    const p = pair({ afterPing: 'stay' });
    p.run();
    const l = p.listener as unknown as { conns: Map<string, { streams: Map<number, unknown> }>; queueInner: (c: unknown, b: Uint8Array, w: string) => void };
    expect(l.conns.get('l')).toBeDefined();
    // The dialer's engine opens 100 streams on its still-open connection.
    const d = p.dialer as unknown as { conns: Map<string, unknown>; queueInner: (c: unknown, b: Uint8Array, w: string) => void; flushPending: (c: unknown, now: number) => void };
    const dc = d.conns.get('d');
    expect(dc).toBeDefined();
    for (let i = 0; i < 100; i++) d.queueInner(dc, encodeYamux('Window Update', FLAG.SYN, 101 + 2 * i, 0), 'syn');
    d.flushPending(dc, 0);
    p.tick(0); // hands the dialer's output (the encrypted SYNs) to the wire
    p.run();
    expect(l.conns.get('l')!.streams.size).toBe(64);
    expect(outcome(p.events.listener)).toMatchObject({ outcome: 'SUCCESS' });
  });
});

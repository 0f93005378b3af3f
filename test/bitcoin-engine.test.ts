// The Bitcoin handshake engine, both roles, in memory: outcomes in the words users of such
// tools know (SUCCESS, PARTIAL, FAILED), the 70016 order, and hostile peers.
import { describe, expect, it } from 'vitest';
import { BitcoinEngine, type BitcoinConfig, type BitcoinEvent } from '../shared/bitcoin/engine.ts';
import { encodeMessage, decodeMessage, type BtcMessage, type Version } from '../shared/bitcoin/messages.ts';
import { NETWORKS, NODE_NETWORK, NODE_WITNESS } from '../shared/bitcoin/spec.ts';
import type { EngineOutput } from '../shared/engine.ts';
import { prng } from './helpers/prng.ts';
import { side, StreamWire, type Side } from './helpers/stream-wire.ts';

const net = NETWORKS.regtest;
const A = { ip: '127.0.0.1', port: 18444 };
const B = { ip: '127.0.0.2', port: 18444 };

function engine(seed: number, config: Partial<BitcoinConfig> = {}): BitcoinEngine {
  const g = prng(seed);
  return new BitcoinEngine({ network: net, random: (n) => g.bytes(n), ...config });
}

type S = Side<unknown, BitcoinEvent>;
const outcomes = (s: S) => s.events.filter((e): e is Extract<BitcoinEvent, { type: 'outcome' }> => e.type === 'outcome');
const commands = (s: S, direction: 'in' | 'out') => s.records.filter((r) => r.direction === direction).map((r) => r.kind);

function pair(a: Partial<BitcoinConfig> = {}, b: Partial<BitcoinConfig> = {}) {
  const wire = new StreamWire([]);
  const dialer = side('dialer', engine(1, a), A) as S;
  const listener = side('listener', engine(2, { accept: true, ...b }), B) as S;
  wire.sides.push(dialer, listener);
  return { wire, dialer, listener };
}

describe('bitcoin handshake between two engines', () => {
  it('SUCCESS both ways; 70016 sends wtxidrelay and sendaddrv2 before verack, in Core\'s order', () => {
    const { wire, dialer, listener } = pair();
    wire.command(dialer, { type: 'handshake', to: B });
    wire.run();
    expect(outcomes(dialer).map((o) => o.outcome)).toEqual(['SUCCESS']);
    expect(outcomes(listener).map((o) => o.outcome)).toEqual(['SUCCESS']);
    expect(commands(dialer, 'out')).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
    expect(commands(listener, 'out')).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
    expect(outcomes(dialer)[0].peerVersion?.userAgent).toBe('/handshake-lab:0.1.0/');
    // The CLI mode closes after SUCCESS.
    expect(dialer.events.some((e) => e.type === 'closed')).toBe(true);
  });

  it('a 70015 peer gets no wtxidrelay/sendaddrv2 (the common version decides)', () => {
    const { wire, dialer, listener } = pair({}, { version: 70015 });
    wire.command(dialer, { type: 'handshake', to: B });
    wire.run();
    expect(outcomes(dialer)[0].outcome).toBe('SUCCESS');
    expect(commands(dialer, 'out')).toEqual(['version', 'verack']);
    expect(commands(listener, 'out')).toEqual(['version', 'verack']);
  });

  it('works whatever the chunking: every byte split, and the handshake still completes', () => {
    const { wire, dialer, listener } = pair();
    wire.split = (b) => Array.from(b, (x) => Uint8Array.of(x));
    wire.command(dialer, { type: 'handshake', to: B });
    wire.run(100_000);
    expect(outcomes(dialer)[0].outcome).toBe('SUCCESS');
    expect(outcomes(listener)[0].outcome).toBe('SUCCESS');
  });

  it('records carry the stream offset of each message, both directions', () => {
    const { wire, dialer } = pair();
    wire.command(dialer, { type: 'handshake', to: B });
    wire.run();
    for (const dir of ['in', 'out'] as const) {
      let at = 0;
      for (const r of dialer.records.filter((x) => x.direction === dir)) {
        expect(r.streamOffset).toBe(at);
        at += r.raw.length;
      }
    }
  });

  it('the dialer refused or unreachable: FAILED with the reason', () => {
    const { wire, dialer } = pair();
    wire.refuse.add('127.0.0.2:18444');
    wire.command(dialer, { type: 'handshake', to: B });
    wire.run();
    expect(outcomes(dialer)[0]).toMatchObject({ outcome: 'FAILED', reason: 'connect: refused' });
  });

  it('a listener that does not accept closes inbound connections at once', () => {
    const { wire, dialer } = pair({}, { accept: false });
    wire.command(dialer, { type: 'handshake', to: B });
    wire.run();
    expect(outcomes(dialer)[0]).toMatchObject({ outcome: 'FAILED' });
    expect(outcomes(dialer)[0].reason).toMatch(/closed/);
  });

  it('after SUCCESS in "stay" mode, a ping is answered with its pong and later messages are listed', () => {
    const { wire, dialer, listener } = pair({ afterHandshake: 'stay' }, { afterHandshake: 'stay' });
    wire.command(dialer, { type: 'handshake', to: B });
    wire.run();
    const conn = listener.events.find((e) => e.type === 'started')!.conn;
    wire.inject(dialer as never, 'btc-1', encodeMessage(net, { command: 'ping', nonce: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }));
    const pong = dialer.records.filter((r) => r.direction === 'out').at(-1)!;
    expect(pong.kind).toBe('pong');
    const d = decodeMessage(pong.raw, net);
    expect(d.ok && (d.value.message as { nonce: Uint8Array }).nonce).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(conn).toMatch(/^in-/);
  });
});

/** Plays the peer by hand against one engine. */
function manual(config: Partial<BitcoinConfig> = {}) {
  const e = engine(7, config);
  const log: EngineOutput<BitcoinEvent>[] = [];
  let now = 5_000_000;
  const run = (o: EngineOutput<BitcoinEvent>) => (log.push(o), o);
  const all = () => log.flatMap((o) => o.events);
  return {
    e,
    log,
    advance: (ms: number) => run(e.tick((now += ms))),
    dial: () => {
      run(e.handle({ type: 'command', command: { type: 'handshake', to: B, conn: 'c' } }, now));
      return run(e.handle({ type: 'stream-opened', conn: 'c', remote: B, direction: 'outbound' }, now));
    },
    send: (m: BtcMessage | Uint8Array) => run(e.handle({ type: 'stream-data', conn: 'c', bytes: m instanceof Uint8Array ? m : encodeMessage(net, m) }, now)),
    close: () => run(e.handle({ type: 'stream-closed', conn: 'c', reason: 'closed' }, now)),
    outcome: () => all().find((x): x is Extract<BitcoinEvent, { type: 'outcome' }> => x.type === 'outcome'),
    closedByUs: () => log.some((o) => o.transmits.some((t) => t.type === 'stream-close')),
  };
}

const peerVersion = (over: Partial<Version> = {}): Version => ({
  command: 'version', version: 70016, services: NODE_NETWORK | NODE_WITNESS, timestamp: 1n, addrRecv: { services: 0n, ip: '127.0.0.1', port: 1 },
  addrFrom: { services: 0n, ip: '::', port: 0 }, nonce: Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9), userAgent: '/Satoshi:27.0.0/', startHeight: 870000, relay: true, ...over,
});

describe('bitcoin handshake against a hand-played peer', () => {
  it('"stay" with a linger: lists what comes after SUCCESS, then hangs up after lingerMs', () => {
    const m = manual({ afterHandshake: 'stay', lingerMs: 2000 });
    m.dial();
    m.send(peerVersion());
    m.send({ command: 'verack' });
    expect(m.outcome()!.outcome).toBe('SUCCESS');
    expect(m.closedByUs()).toBe(false);
    const later = m.send({ command: 'sendheaders' });
    expect(later.records[0].note).toBe('after the handshake');
    m.advance(1999);
    expect(m.closedByUs()).toBe(false);
    m.advance(1);
    expect(m.closedByUs()).toBe(true);
    expect(m.e.connections).toBe(0);
  });

  it('PARTIAL when something other than verack comes after version (say what came)', () => {
    const m = manual();
    m.dial();
    m.send(peerVersion());
    m.send({ command: 'wtxidrelay' }); // allowed before verack
    m.send({ command: 'alert', payload: Uint8Array.of(1), signature: Uint8Array.of(2) });
    expect(m.outcome()).toMatchObject({ outcome: 'PARTIAL', reason: 'peer skipped verack: sent alert instead', instead: ['alert'] });
    expect(m.outcome()!.peerVersion?.startHeight).toBe(870000);
    expect(m.closedByUs()).toBe(true);
  });

  it('PARTIAL when the peer closes after its version', () => {
    const m = manual();
    m.dial();
    m.send(peerVersion());
    m.close();
    expect(m.outcome()).toMatchObject({ outcome: 'PARTIAL' });
    expect(m.outcome()!.reason).toMatch(/after its version, before verack/);
  });

  it('PARTIAL when the verack never comes; FAILED when not even a version does', () => {
    const a = manual({ timeoutMs: 3000 });
    a.dial();
    a.send(peerVersion());
    a.advance(2999);
    expect(a.outcome()).toBeUndefined();
    a.advance(1);
    expect(a.outcome()).toMatchObject({ outcome: 'PARTIAL', reason: 'no verack within 3000 ms' });
    const b = manual({ timeoutMs: 3000 });
    b.dial();
    b.advance(3000);
    expect(b.outcome()).toMatchObject({ outcome: 'FAILED', reason: 'timeout: no version within 3000 ms' });
    expect(b.e.nextDeadline()).toBeUndefined();
  });

  it('FAILED on a bad checksum, with the refused bytes recorded', () => {
    const m = manual();
    m.dial();
    const raw = encodeMessage(net, peerVersion());
    raw[20] ^= 0xff;
    const out = m.send(raw);
    expect(m.outcome()).toMatchObject({ outcome: 'FAILED' });
    expect(m.outcome()!.reason).toMatch(/^checksum: /);
    expect(out.records[0]).toMatchObject({ direction: 'in', kind: 'version' });
    expect(out.records[0].rejected).toMatch(/checksum/);
  });

  it('FAILED on another network\'s magic, as soon as 4 bytes are in', () => {
    const m = manual();
    m.dial();
    m.send(encodeMessage(NETWORKS.main, peerVersion()).subarray(0, 4));
    expect(m.outcome()!.reason).toMatch(/^magic: .* is not regtest's/);
  });

  it('FAILED at once on a header claiming 4 GB: nothing of it is buffered', () => {
    const m = manual();
    m.dial();
    const h = encodeMessage(net, { command: 'block', unknown: true, payload: new Uint8Array(0) });
    h.set([0xff, 0xff, 0xff, 0xff], 16);
    m.send(h);
    expect(m.outcome()!.reason).toMatch(/^length: 4294967295 bytes is over/);
  });

  it('FAILED when the peer is too old, or is ourselves', () => {
    const old = manual();
    old.dial();
    old.send(peerVersion({ version: 209 }));
    expect(old.outcome()!.reason).toMatch(/protocol 209, below the minimum 31800/);
    const self = manual();
    self.dial();
    // Our version went with the connect (sent as soon as the connection is up).
    const connect = self.log.flatMap((o) => o.transmits).find((t) => t.type === 'connect') as { initialData: Uint8Array };
    const ours = decodeMessage(connect.initialData, net);
    if (!ours.ok) throw ours.error;
    self.send(ours.value.message);
    expect(self.outcome()!.reason).toMatch(/connected to ourselves/);
  });

  it('messages before version are listed and ignored; a second version too', () => {
    const m = manual();
    m.dial();
    const early = m.send({ command: 'verack' });
    expect(early.records[0].note).toMatch(/before version: ignored/);
    m.send(peerVersion());
    const again = m.send(peerVersion());
    expect(again.records[0].note).toMatch(/second version/);
    m.send({ command: 'verack' });
    expect(m.outcome()!.outcome).toBe('SUCCESS');
  });

  it('a rejected input changes no state of other connections', () => {
    const e = engine(3, { accept: true });
    e.handle({ type: 'stream-opened', conn: 'x', remote: A, direction: 'inbound' }, 0);
    e.handle({ type: 'stream-opened', conn: 'y', remote: B, direction: 'inbound' }, 0);
    const bad = e.handle({ type: 'stream-data', conn: 'x', bytes: new Uint8Array(24).fill(0xee) }, 1);
    expect(bad.events.some((ev) => ev.type === 'outcome' && ev.conn === 'x' && ev.outcome === 'FAILED')).toBe(true);
    expect(e.connections).toBe(1);
    const good = e.handle({ type: 'stream-data', conn: 'y', bytes: encodeMessage(net, peerVersion()) }, 2);
    expect(good.records.filter((r) => r.direction === 'out').map((r) => r.kind)).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
  });

  it('stream events for unknown connections are ignored; datagrams too', () => {
    const e = engine(4);
    expect(e.handle({ type: 'stream-data', conn: 'nope', bytes: new Uint8Array(10) }, 0).events).toEqual([]);
    expect(e.handle({ type: 'datagram', from: A, bytes: new Uint8Array(10) }, 0).transmits).toEqual([]);
  });
});

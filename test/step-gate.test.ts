// Step mode's gate: datagrams and stream bytes, both directions, wait in one queue while
// holding and go one by one; a stream's end waits behind its data and is never a step.
import { describe, expect, it } from 'vitest';
import { GatedSocket, GatedStreams, gateStream, StepGate, VirtualClock } from '../shared/drive/gate.ts';
import type { DatagramSocket, Endpoint, StreamConnection, StreamEndReason } from '../shared/transport.ts';

const peer: Endpoint = { ip: '127.0.0.1', port: 9 };

function fakeSocket() {
  const sent: Uint8Array[] = [];
  let deliver: (b: Uint8Array, from: Endpoint) => void = () => undefined;
  const s: DatagramSocket = { local: { ip: '127.0.0.1', port: 1 }, send: (b) => void sent.push(b), onMessage: (h) => void (deliver = h), onError: () => undefined, close: () => undefined };
  return { s, sent, arrive: (b: Uint8Array) => deliver(b, peer) };
}

function fakeStream() {
  const written: Uint8Array[] = [];
  const log: string[] = [];
  const h: { data?: (b: Uint8Array) => void; end?: () => void; close?: (r: StreamEndReason) => void } = {};
  const c: StreamConnection = {
    remote: peer,
    write: (b) => (written.push(b), true),
    onData: (f) => void (h.data = f),
    onDrain: () => undefined,
    onEnd: (f) => void (h.end = f),
    onClose: (f) => void (h.close = f),
    end: () => void log.push('end'),
    close: () => void log.push('close'),
  };
  return { c, written, log, h };
}

describe('StepGate', () => {
  it('passes everything at once when not holding', () => {
    const gate = new StepGate();
    const f = fakeSocket();
    const s = new GatedSocket(f.s, gate);
    const got: number[] = [];
    s.onMessage((b) => got.push(b[0]));
    s.send(Uint8Array.of(1), peer);
    f.arrive(Uint8Array.of(2));
    expect(f.sent.map((b) => b[0])).toEqual([1]);
    expect(got).toEqual([2]);
    expect(gate.queue).toHaveLength(0);
  });

  it('holds datagrams and stream bytes of both directions in one queue, released in order', () => {
    let changes = 0;
    const gate = new StepGate(() => changes++);
    const f = fakeSocket();
    const s = new GatedSocket(f.s, gate);
    const t = fakeStream();
    const conn = gateStream(t.c, gate);
    const read: string[] = [];
    s.onMessage((b) => read.push(`udp ${b[0]}`));
    conn.onData((b) => read.push(`tcp ${b[0]}`));
    gate.setHolding(true);
    s.send(Uint8Array.of(1), peer);
    conn.write(Uint8Array.of(2));
    t.h.data!(Uint8Array.of(3));
    f.arrive(Uint8Array.of(4));
    expect(gate.queue.map((q) => `${q.direction} ${q.transport}`)).toEqual(['out udp', 'out tcp', 'in tcp', 'in udp']);
    expect(f.sent).toEqual([]);
    expect(t.written).toEqual([]);
    gate.release();
    expect(f.sent.map((b) => b[0])).toEqual([1]);
    gate.release();
    expect(t.written.map((b) => b[0])).toEqual([2]);
    gate.release();
    expect(read).toEqual(['tcp 3']);
    gate.release();
    expect(read).toEqual(['tcp 3', 'udp 4']);
    expect(gate.release()).toBeUndefined();
    expect(changes).toBeGreaterThan(4);
  });

  it('a stream end waits behind its data and goes with it, not as a step of its own', () => {
    const gate = new StepGate();
    const t = fakeStream();
    const conn = gateStream(t.c, gate);
    const log: string[] = [];
    conn.onData((b) => log.push(`data ${b[0]}`));
    conn.onEnd(() => log.push('end'));
    conn.onClose((r) => log.push(`close ${r}`));
    gate.setHolding(true);
    t.h.data!(Uint8Array.of(7));
    t.h.end!();
    t.h.close!('closed');
    expect(gate.queue).toHaveLength(3);
    gate.release();
    expect(log).toEqual(['data 7', 'end', 'close closed']);
    expect(gate.queue).toHaveLength(0);
  });

  it('our close of a stream goes after its held writes', () => {
    const gate = new StepGate();
    const t = fakeStream();
    const conn = gateStream(t.c, gate);
    gate.setHolding(true);
    conn.write(Uint8Array.of(1));
    conn.close();
    expect(t.log).toEqual([]);
    gate.release();
    expect(t.written).toHaveLength(1);
    expect(t.log).toEqual(['close']);
  });

  it('a close with nothing held goes at once even while holding (it is not a step)', () => {
    const gate = new StepGate();
    const t = fakeStream();
    const conn = gateStream(t.c, gate);
    gate.setHolding(true);
    conn.close();
    expect(t.log).toEqual(['close']);
  });

  it('holding off releases everything, in order; arrivals over the limit are dropped', () => {
    const gate = new StepGate(() => undefined, 3);
    const f = fakeSocket();
    const s = new GatedSocket(f.s, gate);
    const got: number[] = [];
    s.onMessage((b) => got.push(b[0]));
    gate.setHolding(true);
    for (let i = 0; i < 5; i++) f.arrive(Uint8Array.of(i));
    expect(gate.queue).toHaveLength(3);
    expect(gate.setHolding(false)).toHaveLength(3);
    expect(got).toEqual([0, 1, 2]);
  });
});

describe('GatedStreams: the first bytes sent with a connect', () => {
  function fakeTransport() {
    const calls: { initialData?: Uint8Array }[] = [];
    const t = fakeStream();
    let resolveConnect: (c: StreamConnection) => void = () => undefined;
    const transport = {
      connect: (_to: Endpoint, o: { initialData?: Uint8Array } = {}) => {
        calls.push(o);
        return new Promise<StreamConnection>((r) => (resolveConnect = r));
      },
    };
    return { transport, calls, t, open: () => resolveConnect(t.c) };
  }

  it('not holding: they ride with the connect', async () => {
    const gate = new StepGate();
    const f = fakeTransport();
    const pending = new GatedStreams(f.transport, gate).connect(peer, { initialData: Uint8Array.of(1) });
    expect(f.calls[0].initialData).toEqual(Uint8Array.of(1));
    f.open();
    await pending;
    expect(f.t.written).toEqual([]);
  });

  it('holding: they wait in the queue from the moment of the connect, and go once released and connected', async () => {
    const gate = new StepGate();
    gate.setHolding(true);
    const f = fakeTransport();
    const pending = new GatedStreams(f.transport, gate, 'bitcoin').connect(peer, { initialData: Uint8Array.of(7) });
    expect(f.calls[0].initialData).toBeUndefined();
    expect(gate.queue.map((q) => `${q.direction} ${q.transport} ${q.protocol}`)).toEqual(['out tcp bitcoin']);
    expect(gate.tag(gate.queue[0].bytes, 3)).toBe(true);
    gate.release(); // released before the connection is up
    expect(f.t.written).toEqual([]);
    f.open();
    await pending;
    expect(f.t.written).toEqual([Uint8Array.of(7)]);
  });
});

describe('VirtualClock', () => {
  it('stands still while paused', () => {
    let real = 1000;
    const c = new VirtualClock(() => real);
    real = 1500;
    expect(c.now()).toBe(500);
    c.pause();
    real = 9000;
    expect(c.now()).toBe(500);
    c.resume();
    real = 9100;
    expect(c.now()).toBe(600);
  });
});

// The playground's framework-free parts, in Node: step mode (virtual clock + gated socket)
// driving two real discv5 nodes, the key-schedule grouping over a real handshake's trace,
// the session file, input checks, identity storage and the Step narration's choice.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv5Driver, type RequestOutcome } from '../shared/discv5/driver.ts';
import { contactFromEnr, type PacketRecord } from '../shared/discv5/engine.ts';
import { Discv5Node, type NodeEvent } from '../shared/discv5/node.ts';
import { replaySpecHandshake } from '../shared/discv5/replay.ts';
import { SPEC_VECTORS } from '../shared/discv5/spec-vectors.ts';
import { createEnr } from '../shared/enr/index.ts';
import { secureRandom } from '../shared/random.ts';
import { endpointKey, type DatagramSocket, type Endpoint } from '../shared/transport.ts';
import { GatedSocket, StepGate, VirtualClock } from '../shared/drive/gate.ts';
import { handshakeFor, handshakesOf, messagesOf } from '../web/protocols/discv5-keys.ts';
import { exportSession, importSession } from '../web/lib/session-file.ts';
import { parseDistances, parseLookupTarget, parseTalk } from '../web/lib/inputs.ts';
import { loadKey, nextSeq, noteSeq, parsePrivateKey } from '../web/lib/identity.ts';
import { narrationFor, NARRATION } from '../web/protocols/discv5-narration.ts';
import type { PacketInfo } from '../web/lib/protocol.ts';
import { dissectPacket } from '../web/state/playground.svelte.ts';
import { loadDissectors } from '../web/protocols/registry.ts';
import { encodeMessage } from '../shared/bitcoin/messages.ts';
import { NETWORKS } from '../shared/bitcoin/spec.ts';
import { dissectDiscv5 } from '../shared/discv5/dissect-packet.ts';

/** An in-memory UDP: datagrams are delivered on a later microtask, like a real socket event. */
function memoryWire() {
  const sockets = new Map<string, { deliver: (b: Uint8Array, from: Endpoint) => void }>();
  let sent = 0;
  const open = (local: Endpoint): DatagramSocket => {
    const handlers: ((b: Uint8Array, from: Endpoint) => void)[] = [];
    sockets.set(endpointKey(local), { deliver: (b, from) => handlers.forEach((h) => h(b, from)) });
    return {
      local,
      send: (bytes, to) => {
        sent++;
        const copy = bytes.slice();
        queueMicrotask(() => sockets.get(endpointKey(to))?.deliver(copy, local));
      },
      onMessage: (h) => handlers.push(h),
      onError: () => {},
      close: () => sockets.delete(endpointKey(local)),
    };
  };
  return { open, sent: () => sent };
}

function node(port: number) {
  const privateKey = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey, ip: '127.0.0.1', udp: port });
  return new Discv5Node({ privateKey, enr, requestTimeoutMs: 1000, retries: 2 });
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

afterEach(() => {
  vi.useRealTimers();
});

describe('VirtualClock', () => {
  it('advances only while running', () => {
    let real = 1000;
    const c = new VirtualClock(() => real);
    real += 5;
    expect(c.now()).toBe(5);
    c.pause();
    real += 10_000;
    expect(c.now()).toBe(5);
    expect(c.running).toBe(false);
    c.resume();
    real += 7;
    expect(c.now()).toBe(12);
    c.resume(); // idempotent
    expect(c.now()).toBe(12);
  });
});

describe('step mode: a gated socket and a paused clock around a real node', () => {
  it('releases one packet per step, and no timeout fires while packets are held', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let real = 0;
    const wire = memoryWire();
    const a = node(1);
    const b = node(2);
    const clock = new VirtualClock(() => real);
    const gate: StepGate = new StepGate(() => (gate.isHolding && gate.queue.length > 0 ? clock.pause() : clock.resume()));
    const driverA = new Discv5Driver(a, new GatedSocket(wire.open({ ip: '127.0.0.1', port: 1 }), gate), clock.now);
    const driverB = new Discv5Driver(b, wire.open({ ip: '127.0.0.1', port: 2 }), () => real);
    const packets: PacketRecord[] = [];
    driverA.listen({ event: (e: NodeEvent) => e.type === 'packet' && packets.push(e.packet) });
    try {
      gate.setHolding(true);
      let outcome: RequestOutcome | undefined;
      void driverA.ping(contactFromEnr(b.enr)!).then((o) => (outcome = o));
      await flush();
      // The random packet is made (its record exists) but held: nothing on the wire, clock paused.
      expect(packets.map((p) => p.kind)).toEqual(['random']);
      expect(gate.queue.map((q) => q.direction)).toEqual(['out']);
      expect(wire.sent()).toBe(0);
      expect(clock.running).toBe(false);
      // A room talks for a minute: the engine's 1 s timeout must not fire.
      real += 60_000;
      await vi.advanceTimersByTimeAsync(60_000);
      expect(packets).toHaveLength(1);
      expect(gate.queue).toHaveLength(1);

      // Step 1: the random packet goes; B answers WHOAREYOU, which A holds unread.
      const seen: string[] = [];
      for (let step = 0; step < 4; step++) {
        const item = gate.release();
        expect(item).toBeDefined();
        seen.push(item!.direction);
        await flush();
        await vi.advanceTimersByTimeAsync(0);
      }
      expect(seen).toEqual(['out', 'in', 'out', 'in']);
      expect(packets.map((p) => `${p.direction}:${p.kind}:${p.message?.type ?? ''}`)).toEqual(['out:random:PING', 'in:WHOAREYOU:', 'out:handshake:PING', 'in:ordinary:PONG']);
      expect(outcome?.ok).toBe(true);
      // Only the wall time while nothing was held counts: well under the minute that passed.
      expect(outcome && outcome.ok && outcome.rttMs).toBeLessThan(1000);
      expect(gate.queue).toHaveLength(0);
      expect(clock.running).toBe(true);
    } finally {
      driverA.close();
      driverB.close();
    }
  });

  it('tags held sends with their packet seq, and holding off releases everything in order', async () => {
    const wire = memoryWire();
    const a = node(11);
    const b = node(12);
    const gate = new StepGate();
    const driverA = new Discv5Driver(a, new GatedSocket(wire.open({ ip: '127.0.0.1', port: 11 }), gate));
    const driverB = new Discv5Driver(b, wire.open({ ip: '127.0.0.1', port: 12 }));
    driverA.listen({ event: (e) => e.type === 'packet' && e.packet.direction === 'out' && gate.tag(e.packet.raw, e.packet.seq) });
    try {
      gate.setHolding(true);
      const done = driverA.ping(contactFromEnr(b.enr)!);
      await flush();
      expect(gate.queue[0]).toMatchObject({ direction: 'out', seq: 1 });
      expect(gate.tag(gate.queue[0].bytes, 99)).toBe(false); // already tagged
      const released = gate.setHolding(false);
      expect(released.map((r) => r.direction)).toEqual(['out']);
      const o = await done;
      expect(o.ok).toBe(true);
    } finally {
      driverA.close();
      driverB.close();
    }
  });
});

describe('key schedule grouping over the spec handshake', () => {
  const run = replaySpecHandshake();
  const idA = toHex(run.nodeA.enr.nodeId);
  const idB = toHex(run.nodeB.enr.nodeId);
  const traces = [...new Set(run.packets.flatMap((p) => p.trace))];
  const packets: PacketInfo[] = run.packets.map((p, i) => {
    const { packet: _p, ...rest } = p.record;
    return { ...rest, seq: i + 1, direction: p.sender === 'A' ? 'out' : 'in', destId: p.sender === 'A' ? idB : idA, peerId: idB };
  });

  it('finds one handshake per side, and both derive the same keys', () => {
    const hs = handshakesOf(traces);
    expect(hs.map((h) => [h.role, h.peer])).toEqual([
      ['initiator', idB],
      ['recipient', idA],
    ]);
    expect(hs[0].steps.map((s) => s.step)).toEqual(['unmask', 'ephemeral-key', 'ecdh', 'hkdf', 'id-sign']);
    expect(hs[1].steps.map((s) => s.step)).toEqual(['id-verify', 'ecdh', 'hkdf', 'aes-gcm-open']);
    expect(hs.every((h) => h.ok)).toBe(true);
    expect(hs[0].initiatorKey).toMatch(/^[0-9a-f]{32}$/);
    expect(hs[0].initiatorKey).toBe(hs[1].initiatorKey);
    expect(hs[0].recipientKey).toBe(hs[1].recipientKey);
    // The ephemeral key is the spec's.
    expect(hs[0].steps[1].outputs.find((o) => o.name === 'ephemeral-key')?.hex).toBe(SPEC_VECTORS.ephemeralKey);
  });

  it('names each message’s key and reads its nonce and associated data from the packet', () => {
    const all = handshakesOf(traces);
    const initiator = handshakeFor(all, idB, 3)!;
    expect(initiator.role).toBe('initiator');
    const rows = messagesOf(packets, all, initiator);
    expect(rows.map((r) => [r.seq, r.keyName, r.message])).toEqual([
      [1, 'random key (thrown away)', 'PING'],
      [3, 'initiator-key', 'PING'],
      [4, 'recipient-key', 'PONG'],
    ]);
    expect(rows[0].nonce.hex).toBe(SPEC_VECTORS.requestNonce);
    expect(rows[1].nonce.hex).toBe(SPEC_VECTORS.nonce);
    // message-ad = masking-iv ‖ header: starts with the spec's masking-iv, then "discv5".
    expect(rows[1].ad.hex.startsWith(`${SPEC_VECTORS.maskingIv}646973637635`)).toBe(true);
    expect(rows.every((r) => r.key.secret)).toBe(true);
  });

  it('a session file round-trips the packets; a bad file is refused with a reason', () => {
    const text = exportSession({ local: { nodeId: idA }, names: { [idB]: 'node B' }, packets, trace: traces, notes: [{ at: 3, level: 'ok', text: 'done' }] }, (p) =>
      dissectDiscv5(p.raw, Uint8Array.from(Buffer.from(p.destId, 'hex')), { ...(p.plaintext ? { plaintext: p.plaintext } : {}), random: p.kind === 'random' }),
    );
    const doc = JSON.parse(text);
    expect(doc.packets[2].raw).toBe(SPEC_VECTORS.pingHandshakeEnr);
    expect(doc.packets[3].dissection.layers.at(-1).name).toBe('message fields');
    const back = importSession(text);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.session.packets.map((p) => toHex(p.raw))).toEqual(packets.map((p) => toHex(p.raw)));
    expect(back.session.packets[3].message?.type).toBe('PONG');
    expect(back.session.names[idB]).toBe('node B');
    expect(handshakesOf(back.session.trace)).toHaveLength(2);

    expect(importSession('not json')).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
    expect(importSession('{"format":"x"}')).toMatchObject({ ok: false, reason: expect.stringContaining('not a Handshake Lab session') });
    const broken = JSON.parse(text);
    broken.packets[1].raw = 'zz';
    expect(importSession(JSON.stringify(broken))).toMatchObject({ ok: false, reason: 'packets[1].raw is not hex' });
    broken.packets[1] = { ...doc.packets[1], direction: 'sideways' };
    expect(importSession(JSON.stringify(broken))).toMatchObject({ ok: false, reason: expect.stringContaining('packets[1].direction') });
  });

  it('exports are version 2 with each packet\'s protocol; a version 1 export (discv5 only, as today\'s app made them) still imports', () => {
    const text = exportSession({ local: { nodeId: idA }, names: {}, packets, trace: traces, notes: [] }, dissectPacket);
    const doc = JSON.parse(text);
    expect(doc.version).toBe(2);
    expect(doc.protocols).toEqual(['discv5']);
    expect(doc.packets.every((p: { protocol: string }) => p.protocol === 'discv5')).toBe(true);
    // The same session as the app wrote it before: version 1, no protocol fields.
    const v1 = { ...doc, version: 1, protocol: 'discv5', packets: doc.packets.map(({ protocol: _p, ...rest }: { protocol: string }) => rest) };
    delete v1.protocols;
    const back = importSession(JSON.stringify(v1));
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.session.packets.map((p) => p.protocol)).toEqual(packets.map(() => 'discv5'));
    expect(back.session.packets[3].message?.type).toBe('PONG');
    expect(importSession(JSON.stringify({ ...doc, version: 3 }))).toMatchObject({ ok: false, reason: expect.stringContaining('version 3') });
  });

  it('Bitcoin records round-trip with their connection and stream offset, and are re-dissected from the bytes', async () => {
    await loadDissectors(); // as the page does before an export
    const raw = encodeMessage(NETWORKS.regtest, { command: 'verack' });
    const btc: PacketInfo[] = [{ seq: 1, protocol: 'bitcoin', direction: 'in', at: 5, peer: { ip: '127.0.0.1', port: 18444 }, raw, kind: 'verack', summary: 'verack', conn: 'tcp-1', streamOffset: 124, destId: '' }];
    const text = exportSession({ local: { nodeId: idA }, names: {}, packets: btc, trace: [], notes: [] }, dissectPacket);
    const doc = JSON.parse(text);
    expect(doc.protocols).toEqual(['bitcoin']);
    expect(doc.packets[0].dissection.layers[0].name).toBe('message header');
    const back = importSession(text);
    if (!back.ok) throw new Error(back.reason);
    expect(back.session.packets[0]).toMatchObject({ protocol: 'bitcoin', conn: 'tcp-1', streamOffset: 124, kind: 'verack' });
    expect(dissectPacket(back.session.packets[0]).kind).toBe('verack');
    const bad = JSON.parse(text);
    bad.packets[0].protocol = 'gopher';
    expect(importSession(JSON.stringify(bad))).toMatchObject({ ok: false, reason: 'packets[0].protocol "gopher" is not one this page knows' });
    bad.packets[0] = { ...doc.packets[0], streamOffset: -4 };
    expect(importSession(JSON.stringify(bad))).toMatchObject({ ok: false, reason: 'packets[0].streamOffset is not a byte offset' });
  });
});

describe('inputs checked before anything is sent', () => {
  it('distances', () => {
    expect(parseDistances('256, 255 254')).toEqual({ ok: true, value: [256, 255, 254] });
    expect(parseDistances('0')).toEqual({ ok: true, value: [0] });
    expect(parseDistances('256,256')).toEqual({ ok: true, value: [256] });
    expect(parseDistances('')).toMatchObject({ ok: false });
    expect(parseDistances('257')).toMatchObject({ ok: false, reason: expect.stringContaining('257') });
    expect(parseDistances('-1')).toMatchObject({ ok: false });
    expect(parseDistances('1.5')).toMatchObject({ ok: false });
    expect(parseDistances(Array.from({ length: 17 }, (_, i) => 240 + i).join(','))).toMatchObject({ ok: false });
  });

  it('talk request and lookup target', () => {
    expect(parseTalk('eth2', '0x0102')).toMatchObject({ ok: true, value: { protocol: 'eth2', request: Uint8Array.of(1, 2) } });
    expect(parseTalk('p', '')).toMatchObject({ ok: true, value: { request: new Uint8Array(0) } });
    expect(parseTalk('', '01')).toMatchObject({ ok: false });
    expect(parseTalk('p', '012')).toMatchObject({ ok: false, reason: expect.stringContaining('odd') });
    expect(parseTalk('p', 'zz')).toMatchObject({ ok: false });
    expect(parseTalk('p', '00'.repeat(1001))).toMatchObject({ ok: false });
    const r = new Uint8Array(32).fill(7);
    expect(parseLookupTarget('', () => r)).toEqual({ ok: true, value: r });
    expect(parseLookupTarget('ab'.repeat(32), () => r)).toMatchObject({ ok: true });
    expect(parseLookupTarget('abc', () => r)).toMatchObject({ ok: false, reason: expect.stringContaining('this has 3') });
  });

  it('private keys', () => {
    expect(parsePrivateKey(`0x${'11'.repeat(32)}`)).toMatchObject({ ok: true });
    expect(parsePrivateKey('00'.repeat(32))).toMatchObject({ ok: false, reason: expect.stringContaining('curve order') });
    expect(parsePrivateKey('ff'.repeat(32))).toMatchObject({ ok: false }); // above n
    expect(parsePrivateKey('12345')).toMatchObject({ ok: false, reason: expect.stringContaining('64 hex digits') });
    expect(parsePrivateKey('xyz')).toMatchObject({ ok: false, reason: expect.stringContaining('hex digits') });
  });
});

describe('identity storage', () => {
  const storage = () => {
    const m = new Map<string, string>();
    return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
  };

  it('keeps the key, and a seq that only grows', () => {
    const s = storage();
    const first = loadKey(s);
    expect(first.created).toBe(true);
    const again = loadKey(s);
    expect(again.created).toBe(false);
    expect(toHex(again.key)).toBe(toHex(first.key));
    s.m.set('handshake-lab.discv5.private-key', 'garbage');
    expect(loadKey(s).created).toBe(true);
    expect(nextSeq(s)).toBe(1n);
    expect(nextSeq(s)).toBe(2n);
    noteSeq(s, 9n);
    noteSeq(s, 4n);
    expect(nextSeq(s)).toBe(10n);
    const throwing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); } };
    expect(loadKey(throwing).created).toBe(true);
    expect(nextSeq(throwing)).toBe(1n);
  });
});

describe('Step narration', () => {
  it('pick the moment’s narration and fill every placeholder', () => {
    const cases: [Parameters<typeof narrationFor>[0], string][] = [
      [{ phase: 'before-send', peer: 'lab-01', kind: 'random', message: 'PING' }, NARRATION.sendRandom.id],
      [{ phase: 'arrived', peer: 'lab-01', size: 63 }, NARRATION.arrived.id],
      [{ phase: 'after-receive', peer: 'lab-01', kind: 'WHOAREYOU', message: 'PING' }, NARRATION.recvWhoareyou.id],
      [{ phase: 'before-send', peer: 'lab-01', kind: 'handshake', message: 'PING' }, NARRATION.sendHandshake.id],
      [{ phase: 'after-receive', peer: 'lab-01', kind: 'ordinary', message: 'PONG' }, NARRATION.recvResponse.id],
      [{ phase: 'after-receive', peer: 'lab-01', kind: 'ordinary' }, NARRATION.recvRandom.id],
      [{ phase: 'before-send', peer: 'lab-01', kind: 'WHOAREYOU' }, NARRATION.sendWhoareyou.id],
      [{ phase: 'after-receive', peer: 'lab-01', kind: 'handshake', message: 'PING' }, NARRATION.recvHandshake.id],
      [{ phase: 'before-send', peer: 'lab-01', kind: 'ordinary', message: 'PONG' }, NARRATION.sendResponse.id],
      [{ phase: 'before-send', peer: 'lab-01', kind: 'ordinary', message: 'FINDNODE' }, NARRATION.sendInSession.id],
      [{ phase: 'before-send', peer: 'lab-01', kind: 'random', message: 'PING', retransmit: true }, NARRATION.retransmit.id],
      [{ phase: 'after-receive', peer: 'lab-01', rejected: 'bad tag' }, NARRATION.rejected.id],
    ];
    for (const [moment, id] of cases) {
      const l = narrationFor(moment);
      expect(l.id).toBe(id);
      expect(`${l.title} ${l.plain}`).not.toMatch(/\{\w+\}/);
      expect(l.link).toMatch(/^https:\/\/github\.com\/ethereum\/devp2p\/blob\/master\/discv5\/discv5-(wire|theory)\.md#/);
    }
  });
});

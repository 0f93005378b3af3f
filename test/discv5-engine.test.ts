// The session engine's rules (discv5-theory.md "Sessions"), driven deterministically in memory.
import { describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../shared/bytes.ts';
import { logDistance } from '../shared/kademlia/distance.ts';
import { coverageProblems } from '../shared/dissect.ts';
import { createEnr, type Enr } from '../shared/enr/index.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { dissectDiscv5 } from '../shared/discv5/dissect-packet.ts';
import { decodePacket, encodeAuthdata, encodeHeader, encodePacket } from '../shared/discv5/packet.ts';
import { MAX_PACKET_SIZE } from '../shared/discv5/spec.ts';
import { eventsOf, makePeer, packetsOf, Wire, type Peer } from './helpers/engines.ts';
import { prng } from './helpers/prng.ts';

function pair(configA = {}, configB = {}) {
  const a = makePeer(1, configA);
  const b = makePeer(2, configB);
  return { a, b, wire: new Wire([a, b]) };
}

const kinds = (p: Peer, dir?: 'in' | 'out') => packetsOf(p, dir).map((r) => (r.rejected ? 'rejected' : `${r.kind}${r.message ? ` ${r.message.type}` : ''}`));

describe('cold handshake', () => {
  it('random packet → WHOAREYOU → handshake → PONG, sessions on both sides with their roles', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.run();
    expect(kinds(a)).toEqual(['random PING', 'WHOAREYOU', 'handshake PING', 'ordinary PONG']);
    const pong = eventsOf(a, 'response')[0];
    expect(pong.response.type).toBe('PONG');
    if (pong.response.type === 'PONG') {
      expect(pong.response.recipientIp).toBe(a.endpoint.ip);
      expect(pong.response.recipientPort).toBe(a.endpoint.port);
      expect(pong.response.enrSeq).toBe(b.enr.seq);
    }
    expect(eventsOf(b, 'session-established').map((e) => e.direction)).toEqual(['incoming']);
    expect(eventsOf(a, 'session-established').map((e) => e.direction)).toEqual(['outgoing']);
    // B learned A's record from the handshake (its WHOAREYOU said enr-seq 0).
    expect(eventsOf(b, 'record-learned')[0].enr.seq).toBe(a.enr.seq);
    // The second request needs no handshake.
    wire.command(a, { type: 'ping', to: b.contact });
    wire.run();
    expect(kinds(a).slice(4)).toEqual(['ordinary PING', 'ordinary PONG']);
  });

  it('the record goes in the handshake only when the WHOAREYOU enr-seq is older than ours', () => {
    const { a, b, wire } = pair();
    b.engine.addRecord(a.enr);
    wire.command(a, { type: 'ping', to: b.contact });
    wire.run();
    const hs = packetsOf(a, 'out').find((r) => r.kind === 'handshake')!;
    const p = decodePacket(b.enr.nodeId, hs.raw);
    expect(p.ok && p.value.authdata.flag === 2 && p.value.authdata.record).toBeUndefined();
    expect(eventsOf(a, 'response')).toHaveLength(1);
  });

  it('requests made during a handshake wait for it and are then sent in the new session', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.command(a, { type: 'findnode', to: b.contact, distances: [0] });
    wire.command(a, { type: 'talkreq', to: b.contact, protocol: new Uint8Array([1]), request: new Uint8Array([2]) });
    expect(wire.inFlight).toHaveLength(1); // one random packet, not three
    wire.run();
    expect(eventsOf(a, 'response').map((e) => e.response.type).sort()).toEqual(['NODES', 'PONG', 'TALKRESP']);
    expect(packetsOf(b, 'out').filter((r) => r.kind === 'WHOAREYOU')).toHaveLength(1);
  });
});

describe('retransmission and loss', () => {
  it('a retransmitted request gets the very same WHOAREYOU, and the handshake then verifies', () => {
    const { a, b, wire } = pair({ requestTimeoutMs: 500, retries: 2 });
    wire.command(a, { type: 'ping', to: b.contact });
    wire.step(); // random packet reaches B
    const lost = wire.step(true)!; // B's WHOAREYOU is lost
    wire.advance(501); // A retransmits the same bytes
    expect(packetsOf(a, 'out').filter((r) => r.retransmit)).toHaveLength(1);
    wire.step(); // the retransmission reaches B
    const again = wire.inFlight[0];
    expect(toHex(again.bytes)).toBe(toHex(lost.bytes));
    wire.run();
    expect(eventsOf(a, 'response')).toHaveLength(1);
  });

  it('HandshakeResend: a different second packet while a challenge is pending gets the same WHOAREYOU, byte for byte', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    const ping1 = decodePacket(b.enr.nodeId, wire.inFlight[0].bytes);
    wire.step();
    const w1 = wire.inFlight.shift()!;
    // A second request from the same node and address (another engine with A's key: a new nonce).
    const a2: Peer = { ...makePeer(12, { privateKey: a.key, enr: a.enr }, a.endpoint), events: [] };
    const wire2 = new Wire([a2, b]);
    wire2.command(a2, { type: 'ping', to: b.contact });
    const ping2 = decodePacket(b.enr.nodeId, wire2.inFlight[0].bytes);
    expect(ping1.ok && ping2.ok && toHex(ping1.value.nonce) !== toHex(ping2.value.nonce)).toBe(true);
    wire2.step();
    const w2 = wire2.inFlight.shift()!;
    expect(toHex(w2.bytes)).toBe(toHex(w1.bytes));
    const d1 = decodePacket(a.enr.nodeId, w1.bytes);
    const d2 = decodePacket(a.enr.nodeId, w2.bytes);
    if (!d1.ok || !d2.ok || !ping1.ok) throw new Error('undecodable');
    expect(toHex(d2.value.nonce)).toBe(toHex(ping1.value.nonce));
    expect(toHex(d2.value.maskingIv) + toHex(d2.value.header)).toBe(toHex(d1.value.maskingIv) + toHex(d1.value.header));
    expect(packetsOf(b, 'out').filter((r) => r.kind === 'WHOAREYOU').map((r) => !!r.retransmit)).toEqual([false, true]);
    expect(packetsOf(b, 'out').at(-1)!.note).toMatch(/another packet before the handshake/);
  });

  it('HandshakeResend: the handshake signed against the first challenge still completes after the second packet', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.step(); // random packet → B
    wire.step(); // WHOAREYOU → A, which signs it and sends its handshake
    const handshake = wire.inFlight.shift()!;
    expect(packetsOf(a, 'out').at(-1)!.kind).toBe('handshake');
    // Before the handshake arrives, another ordinary packet from A's identity and address.
    const a2: Peer = { ...makePeer(13, { privateKey: a.key, enr: a.enr }, a.endpoint), events: [] };
    const wire2 = new Wire([a2, b]);
    wire2.command(a2, { type: 'talkreq', to: b.contact, protocol: new Uint8Array([1]), request: new Uint8Array(0) });
    wire2.step();
    expect(wire2.inFlight[0].bytes).toEqual(packetsOf(b, 'out')[0].raw);
    wire.deliver(handshake);
    wire.run();
    expect(eventsOf(b, 'session-established')).toHaveLength(1);
    expect(eventsOf(a, 'response').map((e) => e.response.type)).toEqual(['PONG']);
  });

  it('a packet with another nonce more than a second after the challenge gets a fresh one (the node lost the first request)', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.step();
    const w1 = wire.inFlight.shift()!; // A never sees it (it restarted, say)
    const a2: Peer = { ...makePeer(15, { privateKey: a.key, enr: a.enr }, a.endpoint), events: [] };
    const wire2 = new Wire([a2, b]);
    wire2.now = wire.now + 1200;
    wire2.command(a2, { type: 'ping', to: b.contact });
    wire2.step();
    expect(toHex(wire2.inFlight[0].bytes)).not.toBe(toHex(w1.bytes));
    wire2.run();
    expect(eventsOf(a2, 'response')).toHaveLength(1);
  });

  it('an expired challenge is not repeated: a packet after its time gets a fresh one', () => {
    const { a, b, wire } = pair({}, { challengeTtlMs: 1000 });
    wire.command(a, { type: 'ping', to: b.contact });
    wire.step();
    const w1 = wire.inFlight.shift()!;
    wire.now += 1500; // no tick: the challenge is still cached, but stale
    const a2: Peer = { ...makePeer(14, { privateKey: a.key, enr: a.enr }, a.endpoint), events: [] };
    const wire2 = new Wire([a2, b]);
    wire2.now = wire.now;
    wire2.command(a2, { type: 'ping', to: b.contact });
    wire2.step();
    expect(toHex(wire2.inFlight[0].bytes)).not.toBe(toHex(w1.bytes));
    wire2.run();
    expect(eventsOf(a2, 'response')).toHaveLength(1);
  });

  it('every request ends: a silent peer gives retransmits, then one timeout, then nothing is pending', () => {
    const a = makePeer(1, { requestTimeoutMs: 1000, retries: 2 });
    const ghost = makePeer(3);
    const wire = new Wire([a]); // nobody listens at ghost's endpoint
    wire.command(a, { type: 'ping', to: ghost.contact });
    wire.command(a, { type: 'findnode', to: ghost.contact, distances: [256] }); // queued behind the handshake
    for (let i = 0; i < 30 && a.engine.nextDeadline() !== undefined; i++) wire.advance(a.engine.nextDeadline()! - wire.now);
    expect(packetsOf(a, 'out').filter((r) => r.retransmit).length).toBeGreaterThanOrEqual(2);
    const ends = [...eventsOf(a, 'timeout'), ...eventsOf(a, 'failure')];
    expect(ends.map((e) => e.request.type).sort()).toEqual(['FINDNODE', 'PING']);
    expect(a.engine.pendingRequests).toBe(0);
    expect(a.engine.nextDeadline()).toBeUndefined();
  });

  it('an unreachable endpoint (the bridge refused it) fails its requests at once with the reason: no retransmit, no timeout', () => {
    const a = makePeer(1, { requestTimeoutMs: 1000, retries: 2 });
    const refused = makePeer(3);
    const other = makePeer(4);
    const wire = new Wire([a]);
    wire.command(a, { type: 'ping', to: refused.contact });
    wire.command(a, { type: 'findnode', to: refused.contact, distances: [256] });
    wire.command(a, { type: 'ping', to: other.contact });
    const sentBefore = packetsOf(a, 'out').length;
    wire.command(a, { type: 'unreachable', endpoint: refused.endpoint, reason: 'the bridge refused it: private address' });
    const failures = eventsOf(a, 'failure');
    expect(failures.map((e) => [e.request.type, e.reason]).sort()).toEqual([
      ['FINDNODE', 'the bridge refused it: private address'],
      ['PING', 'the bridge refused it: private address'],
    ]);
    expect(a.engine.pendingRequests).toBe(1); // the other peer's PING is untouched
    for (let i = 0; i < 30 && a.engine.nextDeadline() !== undefined; i++) wire.advance(a.engine.nextDeadline()! - wire.now);
    const toRefused = packetsOf(a, 'out').slice(sentBefore).filter((r) => r.peer.port === refused.endpoint.port);
    expect(toRefused).toEqual([]);
    expect(eventsOf(a, 'timeout').map((e) => e.to.endpoint.port)).toEqual([other.endpoint.port]);
  });
});

describe('session recovery', () => {
  it('a packet that fails to decrypt in an existing session is answered with WHOAREYOU, and a new handshake follows', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.run();
    // A restarts with the same key: no sessions. B still has its old one.
    const a2: Peer = { ...makePeer(1, { privateKey: a.key, enr: a.enr }, a.endpoint), events: [] };
    const wire2 = new Wire([a2, b]);
    const before = packetsOf(b).length;
    wire2.command(a2, { type: 'ping', to: b.contact });
    wire2.run();
    const bIn = packetsOf(b).slice(before);
    expect(bIn[0].direction).toBe('in');
    expect(bIn[0].note).toMatch(/cannot decrypt/);
    expect(bIn[1].kind).toBe('WHOAREYOU');
    expect(kinds(a2)).toEqual(['random PING', 'WHOAREYOU', 'handshake PING', 'ordinary PONG']);
  });

  it('WHOAREYOU that answers a response (not a request) is ignored: responses never start a handshake', () => {
    const { a, b, wire } = pair();
    wire.command(b, { type: 'ping', to: a.contact });
    wire.run(); // B ↔ A session, B initiated
    wire.command(b, { type: 'ping', to: a.contact });
    wire.step(); // PING reaches A, A answers PONG
    const pong = wire.inFlight.shift()!;
    // The PONG reaches a B that lost its session: B challenges it.
    const b2: Peer = { ...makePeer(2, { privateKey: b.key, enr: b.enr }, b.endpoint), events: [] };
    const wire2 = new Wire([a, b2]);
    wire2.deliver({ ...pong, from: a });
    expect(kinds(b2, 'out')).toEqual(['WHOAREYOU']);
    const sentBefore = packetsOf(a, 'out').length;
    wire2.step(); // WHOAREYOU reaches A
    const last = packetsOf(a).at(-1)!;
    expect(last.rejected).toMatch(/no pending request/);
    expect(packetsOf(a, 'out').length).toBe(sentBefore);
    expect(wire2.inFlight).toHaveLength(0);
  });

  it('an unsolicited WHOAREYOU is rejected and changes nothing', () => {
    const { a, b, wire } = pair();
    const header = encodeHeader(1, new Uint8Array(12).fill(7), encodeAuthdata({ flag: 1, idNonce: new Uint8Array(16).fill(1), enrSeq: 0n }));
    wire.deliver({ from: b, to: a.endpoint, bytes: encodePacket(a.enr.nodeId, new Uint8Array(16), header, new Uint8Array(0)) });
    expect(packetsOf(a)[0].rejected).toMatch(/no pending request/);
    expect(wire.inFlight).toHaveLength(0);
    expect(a.engine.sessionCount).toBe(0);
  });
});

describe('anti-amplification and bounds', () => {
  it('one outstanding WHOAREYOU per source address: another node there replaces the older challenge', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    const first = wire.inFlight.shift()!;
    // Another node (another key) sending from the same address.
    const c: Peer = { ...makePeer(11, {}, a.endpoint), events: [] };
    const wire2 = new Wire([c, b]);
    wire2.command(c, { type: 'ping', to: b.contact });
    wire.deliver(first);
    const w1 = wire.inFlight.shift()!;
    wire2.step();
    const w2 = wire2.inFlight.shift()!;
    expect(toHex(w1.bytes)).not.toBe(toHex(w2.bytes));
    // The handshake answering the replaced challenge is refused; the current one succeeds.
    wire.deliver(w1);
    wire.step();
    expect(packetsOf(b).at(-1)!.rejected).toMatch(/differs from the node we challenged/);
    expect(b.engine.sessionCount).toBe(0);
    wire2.deliver(w2);
    wire2.run();
    expect(eventsOf(c, 'response')).toHaveLength(1);
  });

  it('the session cache is an LRU of the configured size', () => {
    const hub = makePeer(20, { sessionCacheSize: 2 });
    const others = [21, 22, 23].map((s) => makePeer(s));
    const wire = new Wire([hub, ...others]);
    for (const o of others) {
      wire.command(hub, { type: 'ping', to: o.contact });
      wire.run();
    }
    expect(hub.engine.sessionCount).toBe(2);
    expect(hub.engine.hasSession(others[0].enr.nodeId, others[0].endpoint)).toBe(false);
    expect(hub.engine.hasSession(others[2].enr.nodeId, others[2].endpoint)).toBe(true);
  });
});

describe('handshake verification', () => {
  it('a handshake whose id-signature is forged is rejected, and no session is made', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.step();
    wire.step(); // WHOAREYOU → A sends handshake
    const hs = wire.inFlight.shift()!;
    // Flip a bit inside the masked id-signature (offset: iv 16 + static 23 + src-id 32 + sizes 2).
    const bad = hs.bytes.slice();
    bad[16 + 23 + 34 + 5] ^= 1;
    wire.deliver({ ...hs, bytes: bad });
    expect(packetsOf(b).at(-1)!.rejected).toMatch(/id-signature|not a point/);
    expect(b.engine.sessionCount).toBe(0);
    expect(wire.inFlight).toHaveLength(0);
    // The genuine handshake still works: the challenge survived the bad one.
    wire.deliver(hs);
    wire.run();
    expect(eventsOf(a, 'response')).toHaveLength(1);
  });
});

describe('FINDNODE answers', () => {
  function recordsAtDistance(local: Uint8Array, d: number, count: number, seed: number): Enr[] {
    const gen = prng(seed);
    const out: Enr[] = [];
    for (let i = 0; out.length < count && i < 10_000; i++) {
      const key = randomPrivateKey((n) => gen.bytes(n));
      // A long extra value makes records large, so the answer needs several packets.
      const enr = createEnr({ privateKey: key, ip: '127.0.0.1', udp: 1000 + i, extra: [{ key: 'zz', rawValue: new Uint8Array([0xb8, 100, ...new Uint8Array(100).fill(0x61)]) }] });
      if (logDistance(enr.nodeId, local) === d) out.push(enr);
    }
    return out;
  }

  it('splits 16 records into NODES packets of at most 1280 bytes with the right total, and the asker collects all', () => {
    const b = makePeer(2);
    const records = recordsAtDistance(b.enr.nodeId, 256, 20, 5);
    b.engine.nodesAtDistances = (ds) => (ds.includes(256) ? records : []);
    const a = makePeer(1);
    const wire = new Wire([a, b]);
    wire.command(a, { type: 'findnode', to: b.contact, distances: [256] });
    wire.run();
    const nodes = packetsOf(b, 'out').filter((r) => r.message?.type === 'NODES');
    expect(nodes.length).toBeGreaterThan(1);
    for (const n of nodes) {
      expect(n.raw.length).toBeLessThanOrEqual(MAX_PACKET_SIZE);
      expect(n.message?.type === 'NODES' && n.message.total).toBe(nodes.length);
    }
    const res = eventsOf(a, 'response')[0];
    expect(res.records).toHaveLength(16); // the limit
    expect(res.partial).toBeUndefined();
  });

  it('rejects records at distances that were not asked for', () => {
    const b = makePeer(2);
    const wrong = recordsAtDistance(b.enr.nodeId, 256, 2, 6);
    // B misbehaves: it answers distance 255 with records at 256 (bypassing its own filter).
    b.engine.nodesResponses = (requestId) => [{ type: 'NODES', requestId, total: 1, records: wrong.map((r) => r.raw) }];
    const a = makePeer(1);
    const wire = new Wire([a, b]);
    wire.command(a, { type: 'findnode', to: b.contact, distances: [255] });
    wire.run();
    const res = eventsOf(a, 'response')[0];
    expect(res.records).toHaveLength(0);
    expect(res.rejectedRecords?.[0]).toMatch(/distance 256/);
  });

  it('distance 0 returns the responder’s own record', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'findnode', to: b.contact, distances: [0] });
    wire.run();
    const res = eventsOf(a, 'response')[0];
    expect(res.records?.map((r) => toHex(r.raw))).toEqual([toHex(b.enr.raw)]);
  });
});

describe('dissections', () => {
  it('every layer of every packet of a conversation is covered exactly once by its fields', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.command(a, { type: 'findnode', to: b.contact, distances: [0, 1, 256] });
    wire.command(a, { type: 'talkreq', to: b.contact, protocol: new TextEncoder().encode('eth'), request: new Uint8Array([1, 2, 3]) });
    wire.run();
    const records = packetsOf(a);
    expect(new Set(records.map((r) => r.kind))).toEqual(new Set(['random', 'WHOAREYOU', 'handshake', 'ordinary']));
    let layers = 0;
    for (const r of records) {
      const destId = r.direction === 'in' ? a.enr.nodeId : b.enr.nodeId;
      const d = dissectDiscv5(r.raw, destId, { ...(r.plaintext ? { plaintext: r.plaintext } : {}), random: r.kind === 'random' });
      expect(d.error).toBeUndefined();
      for (const layer of d.layers) {
        expect(coverageProblems(layer), `${d.kind} / ${layer.name}`).toEqual([]);
        layers++;
      }
      if (r.plaintext) expect(d.layers.map((l) => l.name)).toEqual(['datagram', 'unmasked header', 'authdata', 'message (RLP)', 'message fields']);
    }
    expect(layers).toBeGreaterThan(20);
    // The handshake's record is dissected field by field.
    const hs = records.find((r) => r.kind === 'handshake')!;
    const auth = dissectDiscv5(hs.raw, b.enr.nodeId).layers.find((l) => l.name === 'authdata')!;
    expect(auth.fields.map((f) => f.name)).toEqual(['src-id', 'sig-size', 'eph-key-size', 'id-signature', 'eph-pubkey', 'record']);
    expect(auth.fields.at(-1)!.children!.length).toBeGreaterThan(0);
  });

  it('a rejected datagram dissects to one layer with the reason', () => {
    const a = makePeer(1);
    const d = dissectDiscv5(new Uint8Array(70).fill(3), a.enr.nodeId);
    expect(d.error).toMatch(/protocol-id/);
    expect(coverageProblems(d.layers[0])).toEqual([]);
  });
});

describe('sanity of ids in events', () => {
  it('responses come only from the node asked', () => {
    const { a, b, wire } = pair();
    wire.command(a, { type: 'ping', to: b.contact });
    wire.run();
    expect(equalBytes(eventsOf(a, 'response')[0].to.nodeId, b.enr.nodeId)).toBe(true);
  });
});

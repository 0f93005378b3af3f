// The discv4 engine, both roles, on an in-memory wire: PING/PONG with ping-hash and enr-seq,
// the endpoint proof both ways, FINDNODE → NEIGHBORS within 1280 bytes, ENRRequest/ENRResponse
// with the request hash and record checked, lookups on the shared Kademlia code, and refusals.
import { describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../shared/bytes.ts';
import { keccak256 } from '../shared/crypto/hashes.ts';
import { compareDistance } from '../shared/kademlia/distance.ts';
import { createEnr, decodeEnr } from '../shared/enr/index.ts';
import { splitNeighbors } from '../shared/discv4/engine.ts';
import { decodePacket, encodePacket, neighborsSize } from '../shared/discv4/packet.ts';
import { wireKey } from '../shared/discv4/node.ts';
import { MAX_PACKET_SIZE } from '../shared/discv4/spec.ts';
import { makeV4Peer, V4Wire, v4Events, type V4Peer } from './helpers/discv4-wire.ts';
import { prng } from './helpers/prng.ts';

const kinds = (p: V4Peer, direction: 'in' | 'out') => p.records.filter((r) => r.direction === direction).map((r) => (r.rejected ? `rejected(${r.kind})` : r.kind));

describe('discv4 engine: PING/PONG and the endpoint proof', () => {
  it('a PING is answered with a PONG quoting its hash and the enr-seq; the pinged node pings back (reverse bonding)', () => {
    const a = makeV4Peer(1, 30001);
    const b = makeV4Peer(2, 30002);
    const wire = new V4Wire([a, b]);
    wire.command(a, { type: 'ping', to: b.node, requestId: 7 });
    const ping = a.records[0];
    wire.run();
    const [res] = v4Events(a, 'response');
    expect(res.requestId).toBe(7);
    if (res.kind !== 'ping') throw new Error('not a ping response');
    const pingHash = decodePacket(ping.raw).ok ? (decodePacket(ping.raw) as { ok: true; value: { hash: Uint8Array } }).value.hash : undefined;
    expect(toHex(res.pong.pingHash)).toBe(toHex(pingHash!));
    expect(res.pong.enrSeq).toBe(b.engine.enr!.seq);
    expect(res.pong.to).toEqual({ ip: '127.0.0.1', udp: 30001, tcp: 30001 });
    expect(kinds(b, 'out')).toEqual(['PONG', 'PING']);
    expect(kinds(a, 'out')).toEqual(['PING', 'PONG']);
    // Both sides now hold each other's endpoint proof.
    expect(a.engine.isVerified(b.node.nodeId, '127.0.0.1', wire.now)).toBe(true);
    expect(b.engine.isVerified(a.node.nodeId, '127.0.0.1', wire.now)).toBe(true);
    expect(a.engine.hasVerifiedUs(b.node.nodeId, '127.0.0.1', wire.now)).toBe(true);
    // The proof lasts 12 hours.
    expect(b.engine.isVerified(a.node.nodeId, '127.0.0.1', wire.now + 12 * 3600_000)).toBe(false);
    // Signature recovery is traced: signing hash, r, s, v → public key, node id.
    const rec = b.trace.find((t) => t.step === 'signature-recover')!;
    expect(rec.inputs.map((v) => v.name)).toEqual(['signing-hash', 'r', 's', 'v']);
    expect(rec.outputs.map((v) => v.name)).toEqual(['public-key', 'node-id']);
    expect(rec.outputs[1].hex).toBe(toHex(a.node.nodeId));
    expect(rec.outputs[0].hex).toBe(toHex(wireKey(a.node.publicKey)));
  });

  it('FINDNODE from a node without an endpoint proof is refused and unanswered; after bonding it is answered', () => {
    const a = makeV4Peer(3, 30003);
    const b = makeV4Peer(4, 30004);
    const wire = new V4Wire([a, b]);
    const forged = encodePacket({ type: 'FINDNODE', target: wireKey(a.node.publicKey), expiration: Math.floor(wire.now / 1000) + 20 }, a.key);
    wire.deliver({ from: a, to: b.endpoint, bytes: forged.raw });
    expect(b.records.at(-1)!.rejected).toMatch(/no endpoint proof/);
    expect(wire.inFlight).toHaveLength(0);
    // findnode through the engine bonds first: PING, PONG, their PING, our PONG, then FINDNODE.
    wire.command(a, { type: 'findnode', to: b.node, target: wireKey(a.node.publicKey), requestId: 1 });
    wire.run();
    expect(kinds(a, 'out')).toEqual(['PING', 'PONG', 'FINDNODE']);
    expect(kinds(b, 'out')).toEqual(['PONG', 'PING', 'NEIGHBORS']);
    const [res] = v4Events(a, 'response');
    expect(res.kind).toBe('findnode');
    expect(res.bonded).toBe(true);
  });

  it('a node that verified us within 12 h is asked at once, without a new PING', () => {
    const a = makeV4Peer(5, 30005);
    const b = makeV4Peer(6, 30006);
    const wire = new V4Wire([a, b]);
    wire.command(b, { type: 'ping', to: a.node, requestId: 1 }); // b pings a: a answers, so b has verified... a's PONG verifies a for b
    wire.run();
    const before = a.records.length;
    wire.command(a, { type: 'requestenr', to: b.node, requestId: 2 });
    wire.run();
    expect(a.records.slice(before).map((r) => `${r.direction} ${r.kind}`)).toEqual(['out ENRRequest', 'in ENRResponse']);
  });

  it('unsolicited PONG, NEIGHBORS and ENRResponse are refused and change no state', () => {
    const a = makeV4Peer(7, 30007);
    const b = makeV4Peer(8, 30008);
    const wire = new V4Wire([a, b]);
    const exp = Math.floor(wire.now / 1000) + 20;
    const packets = [
      encodePacket({ type: 'PONG', to: { ip: '127.0.0.1', udp: 30007, tcp: 0 }, pingHash: new Uint8Array(32), expiration: exp }, b.key),
      encodePacket({ type: 'NEIGHBORS', nodes: [{ ip: '127.0.0.1', udp: 1, tcp: 1, publicKey: wireKey(b.node.publicKey) }], expiration: exp }, b.key),
      encodePacket({ type: 'ENRResponse', requestHash: new Uint8Array(32), record: b.engine.enr!.raw }, b.key),
    ];
    for (const p of packets) wire.deliver({ from: b, to: a.endpoint, bytes: p.raw });
    expect(a.records.map((r) => r.rejected)).toEqual([expect.stringMatching(/PONG for no PING/), expect.stringMatching(/NEIGHBORS we did not ask/), expect.stringMatching(/ENRResponse for no ENRRequest/)]);
    expect(a.engine.isVerified(b.node.nodeId, '127.0.0.1', wire.now)).toBe(false);
    expect(a.engine.table.size).toBe(0);
    expect(a.events).toEqual([]);
    expect(wire.inFlight).toHaveLength(0);
  });

  it('expired packets are refused (expiration is checked against the injected clock)', () => {
    const a = makeV4Peer(9, 30009);
    const b = makeV4Peer(10, 30010);
    const wire = new V4Wire([a, b]);
    const old = encodePacket({ type: 'PING', version: 4, from: { ip: '127.0.0.1', udp: 30010, tcp: 0 }, to: { ip: '127.0.0.1', udp: 30009, tcp: 0 }, expiration: Math.floor(wire.now / 1000) - 1 }, b.key);
    wire.deliver({ from: b, to: a.endpoint, bytes: old.raw });
    expect(a.records[0].rejected).toMatch(/^expiration: expired/);
    expect(wire.inFlight).toHaveLength(0);
  });

  it('a PING that is never answered is sent again, then the request fails', () => {
    const a = makeV4Peer(11, 30011, { retries: 1, requestTimeoutMs: 100 });
    const wire = new V4Wire([a]);
    wire.command(a, { type: 'ping', to: makeV4Peer(12, 30012).node, requestId: 3 });
    wire.run();
    expect(a.records.map((r) => r.retransmit ?? false)).toEqual([false, true]);
    expect(v4Events(a, 'failure')[0]).toEqual({ type: 'failure', requestId: 3, reason: 'timeout: no PONG after 2 PINGs' });
  });
});

describe('discv4 engine: NEIGHBORS and ENR', () => {
  it('an answer of 16 IPv6 nodes is split over NEIGHBORS packets of at most 1280 bytes, and collected whole', () => {
    const a = makeV4Peer(13, 30013);
    const b = makeV4Peer(14, 30014);
    const wire = new V4Wire([a, b]);
    for (let i = 0; i < 16; i++) {
      const n = makeV4Peer(100 + i, 31000 + i, {}, `2001:db8::${i + 1}`).node;
      b.engine.table.seen(n, wire.now, true);
    }
    wire.command(a, { type: 'findnode', to: b.node, target: wireKey(a.node.publicKey), requestId: 1 });
    wire.run();
    const neighbors = b.records.filter((r) => r.kind === 'NEIGHBORS');
    expect(neighbors.length).toBeGreaterThanOrEqual(2);
    for (const r of neighbors) expect(r.raw.length).toBeLessThanOrEqual(MAX_PACKET_SIZE);
    const [res] = v4Events(a, 'response');
    if (res.kind !== 'findnode') throw new Error('no findnode response');
    expect(res.nodes).toHaveLength(16);
    expect(res.packets).toBe(neighbors.length);
    // Closest to the target first, as the table orders them.
    const target = keccak256(wireKey(a.node.publicKey));
    const ids = res.nodes.map((n) => n.nodeId);
    expect([...ids].sort((x, y) => compareDistance(target, x, y)).map(toHex)).toEqual(ids.map(toHex));
  });

  it('splitNeighbors packs greedily: every packet fits, none could take the next node', () => {
    const gen = prng(5);
    const nodes = Array.from({ length: 40 }, (_, i) => ({ ip: i % 2 ? '10.0.0.1' : 'fe80::1234:5678:9abc:def0', udp: 30303, tcp: 30303, publicKey: gen.bytes(64) }));
    const parts = splitNeighbors(nodes, 2_000_000_000);
    expect(parts.flat()).toEqual(nodes);
    parts.forEach((p, i) => {
      expect(neighborsSize(p, 2_000_000_000)).toBeLessThanOrEqual(1280);
      if (i < parts.length - 1) expect(neighborsSize([...p, parts[i + 1][0]], 2_000_000_000)).toBeGreaterThan(1280);
    });
  });

  it('ENRRequest is answered with the record; the answer is matched by request-hash and verified', () => {
    const a = makeV4Peer(15, 30015);
    const b = makeV4Peer(16, 30016);
    const wire = new V4Wire([a, b]);
    wire.command(a, { type: 'requestenr', to: b.node, requestId: 9 });
    wire.run();
    const [res] = v4Events(a, 'response');
    if (res.kind !== 'requestenr') throw new Error('no ENR');
    expect(toHex(res.enr.raw)).toBe(toHex(b.engine.enr!.raw));
    const req = a.records.find((r) => r.kind === 'ENRRequest')!;
    const resp = b.records.find((r) => r.kind === 'ENRResponse')!;
    const reqHash = (decodePacket(req.raw) as { ok: true; value: { hash: Uint8Array } }).value.hash;
    const m = (decodePacket(resp.raw) as { ok: true; value: { message: { requestHash: Uint8Array } } }).value.message;
    expect(equalBytes(m.requestHash, reqHash)).toBe(true);
  });

  it('a record signed by another key than the packet is refused, and the request times out', () => {
    const a = makeV4Peer(17, 30017, { requestTimeoutMs: 200 });
    const other = makeV4Peer(18, 1);
    const b = makeV4Peer(19, 30019, { enr: createEnr({ privateKey: other.key, ip: '127.0.0.1', udp: 30019 }) });
    const wire = new V4Wire([a, b]);
    wire.command(a, { type: 'requestenr', to: b.node, requestId: 1 });
    wire.run();
    expect(a.records.find((r) => r.kind === 'ENRResponse')!.rejected).toBe('the record is signed by another key than the packet');
    expect(v4Events(a, 'failure')[0].reason).toMatch(/timeout: no ENRResponse/);
    expect(decodeEnr(b.engine.enr!.raw).ok).toBe(true);
  });
});

describe('discv4 engine: lookup on the shared Kademlia code', () => {
  it('a lookup from one bootnode returns the true k closest nodes of the network', () => {
    const boot = makeV4Peer(200, 32000);
    const others = Array.from({ length: 24 }, (_, i) => makeV4Peer(201 + i, 32001 + i));
    const a = makeV4Peer(300, 32100);
    const wire = new V4Wire([boot, ...others, a]);
    // Every node bonds with the bootnode, which then knows them all (as the lab does).
    others.forEach((o, i) => wire.command(o, { type: 'ping', to: boot.node, requestId: i + 1 }));
    wire.run(5000);
    expect(boot.engine.table.size).toBe(24);
    const targetKey = prng(9).bytes(64);
    const target = keccak256(targetKey);
    wire.command(a, { type: 'lookup', lookupId: 1, target: targetKey, seeds: [boot.node] });
    wire.run(5000);
    const done = v4Events(a, 'lookup').find((e) => e.event.type === 'done')!;
    if (done.event.type !== 'done') throw new Error('lookup not done');
    const k = 16;
    const truth = [boot, ...others].map((p) => p.node.nodeId).sort((x, y) => compareDistance(target, x, y)).slice(0, k).map(toHex);
    expect(done.event.closest.map((n) => toHex(n.nodeId))).toEqual(truth);
  });

  it('a lookup whose query meets a FINDNODE already in flight to that node still ends', () => {
    const a = makeV4Peer(400, 33000);
    const b = makeV4Peer(401, 33001);
    const wire = new V4Wire([a, b]);
    wire.command(a, { type: 'findnode', to: b.node, target: wireKey(b.node.publicKey), requestId: 1 });
    wire.command(a, { type: 'lookup', lookupId: 7, target: wireKey(b.node.publicKey), seeds: [b.node] });
    const failed = v4Events(a, 'lookup').find((e) => e.event.type === 'failed');
    expect(failed?.event.type === 'failed' && failed.event.reason).toMatch(/already waiting/);
    expect(v4Events(a, 'lookup').some((e) => e.lookupId === 7 && e.event.type === 'done')).toBe(true);
    wire.run();
    expect(v4Events(a, 'response')[0].kind).toBe('findnode');
  });
});

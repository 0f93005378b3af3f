// The behaviour layer over the engine: the routing table fills on verified contact only, its
// entries are revalidated on an injected clock (dead ones replaced), FINDNODE answers relay
// verified entries only, newer records are fetched, and PONG votes move our address.
import { describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../shared/bytes.ts';
import { logDistance } from '../shared/kademlia/distance.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { contactFromEnr } from '../shared/discv5/engine.ts';
import { Discv5Node, type NodeEvent, type NodeOutput } from '../shared/discv5/node.ts';
import { createEnr, udpEndpoint, type Enr } from '../shared/enr/index.ts';
import { endpointKey, type Endpoint } from '../shared/transport.ts';
import { prng } from './helpers/prng.ts';

interface Member {
  node: Discv5Node;
  /** Where its datagrams really come from (may differ from its ENR: a NAT). */
  endpoint: Endpoint;
  events: NodeEvent[];
}

/** Nodes on an in-memory network: every output is delivered at once, in order (bounded). A member
 *  that is `down` receives nothing. The clock moves only when the test advances it. */
class Net {
  now = 1;
  readonly members: Member[] = [];
  readonly down = new Set<Member>();
  add(seed: number, options: { autoAddress?: boolean; advertised?: Endpoint; k?: number } = {}): Member {
    const gen = prng(seed);
    const random = (n: number) => gen.bytes(n);
    const privateKey = randomPrivateKey(random);
    const endpoint = { ip: '127.0.0.1', port: 20000 + seed };
    const shown = options.advertised ?? endpoint;
    const enr = createEnr({ privateKey, ip: shown.ip, udp: shown.port });
    const m: Member = { node: new Discv5Node({ privateKey, enr, random, autoAddress: options.autoAddress ?? false, ...(options.k ? { k: options.k } : {}) }), endpoint, events: [] };
    this.members.push(m);
    return m;
  }
  run(from: Member, out: NodeOutput): void {
    const queue: { from: Member; out: NodeOutput }[] = [{ from, out }];
    for (let i = 0; i < queue.length && i < 5000; i++) {
      const { from: sender, out: o } = queue[i];
      sender.events.push(...o.events);
      for (const s of o.send) {
        const to = this.members.find((m) => endpointKey(m.endpoint) === endpointKey(s.to));
        if (!to || this.down.has(to)) continue;
        this.now += 1;
        queue.push({ from: to, out: to.node.receive(s.bytes, sender.endpoint, this.now) });
      }
    }
  }
  /** Moves the clock to `until`, ticking each node at its deadlines on the way (bounded). */
  advance(until: number): void {
    for (let i = 0; i < 10_000; i++) {
      let next: { m: Member; at: number } | undefined;
      for (const m of this.members) {
        const at = this.down.has(m) ? undefined : m.node.nextDeadline();
        if (at !== undefined && at <= until && (!next || at < next.at)) next = { m, at };
      }
      if (!next) break;
      this.now = Math.max(this.now, next.at);
      this.run(next.m, next.m.node.tick(this.now));
    }
    this.now = Math.max(this.now, until);
  }
}

/** The times (ms) a node started liveness checks, and of whom. */
const checks = (m: Member) => m.events.flatMap((e, i) => (e.type === 'liveness-check' ? [{ i, id: toHex(e.enr.nodeId) }] : []));

const contact = (m: Member) => contactFromEnr(m.node.enr)!;

describe('routing table', () => {
  it('a node enters the table when it proves itself at the address in its record, both ways', () => {
    const net = new Net();
    const a = net.add(1);
    const b = net.add(2);
    net.run(a, a.node.command({ type: 'ping', to: contact(b) }, net.now));
    expect(a.node.table.get(b.node.localId)).toBeDefined();
    expect(b.node.table.get(a.node.localId)).toBeDefined();
    expect(a.events.some((e) => e.type === 'table' && e.change === 'added')).toBe(true);
  });

  it('a node whose packets come from another address than its record does not enter', () => {
    const net = new Net();
    const a = net.add(1, { advertised: { ip: '127.0.0.1', port: 1 } });
    const b = net.add(2);
    net.run(a, a.node.command({ type: 'ping', to: contact(b) }, net.now));
    expect(b.node.table.get(a.node.localId)).toBeUndefined();
    expect(a.node.table.get(b.node.localId)).toBeDefined();
  });

  it('FINDNODE relays only entries whose liveness is verified: those that contacted us once they answer our PING', () => {
    const net = new Net();
    const hub = net.add(10);
    const others = [11, 12, 13, 14, 15, 16].map((s) => net.add(s));
    for (const o of others) net.run(o, o.node.command({ type: 'ping', to: contact(hub) }, net.now));
    // All six are in the hub's table, none verified yet: a FINDNODE now gets none of them.
    expect(hub.node.table.size).toBe(others.length);
    const distances = [...new Set(others.map((o) => logDistance(o.node.localId, hub.node.localId)))];
    const ask = (seed: number) => {
      const asker = net.add(seed);
      net.run(asker, asker.node.command({ type: 'findnode', to: contact(hub), distances }, net.now));
      const res = asker.events.find((e) => e.type === 'response');
      return new Set(res?.type === 'response' ? res.records?.map((r) => toHex(r.nodeId)) : []);
    };
    expect(ask(20).size).toBe(0);
    // Revalidation pings each newcomer (one a second); each answers and becomes relayable.
    net.advance(net.now + 7000);
    const pinged = new Set(checks(hub).map((c) => c.id));
    for (const o of others) expect(pinged).toContain(toHex(o.node.localId));
    expect(others.every((o) => hub.node.table.isVerified(o.node.localId))).toBe(true);
    const returned = ask(21);
    // The first asker is in the table too by now (its handshake carried its record, and it was pinged).
    const expected = new Set(hub.node.table.buckets().flatMap((b) => b.entries).filter((e) => distances.includes(logDistance(e.nodeId, hub.node.localId)) && hub.node.table.isVerified(e.nodeId)).map((e) => toHex(e.nodeId)));
    expect(returned).toEqual(expected);
    for (const o of others) expect(returned).toContain(toHex(o.node.localId));
  });

  it('a PONG with a higher enr-seq makes us fetch the newer record', () => {
    const net = new Net();
    const a = net.add(1);
    const b = net.add(2);
    net.run(a, a.node.command({ type: 'ping', to: contact(b) }, net.now));
    b.node.updateLocalEnr({ tcp: 30303 }, 'test');
    net.run(a, a.node.command({ type: 'ping', to: contact(b) }, net.now));
    const stored = a.node.table.get(b.node.localId) as Enr;
    expect(stored.seq).toBe(2n);
    expect(stored.tcp).toBe(30303);
  });
});

describe('table revalidation (injected clock)', () => {
  it('a new entry is pinged about a second after it enters, one newcomer per second, and answers verify it', () => {
    const net = new Net();
    const hub = net.add(30);
    const others = [31, 32, 33].map((s) => net.add(s));
    const t0 = net.now;
    for (const o of others) net.run(o, o.node.command({ type: 'ping', to: contact(hub) }, net.now));
    expect(hub.node.nextDeadline()).toBeGreaterThanOrEqual(t0 + 1000);
    expect(hub.node.nextDeadline()).toBeLessThan(t0 + 1100);
    const times: number[] = [];
    for (let t = net.now; t < t0 + 4000; t += 50) {
      const before = checks(hub).length;
      net.advance(t);
      if (checks(hub).length > before) times.push(net.now);
    }
    expect(times).toHaveLength(3);
    // One a second: newcomers are checked in turn, the traffic stays bounded.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(1000);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(1000);
    expect(hub.events.filter((e) => e.type === 'table' && e.change === 'verified')).toHaveLength(3);
    // Nothing more until their answers are 30 s old.
    const quiet = checks(hub).length;
    net.advance(t0 + 25_000);
    expect(checks(hub).length).toBe(quiet);
    expect(hub.node.nextDeadline()).toBeGreaterThanOrEqual(t0 + 31_000);
  });

  it('verified entries are pinged again once their last answer is 30 s old, at most one every 3 s', () => {
    const net = new Net();
    const hub = net.add(40);
    const others = [41, 42, 43].map((s) => net.add(s));
    // The hub asks them: their answers verify them at once.
    for (const o of others) net.run(hub, hub.node.command({ type: 'ping', to: contact(o) }, net.now));
    expect(others.every((o) => hub.node.table.isVerified(o.node.localId))).toBe(true);
    const t0 = net.now;
    net.advance(t0 + 29_000);
    expect(checks(hub)).toHaveLength(0);
    const times: number[] = [];
    for (let t = t0 + 29_000; t < t0 + 40_000; t += 100) {
      const before = checks(hub).length;
      net.advance(t);
      if (checks(hub).length > before) times.push(net.now);
    }
    expect(times.length).toBe(3);
    expect(times[0]).toBeGreaterThanOrEqual(t0 + 30_000 - 10);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(3000);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(3000);
  });

  it('a node that stops answering fails its check, leaves the table and NODES answers; the newest replacement takes its slot', () => {
    const net = new Net();
    // k = 1: one entry per bucket, so a second node in the same bucket waits as a replacement.
    const hub = net.add(50, { k: 1 });
    const bucketOf = (m: Member) => logDistance(m.node.localId, hub.node.localId);
    const candidates = Array.from({ length: 12 }, (_, i) => net.add(51 + i));
    const first = candidates[0];
    const second = candidates.slice(1).find((c) => bucketOf(c) === bucketOf(first))!;
    expect(second).toBeDefined();
    net.run(hub, hub.node.command({ type: 'ping', to: contact(first) }, net.now));
    net.run(hub, hub.node.command({ type: 'ping', to: contact(second) }, net.now));
    // Full bucket: the least recently seen entry (first) was pinged, answered, and stays.
    expect(hub.node.table.get(first.node.localId)).toBeDefined();
    expect(hub.node.table.buckets().find((b) => b.distance === bucketOf(first))?.replacements.map((r) => toHex(r.nodeId))).toEqual([toHex(second.node.localId)]);
    net.down.add(first);
    const t0 = net.now;
    net.advance(t0 + 45_000);
    const removed = hub.events.find((e) => e.type === 'table' && e.change === 'removed');
    expect(removed?.type === 'table' && toHex(removed.enr.nodeId)).toBe(toHex(first.node.localId));
    expect(hub.node.table.get(first.node.localId)).toBeUndefined();
    // The replacement entered, was checked in its turn and answered.
    expect(hub.node.table.get(second.node.localId)).toBeDefined();
    expect(hub.node.table.isVerified(second.node.localId)).toBe(true);
    const asker = net.add(99);
    net.run(asker, asker.node.command({ type: 'findnode', to: contact(hub), distances: [bucketOf(first)] }, net.now));
    const res = asker.events.find((e) => e.type === 'response');
    const ids = res?.type === 'response' ? res.records?.map((r) => toHex(r.nodeId)) : [];
    expect(ids).not.toContain(toHex(first.node.localId));
    expect(ids).toContain(toHex(second.node.localId));
  });
});

describe('external address from PONG votes', () => {
  function natted(autoAddress: boolean) {
    const net = new Net();
    // Our record says port 1; peers see the port we really send from.
    const me = net.add(1, { autoAddress, advertised: { ip: '127.0.0.1', port: 1 } });
    const peers = [2, 3, 4, 5].map((s) => net.add(s));
    for (const p of peers) net.run(me, me.node.command({ type: 'ping', to: contact(p) }, net.now));
    return { me };
  }

  it('with autoAddress, a clear majority moves our ENR to the observed address and bumps seq', () => {
    const { me } = natted(true);
    expect(udpEndpoint(me.node.enr)).toEqual(me.endpoint);
    expect(me.node.enr.seq).toBe(2n);
    const updates = me.events.filter((e) => e.type === 'enr-updated');
    expect(updates).toHaveLength(1);
    expect(equalBytes(me.node.engine.enr.raw, me.node.enr.raw)).toBe(true);
  });

  it('off by default (a fixed address): the record stays', () => {
    const { me } = natted(false);
    expect(udpEndpoint(me.node.enr)).toEqual({ ip: '127.0.0.1', port: 1 });
    expect(me.node.enr.seq).toBe(1n);
  });
});

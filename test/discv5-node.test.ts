// The behaviour layer over the engine: the routing table fills on verified contact only,
// FINDNODE answers come from it, newer records are fetched, and PONG votes move our address.
import { describe, expect, it } from 'vitest';
import { equalBytes, logDistance, toHex } from '../shared/bytes.ts';
import { randomPrivateKey } from '../shared/crypto.ts';
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

/** Nodes on an in-memory network: every output is delivered at once, in order (bounded). */
class Net {
  now = 1;
  readonly members: Member[] = [];
  add(seed: number, options: { autoAddress?: boolean; advertised?: Endpoint } = {}): Member {
    const gen = prng(seed);
    const random = (n: number) => gen.bytes(n);
    const privateKey = randomPrivateKey(random);
    const endpoint = { ip: '127.0.0.1', port: 20000 + seed };
    const shown = options.advertised ?? endpoint;
    const enr = createEnr({ privateKey, ip: shown.ip, udp: shown.port });
    const m: Member = { node: new Discv5Node({ privateKey, enr, random, autoAddress: options.autoAddress ?? false }), endpoint, events: [] };
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
        if (!to) continue;
        this.now += 1;
        queue.push({ from: to, out: to.node.receive(s.bytes, sender.endpoint, this.now) });
      }
    }
  }
}

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

  it('FINDNODE is answered from the table: verified nodes only, at the asked distance', () => {
    const net = new Net();
    const hub = net.add(10);
    const others = [11, 12, 13, 14, 15, 16].map((s) => net.add(s));
    for (const o of others) net.run(o, o.node.command({ type: 'ping', to: contact(hub) }, net.now));
    const asker = net.add(20);
    const distances = [256, 255, 254, 253];
    net.run(asker, asker.node.command({ type: 'findnode', to: contact(hub), distances }, net.now));
    const res = asker.events.find((e) => e.type === 'response');
    const returned = new Set(res?.type === 'response' ? res.records?.map((r) => toHex(r.nodeId)) : []);
    // The table: the six that pinged, and the asker (its handshake verified it too).
    const inTable = hub.node.table.buckets().flatMap((b) => b.entries);
    expect(inTable).toHaveLength(others.length + 1);
    // The asker entered the table after its FINDNODE was answered (its handshake carried it).
    const before = inTable.filter((e) => !equalBytes(e.nodeId, asker.node.localId));
    const expected = new Set(before.filter((e) => distances.includes(logDistance(e.nodeId, hub.node.localId))).map((e) => toHex(e.nodeId)));
    expect(returned).toEqual(expected);
    expect(returned.size).toBeGreaterThan(0);
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

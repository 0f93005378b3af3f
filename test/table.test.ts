import { describe, expect, it } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { logDistance } from '../shared/kademlia/distance.ts';
import { RoutingTable } from '../shared/kademlia/table.ts';
import { idAtDistance, prng, xorDistance } from './helpers/prng.ts';

interface Node {
  nodeId: Uint8Array;
  seq?: number;
}

const hexes = (nodes: Node[]): string[] => nodes.map((n) => toHex(n.nodeId));

function bruteClosest(ids: Uint8Array[], target: Uint8Array, count: number): string[] {
  return [...ids]
    .sort((a, b) => {
      const da = xorDistance(a, target);
      const db = xorDistance(b, target);
      return da < db ? -1 : da > db ? 1 : 0;
    })
    .slice(0, count)
    .map(toHex);
}

describe('RoutingTable placement', () => {
  it('puts each node in the bucket of its log-distance', () => {
    const rng = prng(1);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local);
    for (const d of [1, 2, 7, 8, 9, 64, 200, 255, 256]) {
      const id = idAtDistance(local, d, rng);
      expect(logDistance(local, id)).toBe(d);
      expect(table.seen({ nodeId: id }, 0)).toEqual({ status: 'added', bucket: d });
      expect(hexes(table.atDistance(d))).toEqual([toHex(id)]);
      expect(table.get(id)?.nodeId).toEqual(id);
    }
    expect(table.size).toBe(9);
    expect(table.buckets().map((b) => b.distance)).toEqual([1, 2, 7, 8, 9, 64, 200, 255, 256]);
    expect(table.atDistance(3)).toEqual([]);
  });

  it('refuses the local id and ids of the wrong length', () => {
    const local = prng(2).bytes(32);
    const table = new RoutingTable<Node>(local);
    expect(table.seen({ nodeId: local.slice() }, 0)).toEqual({ status: 'self' });
    expect(table.seen({ nodeId: new Uint8Array(31) }, 0)).toEqual({ status: 'rejected' });
    expect(table.seen({ nodeId: new Uint8Array(33) }, 0)).toEqual({ status: 'rejected' });
    expect(table.size).toBe(0);
    expect(table.get(local)).toBeUndefined();
  });

  it('atDistance gives nothing outside 1..256', () => {
    const rng = prng(3);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local);
    table.seen({ nodeId: idAtDistance(local, 1, rng) }, 0);
    table.seen({ nodeId: idAtDistance(local, 256, rng) }, 0);
    expect(table.atDistance(1)).toHaveLength(1);
    expect(table.atDistance(256)).toHaveLength(1);
    for (const d of [0, -1, 257, 1.5, NaN]) expect(table.atDistance(d)).toEqual([]);
  });

  it('moves a node seen again to the most-recent end and takes its newer record', () => {
    const rng = prng(4);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local);
    const ids = [0, 1, 2].map(() => idAtDistance(local, 250, rng));
    ids.forEach((nodeId, i) => table.seen({ nodeId, seq: 1 }, 10 * i));
    expect(hexes(table.atDistance(250))).toEqual(ids.map(toHex));

    expect(table.seen({ nodeId: ids[0], seq: 2 }, 100)).toEqual({ status: 'updated', bucket: 250 });
    expect(hexes(table.atDistance(250))).toEqual([ids[1], ids[2], ids[0]].map(toHex));
    expect(table.get(ids[0])?.seq).toBe(2);
    expect(table.lastSeen(ids[0])).toBe(100);
    expect(table.lastSeen(ids[1])).toBe(10);
    expect(table.size).toBe(3);
  });
});

describe('RoutingTable full buckets', () => {
  function fullBucket(seed: number, options?: { k?: number; replacements?: number }) {
    const rng = prng(seed);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local, options);
    const k = options?.k ?? 16;
    const ids = Array.from({ length: k }, () => idAtDistance(local, 256, rng));
    ids.forEach((nodeId, i) => expect(table.seen({ nodeId }, i).status).toBe('added'));
    return { rng, local, table, ids };
  }

  it('holds k = 16 per bucket and names the least-recently-seen entry as ping candidate', () => {
    const { rng, local, table, ids } = fullBucket(5);
    expect(table.size).toBe(16);
    const newcomer = idAtDistance(local, 256, rng);
    const r = table.seen({ nodeId: newcomer }, 100);
    expect(r.status).toBe('full');
    if (r.status !== 'full') return;
    expect(r.bucket).toBe(256);
    expect(toHex(r.pingCandidate.nodeId)).toBe(toHex(ids[0]));
    expect(table.size).toBe(16);
    expect(table.get(newcomer)).toBeUndefined();
    expect(hexes(table.buckets()[0].replacements)).toEqual([toHex(newcomer)]);

    // Seeing the LRS node again makes the next-oldest one the candidate.
    table.seen({ nodeId: ids[0] }, 101);
    const again = table.seen({ nodeId: idAtDistance(local, 256, rng) }, 102);
    expect(again.status === 'full' && toHex(again.pingCandidate.nodeId)).toBe(toHex(ids[1]));
    // Other buckets are unaffected by this one being full.
    expect(table.seen({ nodeId: idAtDistance(local, 255, rng) }, 103).status).toBe('added');
  });

  it('pingResult alive keeps the candidate (now most recent) and the replacement cached', () => {
    const { rng, local, table, ids } = fullBucket(6);
    const newcomer = idAtDistance(local, 256, rng);
    table.seen({ nodeId: newcomer }, 100);
    expect(table.pingResult(ids[0], true, 200)).toBeUndefined();
    const bucket = table.buckets()[0];
    expect(hexes(bucket.entries)).toEqual([...ids.slice(1), ids[0]].map(toHex));
    expect(hexes(bucket.replacements)).toEqual([toHex(newcomer)]);
    expect(table.lastSeen(ids[0])).toBe(200);
    expect(table.size).toBe(16);
  });

  it('pingResult dead evicts the candidate and promotes the newest replacement', () => {
    const { rng, local, table, ids } = fullBucket(7);
    const older = idAtDistance(local, 256, rng);
    const newer = idAtDistance(local, 256, rng);
    table.seen({ nodeId: older }, 100);
    table.seen({ nodeId: newer }, 101);
    const entered = table.pingResult(ids[0], false, 200);
    expect(entered && toHex(entered.nodeId)).toBe(toHex(newer));
    expect(table.get(ids[0])).toBeUndefined();
    expect(table.get(newer)).toBeDefined();
    expect(table.lastSeen(newer)).toBe(101);
    expect(table.size).toBe(16);
    const bucket = table.buckets()[0];
    expect(hexes(bucket.entries)).toEqual([...ids.slice(1), newer].map(toHex));
    expect(hexes(bucket.replacements)).toEqual([toHex(older)]);

    // With the cache empty, a dead entry just leaves.
    table.pingResult(ids[1], false, 300); // promotes `older`
    expect(table.pingResult(ids[2], false, 301)).toBeUndefined();
    expect(table.size).toBe(15);
    // ...and the bucket takes newcomers directly again.
    expect(table.seen({ nodeId: idAtDistance(local, 256, rng) }, 302).status).toBe('added');
  });

  it('a promoted replacement is placed by its lastSeen time', () => {
    const { rng, local, table, ids } = fullBucket(8, { k: 4 });
    const repl = idAtDistance(local, 256, rng);
    table.seen({ nodeId: repl }, 1.5); // seen between ids[1] (1) and ids[2] (2)
    table.pingResult(ids[0], false, 10);
    expect(hexes(table.atDistance(256))).toEqual([ids[1], repl, ids[2], ids[3]].map(toHex));
  });

  it('bounds the replacement cache, keeping the newest', () => {
    const { rng, local, table } = fullBucket(9, { k: 4, replacements: 2 });
    const extra = Array.from({ length: 5 }, () => idAtDistance(local, 256, rng));
    extra.forEach((nodeId, i) => table.seen({ nodeId }, 100 + i));
    expect(hexes(table.buckets()[0].replacements)).toEqual(extra.slice(3).map(toHex));
    // A cached node seen again becomes the newest replacement, without duplication.
    table.seen({ nodeId: extra[3] }, 200);
    expect(hexes(table.buckets()[0].replacements)).toEqual([extra[4], extra[3]].map(toHex));
  });

  it('replacements = 0 keeps no cache', () => {
    const { rng, local, table, ids } = fullBucket(10, { k: 2, replacements: 0 });
    expect(table.seen({ nodeId: idAtDistance(local, 256, rng) }, 5).status).toBe('full');
    expect(table.buckets()[0].replacements).toEqual([]);
    expect(table.pingResult(ids[0], false, 6)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it('remove() frees the slot for the newest replacement; unknown ids give false', () => {
    const { rng, local, table, ids } = fullBucket(11, { k: 3 });
    const repl = idAtDistance(local, 256, rng);
    table.seen({ nodeId: repl }, 50);
    expect(table.remove(ids[1])).toBe(true);
    expect(hexes(table.atDistance(256))).toEqual([ids[0], ids[2], repl].map(toHex));
    expect(table.remove(ids[1])).toBe(false);
    expect(table.remove(idAtDistance(local, 256, rng))).toBe(false);
    expect(table.remove(local)).toBe(false);
    expect(table.size).toBe(3);
    expect(table.buckets()[0].replacements).toEqual([]);
  });

  it('rejects bad options', () => {
    const local = new Uint8Array(32);
    expect(() => new RoutingTable(local, { k: 0 })).toThrow(RangeError);
    expect(() => new RoutingTable(local, { k: 2.5 })).toThrow(RangeError);
    expect(() => new RoutingTable(local, { replacements: -1 })).toThrow(RangeError);
  });
});

describe('RoutingTable.closest', () => {
  it('matches a brute-force XOR sort over 300 random ids (all stored)', () => {
    const rng = prng(12);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local, { k: 1000 });
    const ids = Array.from({ length: 300 }, () => rng.bytes(32));
    for (const nodeId of ids) expect(table.seen({ nodeId }, 0).status).toBe('added');
    expect(table.size).toBe(300);
    const targets = [local, ids[17], ...Array.from({ length: 25 }, () => rng.bytes(32))];
    for (const target of targets) {
      const truth = bruteClosest(ids, target, ids.length);
      for (const count of [1, 16, 50, 300, 400]) {
        expect(hexes(table.closest(target, count))).toEqual(truth.slice(0, count));
      }
    }
    expect(table.closest(local, 0)).toEqual([]);
  });

  it('matches brute force over what a k = 16 table keeps of 400 random ids', () => {
    const rng = prng(13);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local);
    const stored: Uint8Array[] = [];
    let full = 0;
    for (let i = 0; i < 400; i++) {
      const nodeId = rng.bytes(32);
      const r = table.seen({ nodeId }, i);
      if (r.status === 'added') stored.push(nodeId);
      else if (r.status === 'full') full++;
    }
    // Random ids crowd the far buckets, so many must have been turned away.
    expect(full).toBeGreaterThan(100);
    expect(table.size).toBe(stored.length);
    for (const b of table.buckets()) expect(b.entries.length).toBeLessThanOrEqual(16);
    for (let t = 0; t < 25; t++) {
      const target = rng.bytes(32);
      expect(hexes(table.closest(target, 16))).toEqual(bruteClosest(stored, target, 16));
    }
  });
});

describe('RoutingTable liveness state', () => {
  it('an entry is verified only once it answered us; only verified entries are relayable', () => {
    const rng = prng(7);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local);
    const a = { nodeId: idAtDistance(local, 200, rng) };
    const b = { nodeId: idAtDistance(local, 200, rng) };
    table.seen(a, 10); // it contacted us (a handshake): in the table, not verified
    table.seen(b, 11, true); // it answered a request of ours
    expect(table.isVerified(a.nodeId)).toBe(false);
    expect(table.isVerified(b.nodeId)).toBe(true);
    expect(hexes(table.atDistance(200)).sort()).toEqual(hexes([a, b]).sort());
    expect(hexes(table.verifiedAtDistance(200))).toEqual(hexes([b]));
    // Seen again without answering: still verified (b), still not (a).
    table.seen(b, 20);
    table.seen(a, 21);
    expect(hexes(table.verifiedAtDistance(200))).toEqual(hexes([b]));
    table.pingResult(a.nodeId, true, 30);
    expect(hexes(table.verifiedAtDistance(200)).sort()).toEqual(hexes([a, b]).sort());
    const states = [...table.states()];
    expect(states.find((s) => toHex(s.entry.nodeId) === toHex(a.nodeId))?.checkedAt).toBe(30);
    expect(states.find((s) => toHex(s.entry.nodeId) === toHex(b.nodeId))?.checkedAt).toBe(11);
    expect(table.verifiedAtDistance(0)).toEqual([]);
  });

  it('a replacement promoted after a failed check enters unverified, due for its own check', () => {
    const rng = prng(8);
    const local = rng.bytes(32);
    const table = new RoutingTable<Node>(local, { k: 1 });
    const a = { nodeId: idAtDistance(local, 256, rng) };
    const b = { nodeId: idAtDistance(local, 256, rng) };
    table.seen(a, 1, true);
    expect(table.seen(b, 2, true).status).toBe('full');
    const v = table.version;
    expect(table.pingResult(a.nodeId, false, 50)?.nodeId).toEqual(b.nodeId);
    expect(table.version).toBeGreaterThan(v);
    expect(table.isVerified(b.nodeId)).toBe(false);
    expect([...table.states()][0]).toMatchObject({ verified: false, checkedAt: 50 });
  });
});

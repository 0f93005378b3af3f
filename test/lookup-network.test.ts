// An iterative lookup through a real DHT: 24 @chainsafe/discv5 nodes on 127.0.0.1 that know
// each other (the playground's lab). From one bootstrap record our node must find the k = 16
// nodes closest to a target, checked against the set computed from all the nodes' ids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../shared/bytes.ts';
import { logDistance } from '../shared/kademlia/distance.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv5Driver } from '../shared/discv5/driver.ts';
import type { LookupEvent } from '../shared/kademlia/lookup.ts';
import { Discv5Node } from '../shared/discv5/node.ts';
import { createEnr, type Enr } from '../shared/enr/index.ts';
import { secureRandom } from '../shared/random.ts';
import { nodeDatagramTransport } from '../bridge/node-transport.ts';
import { startLab, type Lab } from '../bridge/lab.ts';
import { ours } from './helpers/chainsafe.ts';
import { prng, xorDistance } from './helpers/prng.ts';

const SIZE = 24;
const K = 16;

let lab: Lab;
let ids: Uint8Array[];

beforeAll(async () => {
  lab = await startLab({ size: SIZE });
  ids = lab.peers.map((p) => fromHex(p.nodeId));
}, 30_000);

afterAll(async () => {
  await lab?.close();
});

/** The k closest of all lab node ids to `target`, by XOR distance (brute force). */
function expectedClosest(target: Uint8Array): string[] {
  return [...ids].sort((a, b) => (xorDistance(a, target) < xorDistance(b, target) ? -1 : 1)).slice(0, K).map(toHex);
}

/**
 * A fresh node of ours that knows only `bootstrap`, looking up `target`. By default its record has
 * no address (a client, as the CLI's): the lab cannot enter it in its tables, so one test's node
 * does not linger in the DHT as a dead entry for the next.
 */
async function lookupFrom(bootstrap: Enr, target: Uint8Array, advertise = false) {
  const socket = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: 0 });
  const key = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey: key, ...(advertise ? { ip: '127.0.0.1', udp: socket.local.port } : {}) });
  const node = new Discv5Node({ privateKey: key, enr, requestTimeoutMs: 1000, retries: 1 });
  const driver = new Discv5Driver(node, socket);
  const steps: LookupEvent<Enr>[] = [];
  driver.listen({ event: (e) => e.type === 'lookup' && steps.push(e.event) });
  const started = performance.now();
  try {
    const closest = await driver.lookup(target, [bootstrap]);
    return { closest, steps, ms: performance.now() - started, tableSize: node.table.size, localId: node.localId };
  } finally {
    driver.close();
  }
}

describe(`lookup over ${SIZE} @chainsafe/discv5 nodes on loopback`, () => {
  const rng = prng(0xd15c5);

  it('the lab nodes form a DHT: each one knows all the others its k-buckets can hold', () => {
    // With random ids a bucket (usually distance 256) can have more than k = 16 candidates.
    for (const [i, n] of lab.nodes.entries()) {
      const perBucket = new Map<number, number>();
      for (const [j, id] of ids.entries()) if (j !== i) perBucket.set(logDistance(ids[i], id), (perBucket.get(logDistance(ids[i], id)) ?? 0) + 1);
      const fits = [...perBucket.values()].reduce((sum, c) => sum + Math.min(c, K), 0);
      expect(n.kadValues().length).toBe(fits);
    }
  });

  for (let round = 0; round < 4; round++) {
    it(`finds the ${K} closest nodes to a random target from one bootstrap record (target ${round + 1})`, async () => {
      const target = rng.bytes(32);
      const bootstrap = ours(lab.peers[rng.int(SIZE)].enr);
      const { closest, steps, ms, tableSize } = await lookupFrom(bootstrap, target);
      expect(closest.map((e) => toHex(e.nodeId))).toEqual(expectedClosest(target));
      const queried = steps.filter((s) => s.type === 'queried');
      const answered = steps.filter((s) => s.type === 'answered');
      expect(steps.filter((s) => s.type === 'failed')).toEqual([]);
      // Not one answer: the lookup walked the DHT, and every one of the k closest answered it.
      expect(queried.length).toBeGreaterThanOrEqual(K);
      expect(answered.length).toBe(queried.length);
      const answeredIds = new Set(answered.map((s) => (s.type === 'answered' ? toHex(s.node.nodeId) : '')));
      for (const id of expectedClosest(target)) expect(answeredIds).toContain(id);
      const done = steps.at(-1);
      expect(done?.type).toBe('done');
      // Nodes that answered were verified contacts: they entered our table.
      expect(tableSize).toBeGreaterThanOrEqual(K);
      expect(ms).toBeLessThan(10_000);
    }, 20_000);
  }

  it('a lookup for a node id in the DHT finds that node first', async () => {
    const wanted = lab.peers[rng.int(SIZE)];
    let bootstrap = lab.peers[rng.int(SIZE)];
    if (bootstrap === wanted) bootstrap = lab.peers[(lab.peers.indexOf(wanted) + 1) % SIZE];
    const target = fromHex(wanted.nodeId);
    const { closest } = await lookupFrom(ours(bootstrap.enr), target);
    expect(toHex(closest[0].nodeId)).toBe(wanted.nodeId);
    expect(closest.map((e) => toHex(e.nodeId))).toEqual(expectedClosest(target));
  }, 20_000);

  it('dead records in the DHT (a node that left) time out and do not spoil the result', async () => {
    // A node of ours with an address: the lab tables it, then it leaves.
    const target = rng.bytes(32);
    const gone = await lookupFrom(ours(lab.peers[0].enr), target, true);
    const goneId = toHex(gone.localId);
    expect(lab.nodes.some((n) => n.kadValues().some((e) => e.nodeId === goneId))).toBe(true);
    // Looking up its own id from elsewhere: the lab hands out its record; it cannot answer.
    const { closest, steps, ms } = await lookupFrom(ours(lab.peers[SIZE - 1].enr), gone.localId);
    const failed = steps.filter((s) => s.type === 'failed').map((s) => (s.type === 'failed' ? toHex(s.node.nodeId) : ''));
    expect(failed).toContain(goneId);
    expect(closest.map((e) => toHex(e.nodeId))).toEqual(expectedClosest(gone.localId));
    expect(ms).toBeLessThan(10_000);
  }, 20_000);
});

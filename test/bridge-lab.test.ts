// The lab is real: 16 independent @chainsafe/discv5 nodes on loopback that know each other.
// A chainsafe node made here (not part of the lab) pings them, asks them for nodes and runs a
// lookup through real UDP sockets.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Discv5 } from '@chainsafe/discv5';
import { ENR, SignableENR } from '@chainsafe/enr';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { fromHex } from '../shared/bytes.ts';
import { logDistance } from '../shared/kademlia/distance.ts';
import { bindUdp } from '../bridge/node-transport.ts';
import { type BridgeHarness, startBridgeHarness } from './helpers/bridge-harness.ts';

type CreateOptions = Parameters<typeof Discv5.create>[0];

async function outsider(): Promise<Discv5> {
  const privateKey = (await generateKeyPair('secp256k1')) as unknown as CreateOptions['privateKey'];
  const enr = SignableENR.createFromPrivateKey(privateKey);
  // A free port for chainsafe's own UDP transport (it binds the port it is given).
  const probe = await bindUdp('127.0.0.1', 0);
  const port = probe.address().port;
  await new Promise<void>((r) => probe.close(() => r()));
  enr.ip = '127.0.0.1';
  enr.udp = port;
  const node = Discv5.create({ enr, privateKey, bindAddrs: { ip4: multiaddr(`/ip4/127.0.0.1/udp/${port}`) }, config: { enrUpdate: false } });
  await node.start();
  return node;
}

describe('lab', () => {
  let h: BridgeHarness;
  let me: Discv5;
  let startMs = 0;
  beforeAll(async () => {
    const t = performance.now();
    h = await startBridgeHarness({ lab: 16 });
    startMs = performance.now() - t;
    me = await outsider();
  });
  afterAll(async () => {
    await me?.stop();
    await h?.close();
  });

  it('starts 16 nodes on loopback quickly, each with its own port and a valid ENR', () => {
    expect(h.labPeers).toHaveLength(16);
    expect(startMs).toBeLessThan(15_000);
    const ports = new Set(h.labPeers.map((p) => p.udp));
    expect(ports.size).toBe(16);
    for (const p of h.labPeers) {
      const enr = ENR.decodeTxt(p.enr); // verifies the signature
      expect(enr.ip).toBe('127.0.0.1');
      expect(enr.udp).toBe(p.udp);
      expect(enr.nodeId).toBe(p.nodeId);
    }
  });

  it('every lab node knows every other', () => {
    for (const node of h.lab!.nodes) {
      const known = node.kadValues().map((e) => e.nodeId);
      expect(new Set(known).size).toBe(15);
      expect(known).not.toContain(node.enr.nodeId);
    }
  });

  it('answers a PING from an outside node (a full handshake over real UDP)', async () => {
    for (const p of h.labPeers.slice(0, 3)) {
      const pong = await me.sendPing(ENR.decodeTxt(p.enr));
      expect(pong.enrSeq).toBe(ENR.decodeTxt(p.enr).seq);
      expect(pong.addr.port).toBe(me.enr.udp);
    }
  });

  it('answers FINDNODE with the other lab nodes', async () => {
    const target = h.labPeers[0];
    const others = h.labPeers.slice(1);
    const distances = [...new Set(others.map((o) => logDistance(fromHex(target.nodeId), fromHex(o.nodeId))))];
    const found = await me.sendFindNode(ENR.decodeTxt(target.enr), distances);
    // Lab nodes (the asker may take one place: the target has met it by now), all at the
    // distances asked for, and never the target itself.
    const labIds = new Set(others.map((o) => o.nodeId));
    const ids = found.map((e) => e.nodeId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(labIds.has(id) || id === me.enr.nodeId, id).toBe(true);
    for (const id of ids) expect(distances).toContain(logDistance(fromHex(target.nodeId), fromHex(id)));
    expect(ids.filter((id) => labIds.has(id)).length).toBeGreaterThanOrEqual(14);
    // Distance 0 is the node's own record.
    const self = await me.sendFindNode(ENR.decodeTxt(target.enr), [0]);
    expect(self.map((e) => e.nodeId)).toEqual([target.nodeId]);
  });

  it('is a small DHT: a lookup bootstrapped from one lab node finds the rest', async () => {
    const fresh = await outsider();
    try {
      fresh.addEnr(h.labPeers[5].enr);
      const target = h.labPeers[9].nodeId;
      const ids = new Set(h.labPeers.map((p) => p.nodeId));
      // A lookup over UDP may lose a request or stop early on a loaded machine: up to three
      // lookups, and what they found together, keep the test about the DHT.
      const found = new Set<string>();
      for (let i = 0; i < 3 && !(found.has(target) && [...found].filter((id) => ids.has(id)).length >= 8); i++) {
        for (const e of await fresh.findNode(target)) found.add(e.nodeId);
      }
      expect([...found]).toContain(target);
      expect([...found].filter((id) => ids.has(id)).length).toBeGreaterThanOrEqual(8);
    } finally {
      await fresh.stop();
    }
  });

  it('is listed by /lab.json', async () => {
    const body = await new Promise<string>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port: h.port, path: `/lab.json?token=${h.token}`, agent: false }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve(b));
        })
        .on('error', reject),
    );
    const lab = JSON.parse(body);
    expect(lab.peers.map((p: { enr: string }) => p.enr)).toEqual(h.labEnrs);
  });

  it('stops cleanly: the ports are free again', async () => {
    const lab2 = await startBridgeHarness({ lab: 2 });
    const ports = lab2.labPeers.map((p) => p.udp);
    await lab2.close();
    for (const port of ports) {
      const s = await bindUdp('127.0.0.1', port);
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});

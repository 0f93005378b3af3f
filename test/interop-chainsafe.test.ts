// Interop with a real, independent discv5 implementation: @chainsafe/discv5 nodes run in this
// process on 127.0.0.1, our node talks to them over real UDP through Discv5Driver.
import { afterEach, describe, expect, it } from 'vitest';
import { fromUtf8, toHex, utf8 } from '../shared/bytes.ts';
import { logDistance } from '../shared/kademlia/distance.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv5Driver } from '../shared/discv5/driver.ts';
import type { PacketRecord } from '../shared/discv5/engine.ts';
import type { Message } from '../shared/discv5/messages.ts';
import { decodePacket, type Packet } from '../shared/discv5/packet.ts';
import { Discv5Node } from '../shared/discv5/node.ts';
import { createEnr, encodeEnrText, type Enr } from '../shared/enr/index.ts';
import { secureRandom } from '../shared/random.ts';
import { nodeDatagramTransport } from '../bridge/node-transport.ts';
import { chainsafeSession, ours, startChainsafeNode, stopAll, theirs, type ChainsafeNode } from './helpers/chainsafe.ts';

/** How @chainsafe/discv5 11.0.0 writes enr-seq 1 in WHOAREYOU: 0x0100000000000000 (left-aligned). */
const CHAINSAFE_SEQ_1 = 1n << 56n;

interface Ours {
  driver: Discv5Driver;
  node: Discv5Node;
  key: Uint8Array;
  port: number;
  packets: PacketRecord[];
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function chainsafe(options: Parameters<typeof startChainsafeNode>[0] = {}): Promise<ChainsafeNode> {
  const n = await startChainsafeNode(options);
  cleanup.push(() => stopAll([n]));
  return n;
}

/** Our node on 127.0.0.1, recording every packet it sends and receives. */
async function ourNode(options: { key?: Uint8Array; port?: number; enr?: Enr; talk?: (p: Uint8Array, r: Uint8Array) => Uint8Array | undefined } = {}): Promise<Ours> {
  const socket = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: options.port ?? 0 });
  const key = options.key ?? randomPrivateKey(secureRandom);
  const enr = options.enr ?? createEnr({ privateKey: key, ip: '127.0.0.1', udp: socket.local.port });
  const node = new Discv5Node({ privateKey: key, enr, requestTimeoutMs: 1000, retries: 1, ...(options.talk ? { talkHandler: options.talk } : {}) });
  const driver = new Discv5Driver(node, socket);
  const packets: PacketRecord[] = [];
  driver.listen({ event: (e) => e.type === 'packet' && packets.push(e.packet) });
  let closed = false;
  const close = () => {
    if (!closed) driver.close();
    closed = true;
  };
  cleanup.push(close);
  return { driver, node, key, port: socket.local.port, packets };
}

/** Waits for `cond` (polling), bounded. */
async function until(cond: () => boolean, what: string, timeoutMs = 4000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** "out random", "in WHOAREYOU", … for the packets exchanged, retransmits marked. */
const flow = (packets: PacketRecord[]): string[] =>
  packets.map((p) => `${p.direction} ${p.kind ?? '?'}${p.message ? ` ${p.message.type}` : ''}${p.rejected ? ' REJECTED' : ''}${p.retransmit ? ' (again)' : ''}`);

function expectOk(outcome: Awaited<ReturnType<Discv5Driver['ping']>>): Extract<typeof outcome, { ok: true }> {
  if (!outcome.ok) throw new Error(`request failed: ${outcome.reason}`);
  return outcome;
}

function pong(m: Message): Extract<Message, { type: 'PONG' }> {
  if (m.type !== 'PONG') throw new Error(`expected PONG, got ${m.type}`);
  return m;
}

/** A fresh key whose record lands at log-distance `d` from `base`. */
function recordAtDistance(base: Uint8Array, d: number, port: number): Enr {
  for (let i = 0; i < 100_000; i++) {
    const key = randomPrivateKey(secureRandom);
    const enr = createEnr({ privateKey: key, ip: '127.0.0.1', udp: port });
    if (logDistance(enr.nodeId, base) === d) return enr;
  }
  throw new Error(`no key at distance ${d} found`);
}

describe('interop with @chainsafe/discv5 (127.0.0.1)', () => {
  it('our node pings it cold: random packet → WHOAREYOU → handshake → PONG', async () => {
    const cs = await chainsafe();
    const a = await ourNode();
    const res = expectOk(await a.driver.ping(cs.contact));
    const p = pong(res.response);
    expect(p.recipientIp).toBe('127.0.0.1');
    expect(p.recipientPort).toBe(a.port);
    expect(p.enrSeq).toBe(cs.enr.seq);
    expect(flow(a.packets)).toEqual(['out random PING', 'in WHOAREYOU', 'out handshake PING', 'in ordinary PONG']);
    // The WHOAREYOU answered our request's nonce and asked for our record (it knew none).
    const [random, whoareyou, handshake] = a.packets;
    expect(toHex(whoareyou.packet!.nonce)).toBe(toHex(sent(random, cs).nonce));
    expect(whoareyou.packet!.authdata).toMatchObject({ flag: 1, enrSeq: 0n });
    expect(sent(handshake, cs).authdata).toHaveProperty('record');
    // chainsafe verified us and put our record in its table.
    expect(a.node.engine.hasSession(cs.enr.nodeId, cs.contact.endpoint)).toBe(true);
    expect(chainsafeSession(cs, a.node.localId)).toBeDefined();
    await until(() => cs.discv5.findEnr(toHex(a.node.localId)) !== undefined, 'chainsafe to table our node');
    expect(cs.discv5.findEnr(toHex(a.node.localId))!.seq).toBe(1n);
  });

  it('FINDNODE at distance 0 returns its own record, byte for byte', async () => {
    const cs = await chainsafe();
    const a = await ourNode();
    const res = expectOk(await a.driver.findnode(cs.contact, [0]));
    expect(res.records).toHaveLength(1);
    expect(toHex(res.records![0].raw)).toBe(toHex(cs.enr.raw));
    expect(encodeEnrText(res.records![0])).toBe(cs.discv5.enr.encodeTxt());
    expect(res.rejectedRecords).toEqual([]);
  });

  it('FINDNODE at a distance where it knows ≥ 8 nodes: all collected from several NODES packets', async () => {
    const cs = await chainsafe();
    const d = 255;
    const planted = Array.from({ length: 10 }, (_, i) => recordAtDistance(cs.enr.nodeId, d, 40000 + i));
    // Decoys at a neighbouring distance must not come back.
    const decoys = Array.from({ length: 3 }, (_, i) => recordAtDistance(cs.enr.nodeId, d - 1, 41000 + i));
    for (const r of [...planted, ...decoys]) cs.discv5.addEnr(encodeEnrText(r));
    const a = await ourNode();
    const res = expectOk(await a.driver.findnode(cs.contact, [d]));
    // What it knows at d when it answers (our own record too, if the handshake put us at d).
    const expected = cs.discv5.kadValues().filter((e) => logDistance(ours(e.encodeTxt()).nodeId, cs.enr.nodeId) === d).map((e) => e.nodeId);
    expect(expected.length).toBeGreaterThanOrEqual(10);
    const got = res.records!.map((r) => toHex(r.nodeId));
    expect(new Set(got)).toEqual(new Set(expected));
    for (const r of planted) expect(got).toContain(toHex(r.nodeId));
    for (const r of decoys) expect(got).not.toContain(toHex(r.nodeId));
    // Several NODES packets arrived for this one request, each announcing the same total > 1.
    const nodesPackets = a.packets.filter((p) => p.direction === 'in' && p.message?.type === 'NODES');
    expect(nodesPackets.length).toBeGreaterThan(1);
    const totals = nodesPackets.map((p) => (p.message as Extract<Message, { type: 'NODES' }>).total);
    expect(new Set(totals).size).toBe(1);
    expect(totals[0]).toBe(nodesPackets.length);
    expect(totals[0]).toBeGreaterThan(1);
    expect(res.response).toMatchObject({ type: 'NODES', total: totals[0] });
    for (const p of nodesPackets) expect(p.raw.length).toBeLessThanOrEqual(1280);
  });

  it('TALKREQ both ways: its handler answers; unknown protocols get an empty TALKRESP from us', async () => {
    const cs = await chainsafe();
    cs.discv5.on('talkReqReceived', (from, _enr, m) => {
      const answer = fromUtf8(m.protocol) === 'echo' ? m.request.slice().reverse() : new Uint8Array(0);
      void cs.discv5.sendTalkResp(from, m.id, answer);
    });
    const a = await ourNode({ talk: (p, r) => (fromUtf8(p) === 'upper' ? utf8(fromUtf8(r).toUpperCase()) : undefined) });
    const echo = expectOk(await a.driver.talkreq(cs.contact, utf8('echo'), Uint8Array.of(1, 2, 3)));
    expect(echo.response).toMatchObject({ type: 'TALKRESP', response: Uint8Array.of(3, 2, 1) });
    const other = expectOk(await a.driver.talkreq(cs.contact, utf8('nope'), Uint8Array.of(9)));
    expect(other.response).toMatchObject({ type: 'TALKRESP', response: new Uint8Array(0) });
    // chainsafe asks us.
    const mine = theirs(a.node.enr);
    expect(fromUtf8(await cs.discv5.sendTalkReq(mine, utf8('hello'), 'upper'))).toBe('HELLO');
    expect((await cs.discv5.sendTalkReq(mine, utf8('x'), 'unknown-protocol')).length).toBe(0);
  });

  it('it pings our listening node cold and gets PONG; its FINDNODE [0] gets our record', async () => {
    const a = await ourNode();
    const cs = await chainsafe();
    const established: string[] = [];
    a.driver.listen({ event: (e) => e.type === 'session-established' && established.push(`${e.direction} ${toHex(e.nodeId)}`) });
    const res = await cs.discv5.sendPing(theirs(a.node.enr));
    expect(res.enrSeq).toBe(a.node.enr.seq);
    expect(res.addr.port).toBe(cs.port);
    expect(flow(a.packets)).toEqual(['in ordinary', 'out WHOAREYOU', 'in handshake PING', 'out ordinary PONG']);
    expect(a.packets[0].note).toMatch(/no session/);
    expect(established).toEqual([`incoming ${cs.nodeId}`]);
    // chainsafe included its record (our WHOAREYOU said enr-seq 0), so it entered our table.
    expect(a.node.table.get(cs.enr.nodeId)).toBeDefined();
    const records = await cs.discv5.sendFindNode(theirs(a.node.enr), [0]);
    expect(records.map((r) => r.encodeTxt())).toEqual([encodeEnrText(a.node.enr)]);
  });

  it('after our node restarts with the same key, sessions are re-established through WHOAREYOU', async () => {
    const cs = await chainsafe();
    const first = await ourNode();
    expectOk(await first.driver.ping(cs.contact));
    const before = chainsafeSession(cs, first.node.localId);
    expect(before).toBeDefined();
    const oldKey = toHex(before!.keys.decryptionKey);
    first.driver.close();

    // Restart 1: same key and port, same record. Our packet (sealed with a throw-away key) cannot be
    // opened in chainsafe's existing session: it drops it and challenges us.
    const second = await ourNode({ key: first.key, port: first.port, enr: first.node.enr });
    const res = expectOk(await second.driver.ping(cs.contact));
    expect(pong(res.response).recipientPort).toBe(first.port);
    expect(flow(second.packets)).toEqual(['out random PING', 'in WHOAREYOU', 'out handshake PING', 'in ordinary PONG']);
    expect(toHex(second.packets[1].packet!.nonce)).toBe(toHex(sent(second.packets[0], cs).nonce));
    // chainsafe still knew our record at seq 1, but @chainsafe/discv5 11.0.0 writes enr-seq
    // left-aligned in its 8 bytes (bigintToBytes, then set at offset 0): 1 arrives as 2^56. No one
    // can know a newer record of ours than we do, so we answer such a claim with our record.
    expect(second.packets[1].packet!.authdata).toMatchObject({ flag: 1, enrSeq: CHAINSAFE_SEQ_1 });
    expect(sent(second.packets[2], cs).authdata).toHaveProperty('record');
    const after = chainsafeSession(cs, first.node.localId);
    expect(after).toBeDefined();
    const secondKey = toHex(after!.keys.decryptionKey);
    expect(secondKey).not.toBe(oldKey);
    second.driver.close();

    // Restart 2: chainsafe speaks first, in the session it still has; we have none and challenge it.
    const third = await ourNode({ key: first.key, port: first.port, enr: first.node.enr });
    const pongToIt = await cs.discv5.sendPing(theirs(third.node.enr));
    expect(pongToIt.addr.port).toBe(cs.port);
    expect(flow(third.packets)).toEqual(['in ordinary', 'out WHOAREYOU', 'in handshake PING', 'out ordinary PONG']);
    expect(third.packets[0].note).toMatch(/no session/);
    expect(toHex(chainsafeSession(cs, first.node.localId)!.keys.decryptionKey)).not.toBe(secondKey);
  });

  it('after chainsafe restarts with the same key, our stale session fails to decrypt and we challenge it', async () => {
    let cs = await chainsafe();
    const a = await ourNode();
    expectOk(await a.driver.ping(cs.contact));
    const { key, port } = cs;
    await cs.stop();
    cs = await chainsafe({ key, port });
    expect(a.node.engine.hasSession(cs.enr.nodeId, cs.contact.endpoint)).toBe(true);

    // It speaks first: its random packet does not open with our session keys → WHOAREYOU.
    a.packets.length = 0;
    await cs.discv5.sendPing(theirs(a.node.enr));
    expect(flow(a.packets)).toEqual(['in ordinary', 'out WHOAREYOU', 'in handshake PING', 'out ordinary PONG']);
    expect(a.packets[0].note).toMatch(/cannot decrypt with our session keys/);

    // Restart it again; now we speak first in our stale session: it challenges our request.
    await cs.stop();
    cs = await chainsafe({ key, port });
    a.packets.length = 0;
    const res = expectOk(await a.driver.ping(cs.contact));
    expect(pong(res.response).enrSeq).toBe(cs.enr.seq);
    expect(flow(a.packets)).toEqual(['out ordinary PING', 'in WHOAREYOU', 'out handshake PING', 'in ordinary PONG']);
  });

  it('when our enr-seq increases, it learns the new record (PING seq → its FINDNODE [0] → NODES)', async () => {
    const cs = await chainsafe();
    const a = await ourNode();
    expectOk(await a.driver.ping(cs.contact));
    const id = toHex(a.node.localId);
    await until(() => cs.discv5.findEnr(id) !== undefined, 'chainsafe to table our node');
    expect(cs.discv5.findEnr(id)!.seq).toBe(1n);

    const updated = a.node.updateLocalEnr({ tcp: 30303 }, 'test: a TCP port appears');
    expect(updated.type === 'enr-updated' && updated.enr.seq).toBe(2n);
    a.packets.length = 0;
    const res = expectOk(await a.driver.ping(cs.contact));
    expect(res.response.type).toBe('PONG');
    await until(() => cs.discv5.findEnr(id)?.seq === 2n, 'chainsafe to store our seq-2 record');
    expect(cs.discv5.findEnr(id)!.tcp).toBe(30303);
    const findnode = a.packets.find((p) => p.direction === 'in' && p.message?.type === 'FINDNODE');
    expect(findnode?.message).toMatchObject({ distances: [0] });
    const nodes = a.packets.find((p) => p.direction === 'out' && p.message?.type === 'NODES');
    expect((nodes?.message as Extract<Message, { type: 'NODES' }>).records.map(toHex)).toEqual([toHex(a.node.enr.raw)]);

    // A peer holding the old record gets the new one inside the handshake (its WHOAREYOU says seq 1).
    const cs2 = await chainsafe();
    const old = createEnr({ privateKey: a.key, ip: '127.0.0.1', udp: a.port });
    cs2.discv5.addEnr(encodeEnrText(old));
    a.packets.length = 0;
    expectOk(await a.driver.ping(cs2.contact));
    expect(a.packets[1].packet!.authdata).toMatchObject({ flag: 1, enrSeq: CHAINSAFE_SEQ_1 });
    const hs = sent(a.packets[2], cs2).authdata as { record?: Uint8Array };
    expect(hs.record && toHex(hs.record)).toBe(toHex(a.node.enr.raw));
    await until(() => cs2.discv5.findEnr(id)?.seq === 2n, 'the second peer to store our seq-2 record');
  });
});

/** An outgoing packet parsed as its recipient parses it (unmasked with the recipient's node id). */
function sent(p: PacketRecord, to: ChainsafeNode): Packet {
  const d = decodePacket(to.enr.nodeId, p.raw);
  if (!d.ok) throw new Error(`packet ${p.seq} does not parse: ${d.error.reason}`);
  return d.value;
}

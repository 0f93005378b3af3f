// Our RLPx engine against real @ethereumjs/devp2p nodes on loopback, both roles: we dial a lab
// node (auth/ack, Hello, Status with the fork-id verdict; Hello then Ping/Pong), and a lab node
// dials our listener (it sends auth, we answer ack; Hello and Status both ways). eth/69, which
// ethereumjs does not speak, is tested between our own initiator and our own listener.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertPublicKey, randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import { parseEnode } from '../shared/enr/index.ts';
import { RlpxEngine, type RlpxConfig, type RlpxEvent, type RlpxRecord } from '../shared/rlpx/engine.ts';
import { secureRandom } from '../shared/random.ts';
import { listenTcp, nodeStreamTransport } from '../bridge/node-transport.ts';
import { startExecutionLab, type ExecutionLab } from '../bridge/lab-execution.ts';
import { toHex } from '../shared/bytes.ts';
import { isStatus69 } from '../shared/eth/status.ts';
import { coverageProblems } from '../shared/dissect.ts';
import { dissectRlpx } from '../shared/rlpx/dissect.ts';

/** Every record dissects without error, every layer's fields tile its bytes. */
function expectDissected(records: RlpxRecord[]): void {
  for (const r of records) {
    const d = dissectRlpx(r.raw, r.rlpx, r.kind);
    expect(d.error, `${r.kind}`).toBeUndefined();
    expect(d.layers.length, r.kind).toBeGreaterThanOrEqual(2);
    for (const l of d.layers) expect(coverageProblems(l), `${r.kind} / ${l.name}`).toEqual([]);
  }
}

type OutcomeEvent = Extract<RlpxEvent, { type: 'outcome' }>;

function dialer(config: Partial<RlpxConfig> = {}) {
  const engine = new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom, timeoutMs: 5000, ...config });
  const driver = new EngineDriver(engine, { streams: nodeStreamTransport });
  const records: RlpxRecord[] = [];
  driver.listen({ record: (r) => records.push(r as RlpxRecord) });
  const outcome = (conn: string) =>
    new Promise<OutcomeEvent>((resolve) => driver.listen({ event: (e) => e.type === 'outcome' && e.conn === conn && resolve(e) }));
  return { engine, driver, records, outcome };
}

describe('RLPx interop with ethereumjs', () => {
  let lab: ExecutionLab;
  beforeAll(async () => {
    lab = await startExecutionLab({ size: 2 });
  });
  afterAll(() => lab?.close());

  const target = (i: number) => {
    const e = parseEnode(lab.peers[i].enode);
    if (!e.ok) throw e.error;
    return e.value;
  };

  it('we dial: auth/ack, Hello both ways, eth/68 Status both ways, fork id accepted', async () => {
    const d = dialer();
    const t = target(0);
    const done = d.outcome('a');
    d.driver.command({ type: 'connect', to: { ip: t.ip, port: t.tcp }, remoteKey: t.publicKey, conn: 'a', goal: 'status' });
    const o = await done;
    expect(o.outcome, o.reason).toBe('SUCCESS');
    expect(o.hello?.clientId).toBe(lab.peers[0].clientId);
    expect(o.shared?.map((c) => `${c.name}/${c.version}@${c.offset}`)).toEqual(['eth/68@16']);
    expect(o.status && !isStatus69(o.status) && o.status.version).toBe(68);
    expect(o.verdict?.accept).toBe(true);
    expect(o.peerKey).toBe(toHex(convertPublicKey(t.publicKey, false).subarray(1)));
    const kinds = d.records.map((r) => `${r.direction}:${r.kind}`);
    expect(kinds.slice(0, 4)).toEqual(['out:auth', 'in:ack', 'out:Hello', 'in:Hello']);
    expect(kinds).toContain('out:Status');
    expect(kinds).toContain('in:Status');
    expect(kinds.at(-1)).toBe('out:Disconnect');
    expectDissected(d.records);
    const status = dissectRlpx(d.records.find((r) => r.kind === 'Status' && r.direction === 'in')!.raw, d.records.find((r) => r.kind === 'Status' && r.direction === 'in')!.rlpx);
    expect(status.layers.map((l) => l.name)).toEqual(['frame', 'header (decrypted)', 'frame-data (decrypted)', 'msg-data (snappy)', 'message (RLP)']);
    d.driver.close();
  });

  it('we dial with goal ping: Hello both ways, then Ping → Pong (snappy on)', async () => {
    const d = dialer();
    const t = target(1);
    const done = d.outcome('p');
    d.driver.command({ type: 'connect', to: { ip: t.ip, port: t.tcp }, remoteKey: t.publicKey, conn: 'p', goal: 'ping' });
    const o = await done;
    expect(o.outcome, o.reason).toBe('SUCCESS');
    const pong = d.records.find((r) => r.kind === 'Pong' && r.direction === 'in');
    expect(pong?.rlpx?.layer === 'frame' && pong.rlpx.ctx.compressed).toBe(true);
    d.driver.close();
  });

  it('a lab node dials our listener: we answer ack, Hello and Status both ways', async () => {
    const engine = new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom, accept: true, afterHandshake: 'stay', timeoutMs: 5000 });
    const driver = new EngineDriver(engine, {});
    const listener = await listenTcp('127.0.0.1', 0);
    listener.onConnection((c) => driver.accept(c));
    const records: RlpxRecord[] = [];
    driver.listen({ record: (r) => records.push(r as RlpxRecord) });
    const outcome = new Promise<OutcomeEvent>((resolve) => driver.listen({ event: (e) => e.type === 'outcome' && resolve(e) }));
    const node = lab.nodes[0];
    const gotStatus = new Promise<{ genesisHash: Uint8Array }>((resolve) => {
      node.rlpx.events.once('peer:added', (peer) => {
        for (const p of peer.getProtocols()) p.events.once('status', (s: { genesisHash: Uint8Array }) => resolve(s));
      });
    });
    await node.rlpx.connect({ id: engine.publicKey, address: '127.0.0.1', tcpPort: listener.local.port });
    const o = await outcome;
    expect(o.outcome, o.reason).toBe('SUCCESS');
    expect(o.direction).toBe('inbound');
    expect(o.hello?.clientId).toBe(lab.peers[0].clientId);
    // ethereumjs accepted our Status too (it emits 'status' only after validating ours).
    expect(toHex((await gotStatus).genesisHash)).toBe('d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3');
    expect(records.slice(0, 3).map((r) => `${r.direction}:${r.kind}`)).toEqual(['in:auth', 'out:ack', 'out:Hello']);
    expectDissected(records);
    driver.close();
    listener.close();
  });
});

describe('eth/69 between our initiator and our listener', () => {
  it('Status in the eth/69 field order both ways', async () => {
    const caps69 = [{ name: 'eth', version: 69 }];
    const server = new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom, accept: true, afterHandshake: 'stay', capabilities: caps69 });
    const sd = new EngineDriver(server, {});
    const listener = await listenTcp('127.0.0.1', 0);
    listener.onConnection((c) => sd.accept(c));
    const serverOutcome = new Promise<OutcomeEvent>((resolve) => sd.listen({ event: (e) => e.type === 'outcome' && resolve(e) }));
    const d = dialer({ capabilities: [{ name: 'eth', version: 68 }, { name: 'eth', version: 69 }] });
    const done = d.outcome('x');
    d.driver.command({ type: 'connect', to: listener.local, remoteKey: server.publicKey, conn: 'x' });
    const [o, so] = await Promise.all([done, serverOutcome]);
    expect(o.outcome, o.reason).toBe('SUCCESS');
    expect(so.outcome, so.reason).toBe('SUCCESS');
    expect(o.shared?.map((c) => `${c.name}/${c.version}`)).toEqual(['eth/69']);
    expect(o.status && isStatus69(o.status)).toBe(true);
    expect(so.status && isStatus69(so.status)).toBe(true);
    d.driver.close();
    sd.close();
    listener.close();
  });
});

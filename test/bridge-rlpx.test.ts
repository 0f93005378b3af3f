// RLPx through the bridge, as the page runs it: our engine over the tunnel's TCP to a lab
// execution node (initiator), and a lab node asked (POST /lab/connect, with the page's node key)
// to dial the page's tunnel listener (recipient). Same safety rules as the Bitcoin dial.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import { RlpxEngine, type RlpxEvent } from '../shared/rlpx/engine.ts';
import { parseRlpxTarget } from '../shared/rlpx/target.ts';
import { secureRandom } from '../shared/random.ts';
import { startBridgeHarness, type BridgeHarness } from './helpers/bridge-harness.ts';

let h: BridgeHarness;
beforeAll(async () => {
  h = await startBridgeHarness({ executionLab: 1 });
});
afterAll(async () => {
  await h?.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${h.origin}${path}?token=${encodeURIComponent(h.token)}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: h.origin }, body: JSON.stringify(body) });

type Outcome = Extract<RlpxEvent, { type: 'outcome' }>;

describe('RLPx through the bridge', () => {
  it('the page dials a lab execution node over the tunnel: auth/ack, Hello, Status', async () => {
    const c = await h.openClient();
    const engine = new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom });
    const driver = new EngineDriver(engine, { streams: c }) as EngineDriver<unknown, RlpxEvent>;
    const outcome = new Promise<Outcome>((resolve) => driver.listen({ event: (e) => e.type === 'outcome' && resolve(e) }));
    const t = parseRlpxTarget(h.executionLab!.peers[0].enode);
    if (!t.ok) throw t.error;
    driver.command({ type: 'connect', to: { ip: t.value.ip, port: t.value.tcp }, remoteKey: t.value.publicKey, conn: 'r1' });
    const o = await outcome;
    expect(o.outcome, o.reason).toBe('SUCCESS');
    expect(o.verdict?.accept).toBe(true);
    driver.close();
    c.close();
  });

  it('POST /lab/connect: an execution node needs the listener key, and only dials the page\'s own listener', async () => {
    const peer = h.executionLab!.peers[0].name;
    const noKey = await post('/lab/connect', { peer, ip: '127.0.0.1', port: 40000 });
    expect(noKey.status).toBe(400);
    const badKey = await post('/lab/connect', { peer, ip: '127.0.0.1', port: 40000, key: 'zz' });
    expect(badKey.status).toBe(400);
    const notOurs = await post('/lab/connect', { peer, ip: '127.0.0.1', port: h.port, key: '11'.repeat(64) });
    expect(notOurs.status).toBe(403);
  });

  it('a lab execution node dials the page: auth in, ack out, Hello and Status both ways', async () => {
    const c = await h.openClient();
    const l = await c.listen();
    const engine = new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom, accept: true, afterHandshake: 'stay', lingerMs: 500 });
    const driver = new EngineDriver(engine, {}) as EngineDriver<unknown, RlpxEvent>;
    const outcome = new Promise<Outcome>((resolve) => driver.listen({ event: (e) => e.type === 'outcome' && resolve(e) }));
    l.onConnection((conn) => driver.accept(conn));
    const r = await post('/lab/connect', { peer: h.executionLab!.peers[0].name, ip: l.local.ip, port: l.local.port, key: engine.nodeKeyHex });
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ ok: true, peer: 'el-01', clientId: 'handshake-lab/0.1.0', statusVersion: 68 });
    const o = await outcome;
    expect(o).toMatchObject({ outcome: 'SUCCESS', direction: 'inbound' });
    expect(o.hello?.clientId).toBe(h.executionLab!.peers[0].clientId);
    driver.close();
    c.close();
  });
});

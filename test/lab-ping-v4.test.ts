// POST /lab/ping-v4: a lab execution node (ethereumjs) pings a page's discv4 socket on the
// bridge; the page's engine answers PONG and pings back (bonding). Guarded like /lab/ping: token,
// the page's Origin, and only towards this bridge's own tunnel UDP sockets.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBridge, type BridgeServer } from '../bridge/server.ts';
import { startExecutionLab, type ExecutionLab } from '../bridge/lab-execution.ts';
import { silentLogger } from '../bridge/log.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv4Driver } from '../shared/discv4/driver.ts';
import { Discv4Engine } from '../shared/discv4/engine.ts';
import { formatEnode } from '../shared/enr/index.ts';
import type { WireRecord } from '../shared/engine.ts';
import { secureRandom } from '../shared/random.ts';
import { openTunnel, type TunnelClient } from '../shared/tunnel/client.ts';

let lab: ExecutionLab;
let server: BridgeServer;
const clients: TunnelClient[] = [];

beforeAll(async () => {
  lab = await startExecutionLab({ size: 2 });
  server = await startBridge({ port: 0, logLevel: 'silent' }, { log: silentLogger, lab: lab.peers, executionLab: lab });
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  await lab?.close();
});

function post(body: unknown, opts: { token?: string | null; origin?: string | null } = {}) {
  const token = opts.token === undefined ? server.token : opts.token;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (opts.origin !== null) headers.Origin = opts.origin ?? server.origin;
  return fetch(`http://127.0.0.1:${server.port}/lab/ping-v4${token === null ? '' : `?token=${token}`}`, { method: 'POST', headers, body: JSON.stringify(body) });
}

async function tunnelNode() {
  const client = await openTunnel(new WebSocket(server.tunnelUrl, { origin: server.origin }));
  clients.push(client);
  const socket = await client.openDatagram();
  const privateKey = randomPrivateKey(secureRandom);
  const engine = new Discv4Engine({ privateKey, endpoint: { ip: socket.local.ip, udp: socket.local.port, tcp: 0 }, random: secureRandom });
  const driver = new Discv4Driver(engine, socket);
  const records: WireRecord[] = [];
  driver.listen({ record: (r) => records.push(r) });
  const enode = formatEnode({ publicKey: engine.publicKey, nodeId: engine.nodeId, ip: socket.local.ip, tcp: 0, udp: socket.local.port });
  return { enode, driver, records, engine };
}

describe('POST /lab/ping-v4', () => {
  it('a lab execution node pings the page’s discv4 socket: PONG, then the page pings back and both hold a proof', async () => {
    const me = await tunnelNode();
    try {
      const r = await post({ peer: lab.peers[1].name, enode: me.enode });
      const body = (await r.json()) as { ok: boolean; rttMs: number };
      expect(r.status).toBe(200);
      expect(body.ok).toBe(true);
      for (let i = 0; i < 100 && !me.records.some((x) => x.direction === 'in' && x.kind === 'PONG'); i++) await new Promise((res) => setTimeout(res, 20));
      expect(me.records.map((x) => `${x.direction}:${x.kind}`).slice(0, 4)).toEqual(['in:PING', 'out:PONG', 'out:PING', 'in:PONG']);
      expect(me.records[0].peerId).toBe(lab.peers[1].nodeId);
      const { fromHex } = await import('../shared/bytes.ts');
      expect(me.engine.isVerified(fromHex(lab.peers[1].nodeId), lab.peers[1].ip, Date.now())).toBe(true);
    } finally {
      me.driver.close();
    }
  });

  it('refuses any other target: a socket the bridge did not open for a page, a bad enode, an unknown node, no token or origin', async () => {
    const me = await tunnelNode();
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((res) => stranger.bind(0, '127.0.0.1', () => res()));
    try {
      const port = (stranger.address() as { port: number }).port;
      const elsewhere = me.enode.replace(/@.*$/, `@127.0.0.1:${port}`);
      let heard = 0;
      stranger.on('message', () => heard++);
      expect((await post({ peer: lab.peers[0].name, enode: elsewhere })).status).toBe(403);
      expect((await post({ peer: lab.peers[0].name, enode: 'enode://nonsense' })).status).toBe(400);
      expect((await post({ peer: 'el-99', enode: me.enode })).status).toBe(404);
      expect((await post({ peer: lab.peers[0].name }).then((r) => r.status))).toBe(400);
      expect((await post({ peer: lab.peers[0].name, enode: me.enode }, { token: null })).status).toBe(403);
      expect((await post({ peer: lab.peers[0].name, enode: me.enode }, { origin: 'http://evil.example' })).status).toBe(403);
      await new Promise((res) => setTimeout(res, 200));
      expect(heard).toBe(0);
    } finally {
      stranger.close();
      me.driver.close();
    }
  });
});

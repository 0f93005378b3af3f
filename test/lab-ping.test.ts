// POST /lab/ping: a lab node pings a page's tunnel socket (the playground's inbound handshake).
// Guarded like the tunnel (token, the page's Origin) and only towards this bridge's own tunnel
// sockets, so the lab can never be aimed at anything else.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBridge, type BridgeServer } from '../bridge/server.ts';
import { startLab, type Lab } from '../bridge/lab.ts';
import { labPing } from '../bridge/lab-ping.ts';
import { silentLogger } from '../bridge/log.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv5Driver } from '../shared/discv5/driver.ts';
import { Discv5Node, type NodeEvent } from '../shared/discv5/node.ts';
import { createEnr, encodeEnrText } from '../shared/enr/index.ts';
import { secureRandom } from '../shared/random.ts';
import { openTunnel, type TunnelClient } from '../shared/tunnel/client.ts';

let lab: Lab;
let server: BridgeServer;
const clients: TunnelClient[] = [];

beforeAll(async () => {
  lab = await startLab({ size: 2 });
  server = await startBridge({ port: 0, logLevel: 'silent' }, { log: silentLogger, lab: lab.peers, labPing: labPing(lab, 10_000) });
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  await lab?.close();
});

function post(body: unknown, opts: { token?: string | null; origin?: string | null; type?: string; method?: string } = {}) {
  const token = opts.token === undefined ? server.token : opts.token;
  const headers: Record<string, string> = { 'Content-Type': opts.type ?? 'application/json' };
  if (opts.origin !== null) headers.Origin = opts.origin ?? server.origin;
  return fetch(`http://127.0.0.1:${server.port}/lab/ping${token === null ? '' : `?token=${token}`}`, {
    method: opts.method ?? 'POST',
    headers,
    ...(opts.method === 'GET' ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

async function tunnelNode() {
  const ws = new WebSocket(server.tunnelUrl, { origin: server.origin });
  const client = await openTunnel(ws);
  clients.push(client);
  const socket = await client.openDatagram();
  const privateKey = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey, ip: socket.local.ip, udp: socket.local.port });
  const node = new Discv5Node({ privateKey, enr });
  const driver = new Discv5Driver(node, socket);
  const events: NodeEvent[] = [];
  driver.listen({ event: (e) => events.push(e) });
  return { enrText: encodeEnrText(enr), local: socket.local, driver, events };
}

describe('POST /lab/ping', () => {
  it('a lab node pings a tunnelled node cold: the node is the recipient and answers PONG', async () => {
    const me = await tunnelNode();
    try {
      const r = await post({ peer: lab.peers[1].name, enr: me.enrText });
      const body = (await r.json()) as { ok: boolean; ip: string; port: number; rttMs: number };
      expect(r.status).toBe(200);
      expect(body.ok).toBe(true);
      // Our PONG told the lab node its own address as we saw it.
      expect(`${body.ip}:${body.port}`).toBe(`${lab.peers[1].ip}:${lab.peers[1].udp}`);
      const kinds = me.events.filter((e): e is Extract<NodeEvent, { type: 'packet' }> => e.type === 'packet').map((e) => `${e.packet.direction}:${e.packet.kind}:${e.packet.message?.type ?? ''}`);
      expect(kinds).toEqual(['in:ordinary:', 'out:WHOAREYOU:', 'in:handshake:PING', 'out:ordinary:PONG']);
      expect(me.events.some((e) => e.type === 'session-established' && e.direction === 'incoming')).toBe(true);
    } finally {
      me.driver.close();
    }
  });

  it('refuses without the token, from another origin, by GET, or with a body that is not JSON', async () => {
    const me = await tunnelNode();
    try {
      const good = { peer: lab.peers[0].name, enr: me.enrText };
      expect((await post(good, { token: null })).status).toBe(403);
      expect((await post(good, { token: 'x'.repeat(32) })).status).toBe(403);
      expect((await post(good, { origin: 'http://evil.example' })).status).toBe(403);
      expect((await post(good, { origin: null })).status).toBe(403);
      expect((await post(good, { method: 'GET' })).status).toBe(405);
      expect((await post(good, { type: 'text/plain' })).status).toBe(415);
      expect((await post('{nope')).status).toBe(400);
      expect((await post({ peer: 'lab-99', enr: me.enrText })).status).toBe(404);
      expect((await post({ peer: lab.peers[0].name, enr: 'enr:broken' })).status).toBe(400);
      expect((await post('x'.repeat(5000))).status).toBe(413);
    } finally {
      me.driver.close();
    }
  });

  it('never pings anything but this bridge’s tunnel sockets (nothing is sent)', async () => {
    // A real UDP socket on loopback that is not a tunnel socket: it must receive nothing.
    const victim = dgram.createSocket('udp4');
    let received = 0;
    victim.on('message', () => received++);
    await new Promise<void>((r) => victim.bind(0, '127.0.0.1', () => r()));
    try {
      const port = victim.address().port;
      const enr = encodeEnrText(createEnr({ privateKey: randomPrivateKey(secureRandom), ip: '127.0.0.1', udp: port }));
      const r = await post({ peer: lab.peers[0].name, enr });
      expect(r.status).toBe(403);
      // A lab node's own address is not a tunnel socket either.
      const other = lab.peers[1];
      const labEnr = encodeEnrText(createEnr({ privateKey: randomPrivateKey(secureRandom), ip: other.ip, udp: other.udp }));
      expect((await post({ peer: lab.peers[0].name, enr: labEnr })).status).toBe(403);
      await new Promise((r2) => setTimeout(r2, 300));
      expect(received).toBe(0);
    } finally {
      await new Promise<void>((r) => victim.close(() => r()));
    }
  });

  it('is absent without a lab', async () => {
    const bare = await startBridge({ port: 0, logLevel: 'silent' }, { log: silentLogger });
    try {
      const r = await fetch(`http://127.0.0.1:${bare.port}/lab/ping?token=${bare.token}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: bare.origin }, body: '{}' });
      expect(r.status).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

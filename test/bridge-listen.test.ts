// The tunnel's TCP listener (the recipient role for stream protocols): one per session, bound to
// the advertised address, taking only the lab dials the bridge itself starts (POST /lab/connect)
// and --allow-ed addresses; a Bitcoin lab node completes its handshake with the page's engine.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitcoinEngine, type BitcoinEvent } from '../shared/bitcoin/engine.ts';
import { NETWORKS, NODE_NETWORK, NODE_WITNESS } from '../shared/bitcoin/spec.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import { secureRandom } from '../shared/random.ts';
import { TunnelErrorCode } from '../shared/tunnel/frames.ts';
import type { StreamConnection } from '../shared/transport.ts';
import { startBridgeHarness, type BridgeHarness } from './helpers/bridge-harness.ts';

let h: BridgeHarness;
beforeAll(async () => {
  h = await startBridgeHarness({ bitcoinLab: 1 });
});
afterAll(async () => {
  await h?.close();
});

const post = (path: string, body: unknown) =>
  fetch(`${h.origin}${path}?token=${encodeURIComponent(h.token)}`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: h.origin }, body: JSON.stringify(body) });

/** Tries a plain TCP connection from this process: resolves with whether the bridge kept it open. */
function dialFromOutside(port: number): Promise<'kept' | 'dropped'> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => (s.destroy(), resolve('kept')), 400);
    s.on('close', () => (clearTimeout(timer), resolve('dropped')));
    s.on('error', () => undefined);
  });
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

describe('tunnel TCP listen', () => {
  it('listens on the advertised address; a second listener is over quota', async () => {
    const c = await h.openClient();
    const l = await c.listen();
    expect(l.local.ip).toBe('127.0.0.1');
    expect(l.local.port).toBeGreaterThan(1023);
    await expect(c.listen()).rejects.toThrow(/quota: one TCP listener per session/);
    l.close();
    c.close();
  });

  it('a stranger on this machine is turned away: no connection reaches the page', async () => {
    const c = await h.openClient();
    const l = await c.listen();
    const got: StreamConnection[] = [];
    l.onConnection((conn) => got.push(conn));
    expect(await dialFromOutside(l.local.port)).toBe('dropped');
    expect(got).toHaveLength(0);
    c.close();
  });

  it('POST /lab/connect only towards a listener this bridge opened', async () => {
    const r = await post('/lab/connect', { peer: 'btc-01', ip: '127.0.0.1', port: h.port });
    expect(r.status).toBe(403);
    expect((await r.json()).error).toMatch(/only dials TCP listeners this bridge opened/);
    const bad = await post('/lab/connect', { peer: 'btc-01', ip: '127.0.0.1', port: 'x' });
    expect(bad.status).toBe(400);
    const unknown = await post('/lab/connect', { peer: 'btc-99', ip: '127.0.0.1', port: 1 });
    expect(unknown.status).toBe(404);
    const noToken = await fetch(`${h.origin}/lab/connect`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: h.origin }, body: '{}' });
    expect(noToken.status).toBe(403);
  });

  it('a Bitcoin lab node dials the page and both complete version/verack (the page is the recipient)', async () => {
    const c = await h.openClient();
    const l = await c.listen();
    const engine = new BitcoinEngine({ network: NETWORKS.regtest, random: secureRandom, accept: true, afterHandshake: 'stay', services: NODE_NETWORK | NODE_WITNESS });
    const driver = new EngineDriver(engine, {}) as EngineDriver<unknown, BitcoinEvent>;
    const events: BitcoinEvent[] = [];
    driver.listen({ event: (e) => events.push(e) });
    l.onConnection((conn) => driver.accept(conn));
    const r = await post('/lab/connect', { peer: 'btc-01', ip: l.local.ip, port: l.local.port });
    const body = await r.json();
    expect(r.status).toBe(200);
    expect(body).toMatchObject({ ok: true, peer: 'btc-01', agent: '/handshake-lab:0.1.0/', version: 70016 });
    await until(() => events.some((e) => e.type === 'outcome'));
    expect(events.find((e) => e.type === 'outcome')).toMatchObject({ outcome: 'SUCCESS', direction: 'inbound', peerVersion: { userAgent: '/bcoin:v1.0.2/' } });
    // The lab's one expected dial is used up: a stranger still gets nothing.
    expect(await dialFromOutside(l.local.port)).toBe('dropped');
    driver.close();
    c.close();
  });

  it('closing the listener (or the session) unregisters it: TCP to it is refused by policy again', async () => {
    const c = await h.openClient();
    const l = await c.listen();
    expect(h.server.policy.check('tcp', l.local.ip, l.local.port).ok).toBe(true);
    expect(h.server.policy.check('udp', l.local.ip, l.local.port).ok).toBe(false);
    l.close();
    await until(() => !h.server.policy.check('tcp', l.local.ip, l.local.port).ok);
    expect(h.server.policy.check('tcp', l.local.ip, l.local.port).ok).toBe(false);
    const l2 = await c.listen();
    c.close();
    await until(() => !h.server.policy.check('tcp', l2.local.ip, l2.local.port).ok);
    expect(h.server.policy.check('tcp', l2.local.ip, l2.local.port).ok).toBe(false);
  });

  it('TCP_LISTEN on an address the bridge does not bind is refused by policy', async () => {
    const raw = await h.openRaw();
    raw.send({ type: 'tcp-listen', id: 3, ip: '10.1.2.3', port: 0 });
    expect(await raw.next((f) => f.type === 'error')).toMatchObject({ code: TunnelErrorCode.policy });
    raw.send({ type: 'tcp-listen', id: 4, ip: '', port: 80 });
    expect(await raw.next((f) => f.type === 'error' && f.id === 4)).toMatchObject({ code: TunnelErrorCode.policy });
    raw.close();
  });
});

describe('TCP connect with initial data (the first message rides behind TCP_CONNECT)', () => {
  it('the bridge writes it once connected, before anything else, and the window accounts for it', async () => {
    const received: Buffer[] = [];
    const server = net.createServer((sock) => {
      sock.on('data', (d) => received.push(d));
      sock.once('data', () => sock.write('pong'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const h2 = await startBridgeHarness({ options: { allow: [`127.0.0.1:${port}`] } });
    try {
      const c = await h2.openClient();
      const conn = await c.connect({ ip: '127.0.0.1', port }, { initialData: new TextEncoder().encode('ping') });
      const reply = await new Promise<string>((resolve) => conn.onData((b) => resolve(new TextDecoder().decode(b))));
      expect(reply).toBe('pong');
      expect(Buffer.concat(received).toString()).toBe('ping');
      // More data after it flows as usual (the early bytes were acknowledged, not double-counted).
      expect(conn.write(new TextEncoder().encode('!'))).toBe(true);
      await until(() => Buffer.concat(received).toString() === 'ping!');
      expect(Buffer.concat(received).toString()).toBe('ping!');
      c.close();
    } finally {
      await h2.close();
      server.close();
    }
  });
});

describe('tunnel TCP listen with --allow', () => {
  it('an --allow-ed address may connect; bytes flow both ways', async () => {
    const h2 = await startBridgeHarness({ options: { allow: ['127.0.0.1'] } });
    try {
      const c = await h2.openClient();
      const l = await c.listen();
      const accepted = new Promise<StreamConnection>((resolve) => l.onConnection(resolve));
      const s = net.connect({ host: '127.0.0.1', port: l.local.port });
      const conn = await accepted;
      expect(conn.remote.ip).toBe('127.0.0.1');
      const fromPage = new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString())));
      const toPage = new Promise<string>((resolve) => conn.onData((b) => resolve(new TextDecoder().decode(b))));
      s.write('hello page');
      conn.write(new TextEncoder().encode('hello peer'));
      expect(await toPage).toBe('hello page');
      expect(await fromPage).toBe('hello peer');
      s.destroy();
      c.close();
    } finally {
      await h2.close();
    }
  });
});

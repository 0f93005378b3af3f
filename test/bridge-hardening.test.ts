// Regression tests for the findings of issue 8 ("the bridge, hardened for a room of strangers"),
// one describe block per finding, named after it. Each fails on the bridge before the fix.
// Nothing here sends a packet off loopback: the address findings are checked on the policy the
// running bridge uses (TargetPolicy.check decides, nothing is sent), the rest on 127.0.0.0/8.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import https from 'node:https';
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../bridge/log.ts';
import { parseArgv } from '../bridge/options.ts';
import { parseRule } from '../bridge/policy.ts';
import { readHostAddresses } from '../bridge/host-addresses.ts';
import { startWarnings } from '../bridge/start.ts';
import { openTunnel } from '../shared/tunnel/client.ts';
import { FrameType, TunnelErrorCode, encodeFrame } from '../shared/tunnel/frames.ts';
import { normalizeIp } from '../shared/tunnel/ip.ts';
import { type BridgeHarness, type RawSession, startBridgeHarness, tcpServer, tryUpgrade, udpEcho, until } from './helpers/bridge-harness.ts';
import { policy, reasonOf } from './helpers/policy.ts';
import { startProcess } from './helpers/start-process.ts';

const LOOPBACK = 'loopback address: lab peers and tunnel sockets only (--allow opens a port)';

/** A TCP_CONNECT from a raw session and what came back: 'connected' or the TCP_CLOSE reason and detail. */
async function connectRaw(raw: RawSession, id: number, ip: string, port: number): Promise<string> {
  raw.send({ type: 'tcp-connect', id, peer: { ip, port }, timeoutMs: 2000 });
  const f = await raw.next((x) => (x.type === 'tcp-connected' || x.type === 'tcp-close') && x.id === id);
  return f.type === 'tcp-connected' ? 'connected' : f.type === 'tcp-close' ? `${f.reason}: ${f.detail}` : '?';
}

/** A UDP_OPEN from a raw session: the bound endpoint, or the ERROR's code name and message. */
async function openRaw(raw: RawSession, id: number, ip: string, port: number): Promise<{ ip: string; port: number } | { error: number; message: string }> {
  raw.send({ type: 'udp-open', id, ip, port });
  const f = await raw.next((x) => (x.type === 'udp-opened' || (x.type === 'error' && x.refType === FrameType.UDP_OPEN)) && x.id === id);
  if (f.type === 'udp-opened') return { ip: f.ip, port: f.port };
  return f.type === 'error' ? { error: f.code, message: f.message } : { error: -1, message: '?' };
}

/** A loopback UDP port that is free on 127.0.0.1 (bound, then released). */
async function freeUdpPort(ip = '127.0.0.1'): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, ip, () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('finding 1 — workshop mode, loopback bypass: allowances are keyed by protocol', () => {
  let h: BridgeHarness;
  // Services on the host: one on 127.0.0.1, one on the address the room's sockets bind
  // (127.0.0.2 here, standing in for the LAN address; all of 127.0.0.0/8 is loopback).
  let onLoopback: Awaited<ReturnType<typeof tcpServer>>;
  let onRoomAddress: Awaited<ReturnType<typeof tcpServer>>;
  beforeAll(async () => {
    onLoopback = await tcpServer((s) => s.end('secret-1'), '127.0.0.1');
    onRoomAddress = await tcpServer((s) => s.end('secret-2'), '127.0.0.2');
    h = await startBridgeHarness({ options: { workshop: true, advertiseIp: '127.0.0.2' } });
  });
  afterAll(async () => {
    await h?.close();
    await Promise.all([onLoopback?.close(), onRoomAddress?.close()]);
  });

  it('the attack from two sessions: UDP_OPEN on 127.0.0.1:P is refused, TCP_CONNECT to a UDP socket’s port gets policy', async () => {
    const alice = await h.openRaw();
    const bob = await h.openRaw();
    // (a) Bind the page's UDP socket on the host's loopback, on the TCP service's port.
    const a = await openRaw(alice, 1, '127.0.0.1', onLoopback.port);
    expect(a).toMatchObject({ error: TunnelErrorCode.policy });
    expect((a as { message: string }).message).toContain('cannot bind to 127.0.0.1');
    expect(await openRaw(alice, 2, '::1', 0)).toMatchObject({ error: TunnelErrorCode.policy });
    for (const raw of [alice, bob]) expect(await connectRaw(raw, 1, '127.0.0.1', onLoopback.port)).toBe(`policy: 127.0.0.1:${onLoopback.port}: ${LOOPBACK}`);
    // (b) The default bind (the room's address) on the port of a service there: UDP opens, TCP does not follow.
    expect(await openRaw(alice, 3, '', onRoomAddress.port)).toEqual({ ip: '127.0.0.2', port: onRoomAddress.port });
    for (const [raw, id] of [[alice, 2], [bob, 2]] as const)
      expect(await connectRaw(raw, id, '127.0.0.2', onRoomAddress.port)).toMatch(/^policy: 127\.0\.0\.2:\d+: loopback address/);
    expect(onLoopback.sockets.size + onRoomAddress.sockets.size).toBe(0); // no connection reached either service
    alice.close();
    bob.close();
  });

  it('a UDP socket of another session stays reachable over UDP (pages reach each other)', async () => {
    const alice = await h.openClient();
    const bob = await h.openClient();
    const a = await alice.openDatagram();
    const b = await bob.openDatagram();
    const got = new Promise<string>((resolve) => b.onMessage((_m, from) => resolve(`${from.ip}:${from.port}`)));
    a.send(Uint8Array.of(1), b.local);
    expect(await got).toBe(`${a.local.ip}:${a.local.port}`);
    alice.close();
    bob.close();
  });

  it('the policy: a UDP registration never allows TCP, and a TCP one never UDP', () => {
    const p = policy({ workshop: true }, ['127.0.0.1:40000']);
    expect(reasonOf(p, '127.0.0.1', 40000, 'udp')).toBe('ok');
    expect(reasonOf(p, '127.0.0.1', 40000, 'tcp')).toBe(LOOPBACK);
    const local = policy({}, ['127.0.0.1:40000']);
    expect(reasonOf(local, '127.0.0.1', 40000, 'tcp')).toBe(LOOPBACK);
  });
});

describe('finding 2 — IPv6 classification: public only inside 2000::/3 minus special-purpose blocks', () => {
  const p = policy(); // local mode: public targets allowed, so only the classification refuses
  it.each([
    // The addresses of the finding.
    ['::a9fe:a9fe', 'ipv4Compatible'], // IPv4-compatible 169.254.169.254
    ['::a00:1', 'ipv4Compatible'],
    ['::7f00:1', 'ipv4Compatible'],
    ['::100:0:0:1', 'reserved'], // outside 2000::/3 (not in ::/96, nor in 100::/64)
    ['4000::1', 'reserved'], // outside 2000::/3
    // The IANA IPv6 special-purpose registry, and what lies outside 2000::/3.
    ['100::1', 'discard'],
    ['2001::1', 'ietfProtocol'], // Teredo
    ['2001:2::1', 'ietfProtocol'], // benchmarking
    ['2001:3::1', 'ietfProtocol'], // AMT: a carve-out not honoured
    ['2001:20::1', 'ietfProtocol'], // ORCHIDv2: not honoured
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2002:808:808::1', '6to4'],
    ['64:ff9b::808:808', 'nat64'],
    ['64:ff9b:1::1', 'nat64'],
    ['::ffff:0:808:808', 'rfc6145'],
    ['5f00::1', 'segmentRouting'],
    ['fec0::1', 'siteLocal'],
    ['fd12::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['ff0e::1', 'multicast'],
    ['::', 'unspecified'],
    ['6000::1', 'reserved'],
    ['e000::1', 'reserved'],
  ])('refuses %s (%s)', (ip, range) => {
    expect(reasonOf(p, ip)).toBe(`${range} address`);
    expect(p.checkAddress(ip).ok).toBe(false);
  });

  it('still allows global unicast', () => {
    expect(reasonOf(p, '2a00:1450:4001:80e::200e')).toBe('ok');
    expect(reasonOf(p, '2606:4700:4700::1111')).toBe('ok');
  });

  it('reads ::a.b.c.d as IPv6: ::0.0.0.1 is ::1, and --deny ::127.0.0.1 is an IPv6 rule', () => {
    expect(normalizeIp('::0.0.0.1')).toBe('::1');
    expect(normalizeIp('::127.0.0.1')).toBe('::7f00:1');
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1'); // mapped stays mapped
    expect(reasonOf(p, '::0.0.0.1')).toBe(LOOPBACK);
    const rule = parseRule('::127.0.0.1');
    expect(rule.net[0].kind()).toBe('ipv6');
    expect(rule.net[1]).toBe(128);
    const d = policy({ deny: ['::127.0.0.1'], allow: ['127.0.0.1'] });
    expect(reasonOf(d, '127.0.0.1')).toBe('ok');
    expect(reasonOf(d, '::7f00:1')).toBe('denied by --deny ::127.0.0.1');
  });
});

describe('finding 3 — CPU starvation: a session over its budget is not read until the budget refills', () => {
  let echo: Awaited<ReturnType<typeof udpEcho>>;
  beforeAll(async () => {
    echo = await udpEcho();
  });
  afterAll(async () => {
    await echo?.close();
  });

  /** N pre-encoded UDP_SENDs of `size` bytes to the echo, sent at once. */
  function flood(raw: RawSession, n: number, size: number): void {
    const r = encodeFrame({ type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: echo.port }, payload: new Uint8Array(size) });
    if (!r.ok) throw r.error;
    for (let i = 0; i < n; i++) raw.ws.send(r.value);
  }

  it('a flood waits in its own TCP buffers: the bridge reads far less than was sent while the budget is spent', async () => {
    const h = await startBridgeHarness({ options: { packetsPerSecond: 10, allow: ['127.0.0.1'], overBudgetCloseMs: 60_000 } });
    const raw = await h.openRaw();
    expect(await openRaw(raw, 1, '', 0)).toMatchObject({ ip: '127.0.0.1' });
    const before = echo.received;
    const started = Date.now();
    const N = 3000; // 3.6 MB: read at once, this is a moment's work for the bridge
    flood(raw, N, 1200);
    await new Promise((r) => setTimeout(r, 1500));
    const st = h.server.stats();
    const seconds = (Date.now() - started) / 1000;
    // Read: the burst, then at most one socket read (≤ 64 KiB, ≤ 54 of these frames) per release.
    expect(st.total.framesIn).toBeLessThan(N / 2);
    expect(st.total.held).toBeGreaterThan(0);
    // Relayed: the budget only (10 burst + 10/s; the UDP_OPEN took one).
    expect(echo.received - before).toBeLessThanOrEqual(10 + Math.ceil(10 * seconds) + 1);
    // Another session is served meanwhile.
    const calm = await h.openClient();
    const sock = await calm.openDatagram();
    const back = new Promise<void>((resolve) => sock.onMessage(() => resolve()));
    sock.send(Uint8Array.of(7), { ip: '127.0.0.1', port: echo.port });
    await back;
    calm.close();
    raw.close();
    await h.close();
  });

  it('sustained flooding closes the session with 4002 "over budget"; a new session works', async () => {
    const h = await startBridgeHarness({ options: { packetsPerSecond: 50, allow: ['127.0.0.1'], overBudgetCloseMs: 1000 } });
    const raw = await h.openRaw();
    await openRaw(raw, 1, '', 0);
    const stop = { now: false };
    const pump = (async () => {
      for (let i = 0; i < 400 && !stop.now && !raw.closed; i++) {
        flood(raw, 50, 100);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    expect(await raw.waitClosed(8000)).toEqual({ code: 4002, reason: 'over budget' });
    stop.now = true;
    await pump;
    const next = await h.openClient();
    expect(next.closed).toBe(false);
    next.close();
    await h.close();
  });
});

describe('finding 4 — loopback services in local mode: lab peers and tunnel sockets only, --allow for the rest', () => {
  it('refuses a loopback TCP service and a loopback UDP service; --allow opens one port', async () => {
    const service = await tcpServer((s) => s.end('local service'));
    const echo = await udpEcho();
    const h = await startBridgeHarness({ lab: 1 });
    const raw = await h.openRaw();
    expect(await connectRaw(raw, 1, '127.0.0.1', service.port)).toBe(`policy: 127.0.0.1:${service.port}: ${LOOPBACK}`);
    expect(await openRaw(raw, 1, '', 0)).toMatchObject({ ip: '127.0.0.1' });
    raw.send({ type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: echo.port }, payload: Uint8Array.of(1) });
    expect(await raw.next((f) => f.type === 'error')).toMatchObject({ code: TunnelErrorCode.policy });
    // A lab peer is a target (UDP only).
    const lab = h.labPeers[0];
    expect(h.server.policy.check('udp', lab.ip, lab.udp)).toEqual({ ok: true, ip: lab.ip });
    expect(h.server.policy.check('tcp', lab.ip, lab.udp).ok).toBe(false);
    expect(service.sockets.size).toBe(0);
    expect(echo.received).toBe(0);
    raw.close();
    await h.close();

    const open = await startBridgeHarness({ options: { allow: [`127.0.0.1:${service.port}`] } });
    const raw2 = await open.openRaw();
    expect(await connectRaw(raw2, 1, '127.0.0.1', service.port)).toBe('connected');
    raw2.close();
    await open.close();
    await Promise.all([service.close(), echo.close()]);
  });
});

describe('finding 5 — workshop mode reaches the whole internet', () => {
  it('refuses public targets unless --public; the risk is printed', () => {
    const room = policy({ workshop: true });
    expect(reasonOf(room, '8.8.8.8')).toBe('public address (workshop mode: --public allows it)');
    expect(reasonOf(room, '2a00:1450:4001:80e::200e')).toBe('public address (workshop mode: --public allows it)');
    expect(parseArgv(['--workshop', '--host', '10.0.0.5']).options.publicTargets).toBe(false);
    expect(parseArgv(['--workshop', '--host', '10.0.0.5', '--public']).options.publicTargets).toBe(true);
    expect(parseArgv([]).options.publicTargets).toBe(true); // local mode
    expect(reasonOf(policy({ workshop: true, publicTargets: true }), '8.8.8.8')).toBe('ok');
    expect(startWarnings({ workshop: true, publicTargets: true, tlsCert: undefined }).join('\n')).toMatch(/open relay/);
  });

  it('refuses every address of the host’s own interfaces, in both modes', async () => {
    const own = readHostAddresses();
    const fromOs = Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => normalizeIp(a.address.replace(/%.*$/, ''))));
    expect([...own].sort()).toEqual([...new Set(fromOs)].sort());
    for (const workshop of [false, true]) {
      const h = await startBridgeHarness({ options: { workshop, publicTargets: true } });
      for (const ip of own) {
        const v = h.server.policy.check('udp', ip, 30303);
        expect(v.ok, `${ip} (workshop ${workshop})`).toBe(false);
        expect(h.server.policy.check('tcp', ip, 22).ok, ip).toBe(false);
      }
      await h.close();
    }
    const p = policy({ ownAddress: new Set(['203.0.114.7']) });
    expect(reasonOf(p, '203.0.114.7')).toBe("this machine's own address (--allow opens a port)");
  });

  it('warns at start that the join URL travels in clear text on the LAN', async () => {
    expect(startWarnings({ workshop: true, publicTargets: false, tlsCert: undefined }).join('\n')).toMatch(/clear text/);
    expect(startWarnings({ workshop: true, publicTargets: false, tlsCert: 'c.pem' })).toEqual([]);
    expect(startWarnings({ workshop: false, publicTargets: true, tlsCert: undefined })).toEqual([]);
    const out = await runStart(['--workshop', '--host', '127.0.0.1', '--no-lab']);
    expect(out).toMatch(/Join URL \(share it with the room\):\s+http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    expect(out).toMatch(/Warning: the join URL and its token travel in clear text/);
  }, 60_000);

  describe('--tls-cert/--tls-key serve HTTPS and WSS', () => {
    let dir: string;
    let cert: Buffer;
    let h: BridgeHarness;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'hl-tls-'));
      const key = path.join(dir, 'key.pem');
      const crt = path.join(dir, 'cert.pem');
      // A throwaway self-signed certificate for 127.0.0.1 (openssl is part of the dev setup).
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt,
        '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      cert = readFileSync(crt);
      h = await startBridgeHarness({ options: { tlsCert: crt, tlsKey: key } });
    });
    afterAll(async () => {
      await h?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints https/wss URLs, serves the page over TLS with connect-src self, and opens a tunnel over WSS', async () => {
      expect(h.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/\?token=/);
      expect(h.origin).toBe(`https://127.0.0.1:${h.port}`);
      expect(h.tunnelUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/tunnel\?token=/);
      const page = await new Promise<{ status: number; csp: string }>((resolve, reject) =>
        https
          .get({ host: '127.0.0.1', port: h.port, path: `/lab.json?token=${h.token}`, ca: cert, agent: false }, (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, csp: String(res.headers['content-security-policy']) });
          })
          .on('error', reject),
      );
      expect(page.status).toBe(200);
      expect(page.csp).toContain("connect-src 'self';");
      const client = await openTunnel(new WebSocket(h.tunnelUrl, { origin: h.origin, ca: cert }));
      expect(client.limits.maxDatagram).toBe(1280);
      client.close();
      // The page's origin is https now: the plain-http one is foreign.
      const ws = new WebSocket(h.tunnelUrl, { origin: `http://127.0.0.1:${h.port}`, ca: cert });
      const status = await new Promise<number>((resolve) => {
        ws.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
      ws.terminate();
      expect(status).toBe(403);
    });

    it('does not speak plain HTTP on the TLS port', async () => {
      const r = await fetch(`http://127.0.0.1:${h.port}/`).then(
        (res) => `status ${res.status}`,
        () => 'refused',
      );
      expect(r).toBe('refused');
    });
  });
});

describe('finding 6 — the smaller ones', () => {
  it('caps sessions per client address (429), apart from the total cap', async () => {
    const h = await startBridgeHarness({ options: { maxSessionsPerClient: 2 } });
    const a = await h.openRaw();
    const b = await h.openRaw();
    expect(await tryUpgrade(h, {})).toEqual({ opened: false, status: 429 });
    a.close();
    await until(() => h.server.stats().sessions === 1, 2000, 'the session to close');
    expect(await tryUpgrade(h, {})).toEqual({ opened: true });
    b.close();
    await h.close();
  });

  /** Opens a TCP connection to the bridge that sends `send` (if any) and waits; resolves 'closed' or 'open' after waitMs. */
  function idleConnection(port: number, send: string | undefined, waitMs: number): { result: Promise<'closed' | 'open'>; socket: net.Socket } {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.on('data', () => {});
    if (send !== undefined) socket.write(send);
    const result = new Promise<'closed' | 'open'>((resolve) => {
      const t = setTimeout(() => resolve('open'), waitMs);
      socket.once('close', () => {
        clearTimeout(t);
        resolve('closed');
      });
    });
    return { result, socket };
  }

  it('caps half-open HTTP connections per client address, and server.maxConnections', async () => {
    const h = await startBridgeHarness({ options: { maxHttpConnectionsPerClient: 3 } });
    const held = [1, 2, 3].map(() => idleConnection(h.port, 'GET / HTTP/1.1\r\n', 800));
    await new Promise((r) => setTimeout(r, 100));
    const fourth = idleConnection(h.port, 'GET / HTTP/1.1\r\n', 800);
    expect(await fourth.result).toBe('closed');
    expect(await Promise.all(held.map((c) => c.result))).toEqual(['open', 'open', 'open']);
    for (const c of held) c.socket.destroy();
    await h.close();

    const small = await startBridgeHarness({ options: { maxSessions: 2, maxConnections: 4, maxHttpConnectionsPerClient: 100 } });
    const four = [1, 2, 3, 4].map(() => idleConnection(small.port, undefined, 800));
    await new Promise((r) => setTimeout(r, 100));
    const fifth = idleConnection(small.port, undefined, 800);
    expect(await fifth.result).toBe('closed');
    expect(await Promise.all(four.map((c) => c.result))).toEqual(['open', 'open', 'open', 'open']);
    for (const c of four) c.socket.destroy();
    await small.close();
  });

  it('closes a connection whose headers do not come within headersTimeout', async () => {
    const h = await startBridgeHarness({ options: { headersTimeoutMs: 300 } });
    const t = Date.now();
    const slow = idleConnection(h.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\n`, 4000);
    expect(await slow.result).toBe('closed');
    expect(Date.now() - t).toBeGreaterThanOrEqual(250);
    await h.close();
  });

  it("sends CSP connect-src 'self' (no ws:/wss: to any host)", async () => {
    const h = await startBridgeHarness();
    const res = await fetch(`http://127.0.0.1:${h.port}/lab.json?token=${h.token}`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/\bwss?:/);
    await h.close();
  });

  it('logs refused requests by route, never by the raw path', async () => {
    const lines: string[] = [];
    const h = await startBridgeHarness({ log: createLogger('info', (l) => lines.push(l)) });
    await fetch(`http://127.0.0.1:${h.port}/lab.json/RAW-PATH-MARKER?x=1`, { method: 'POST' });
    await fetch(`http://127.0.0.1:${h.port}/RAW-PATH-MARKER-2`, { method: 'DELETE' });
    await h.close();
    expect(lines.join('\n')).not.toContain('RAW-PATH-MARKER');
    expect(lines.some((l) => l.includes('http-refused') && l.includes('route=static'))).toBe(true);
  });

  it('binds tunnel UDP sockets to the advertised address, not every interface', async () => {
    const h = await startBridgeHarness();
    const raw = await h.openRaw();
    const port = await freeUdpPort();
    expect(await openRaw(raw, 1, '', port)).toEqual({ ip: '127.0.0.1', port });
    // Bound to 127.0.0.1 only: the same port is still free on another loopback address.
    const other = dgram.createSocket('udp4');
    const bound = await new Promise<string>((resolve) => {
      other.once('error', (e: Error & { code?: string }) => resolve(e.code ?? 'error'));
      other.bind(port, '127.0.0.3', () => resolve('bound'));
    });
    other.close();
    expect(bound).toBe('bound');
    expect(await openRaw(raw, 2, '0.0.0.0', 0)).toMatchObject({ error: TunnelErrorCode.policy });
    expect(await openRaw(raw, 3, '::', 0)).toMatchObject({ error: TunnelErrorCode.policy });
    raw.close();
    await h.close();
  });

  it('takes the token one way only: the token query parameter (no X-Tunnel-Token header)', async () => {
    const h = await startBridgeHarness({ lab: 0 });
    const viaHeader = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${h.port}/tunnel`, { origin: h.origin, headers: { 'X-Tunnel-Token': h.token } });
      ws.on('unexpected-response', (_q, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        resolve(101);
        ws.terminate();
      });
      ws.on('error', () => {});
    });
    expect(viaHeader).toBe(403);
    expect((await fetch(`http://127.0.0.1:${h.port}/lab.json`, { headers: { 'X-Tunnel-Token': h.token } })).status).toBe(403);
    expect(await tryUpgrade(h, {})).toEqual({ opened: true });
    await h.close();
  });
});

/** `npm start` with these flags until its banner is out; then SIGINT, and its output. */
async function runStart(args: string[]): Promise<string> {
  const { child, output, exited } = await startProcess(['--port', '0', '--build', 'never', '--log', 'silent', ...args]);
  try {
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    return output();
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

// The bridge's front door: Host allowlist (DNS rebinding), Origin + token on the upgrade,
// /lab.json under the same rules, the session cap, and the static files it serves.
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../bridge/log.ts';
import { type BridgeHarness, startBridgeHarness, tcpServer, tryUpgrade, udpEcho } from './helpers/bridge-harness.ts';

function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

describe('bridge security', () => {
  let h: BridgeHarness;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'hl-bridge-'));
    const dist = path.join(root, 'dist');
    mkdirSync(path.join(dist, 'assets'), { recursive: true });
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>Handshake Lab</title>');
    writeFileSync(path.join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(path.join(dist, 'assets', 'app-1234.css'), 'body{}');
    writeFileSync(path.join(root, 'hl-secret.txt'), 'secret');
    h = await startBridgeHarness({ lab: 2, options: { distDir: dist, maxSessions: 3 } });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('accepts the page: right Host, Origin and token', async () => {
    expect(await tryUpgrade(h, {})).toEqual({ opened: true });
    expect(await tryUpgrade(h, { host: `localhost:${h.port}`, origin: `http://localhost:${h.port}` })).toEqual({ opened: true });
  });

  it.each([
    ['a foreign Origin', { origin: 'http://evil.example' }],
    ['a look-alike Origin', { origin: `http://127.0.0.1:${1 + 0}` }],
    ['no Origin', { origin: null }],
    ['no token', { token: null }],
    ['a wrong token', { token: 'x'.repeat(32) }],
    ['an empty token', { token: '' }],
    ['a foreign Host (DNS rebinding)', { host: 'evil.example' }],
    ['a foreign Host with the right port', { host: 'evil.example:PORT' }],
  ])('refuses the upgrade with 403 for %s', async (_what, o: Record<string, string | null>) => {
    const fixed = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v.replace('PORT', String(h.port)) : v]));
    expect(await tryUpgrade(h, fixed)).toEqual({ opened: false, status: 403 });
  });

  it('refuses other paths, and a wrong-length token takes the same path as a wrong one', async () => {
    expect(await tryUpgrade(h, { path: '/other' })).toEqual({ opened: false, status: 404 });
    expect(await tryUpgrade(h, { token: h.token.slice(0, -1) })).toEqual({ opened: false, status: 403 });
    expect(await tryUpgrade(h, { token: h.token + 'x' })).toEqual({ opened: false, status: 403 });
  });

  it('caps sessions (503 past maxSessions)', async () => {
    const raws = await Promise.all([1, 2, 3].map(() => h.openRaw()));
    expect(await tryUpgrade(h, {})).toEqual({ opened: false, status: 503 });
    for (const r of raws) r.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(await tryUpgrade(h, {})).toEqual({ opened: true });
  });

  it('serves /lab.json only with the Host and token rules', async () => {
    const ok = await get(h.port, `/lab.json?token=${h.token}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^application\/json/);
    const lab = JSON.parse(ok.body);
    expect(lab.peers).toHaveLength(2);
    expect(lab.peers[0].enr).toMatch(/^enr:/);
    expect((await get(h.port, '/lab.json')).status).toBe(403);
    expect((await get(h.port, '/lab.json?token=nope')).status).toBe(403);
    expect((await get(h.port, `/lab.json?token=${h.token}`, { host: 'evil.example' })).status).toBe(403);
    expect((await get(h.port, `/lab.json?token=${h.token}`, { origin: 'http://evil.example' })).status).toBe(403);
  });

  it('serves the built app with the right content types and security headers', async () => {
    const index = await get(h.port, '/?token=abc');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(index.body).toContain('Handshake Lab');
    const js = await get(h.port, '/assets/app-1234.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get(h.port, '/assets/app-1234.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get(h.port, '/some/route')).body).toContain('Handshake Lab'); // SPA fallback
    expect((await get(h.port, '/missing.js')).status).toBe(404);
  });

  it('refuses foreign Hosts, other methods, and paths outside the build', async () => {
    expect((await get(h.port, '/', { host: 'evil.example' })).status).toBe(403);
    expect((await get(h.port, '/', { host: `evil.example:${h.port}` })).status).toBe(403);
    const post = await new Promise<number>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: h.port, path: '/', method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.end();
    });
    expect(post).toBe(405);
    for (const p of ['/../hl-secret.txt', '/%2e%2e/hl-secret.txt', '/assets/..%2f..%2fhl-secret.txt', '/..%5chl-secret.txt']) {
      const r = await get(h.port, p);
      expect(r.body, p).not.toContain('secret');
    }
    expect((await get(h.port, '/tunnel')).status).toBe(426);
  });
});

describe('bridge logs', () => {
  it('carry metadata only: no payload bytes, no token', async () => {
    const lines: string[] = [];
    const h = await startBridgeHarness({ options: { logLevel: 'debug', allow: ['127.0.0.1'] }, log: createLogger('debug', (l) => lines.push(l)) });
    const echo = await udpEcho();
    const tcp = await tcpServer((s) => s.pipe(s));
    const secret = 'PAYLOAD-7f3a9c';
    const bytes = new TextEncoder().encode(secret);
    const client = await h.openClient();
    const sock = await client.openDatagram();
    const back = new Promise<void>((resolve) => sock.onMessage(() => resolve()));
    sock.send(bytes, { ip: '127.0.0.1', port: echo.port });
    await back;
    sock.send(bytes, { ip: '10.0.0.1', port: 1 }); // refused: logged as metadata
    const conn = await client.connect({ ip: '127.0.0.1', port: tcp.port });
    const echoed = new Promise<void>((resolve) => conn.onData(() => resolve()));
    conn.write(bytes);
    await echoed;
    await client.resolve('localhost');
    await tryUpgrade(h, { token: 'wrong-token-0123456789' });
    client.close();
    await h.close();
    await Promise.all([echo.close(), tcp.close()]);
    const all = lines.join('\n');
    expect(lines.some((l) => l.includes('session-open'))).toBe(true);
    expect(lines.some((l) => l.includes('refused') && l.includes('10.0.0.1:1'))).toBe(true);
    expect(all).not.toContain(secret);
    expect(all).not.toContain(Buffer.from(bytes).toString('hex'));
    expect(all).not.toContain(Buffer.from(bytes).toString('base64'));
    expect(all).not.toContain(h.token);
    expect(all).not.toContain('wrong-token');
  });
});

// `npm start` as a user runs it: a real process that prints the URL and the lab ENRs, serves
// /lab.json, and on Ctrl-C (SIGINT) stops everything and exits.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runHandshakes } from '../bridge/cli/commands/btc.ts';
import { nodeStreamTransport } from '../bridge/node-transport.ts';
import { NETWORKS } from '../shared/bitcoin/spec.ts';
import { runCli } from './helpers/cli-process.ts';
import { describe, expect, it } from 'vitest';
import { buildIsStale } from '../bridge/start.ts';
import { ROOT, startProcess } from './helpers/start-process.ts';

function getJson(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) =>
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject),
  );
}

describe('npm start', () => {
  it('prints the URL and lab ENRs, serves /lab.json, and exits on SIGINT', async () => {
    const { child, output, exited } = await startProcess(['--port', '0', '--build', 'never', '--lab-size', '3', '--bitcoin-lab-size', '1', '--libp2p-lab-size', '1', '--log', 'silent']);
    try {
      const out = output();
      const url = /Open:\s+(http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      const enrs = out.match(/enr:[A-Za-z0-9_-]+/g) ?? [];
      // 3 discv5 nodes, and the libp2p node's discv5 identity (its ENR carries tcp and eth2).
      expect(enrs).toHaveLength(4);
      const u = new URL(url!);
      const lab = await getJson(`${u.origin}/lab.json?token=${u.searchParams.get('token')}`);
      expect(lab.status).toBe(200);
      const peers = JSON.parse(lab.body).peers as { protocol: string; enr?: string; tcp?: number; name: string }[];
      expect(peers.filter((p) => p.protocol === 'discv5').map((p) => p.enr)).toEqual(enrs);
      // The Bitcoin lab node: listed, printed, and a real Bitcoin node on its port.
      const btc = peers.filter((p) => p.protocol === 'bitcoin');
      expect(btc).toHaveLength(1);
      expect(out).toContain(`btc-01  127.0.0.1:${btc[0].tcp}  /bcoin:v1.0.2/`);
      const r = await runHandshakes({ out: { json: false, line: () => undefined, object: () => undefined }, network: NETWORKS.regtest, name: 'lab', addresses: [{ ip: '127.0.0.1', port: btc[0].tcp! }], timeoutMs: 5000, concurrency: 1, streams: nodeStreamTransport });
      expect(r.results[0].outcome).toBe('SUCCESS');
      // The libp2p lab node: listed, printed, in the discv5 lab under its name, and a real js-libp2p node.
      const cl = peers.filter((p) => p.protocol === 'libp2p') as unknown as { name: string; multiaddr: string }[];
      expect(cl).toHaveLength(1);
      expect(out).toContain(`cl-01  ${cl[0].multiaddr}`);
      expect(peers.find((p) => p.protocol === 'discv5' && p.name === 'cl-01')).toMatchObject({ libp2p: cl[0].multiaddr });
      const dial = await runCli(['libp2p', 'dial', cl[0].multiaddr]);
      expect(dial.stdout).toMatch(/SUCCESS in [\d.]+ ms/);

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      // Everything was in that one process: its port is closed now.
      await expect(getJson(`${u.origin}/`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('rejects a bad flag with exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bridge/start.ts', '--port', 'x'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('--port expects a number');
  }, 30_000);

  it('rebuilds when dist/ is missing or older than the sources', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'hl-start-'));
    try {
      const dist = path.join(root, 'dist');
      mkdirSync(path.join(root, 'web', 'lib'), { recursive: true });
      writeFileSync(path.join(root, 'web', 'lib', 'a.ts'), '');
      expect(await buildIsStale(root, dist)).toBe(true); // no build yet
      mkdirSync(dist);
      writeFileSync(path.join(dist, 'index.html'), '');
      const t = Date.now() / 1000;
      utimesSync(path.join(root, 'web', 'lib', 'a.ts'), t - 100, t - 100);
      utimesSync(path.join(dist, 'index.html'), t - 50, t - 50);
      expect(await buildIsStale(root, dist)).toBe(false);
      utimesSync(path.join(root, 'web', 'lib', 'a.ts'), t, t); // a source edited after the build
      expect(await buildIsStale(root, dist)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

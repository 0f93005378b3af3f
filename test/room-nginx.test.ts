// Past one laptop: Debian's nginx with the documented config (docs/nginx/handshake-lab.conf) in
// front of two bridges, each with its own lab, started as `npm start -- --workshop` with the
// same room state file and each other as --room-peer. Participants join through nginx, stick to
// one bridge (their lab handshakes succeed, and a bridge only relays to its own lab), land on
// both, and the teacher's view through nginx lists all of them with their bridge.
// Skips only where nginx is not installed outside CI; .ci/run installs it, and in CI it runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { ROOT, startApp, type RunningApp } from './e2e/harness.ts';
import { Participant } from './helpers/participant.ts';
import { decodeServerMessage, type RoomSnapshot } from '../shared/room/messages.ts';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const inCi = !!process.env.CI;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** The documented config, pointed at loopback: its listen line and its two upstream servers. */
export function loopbackConfig(doc: string, listen: number, bridges: number[]): string {
  let n = 0;
  const conf = doc
    .replace(/^(\s*)listen \S+;/m, `$1listen 127.0.0.1:${listen};`)
    .replace(/^(\s*)server \S+((?: [^;]*)?;\s*# bridge \d)/gm, (_m, sp: string, tail: string) => `${sp}server 127.0.0.1:${bridges[n++]}${tail}`);
  if (n !== bridges.length) throw new Error('the documented nginx config no longer has two "# bridge N" upstream lines');
  return conf;
}

describe.skipIf(!NGINX && !inCi)('two bridges behind nginx', () => {
  let dir: string;
  let nginx: ChildProcess | undefined;
  const bridges: RunningApp[] = [];
  let origin: string;
  const participants: Participant[] = [];

  beforeAll(async () => {
    if (!NGINX) throw new Error('nginx is not installed: .ci/run installs it (apt-get install nginx)');
    dir = mkdtempSync(path.join(os.tmpdir(), 'hl-nginx-'));
    chmodSync(dir, 0o755);
    const [proxyPort, a, b] = [await freePort(), await freePort(), await freePort()];
    origin = `http://127.0.0.1:${proxyPort}`;
    const site = loopbackConfig(readFileSync(path.join(ROOT, 'docs/nginx/handshake-lab.conf'), 'utf8'), proxyPort, [a, b]);
    const temp = path.join(dir, 'temp');
    mkdirSync(temp, { mode: 0o777 });
    chmodSync(temp, 0o777); // nginx's workers run as nobody when started as root
    writeFileSync(path.join(dir, 'site.conf'), site);
    writeFileSync(
      path.join(dir, 'nginx.conf'),
      [
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        'events { worker_connections 512; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${temp}/${t};`),
        `  include ${dir}/site.conf;`,
        '}',
      ].join('\n'),
    );
    const t = spawnSync(NGINX, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`nginx -t: ${t.stderr}`);
    nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });

    const roomState = path.join(dir, 'room.json');
    const common = ['--workshop', '--host', '127.0.0.1', '--room-state', roomState, '--public-url', origin, '--bitcoin-lab-size', '0', '--lab-size', '4'];
    // Behind the proxy every page comes from the proxy's address: per-address caps sized for the room.
    const caps = ['--max-sessions-per-client', '64', '--max-http-per-client', '128'];
    bridges.push(await startApp([...common, ...caps, '--port', String(a), '--room-peer', `ws://127.0.0.1:${b}`]));
    bridges.push(await startApp([...common, ...caps, '--port', String(b), '--room-peer', `ws://127.0.0.1:${a}`]));
  }, 240_000);

  afterAll(async () => {
    for (const p of participants) p.close();
    await Promise.allSettled(bridges.map((b) => b.close()));
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGQUIT');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('participants join through nginx, complete handshakes on either bridge, the teacher sees both bridges', async () => {
    // Both bridges print the same room links (one state file), at the proxy's address.
    expect(bridges[1].url).toBe(bridges[0].url);
    expect(bridges[0].url.startsWith(`${origin}/?token=`)).toBe(true);
    const teacherToken = /[?&]teacher=([\w-]+)/.exec(bridges[0].output())![1];
    const token = bridges[0].token;

    // Join until both bridges have participants (each cookie is a browser; bounded).
    const landed = new Map<string, number>();
    for (let i = 0; i < 24 && (landed.size < 2 || participants.length < 4); i++) {
      const p = await Participant.join({ origin, token, cookie: `hl_bridge=browser-${i}`, name: `p${i}` });
      participants.push(p);
      landed.set(p.bridge!, (landed.get(p.bridge!) ?? 0) + 1);
    }
    expect(landed.size).toBe(2);

    // Each participant's lab is its bridge's: the handshake works because everything of it went to one bridge.
    for (const [i, p] of participants.entries()) {
      const o = await p.discv5Handshake(i);
      expect(o.ok, o.reason).toBe(true);
    }

    // The teacher, through nginx too, on whichever bridge: everyone, on two bridges, one handshake each.
    const ws = new WebSocket(`${origin.replace('http', 'ws')}/room?role=teacher&teacher=${teacherToken}`, { origin, headers: { cookie: 'hl_bridge=teacher' } });
    let last: RoomSnapshot | undefined;
    ws.on('message', (d) => {
      const m = decodeServerMessage(d.toString());
      if (m?.type === 'room') last = m.snapshot;
    });
    try {
      await expect
        .poll(
          () =>
            last &&
            last.participants.filter((r) => r.progress.handshakes.discv5?.completed === 1).length === participants.length &&
            new Set(last.participants.map((r) => r.bridge)).size,
          { timeout: 15_000, interval: 200 },
        )
        .toBe(2);
      expect(last!.participants.map((r) => r.name).sort()).toEqual(participants.map((p) => p.options.name).sort());
      for (const p of participants) expect(last!.participants.find((r) => r.id === p.id)?.bridge).toBe(p.bridge);
      expect(last!.totals.discv5).toEqual({ completed: participants.length, failed: 0, reasons: {} });
    } finally {
      ws.close();
    }
  }, 120_000);
});

// Starts the app exactly as `npm start` does (bridge/start.ts in its own process: build when
// stale, lab of chainsafe discv5 nodes, bridge), reads the URL it prints, and drives headless
// Chromium (Debian's /usr/bin/chromium through playwright-core). close() stops all of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = path.join(ROOT, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type { Discv5LabPeer as LabPeer } from '../../shared/lab.ts';
import type { BitcoinLabPeer, Discv5LabPeer as LabPeer, LabPeerInfo } from '../../shared/lab.ts';

export interface RunningApp {
  url: string;
  origin: string;
  token: string;
  /** The lab's discv5 nodes. */
  lab: LabPeer[];
  /** The lab's Bitcoin nodes. */
  btcLab: BitcoinLabPeer[];
  /** Everything the process printed so far. */
  output(): string;
  close(): Promise<void>;
}

/** `npm start -- --port 0 …` in a child process; resolves once it printed the URL. */
export async function startApp(args: string[] = [], timeoutMs = 180_000): Promise<RunningApp> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'bridge/start.ts', '--port', '0', '--log', 'silent', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no URL in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /(?:Open|Join URL[^:]*):\s+(http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited (${code}) before printing a URL:\n${out}`));
    });
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  const u = new URL(url);
  const token = u.searchParams.get('token') ?? '';
  const res = await fetch(`${u.origin}/lab.json?token=${encodeURIComponent(token)}`);
  const peers = ((await res.json()) as { peers: LabPeerInfo[] }).peers;
  const lab = peers.filter((p): p is LabPeer => p.protocol === 'discv5');
  const btcLab = peers.filter((p): p is BitcoinLabPeer => p.protocol === 'bitcoin');
  return { url, origin: u.origin, token, lab, btcLab, output: () => out, close: stop };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

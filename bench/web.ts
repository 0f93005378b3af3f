// npm run bench:web — the playground in headless Chromium, loopback only, bounded. Prints:
//   - the production build's JavaScript, gzipped (page + node worker), aim ≤ 150 KB;
//   - time from navigation to the first PONG (the page's own user-timing marks);
//   - cold handshake + PING latency, browser → lab node (over the bridge) vs a chainsafe node →
//     lab node (plain UDP), measured in the same run, interleaved, and their ratio (aim ≤ 1.0×).
// The app runs as `npm start` runs it (its own process: bridge + lab); the chainsafe client runs
// here; Chromium in its own processes. Every sample is a first contact: fresh keys on both sides.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { ENR } from '@chainsafe/enr';
import { WebSocket } from 'ws';
import { ROOT, launchChromium, startApp, type LabPeer } from '../test/e2e/harness.ts';
import { startChainsafeNode } from '../test/helpers/chainsafe.ts';
import { bcoinDial, startBcoinNode } from '../bridge/bcoin.ts';
import { pageHandshake } from './page-handshake.ts';
import { nodeDatagramTransport } from '../bridge/node-transport.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv5Driver } from '../shared/discv5/driver.ts';
import { contactFromEnr } from '../shared/discv5/engine.ts';
import { Discv5Node } from '../shared/discv5/node.ts';
import { createEnr, parseEnrText } from '../shared/enr/index.ts';
import { secureRandom } from '../shared/random.ts';
import type { DatagramSocket } from '../shared/transport.ts';
import { openTunnel } from '../shared/tunnel/client.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BUDGET_KB = 150;
/** Bitcoin handshakes per page: each connection stays open 5 s, and a tunnel holds 8. */
const BTC_PER_ROUND = 6;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
};
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function buildSize(): Promise<{ files: { name: string; raw: number; gzip: number }[]; total: number; lazy: number }> {
  const { build } = await import('vite');
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'silent', build: { manifest: true } });
  const dir = path.join(ROOT, 'dist', 'assets');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((name) => {
      const bytes = readFileSync(path.join(dir, name));
      return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    });
  // Loaded at once: the page's entry and every chunk it imports statically (transitively), and the
  // node worker. Chunks reached only by import() (lessons, glossary, stepper, tabs, Bitcoin,
  // pcapng export…) load on first use.
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'dist', '.vite', 'manifest.json'), 'utf8')) as Record<string, { file: string; imports?: string[]; isEntry?: boolean }>;
  const initialFiles = new Set<string>();
  const visit = (key: string) => {
    const c = manifest[key];
    if (!c || initialFiles.has(path.basename(c.file))) return;
    initialFiles.add(path.basename(c.file));
    c.imports?.forEach(visit);
  };
  Object.keys(manifest).filter((k) => manifest[k].isEntry).forEach(visit);
  const initial = files.filter((f) => initialFiles.has(f.name) || /^node\.worker-/.test(f.name));
  return { files, total: initial.reduce((n, f) => n + f.gzip, 0), lazy: files.filter((f) => !initial.includes(f)).reduce((n, f) => n + f.gzip, 0) };
}

async function waitConnected(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
  await page.waitForSelector('[data-testid=local-endpoint]', { timeout: 20_000 });
}

/**
 * One Ping from the page to `peer`; the node's own measure (first send → PONG read), in ms.
 * Done inside the page with plain DOM calls and a MutationObserver: no automation polling runs
 * on the page's main thread while the handshake is under way (Playwright's waits poll every frame).
 */
async function browserPing(page: Page, peer: LabPeer): Promise<number> {
  // A string, not a function: tsx would wrap named functions in a helper the page does not have.
  const ms = await page.evaluate<string>(`new Promise((resolve, reject) => {
    const name = ${JSON.stringify(peer.name)};
    const radio = [...document.querySelectorAll('input[type=radio][value^="lab:"]')].find((r) => r.closest('label')?.querySelector('.name')?.textContent === name);
    if (!radio) return reject(new Error('no radio for ' + name));
    radio.click();
    document.querySelector('[data-testid=action-result] [data-ok]')?.remove();
    const observer = new MutationObserver(() => {
      const ok = document.querySelector('[data-action=ping][data-ok=true] [data-testid=rtt]');
      const bad = document.querySelector('[data-action=ping][data-ok=false]');
      if (!ok && !bad) return;
      observer.disconnect();
      if (ok) resolve(ok.getAttribute('data-ms'));
      else reject(new Error(bad.textContent));
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true });
    queueMicrotask(() => [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Ping').click());
  })`);
  return Number(ms);
}

/** One Bitcoin handshake from the page with the lab node `name` (the engine's own measure). */
const browserBtc = (page: Page, name: string): Promise<number> =>
  pageHandshake(page, { protocol: 'bitcoin', radio: `input[type=radio][value="lab:${name}"]`, result: 'btc-result', rtt: 'btc-rtt', button: 'btc-handshake' });

/** Our engine in Node on `socket`: the same code the page's worker runs. */
function ourNode(socket: DatagramSocket) {
  const privateKey = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey, ip: socket.local.ip, udp: socket.local.port });
  const driver = new Discv5Driver(new Discv5Node({ privateKey, enr }), socket);
  return {
    async ping(peer: LabPeer): Promise<number> {
      const r = parseEnrText(peer.enr);
      if (!r.ok) throw new Error(r.error.reason);
      const o = await driver.ping(contactFromEnr(r.value)!);
      if (!o.ok) throw new Error(`ping ${peer.name}: ${o.reason}`);
      return o.rttMs;
    },
    close: () => driver.close(),
  };
}

async function main(): Promise<void> {
  const size = await buildSize();
  const app = await startApp(['--build', 'never']);
  const browser = await launchChromium();
  const browserSamples: number[] = [];
  const chainsafeSamples: number[] = [];
  const directSamples: number[] = [];
  const tunnelSamples: number[] = [];
  let firstPong: { open: number; pong: number } | undefined;
  const btcBrowser: number[] = [];
  const btcBcoin: number[] = [];
  try {
    const peers = app.lab;
    for (let round = 0; round < ROUNDS; round++) {
      // A fresh browser profile: new key, new node, new bridge socket — nobody knows it yet.
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      await page.goto(app.url);
      await waitConnected(page);
      await browserPing(page, peers[0]); // warms the worker's JIT; in round 0 it is the first PONG
      if (round === 0) {
        firstPong = await page.evaluate(() => ({
          open: performance.getEntriesByName('bridge-open')[0]?.startTime ?? NaN,
          pong: performance.getEntriesByName('first-pong')[0]?.startTime ?? NaN,
        }));
      }
      // A fresh chainsafe node, and our engine in Node on plain UDP and over the tunnel, warmed up the same way.
      const cs = await startChainsafeNode();
      const direct = ourNode(await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1' }));
      const tunnel = await openTunnel(new WebSocket(app.url.replace(/^http/, 'ws').replace('/?', '/tunnel?'), { origin: app.origin }));
      const viaTunnel = ourNode(await tunnel.openDatagram());
      try {
        await cs.discv5.sendPing(ENR.decodeTxt(peers[0].enr));
        await direct.ping(peers[0]);
        await viaTunnel.ping(peers[0]);
        // Interleaved, each to a lab node none of them has talked to: a cold handshake every time.
        for (const peer of peers.slice(1)) {
          browserSamples.push(await browserPing(page, peer));
          const t0 = performance.now();
          await cs.discv5.sendPing(ENR.decodeTxt(peer.enr));
          chainsafeSamples.push(performance.now() - t0);
          directSamples.push(await direct.ping(peer));
          tunnelSamples.push(await viaTunnel.ping(peer));
        }
        // Bitcoin: the page → a lab bcoin node over the bridge, against a bcoin node → the same lab
        // node on plain TCP. A page's connection stays 5 s after its handshake (the tunnel allows 8).
        const btcLab = app.btcLab[0];
        if (btcLab) {
          const bcoin = await startBcoinNode();
          try {
            await browserBtc(page, btcLab.name);
            (await bcoinDial(bcoin, btcLab.ip, btcLab.tcp)).destroy();
            for (let i = 0; i < BTC_PER_ROUND; i++) {
              btcBrowser.push(await browserBtc(page, btcLab.name));
              const t0 = performance.now();
              const peer = await bcoinDial(bcoin, btcLab.ip, btcLab.tcp);
              btcBcoin.push(performance.now() - t0);
              peer.destroy();
            }
          } finally {
            await bcoin.close();
          }
        }
      } finally {
        direct.close();
        viaTunnel.close();
        tunnel.close();
        await cs.stop();
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await app.close();
  }

  const out = process.stdout;
  out.write('\nbench:web — Handshake Lab playground (headless Chromium, loopback)\n\n');
  out.write('Production JavaScript (vite build, gzip -9):\n');
  for (const f of size.files) out.write(`  ${f.name.padEnd(34)} ${(f.raw / 1024).toFixed(1).padStart(7)} KB raw  ${(f.gzip / 1024).toFixed(1).padStart(6)} KB gzip\n`);
  out.write(`  loaded at start (page + worker): ${(size.total / 1024).toFixed(1)} KB gzip (aim ≤ ${BUDGET_KB} KB)${size.total / 1024 <= BUDGET_KB ? '' : '  OVER BUDGET'}\n`);
  out.write(`  loaded on first use (Step narration, tabs, lessons, glossary, Bitcoin, pcapng…): ${(size.lazy / 1024).toFixed(1)} KB gzip\n\n`);
  if (firstPong) out.write(`Navigation → first PONG: ${fmt(firstPong.pong)} (bridge connected and node up at ${fmt(firstPong.open)}, then Ping pressed)\n\n`);
  const b50 = quantile(browserSamples, 0.5);
  const c50 = quantile(chainsafeSamples, 0.5);
  out.write(`Cold handshake + PING → lab node, ${browserSamples.length} samples each, interleaved:\n`);
  out.write(`  browser (worker, over the bridge)  p50 ${fmt(b50)}  p90 ${fmt(quantile(browserSamples, 0.9))}  min ${fmt(Math.min(...browserSamples))}\n`);
  out.write(`  chainsafe node (plain UDP)         p50 ${fmt(c50)}  p90 ${fmt(quantile(chainsafeSamples, 0.9))}  min ${fmt(Math.min(...chainsafeSamples))}\n`);
  out.write(`  ratio browser / chainsafe (p50): ${(b50 / c50).toFixed(2)}× (aim ≤ 1.0×)\n`);
  out.write('Where the difference comes from (same run, same lab nodes):\n');
  out.write(`  our engine in Node, plain UDP         p50 ${fmt(quantile(directSamples, 0.5))}  p90 ${fmt(quantile(directSamples, 0.9))}   (engine vs chainsafe: ${(quantile(directSamples, 0.5) / c50).toFixed(2)}×)\n`);
  out.write(`  our engine in Node, over the bridge   p50 ${fmt(quantile(tunnelSamples, 0.5))}  p90 ${fmt(quantile(tunnelSamples, 0.9))}   (+ WebSocket tunnel)\n`);
  out.write(`  our engine in the browser's worker    p50 ${fmt(b50)}  p90 ${fmt(quantile(browserSamples, 0.9))}   (+ Chromium's WebSocket)\n`);
  if (btcBrowser.length) {
    const w50 = quantile(btcBrowser, 0.5);
    const n50 = quantile(btcBcoin, 0.5);
    out.write(`\nBitcoin connect + version/verack → a lab bcoin node, ${btcBrowser.length} samples each, interleaved:\n`);
    out.write(`  browser (worker, TCP over the bridge)  p50 ${fmt(w50)}  p90 ${fmt(quantile(btcBrowser, 0.9))}  min ${fmt(Math.min(...btcBrowser))}\n`);
    out.write(`  bcoin peer (plain TCP)                 p50 ${fmt(n50)}  p90 ${fmt(quantile(btcBcoin, 0.9))}  min ${fmt(Math.min(...btcBcoin))}\n`);
    out.write(`  ratio browser / bcoin (p50): ${(w50 / n50).toFixed(2)}× (aim ≤ 2×)\n`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);

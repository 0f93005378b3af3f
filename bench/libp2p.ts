// `npm run bench:libp2p` (and part of `npm run bench`): our libp2p dial against js-libp2p 3,
// measured in the same run, on loopback. Every sample is a new TCP connection to the same lab
// js-libp2p node, timed from the dial to the ping's echo (connect, multistream, Noise XX, muxer,
// a ping stream and its 32 bytes back):
//  (1) our engine as the CLI runs it (fresh engine, fresh secp256k1 identity) vs a js-libp2p node
//      dialling the same node (its connection hung up after each ping): aim ≤ 0.8×;
//  (2) the page (worker → bridge tunnel → TCP) vs the same js-libp2p dialler: aim ≤ 1.2×.
// Options: --samples N (default 30), --quick, --no-browser.
import os from 'node:os';
import type { Page } from 'playwright-core';
import { createLabNode, startLibp2pLab, type LabLibp2pNode } from '../bridge/lab-libp2p.ts';
import { nodeStreamTransport } from '../bridge/node-transport.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import type { Libp2pLabPeer, LabPeerInfo } from '../shared/lab.ts';
import { parseDialTarget } from '../shared/libp2p/address.ts';
import { Libp2pEngine, type Libp2pEvent } from '../shared/libp2p/engine.ts';
import { secp256k1Identity } from '../shared/libp2p/keys.ts';
import { secureRandom } from '../shared/random.ts';
import { launchChromium, startApp } from '../test/e2e/harness.ts';
import { benchArgs, latency, printLatency, withLimit } from './stats.ts';
import { pageHandshake } from './page-handshake.ts';
import { multiaddr } from '@multiformats/multiaddr';

const { samples: SAMPLES } = benchArgs({ samples: 30, quickSamples: 12, minSamples: 6 });
const LIMIT_MS = 10_000;

/** Our engine as `libp2p dial` runs it: fresh identity, engine and driver; dial → ping echo. */
async function oursDials(target: string): Promise<number> {
  const t = parseDialTarget(target);
  if ('error' in t) throw new Error(t.error);
  const driver = new EngineDriver(new Libp2pEngine({ identity: secp256k1Identity(randomPrivateKey(secureRandom)), random: secureRandom, timeoutMs: LIMIT_MS, afterPing: 'close' }), { streams: nodeStreamTransport });
  try {
    const ping = new Promise<number>((resolve, reject) =>
      driver.listen({
        event: (e: Libp2pEvent) => {
          if (e.type === 'ping') resolve(e.elapsedMs);
          else if (e.type === 'outcome' && e.outcome === 'FAILED') reject(new Error(e.reason));
        },
      }),
    );
    driver.command({ type: 'dial', to: t.endpoint, ...(t.peerId ? { peerId: t.peerId } : {}) });
    return await withLimit(ping, LIMIT_MS, 'our dialer');
  } finally {
    // The outcome (after identify) closes it; a little later the driver goes too.
    setTimeout(() => driver.close(), 200);
  }
}

/** js-libp2p → js-libp2p: a new connection each time (the previous one hung up), dial → ping echo. */
function theirsDials(dialer: LabLibp2pNode, target: string): () => Promise<number> {
  const ma = multiaddr(target) as never;
  return async () => {
    await dialer.hangUp(ma).catch(() => {});
    const t0 = performance.now();
    await withLimit(dialer.services.ping.ping(ma), LIMIT_MS, 'js-libp2p dialer');
    return performance.now() - t0;
  };
}

/** One dial from the page to the lab node `name`: the worker's own measure (dial → ping echo), ms. */
const browserDial = (page: Page, name: string): Promise<number> =>
  pageHandshake(page, { protocol: 'libp2p', radio: `input[type=radio][value="lab:${name}"]`, result: 'p2p-result', rtt: 'p2p-rtt', button: 'p2p-dial', action: 'dial', msAttr: 'data-dial-ms' });

async function main(): Promise<void> {
  console.log(`libp2p benchmark — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const lab = await startLibp2pLab({ size: 1 });
  const { node: dialer } = await createLabNode();
  try {
    const target = lab.peers[0].multiaddr;
    const l = await latency(SAMPLES, () => oursDials(target), theirsDials(dialer, target));
    printLatency('(1) dial → Noise XX → yamux → ping echo, a js-libp2p node', 'our engine (fresh, as the CLI) → js-libp2p', 'js-libp2p (new connection) → js-libp2p', l, 0.8);
  } finally {
    await Promise.allSettled([lab.close(), dialer.stop()]);
  }
  if (process.argv.includes('--no-browser')) return;

  const app = await startApp(['--lab-size', '2', '--bitcoin-lab-size', '0', '--libp2p-lab-size', '1']);
  const browser = await launchChromium();
  const { node: nodeDialer } = await createLabNode();
  try {
    const res = await fetch(`${app.origin}/lab.json?token=${encodeURIComponent(app.token)}`);
    const cl = ((await res.json()) as { peers: LabPeerInfo[] }).peers.find((p): p is Libp2pLabPeer => p.protocol === 'libp2p');
    if (!cl) throw new Error('the app started no libp2p lab node');
    const page = await browser.newPage();
    await page.goto(app.url);
    await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
    const l = await latency(Math.min(SAMPLES, 20), () => browserDial(page, cl.name), theirsDials(nodeDialer, cl.multiaddr));
    printLatency('(2) the same, from the page: worker → bridge tunnel → TCP', 'browser (worker, over the bridge) → js-libp2p', 'js-libp2p (new connection) → js-libp2p', l, 1.2);
  } finally {
    await Promise.allSettled([browser.close(), nodeDialer.stop()]);
    await app.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

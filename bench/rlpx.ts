// `npm run bench:rlpx` (and part of `npm run bench`): our RLPx code against @ethereumjs/devp2p 10,
// measured in the same run, on loopback.
//  (1) frames: a 1 KiB message encrypted + MACed by one side and verified + decrypted by the
//      other, ops/s, ours (FrameCodec) vs ethereumjs's ECIES createBlockHeader/createBody/
//      parseHeader/parseBody, each over a session set up by its own handshake;
//  (2) handshake: our engine as the CLI runs it (fresh key, connect → auth/ack → Hello → Status)
//      → an ethereumjs lab node, vs an ethereumjs node → the same lab node;
//  (3) the browser: the page's Connect over the bridge → a lab node (the engine's own measure),
//      vs an ethereumjs node here → the same lab node (plain TCP), interleaved (--no-browser skips).
// Options: --samples N (default 30), --quick, --no-browser.
import os from 'node:os';
import type { Page } from 'playwright-core';
import { ECIES, ETH, type Peer } from '@ethereumjs/devp2p';
import { nodeStreamTransport } from '../bridge/node-transport.ts';
import { startExecutionLab, type ExecutionLab, type ExecutionNode } from '../bridge/lab-execution.ts';
import { randomPrivateKey, publicKey64, publicKeyOf } from '../shared/crypto/secp256k1.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import { parseEnode } from '../shared/enr/index.ts';
import { RlpxEngine, type RlpxEvent } from '../shared/rlpx/engine.ts';
import { FrameCodec } from '../shared/rlpx/frame.ts';
import { deriveSecrets } from '../shared/rlpx/secrets.ts';
import { makeAck, makeAuth } from '../shared/rlpx/handshake.ts';
import { encodeFrameData } from '../shared/rlpx/messages.ts';
import { secureRandom } from '../shared/random.ts';
import { toHex } from '../shared/bytes.ts';
import { launchChromium, startApp } from '../test/e2e/harness.ts';
import { pageHandshake } from './page-handshake.ts';
import { benchArgs, fmt, latency, median, printLatency, quantile, rate, withLimit } from './stats.ts';
import { installFastRecovery } from '../shared/crypto/secp256k1-fast-recovery.ts';

// As the CLI does: the faster recovery (same results).
installFastRecovery();

const { samples: SAMPLES, rounds: ROUNDS, roundMs: ROUND_MS } = benchArgs({ samples: 30, quickSamples: 12, minSamples: 6 });
const NO_BROWSER = process.argv.includes('--no-browser');
const LIMIT_MS = 10_000;
const FRAME = 1024;

// ---------------------------------------------------------------- (1) frames

/** Our session between two codecs: the secrets of one real handshake, both directions. */
function ourPair(): { writer: FrameCodec; reader: FrameCodec } {
  const r = secureRandom;
  const keyA = randomPrivateKey(r);
  const keyB = randomPrivateKey(r);
  const ephA = randomPrivateKey(r);
  const ephB = randomPrivateKey(r);
  const nonceA = r(32);
  const nonceB = r(32);
  const { auth } = makeAuth({ staticKey: keyA, remoteStaticKey: publicKeyOf(keyB, false), ephemeralKey: ephA, nonce: nonceA, eciesKey: randomPrivateKey(r), iv: r(16), padding: r(100) });
  const ack = makeAck({ remoteStaticKey: publicKeyOf(keyA, false), ephemeralKey: ephB, nonce: nonceB, eciesKey: randomPrivateKey(r), iv: r(16), padding: r(100) });
  const a = deriveSecrets({ initiator: true, ephemeralPrivateKey: ephA, remoteEphemeralKey: publicKeyOf(ephB, false), initiatorNonce: nonceA, recipientNonce: nonceB, auth: auth.packet, ack: ack.packet });
  const b = deriveSecrets({ initiator: false, ephemeralPrivateKey: ephB, remoteEphemeralKey: publicKeyOf(ephA, false), initiatorNonce: nonceA, recipientNonce: nonceB, auth: auth.packet, ack: ack.packet });
  return { writer: new FrameCodec(a), reader: new FrameCodec(b) };
}

interface EthjsEcies {
  createAuthEIP8(): Uint8Array;
  parseAuthEIP8(d: Uint8Array): void;
  createAckEIP8(): Uint8Array;
  parseAckEIP8(d: Uint8Array): void;
  createBlockHeader(size: number): Uint8Array;
  createBody(d: Uint8Array): Uint8Array;
  parseHeader(d: Uint8Array): number;
  parseBody(d: Uint8Array): Uint8Array;
  _gotEIP8Auth: boolean;
  _gotEIP8Ack: boolean;
}

/** ethereumjs's session between two ECIES objects, set up by their own EIP-8 handshake. */
function theirPair(): { a: EthjsEcies; b: EthjsEcies } {
  const keyA = randomPrivateKey(secureRandom);
  const keyB = randomPrivateKey(secureRandom);
  const idA = publicKey64(publicKeyOf(keyA, false));
  const idB = publicKey64(publicKeyOf(keyB, false));
  const Ctor = ECIES as unknown as new (k: Uint8Array, id: Uint8Array, remote: Uint8Array | null) => EthjsEcies;
  const a = new Ctor(keyA, idA, idB);
  const b = new Ctor(keyB, idB, idA);
  const auth = a.createAuthEIP8();
  b._gotEIP8Auth = true;
  b.parseAuthEIP8(auth);
  const ack = b.createAckEIP8();
  a._gotEIP8Ack = true;
  a.parseAckEIP8(ack);
  return { a, b };
}

function frames(): { ours: number; theirs: number } {
  const payload = secureRandom(FRAME - 1);
  const frameData = encodeFrameData(0x10, payload, false);
  const o = ourPair();
  const t = theirPair();
  const ours = () => {
    const w = o.writer.write(frameData).bytes;
    const h = o.reader.readHeader(w.subarray(0, 32));
    if (!h.ok) throw h.error;
    const b = o.reader.readBody(w.subarray(32));
    if (!b.ok) throw b.error;
  };
  const theirs = () => {
    const header = t.a.createBlockHeader(frameData.length);
    const body = t.a.createBody(frameData);
    t.b.parseHeader(header);
    t.b.parseBody(body);
  };
  // Both read back what they wrote.
  const w = o.writer.write(frameData).bytes;
  o.reader.readHeader(w.subarray(0, 32));
  const back = o.reader.readBody(w.subarray(32));
  if (!back.ok || toHex(back.value.frameData) !== toHex(frameData)) throw new Error('our frame cross-check failed');
  t.b.parseHeader(t.a.createBlockHeader(frameData.length));
  if (toHex(t.b.parseBody(t.a.createBody(frameData))) !== toHex(frameData)) throw new Error('ethereumjs frame cross-check failed');
  for (let i = 0; i < 2000; i++) (ours(), theirs());
  const os: number[] = [];
  const ts: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    os.push(rate(ours, ROUND_MS));
    ts.push(rate(theirs, ROUND_MS));
  }
  return { ours: median(os), theirs: median(ts) };
}

// ---------------------------------------------------------------- (2) handshakes

type Outcome = Extract<RlpxEvent, { type: 'outcome' }>;

/** Our engine as `rlpx status` runs it: fresh key, engine and driver; connect → Status both ways. */
async function oursDials(enode: string): Promise<number> {
  const t = parseEnode(enode);
  if (!t.ok) throw t.error;
  const driver = new EngineDriver(new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom, timeoutMs: LIMIT_MS }), { streams: nodeStreamTransport });
  try {
    const done = new Promise<Outcome>((resolve) => driver.listen({ event: (e) => e.type === 'outcome' && resolve(e) }));
    driver.command({ type: 'connect', to: { ip: t.value.ip, port: t.value.tcp }, remoteKey: t.value.publicKey, goal: 'status' });
    const o = await withLimit(done, LIMIT_MS, 'our dialer');
    if (o.outcome !== 'SUCCESS') throw new Error(`our handshake: ${o.reason ?? ''}`);
    return o.elapsedMs;
  } finally {
    driver.close();
  }
}

/** An ethereumjs node dials: connect → auth/ack → Hello → Status both ways (its 'status' event); then it drops the socket. */
async function ethjsDials(dialer: ExecutionNode, enode: string): Promise<number> {
  const t = parseEnode(enode);
  if (!t.ok) throw t.error;
  const id = publicKey64(t.value.publicKey);
  const idHex = toHex(id);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = new Promise<Peer>((resolve) => {
    const added = (peer: Peer) => {
      if (toHex(peer.getId() ?? new Uint8Array(0)) !== idHex) return;
      dialer.rlpx.events.off('peer:added', added);
      for (const p of peer.getProtocols()) if (p instanceof ETH) p.events.once('status', () => resolve(peer));
    };
    dialer.rlpx.events.on('peer:added', added);
  });
  const removed = new Promise<void>((resolve) => {
    const gone = (peer: Peer) => {
      if (toHex(peer.getId() ?? new Uint8Array(0)) !== idHex) return;
      dialer.rlpx.events.off('peer:removed', gone);
      resolve();
    };
    dialer.rlpx.events.on('peer:removed', gone);
  });
  const t0 = performance.now();
  await dialer.rlpx.connect({ id, address: t.value.ip, tcpPort: t.value.tcp });
  const peer = await withLimit(status, LIMIT_MS, 'ethereumjs dialer');
  const ms = performance.now() - t0;
  // Hang up at once (its own disconnect waits 2 s before closing the socket).
  (peer as unknown as { _socket: { destroy(): void } })._socket.destroy();
  await withLimit(removed, LIMIT_MS, 'ethereumjs hang-up');
  clearTimeout(timer);
  return ms;
}

// ---------------------------------------------------------------- (3) the browser

/** One Connect from the page to the lab node `name`: the engine's own measure, observed in the page. */
const browserConnect = (page: Page, name: string): Promise<number> =>
  pageHandshake(page, { protocol: 'rlpx', radio: `[data-testid="rlpx-lab-${name}"]`, result: 'rlpx-result', rtt: 'rlpx-rtt', button: 'rlpx-connect' });

/** Connections stay open 5 s after Status in the page and a tunnel holds 8: 6 per page. */
const PER_PAGE = 6;

async function browserBench(dialer: ExecutionNode): Promise<{ ours: number[]; theirs: number[] }> {
  const app = await startApp(['--build', 'auto', '--lab-size', '1', '--bitcoin-lab-size', '0', '--execution-lab-size', '1']);
  const browser = await launchChromium();
  const out = { ours: [] as number[], theirs: [] as number[] };
  try {
    const res = await fetch(`${app.origin}/lab.json?token=${encodeURIComponent(app.token)}`);
    const peer = ((await res.json()) as { peers: { protocol: string; name: string; enode: string }[] }).peers.find((p) => p.protocol === 'execution');
    if (!peer) throw new Error('the app started no execution lab node');
    const pages = Math.max(1, Math.ceil(SAMPLES / PER_PAGE));
    for (let p = 0; p < pages; p++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const page = await context.newPage();
        await page.goto(app.url);
        await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
        await page.getByTestId('protocol-rlpx').check();
        await page.getByTestId(`rlpx-lab-${peer.name}`).waitFor({ timeout: 15_000 });
        // Warm-up, not counted: the worker loads the RLPx code on first use.
        await browserConnect(page, peer.name);
        await ethjsDials(dialer, peer.enode);
        for (let i = 0; i < PER_PAGE - 1 && out.ours.length < SAMPLES; i++) {
          if (i % 2 === 0) {
            out.ours.push(await browserConnect(page, peer.name));
            out.theirs.push(await ethjsDials(dialer, peer.enode));
          } else {
            out.theirs.push(await ethjsDials(dialer, peer.enode));
            out.ours.push(await browserConnect(page, peer.name));
          }
        }
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await app.close();
  }
  return out;
}

async function main(): Promise<void> {
  console.log(`RLPx benchmark — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const f = frames();
  const ratio = f.ours / f.theirs;
  console.log(`\n(1) frames: ${FRAME}-byte message, encrypt + MAC then verify + decrypt (median of ${ROUNDS} rounds)`);
  console.log(`  ours ${fmt(f.ours / 1000, 1)}k frames/s   ethereumjs ${fmt(f.theirs / 1000, 1)}k frames/s   ratio ${fmt(ratio)}   aim ≥ 2   ${ratio >= 2 ? 'MET' : 'MISSED'}`);

  let lab: ExecutionLab | undefined;
  try {
    lab = await startExecutionLab({ size: 2 });
    const [target] = lab.peers;
    const dialer = lab.nodes[1];
    const l = await latency(SAMPLES, () => oursDials(target.enode), () => ethjsDials(dialer, target.enode));
    printLatency('(2) connect → auth/ack → Hello → Status with an ethereumjs node', 'our engine (fresh, as the CLI) → ethereumjs', 'ethereumjs node → ethereumjs', l, 0.8);

    if (NO_BROWSER) console.log('\n(3) browser: skipped (--no-browser)');
    else {
      const b = await browserBench(dialer);
      const mo = median(b.ours);
      const mt = median(b.theirs);
      console.log(`\n(3) the browser over the bridge (${b.ours.length} Connects, each interleaved with an ethereumjs dial of the same lab node)`);
      console.log(`  page → bridge → lab node                     median ${fmt(mo)} ms   p90 ${fmt(quantile(b.ours, 0.9))} ms`);
      console.log(`  ethereumjs node → lab node (plain TCP)       median ${fmt(mt)} ms   p90 ${fmt(quantile(b.theirs, 0.9))} ms`);
      console.log(`  ratio page/ethereumjs (median) ${fmt(mo / mt)}   aim ≤ 1.0   ${mo / mt <= 1 ? 'MET' : 'MISSED'}`);
    }
  } finally {
    await lab?.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

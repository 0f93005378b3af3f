// `npm run bench`: our discv5 against @chainsafe/discv5, measured in the same run, on loopback.
//  (1) codec: one ordinary message packet encoded and decoded with AES-GCM, ops/s and ratio;
//  (2) cold handshake + PING → PONG, fresh initiator each time: our node (as the CLI makes it)
//      → a chainsafe node, against a fresh chainsafe node → the same chainsafe node;
//  (3) a fresh chainsafe node → our listener, against → a chainsafe listener.
// Samples of the two sides are interleaved so that load from elsewhere on the machine falls on
// both alike; medians are reported. Options: --samples N (default 40), --quick.
import os from 'node:os';
import { codecCases } from './codec.ts';
import { benchArgs, fmt, latency, median, pad, printLatency, rate, withLimit } from './stats.ts';
import { nodeDatagramTransport } from '../bridge/node-transport.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv5Driver } from '../shared/discv5/driver.ts';
import { Discv5Node } from '../shared/discv5/node.ts';
import type { NodeContact } from '../shared/discv5/engine.ts';
import { createEnr } from '../shared/enr/index.ts';
import { secureRandom } from '../shared/random.ts';
import { startChainsafeNode, stopAll, theirs, type ChainsafeNode } from '../test/helpers/chainsafe.ts';

const { samples: SAMPLES, rounds: CODEC_ROUNDS, roundMs: CODEC_ROUND_MS } = benchArgs({ samples: 40, quickSamples: 30, minSamples: 30 });
/** No sample may hang the benchmark: a ping that takes longer than this fails it. */
const PING_LIMIT_MS = 5000;

function codec(): { name: string; ours: number; oneShot: number; theirs: number }[] {
  const results = [];
  for (const c of codecCases(secureRandom)) {
    c.check(); // same bytes from both, and each decodes the other's
    for (let i = 0; i < 3000; i++) (c.ours(), c.oursOneShot(), c.theirs()); // warm up the JIT
    const ours: number[] = [];
    const oneShot: number[] = [];
    const their: number[] = [];
    for (let r = 0; r < CODEC_ROUNDS; r++) {
      ours.push(rate(c.ours, CODEC_ROUND_MS));
      their.push(rate(c.theirs, CODEC_ROUND_MS));
      oneShot.push(rate(c.oursOneShot, CODEC_ROUND_MS / 2));
    }
    results.push({ name: c.name, ours: median(ours), oneShot: median(oneShot), theirs: median(their) });
  }
  return results;
}

/** Our node as the CLI's `discv5 ping` makes it: fresh key, fresh socket, loopback record. Returns ms to PONG. */
async function oursPings(to: NodeContact): Promise<number> {
  const socket = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: 0 });
  const privateKey = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey, ip: '127.0.0.1', udp: socket.local.port });
  const driver = new Discv5Driver(new Discv5Node({ privateKey, enr }), socket);
  try {
    const t0 = performance.now();
    const outcome = await withLimit(driver.ping(to), PING_LIMIT_MS, 'our node');
    const ms = performance.now() - t0;
    if (!outcome.ok) throw new Error(`our ping failed: ${outcome.reason}`);
    return ms;
  } finally {
    driver.close();
  }
}

/** A fresh chainsafe node pings `to` (its record, chainsafe's form). Returns ms to PONG. */
async function chainsafePings(to: ReturnType<typeof theirs>): Promise<number> {
  const node = await startChainsafeNode();
  try {
    const t0 = performance.now();
    await withLimit(node.discv5.sendPing(to), PING_LIMIT_MS, 'chainsafe node');
    return performance.now() - t0;
  } finally {
    await node.stop();
  }
}

async function main(): Promise<void> {
  console.log(`discv5 benchmark — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  console.log(`\n(1) codec: ordinary message packet, encode + decode with AES-GCM (median of ${CODEC_ROUNDS} rounds)`);
  for (const r of codec()) {
    const ratio = r.ours / r.theirs;
    console.log(`  ${pad(r.name, 5)} ours ${fmt(r.ours / 1000, 1)}k ops/s   @chainsafe/discv5 ${fmt(r.theirs / 1000, 1)}k ops/s   ratio ${fmt(ratio)}   aim ≥ 2   ${ratio >= 2 ? 'MET' : 'MISSED'}`);
    console.log(`        (ours with one-shot aesGcmSeal/Open instead of the session's keyed cipher: ${fmt(r.oneShot / 1000, 1)}k ops/s)`);
  }

  const nodes: (ChainsafeNode | undefined)[] = [];
  try {
    // (2) The same chainsafe node answers every cold handshake.
    const target = await startChainsafeNode();
    nodes.push(target);
    const targetTheirs = theirs(target.enr);
    const l2 = await latency(SAMPLES, () => oursPings(target.contact), () => chainsafePings(targetTheirs));
    printLatency('(2) cold handshake + PING → PONG to a chainsafe node', 'our node (fresh, as the CLI) → chainsafe', 'fresh chainsafe node → chainsafe', l2, 0.8);

    // (3) A fresh chainsafe node pings our listener, or a chainsafe listener.
    const socket = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: 0 });
    const privateKey = randomPrivateKey(secureRandom);
    const listener = new Discv5Driver(new Discv5Node({ privateKey, enr: createEnr({ privateKey, ip: '127.0.0.1', udp: socket.local.port }) }), socket);
    try {
      const csListener = await startChainsafeNode();
      nodes.push(csListener);
      const oursAsTheirs = theirs(listener.node.enr);
      const csAsTheirs = theirs(csListener.enr);
      const l3 = await latency(SAMPLES, () => chainsafePings(oursAsTheirs), () => chainsafePings(csAsTheirs));
      printLatency('(3) cold handshake + PING → PONG from a fresh chainsafe node', 'fresh chainsafe node → our listener', 'fresh chainsafe node → chainsafe listener', l3, 0.8);
    } finally {
      listener.close();
    }
  } finally {
    await stopAll(nodes);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

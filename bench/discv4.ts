// `npm run bench:discv4` (and part of `npm run bench`): our discv4 against @ethereumjs/devp2p,
// measured in the same run, on loopback.
//  (1) codec: a PING encoded + signed, and decoded + its sender recovered, ops/s — ours
//      (shared/discv4/packet.ts) against ethereumjs's own message encode/decode;
//  (2) PING → PONG round trip to an ethereumjs node: a fresh node of ours (as `discv4 ping`
//      makes it) against a fresh ethereumjs DPT, each pinging the same ethereumjs node.
// Samples of the two sides are interleaved so load from elsewhere falls on both alike; medians
// are reported. Options: --samples N (default 40), --quick.
import os from 'node:os';
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { DPT, decode as ejsDecode, encode as ejsEncode } from '@ethereumjs/devp2p';
import { benchArgs, fmt, latency, median, pad, printLatency, rate, withLimit } from './stats.ts';
import { nodeDatagramTransport } from '../bridge/node-transport.ts';
import { startExecutionLab } from '../bridge/lab-execution.ts';
import { equalBytes } from '../shared/bytes.ts';
import { convertPublicKey, randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { parseDiscv4Target } from '../shared/discv4/contact.ts';
import { Discv4Driver } from '../shared/discv4/driver.ts';
import { Discv4Engine } from '../shared/discv4/engine.ts';
import type { Discv4Node } from '../shared/discv4/node.ts';
import { decodePacket, encodePacket, type Discv4Message } from '../shared/discv4/packet.ts';
import { createEnr } from '../shared/enr/index.ts';
import { secureRandom } from '../shared/random.ts';
import { installFastRecovery } from '../shared/crypto/secp256k1-fast-recovery.ts';

// As the CLI does: the faster recovery (same results).
installFastRecovery();

const { samples: SAMPLES, rounds: CODEC_ROUNDS, roundMs: CODEC_ROUND_MS } = benchArgs({ samples: 40, quickSamples: 30, minSamples: 30 });
const PING_LIMIT_MS = 5000;

interface DptServer {
  ping(peer: { address: string; udpPort: number; tcpPort: number | null }): Promise<unknown>;
}

function codec(): { name: string; ours: number; theirs: number }[] {
  const key = randomPrivateKey(secureRandom);
  const expiration = Math.floor(Date.now() / 1000) + 3600;
  const ours: Discv4Message = { type: 'PING', version: 4, from: { ip: '127.0.0.1', udp: 30303, tcp: 30303 }, to: { ip: '127.0.0.1', udp: 30304, tcp: 30304 }, expiration };
  const theirs = { version: 4, from: { address: '127.0.0.1', udpPort: 30303, tcpPort: 30303 }, to: { address: '127.0.0.1', udpPort: 30304, tcpPort: 30304 }, timestamp: expiration };
  const ourPacket = encodePacket(ours, key).raw;
  const theirPacket = ejsEncode('ping', theirs, key);
  // Same message, same key, deterministic signatures (RFC 6979): the same bytes; each decodes the other's.
  if (!equalBytes(ourPacket, theirPacket)) throw new Error('ours and ethereumjs encode the same PING differently');
  const back = decodePacket(theirPacket);
  if (!back.ok || !equalBytes(ejsDecode(ourPacket).publicKey, convertPublicKey(back.value.publicKey, false))) throw new Error('ours and ethereumjs recover different senders');
  const cases = [
    { name: 'encode + sign', ours: () => encodePacket(ours, key), theirs: () => ejsEncode('ping', theirs, key) },
    { name: 'decode + recover', ours: () => decodePacket(ourPacket), theirs: () => ejsDecode(theirPacket) },
  ];
  return cases.map((c) => {
    for (let i = 0; i < 200; i++) (c.ours(), c.theirs()); // warm up the JIT
    const o: number[] = [];
    const t: number[] = [];
    for (let r = 0; r < CODEC_ROUNDS; r++) {
      o.push(rate(c.ours, CODEC_ROUND_MS));
      t.push(rate(c.theirs, CODEC_ROUND_MS));
    }
    return { name: c.name, ours: median(o), theirs: median(t) };
  });
}

/** Our node as `discv4 ping` makes it: fresh key and socket. Returns ms from PING to PONG. */
async function oursPings(to: Discv4Node): Promise<number> {
  const socket = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: 0 });
  const privateKey = randomPrivateKey(secureRandom);
  const engine = new Discv4Engine({ privateKey, enr: createEnr({ privateKey, ip: '127.0.0.1', udp: socket.local.port }), endpoint: { ip: '127.0.0.1', udp: socket.local.port, tcp: 0 }, random: secureRandom });
  const driver = new Discv4Driver(engine, socket);
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

/** A UDP port free on loopback now (the DPT binds it next: its PING must name its own port, as ours does). */
async function freeUdpPort(): Promise<number> {
  const s = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: 0 });
  const port = s.local.port;
  s.close();
  return port;
}

/**
 * A fresh ethereumjs DPT pings the node. Returns ms from PING to PONG. Its PING names its UDP port
 * in `from`, as ours does, so the target treats both alike (it pings such a sender back 100 ms later).
 */
async function ethereumjsPings(to: Discv4Node): Promise<number> {
  const privateKey = randomPrivateKey(secureRandom);
  const port = await freeUdpPort();
  const dpt = new DPT(privateKey, { endpoint: { address: '127.0.0.1', udpPort: port, tcpPort: null }, shouldFindNeighbours: false, refreshInterval: 3_600_000, timeout: PING_LIMIT_MS, common: new Common({ chain: Mainnet, hardfork: Hardfork.Prague }) });
  dpt.events.on('error', () => {});
  await new Promise<void>((resolve) => {
    dpt.events.once('listening', () => resolve());
    dpt.bind(port, '127.0.0.1');
  });
  try {
    const server = (dpt as unknown as { _server: DptServer })._server;
    const t0 = performance.now();
    await withLimit(server.ping({ address: to.ip, udpPort: to.udp, tcpPort: to.tcp }), PING_LIMIT_MS, 'ethereumjs node');
    return performance.now() - t0;
  } finally {
    dpt.destroy();
  }
}

async function main(): Promise<void> {
  console.log(`discv4 benchmark — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  console.log(`\n(1) codec: a PING, ours (shared/discv4) vs @ethereumjs/devp2p's message encode/decode (median of ${CODEC_ROUNDS} rounds)`);
  for (const r of codec()) {
    const ratio = r.ours / r.theirs;
    console.log(`  ${pad(r.name, 17)} ours ${fmt(r.ours, 0)} ops/s   ethereumjs ${fmt(r.theirs, 0)} ops/s   ratio ${fmt(ratio)}   aim ≥ 1.5   ${ratio >= 1.5 ? 'MET' : 'MISSED'}`);
  }

  const lab = await startExecutionLab({ size: 1 });
  try {
    const t = parseDiscv4Target(lab.peers[0].enode);
    if (!t.ok) throw new Error(t.error.reason);
    const l = await latency(SAMPLES, () => oursPings(t.value), () => ethereumjsPings(t.value));
    printLatency('(2) PING → PONG to an ethereumjs node', 'our node (fresh, as the CLI) → ethereumjs', 'fresh ethereumjs DPT → ethereumjs', l, 0.8);
  } finally {
    await lab.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

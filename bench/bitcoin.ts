// `npm run bench:bitcoin` (and part of `npm run bench`): our Bitcoin code against bcoin 1.0.2,
// measured in the same run, on loopback.
//  (1) codec: header + version encoded and decoded (checksum included), ops/s, vs bcoin's
//      VersionPacket + Framer + Parser (both pure JS: bcoin runs with NODE_BACKEND=js here);
//  (2) handshake: our engine as the CLI runs it → a bcoin node, vs a bcoin node → the same node;
//  (3) `btc` over 32 addresses of which 8 never answer: the whole run vs its timeout.
// Options: --samples N (default 40), --quick.
import os from 'node:os';
import { bcoinDial, loadBcoin, startBcoinNode, type BcoinNode } from '../bridge/bcoin.ts';
import { runHandshakes } from '../bridge/cli/commands/btc.ts';
import { nodeStreamTransport } from '../bridge/node-transport.ts';
import { BitcoinEngine, type BitcoinEvent } from '../shared/bitcoin/engine.ts';
import { decodeMessage, encodeMessage, type Version } from '../shared/bitcoin/messages.ts';
import { NETWORKS } from '../shared/bitcoin/spec.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import { secureRandom } from '../shared/random.ts';
import type { Endpoint } from '../shared/transport.ts';
import { startHosts } from '../test/helpers/btc-hosts.ts';
import { benchArgs, fmt, latency, median, printLatency, rate, withLimit } from './stats.ts';

const { samples: SAMPLES, rounds: ROUNDS, roundMs: ROUND_MS } = benchArgs({ samples: 40, quickSamples: 20, minSamples: 10 });
const LIMIT_MS = 5000;

const net = NETWORKS.regtest;
const version: Version = {
  command: 'version', version: 70016, services: 9n, timestamp: 1_733_000_000n, addrRecv: { services: 0n, ip: '127.0.0.1', port: 18444 },
  addrFrom: { services: 9n, ip: '::', port: 0 }, nonce: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), userAgent: '/Satoshi:27.0.0/', startHeight: 870000, relay: true,
};

function codec(): { ours: number; theirs: number } {
  const bcoin = loadBcoin();
  const framer = new bcoin.net.Framer(bcoin.Network.get('regtest'));
  const parser = new bcoin.net.Parser(bcoin.Network.get('regtest'));
  let parsed: { version?: number } | undefined;
  parser.on('packet', (p: { version?: number }) => (parsed = p));
  parser.on('error', (e: Error) => {
    throw e;
  });
  // Both sides encode a message object made once, as a node re-sends the one it built.
  const packet = new bcoin.net.packets.VersionPacket({
      version: 70016, services: 9, time: 1_733_000_000, remote: new bcoin.net.NetAddress({ host: '127.0.0.1', port: 18444, services: 0 }),
    local: new bcoin.net.NetAddress({ host: '0.0.0.0', port: 0, services: 9 }), nonce: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), agent: '/Satoshi:27.0.0/', height: 870000, noRelay: false,
  });
  const ours = () => {
    const raw = encodeMessage(net, version);
    const r = decodeMessage(raw, net);
    if (!r.ok) throw r.error;
  };
  const theirs = () => {
    const raw = framer.packet('version', packet.toRaw());
    parser.feed(raw);
  };
  // Each side reads the other's bytes: the same message.
  parser.feed(Buffer.from(encodeMessage(net, version)));
  const back = decodeMessage(framer.packet('version', packet.toRaw()), net);
  if (parsed?.version !== 70016 || !back.ok || (back.value.message as Version).userAgent !== '/Satoshi:27.0.0/') throw new Error('codec cross-check failed');
  for (let i = 0; i < 3000; i++) (ours(), theirs());
  const o: number[] = [];
  const t: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    o.push(rate(ours, ROUND_MS));
    t.push(rate(theirs, ROUND_MS));
  }
  return { ours: median(o), theirs: median(t) };
}

/** Our engine as `btc` runs it: fresh engine and driver, connect → version/verack → SUCCESS. */
async function oursDials(to: Endpoint): Promise<number> {
  const driver = new EngineDriver(new BitcoinEngine({ network: net, random: secureRandom, timeoutMs: LIMIT_MS, afterHandshake: 'close' }), { streams: nodeStreamTransport });
  try {
    const done = new Promise<Extract<BitcoinEvent, { type: 'outcome' }>>((resolve) => driver.listen({ event: (e) => e.type === 'outcome' && resolve(e) }));
    driver.command({ type: 'handshake', to });
    const outcome = await withLimit(done, LIMIT_MS, 'our dialer');
    if (outcome.outcome !== 'SUCCESS') throw new Error(`our handshake: ${outcome.outcome} ${outcome.reason ?? ''}`);
    return outcome.elapsedMs;
  } finally {
    driver.close();
  }
}

async function main(): Promise<void> {
  console.log(`Bitcoin benchmark — node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const c = codec();
  const ratio = c.ours / c.theirs;
  console.log(`\n(1) codec: header + version, encode + decode with checksum (median of ${ROUNDS} rounds)`);
  console.log(`  ours ${fmt(c.ours / 1000, 1)}k ops/s   bcoin ${fmt(c.theirs / 1000, 1)}k ops/s   ratio ${fmt(ratio)}   aim ≥ 2   ${ratio >= 2 ? 'MET' : 'MISSED'}`);

  const nodes: BcoinNode[] = [];
  try {
    const target = await startBcoinNode();
    const dialer = await startBcoinNode();
    nodes.push(target, dialer);
    const to = { ip: '127.0.0.1', port: target.pool.server.address().port };
    const l = await latency(
      SAMPLES,
      () => oursDials(to),
      async () => {
        const t0 = performance.now();
        const peer = await withLimit(bcoinDial(dialer, to.ip, to.port), LIMIT_MS, 'bcoin dialer');
        const ms = performance.now() - t0;
        peer.destroy();
        return ms;
      },
    );
    printLatency('(2) connect + version/verack with a bcoin node', 'our engine (fresh, as the CLI) → bcoin', 'bcoin peer (fresh) → bcoin', l, 0.8);
  } finally {
    await Promise.allSettled(nodes.map((n) => n.close()));
  }

  const hosts = await startHosts(32, (i) => i % 4 === 3);
  try {
    const timeoutMs = 2000;
    const quiet = { json: false, line: () => undefined, object: () => undefined };
    const t0 = performance.now();
    const r = await runHandshakes({ out: quiet, network: net, name: 'seed', addresses: hosts.addresses, timeoutMs, concurrency: 32, streams: nodeStreamTransport });
    const ms = performance.now() - t0;
    console.log(`\n(3) btc over 32 addresses, 8 of which never answer (timeout ${timeoutMs} ms, --concurrency 32)`);
    console.log(`  whole run ${fmt(ms, 0)} ms: Success ${r.success} · Partial ${r.partial} · Failed ${r.failed}   aim ≤ timeout + 500 ms = ${timeoutMs + 500} ms   ${ms <= timeoutMs + 500 ? 'MET' : 'MISSED'}`);
  } finally {
    hosts.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);

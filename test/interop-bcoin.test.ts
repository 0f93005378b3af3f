// The Bitcoin handshake against a real, independent implementation on loopback: bcoin 1.0.2
// (protocol 70015), in memory. Our CLI dials bcoin; bcoin dials our listener. The 70016 path
// (wtxidrelay, sendaddrv2) is checked between our own dialer and listener over real TCP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcoinDial, startBcoinNode, type BcoinNode } from '../bridge/bcoin.ts';
import { runHandshakes } from '../bridge/cli/commands/btc.ts';
import { listenTcp, nodeStreamTransport } from '../bridge/node-transport.ts';
import { BitcoinEngine, type BitcoinEvent } from '../shared/bitcoin/engine.ts';
import { NETWORKS, NODE_NETWORK, NODE_WITNESS } from '../shared/bitcoin/spec.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import type { WireRecord } from '../shared/engine.ts';
import { secureRandom } from '../shared/random.ts';
import type { StreamListener } from '../shared/transport.ts';
import { runCli } from './helpers/cli-process.ts';
import { requireTshark, tsharkFields } from './helpers/tshark.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHosts } from './helpers/btc-hosts.ts';

const quiet = { json: false, line: () => undefined, object: () => undefined };
let bcoin: BcoinNode;
let port: number;

beforeAll(async () => {
  bcoin = await startBcoinNode();
  port = bcoin.pool.server.address().port;
});
afterAll(async () => {
  await bcoin?.close();
});

/** Our engine listening on loopback, as `btc listen` runs it. */
async function ourListener(version?: number): Promise<{ listener: StreamListener; driver: EngineDriver<unknown, BitcoinEvent>; events: BitcoinEvent[]; records: WireRecord[] }> {
  const listener = await listenTcp('127.0.0.1', 0);
  const engine = new BitcoinEngine({ network: NETWORKS.regtest, random: secureRandom, accept: true, afterHandshake: 'stay', services: NODE_NETWORK | NODE_WITNESS, ...(version ? { version } : {}) });
  const driver = new EngineDriver(engine, {}) as EngineDriver<unknown, BitcoinEvent>;
  listener.onConnection((c) => driver.accept(c));
  const events: BitcoinEvent[] = [];
  const records: WireRecord[] = [];
  driver.listen({ event: (e) => events.push(e), record: (r) => records.push(r) });
  return { listener, driver, events, records };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

describe('our CLI → bcoin', () => {
  it('btc <ip> <port> completes version/verack and prints what bcoin announced', async () => {
    const r = await runCli(['btc', '127.0.0.1', String(port), '5000', '--network', 'regtest']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`[127.0.0.1:${port}] STARTED`);
    expect(r.stdout).toMatch(/← version \d+ bytes: peer accepts protocol 70015, \/bcoin:v1\.0\.2\/, height 0/);
    expect(r.stdout).toMatch(/→ verack 24 bytes/);
    expect(r.stdout).toMatch(/SUCCESS in [\d.]+ ms: peer speaks protocol 70015, \/bcoin:v1\.0\.2\//);
    expect(r.stdout).toContain('Summary: 1 address · Success 1 · Partial 0 · Failed 0');
    // bcoin is at 70015: no wtxidrelay/sendaddrv2 from us.
    expect(r.stdout).not.toContain('wtxidrelay');
  });

  it('--json: one object per line, with dissections and the result', async () => {
    const r = await runCli(['btc', '127.0.0.1', String(port), '--network', 'regtest', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const inVersion = lines.find((o) => o.type === 'message' && o.direction === 'in' && o.command === 'version');
    expect(inVersion.dissection.layers.map((l: { name: string }) => l.name)).toEqual(['message header', 'version payload']);
    expect(lines.find((o) => o.type === 'result')).toMatchObject({ outcome: 'SUCCESS', peer: { version: 70015, userAgent: '/bcoin:v1.0.2/' } });
    expect(lines.at(-1)).toEqual({ type: 'summary', addresses: 1, success: 1, partial: 0, failed: 0 });
  });

  it('--pcap writes the run for Wireshark: tshark reads bcoin\'s version and our verack from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'btc-pcap-'));
    try {
      const file = join(dir, 'run.pcapng');
      const r = await runCli(['btc', '127.0.0.1', String(port), '--network', 'regtest', '--pcap', file]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Wrote .*run\.pcapng: 4 messages as pcapng/);
      requireTshark();
      // Wireshark's Bitcoin dissector knows main, testnet3 and regtest magics; the port is not its default.
      const rows = tsharkFields(readFileSync(file), ['bitcoin.command', 'bitcoin.string.value'], ['-d', `tcp.port==${port},bitcoin`, '-Y', 'bitcoin']);
      expect(rows.map((x) => x[0])).toEqual(['version', 'version', 'verack', 'verack']);
      expect(rows.map((x) => x[1]).filter(Boolean).sort()).toEqual(['/bcoin:v1.0.2/', '/handshake-lab:0.1.0/']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a name resolves through the system resolver (localhost, from the hosts file)', async () => {
    const r = await runCli(['btc', 'localhost', String(port), '--network', 'regtest']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Handshake with localhost \(\d+ address/);
    expect(r.stdout).toContain(`[127.0.0.1:${port}] SUCCESS`);
  });

  it('the wrong network is refused by its magic, as FAILED with the reason (exit 1)', async () => {
    const r = await runCli(['btc', '127.0.0.1', String(port), '3000', '--network', 'main']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: magic: 0xfabfb5da is not main's 0xf9beb4d9 \(it is regtest's\)/);
  });
});

describe('bcoin → our listener', () => {
  it('bcoin completes its handshake with us, and we with it (inbound SUCCESS)', async () => {
    const ours = await ourListener();
    try {
      const peer = await bcoinDial(bcoin, '127.0.0.1', ours.listener.local.port);
      expect(peer.handshake).toBe(true);
      expect(peer.agent).toBe('/handshake-lab:0.1.0/');
      await until(() => ours.events.some((e) => e.type === 'outcome'));
      const outcome = ours.events.find((e) => e.type === 'outcome');
      expect(outcome).toMatchObject({ outcome: 'SUCCESS', direction: 'inbound', peerVersion: { version: 70015, userAgent: '/bcoin:v1.0.2/' } });
      // bcoin spoke first (it sends version on connect); we answered with version then verack.
      expect(ours.records.filter((r) => r.direction === 'out').slice(0, 2).map((r) => r.kind)).toEqual(['version', 'verack']);
      peer.destroy();
    } finally {
      ours.driver.close();
      ours.listener.close();
    }
  });
});

describe('70016 between our own dialer and listener over real TCP', () => {
  it('wtxidrelay and sendaddrv2 go before verack, both ways', async () => {
    const ours = await ourListener();
    try {
      const r = await runHandshakes({ out: quiet, network: NETWORKS.regtest, name: 'self', addresses: [ours.listener.local], timeoutMs: 5000, concurrency: 1, streams: nodeStreamTransport });
      expect(r.results[0].outcome).toBe('SUCCESS');
      await until(() => ours.events.some((e) => e.type === 'outcome'));
      const got = ours.records.filter((x) => x.direction === 'in').map((x) => x.kind);
      expect(got.slice(0, 4)).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
      expect(ours.records.filter((x) => x.direction === 'out').map((x) => x.kind).slice(0, 4)).toEqual(['version', 'wtxidrelay', 'sendaddrv2', 'verack']);
    } finally {
      ours.driver.close();
      ours.listener.close();
    }
  });
});

describe('many addresses at once', () => {
  it('32 addresses, 8 of which never answer: every one gets its outcome, the silent ones by timeout', async () => {
    const hosts = await startHosts(32, (i) => i % 4 === 3);
    try {
      const r = await runHandshakes({ out: quiet, network: NETWORKS.regtest, name: 'room', addresses: hosts.addresses, timeoutMs: 1000, concurrency: 32, streams: nodeStreamTransport });
      expect([r.success, r.partial, r.failed]).toEqual([24, 0, 8]);
      for (const f of r.results.filter((x) => x.outcome === 'FAILED')) expect(f.reason).toBe('timeout: no version within 1000 ms');
    } finally {
      hosts.close();
    }
  });
});

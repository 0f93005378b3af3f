// handshake-lab btc: Bitcoin's version/verack handshake with every address a name resolves
// to, several at a time, each ending SUCCESS, PARTIAL (the peer's version came, its verack
// did not) or FAILED; then a summary. `btc listen` takes the recipient role.
import { writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dissectBitcoin, type Version } from '../../../shared/bitcoin/messages.ts';
import { BitcoinEngine, type BitcoinEvent } from '../../../shared/bitcoin/engine.ts';
import { describeServices, isNetworkName, NETWORKS, NODE_NETWORK, NODE_WITNESS, type Network } from '../../../shared/bitcoin/spec.ts';
import { ConnectionLog } from '../../../shared/capture/connections.ts';
import { EngineDriver } from '../../../shared/drive/driver.ts';
import { toPcapng } from '../../../shared/pcapng.ts';
import type { WireRecord } from '../../../shared/engine.ts';
import { secureRandom } from '../../../shared/random.ts';
import { endpointKey, type Endpoint, type Resolver, type StreamTransport } from '../../../shared/transport.ts';
import { listenTcp, nodeResolver, nodeStreamTransport, unmap } from '../../node-transport.ts';
import type { Printer } from '../format.ts';
import { intOption, UsageError } from '../usage.ts';

export const BTC_USAGE = `  btc <dns-seed|host|ip> [port] [timeout-ms] [--network main|testnet3|testnet4|signet|regtest]
      [--concurrency n] [--pcap file] [--json]      version/verack with every address the name resolves to
  btc listen [--ip A] [--port N] [--network …] [--json]   the recipient role`;

export interface BtcOptions {
  json?: boolean;
  network?: string;
  concurrency?: string;
  timeout?: string;
  ip?: string;
  port?: string;
  pcap?: string;
}

export async function btcCommand(out: Printer, args: string[], options: BtcOptions): Promise<number> {
  const name = options.network ?? 'main';
  if (!isNetworkName(name)) throw new UsageError(`unknown --network "${name}": main, testnet3, testnet4, signet or regtest`);
  const network = NETWORKS[name];
  if (args[0] === 'listen') {
    if (args.length > 1) throw new UsageError(`btc listen takes no arguments (got "${args[1]}"); use --ip and --port`);
    return listen(out, network, options.ip ?? '127.0.0.1', intOption(options.port, 'port', network.defaultPort, 0, 65535));
  }
  const [target, portText, timeoutText, extra] = args;
  if (!target) throw new UsageError('missing target: a DNS seed, host name or IP address');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const port = positionalInt(portText, 'port', network.defaultPort, 1, 65535);
  const timeoutMs = positionalInt(timeoutText ?? options.timeout, 'timeout-ms', 5000, 1, 600_000);
  const concurrency = intOption(options.concurrency, 'concurrency', 32, 1, 256);
  const addresses = await resolveTarget(target, nodeResolver);
  const capture = options.pcap === undefined ? undefined : new Capture();
  const report = await runHandshakes({ out, network, name: target, addresses: addresses.map((ip) => ({ ip, port })), timeoutMs, concurrency, streams: nodeStreamTransport, ...(capture ? { capture } : {}) });
  if (capture && options.pcap) await capture.write(out, options.pcap, addresses[0]);
  return report.success > 0 ? 0 : 1;
}

function positionalInt(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`bad ${name} "${v}": a whole number from ${min} to ${max}`);
  return Number(v);
}

/** An IP literal as is; a name through DNS (A and AAAA). A name that does not resolve is bad input. */
export async function resolveTarget(target: string, resolver: Resolver): Promise<string[]> {
  const literal = target.replace(/^\[(.*)\]$/, '$1');
  if (isIP(literal)) return [unmap(literal)];
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(target)) throw new UsageError(`"${target}" is neither an IP address nor a host name`);
  let answers: string[];
  try {
    answers = await resolver.resolve(target);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`cannot resolve "${target}": ${code === 'ENOTFOUND' ? 'no such name' : code ?? (e as Error).message}`);
  }
  if (answers.length === 0) throw new UsageError(`cannot resolve "${target}": no A or AAAA records`);
  return answers;
}

export interface RunOptions {
  out: Printer;
  network: Network;
  name: string;
  addresses: Endpoint[];
  timeoutMs: number;
  concurrency: number;
  streams: StreamTransport;
  capture?: Capture;
}

/** Everything a run sent and received, written as pcapng for Wireshark at the end (--pcap). */
export class Capture {
  readonly records: WireRecord[] = [];
  readonly log = new ConnectionLog();

  tap(driver: EngineDriver<unknown, BitcoinEvent>): void {
    driver.listen({ record: (r) => this.records.push(r), input: (i, now) => this.log.input(i, now), transmits: (t, now) => this.log.transmits(t, now) });
  }

  async write(out: Printer, file: string, firstTarget: string | undefined): Promise<void> {
    // Our own address is the OS's business; loopback runs show loopback, others the unspecified address.
    const v6 = firstTarget?.includes(':') ?? false;
    const loopback = firstTarget === '::1' || firstTarget?.startsWith('127.');
    const local = { ip: loopback ? firstTarget! : v6 ? '::' : '0.0.0.0', port: 0 };
    const r = toPcapng(this.records, { local, connections: this.log.connections, application: 'handshake-lab btc' });
    if (!r.ok) throw new UsageError(`cannot write ${file}: ${r.error.reason}`);
    await writeFile(file, r.value).catch((e: Error) => {
      throw new UsageError(`cannot write ${file}: ${e.message}`);
    });
    if (out.json) out.object({ type: 'pcap', file, packets: this.records.length, bytes: r.value.length });
    else out.line(`Wrote ${file}: ${this.records.length} messages as pcapng (open it in Wireshark)`);
  }
}

export interface RunReport {
  success: number;
  partial: number;
  failed: number;
  results: Extract<BitcoinEvent, { type: 'outcome' }>[];
}

/** Handshakes with every address, at most `concurrency` at a time; resolves when each has an outcome. */
export function runHandshakes(o: RunOptions): Promise<RunReport> {
  const { out } = o;
  const engine = new BitcoinEngine({ network: o.network, random: secureRandom, timeoutMs: o.timeoutMs, afterHandshake: 'close' });
  const driver = new EngineDriver(engine, { streams: o.streams });
  o.capture?.tap(driver as EngineDriver<unknown, BitcoinEvent>);
  const report: RunReport = { success: 0, partial: 0, failed: 0, results: [] };
  const label = new Map<string, string>();
  if (out.json) out.object({ type: 'run', target: o.name, addresses: o.addresses.map(endpointKey), network: o.network.name, timeoutMs: o.timeoutMs, concurrency: o.concurrency });
  else out.line(`Handshake with ${o.name} (${o.addresses.length} address${o.addresses.length === 1 ? '' : 'es'}, network ${o.network.name}, timeout ${o.timeoutMs} ms, up to ${o.concurrency} at a time)`);
  return new Promise((resolve) => {
    let next = 0;
    let running = 0;
    const startMore = () => {
      while (running < o.concurrency && next < o.addresses.length) {
        const to = o.addresses[next++];
        running++;
        const conn = `btc-${next}`;
        label.set(conn, endpointKey(to));
        driver.command({ type: 'handshake', to, conn });
      }
      if (running === 0) {
        driver.close();
        summary(out, o.addresses.length, report);
        resolve(report);
      }
    };
    driver.listen({
      record: (r) => printRecord(out, label.get(r.conn ?? '') ?? '?', r, o.network),
      event: (e) => {
        const who = label.get(e.conn) ?? '?';
        if (e.type === 'started') out.json ? out.object({ type: 'started', address: who }) : out.line(`[${who}] STARTED`);
        else if (e.type === 'outcome') {
          report.results.push(e);
          report[e.outcome === 'SUCCESS' ? 'success' : e.outcome === 'PARTIAL' ? 'partial' : 'failed']++;
          printOutcome(out, who, e);
          running--;
          // Start the next address after this event's other records are printed.
          queueMicrotask(startMore);
        }
      },
    });
    startMore();
  });
}

function printRecord(out: Printer, who: string, r: WireRecord, network: Network): void {
  if (out.json) {
    out.object({ type: 'message', address: who, direction: r.direction, command: r.kind, size: r.raw.length, summary: r.summary, ...(r.note ? { note: r.note } : {}), ...(r.rejected ? { rejected: r.rejected } : {}), raw: r.raw, dissection: dissectBitcoin(r.raw, network) });
    return;
  }
  const arrow = r.direction === 'out' ? '→' : '←';
  const detail = r.note ?? (r.summary !== r.kind ? r.summary : undefined);
  const text = r.rejected ? `REFUSED ${r.raw.length} bytes: ${r.rejected}` : `${r.kind} ${r.raw.length} bytes${detail ? `: ${detail}` : ''}`;
  out.line(`[${who}] ${arrow} ${text}`);
}

function printOutcome(out: Printer, who: string, e: Extract<BitcoinEvent, { type: 'outcome' }>): void {
  if (out.json) {
    out.object({ type: 'result', address: who, outcome: e.outcome, elapsedMs: Math.round(e.elapsedMs * 1000) / 1000, ...(e.reason ? { reason: e.reason } : {}), ...(e.instead ? { instead: e.instead } : {}), ...(e.peerVersion ? { peer: peerInfo(e.peerVersion) } : {}) });
    return;
  }
  const ms = `${e.elapsedMs.toFixed(1)} ms`;
  if (e.outcome === 'SUCCESS') out.line(`[${who}] SUCCESS in ${ms}: ${describePeer(e.peerVersion)}`);
  else out.line(`[${who}] ${e.outcome}: ${e.reason ?? ''} (${ms})`);
}

const peerInfo = (v: Version) => ({ version: v.version, userAgent: v.userAgent, startHeight: v.startHeight, services: v.services, servicesText: describeServices(v.services), relay: v.relay });

const describePeer = (v: Version | undefined): string =>
  v ? `peer speaks protocol ${v.version}, ${v.userAgent || '(no user agent)'}, height ${v.startHeight ?? '?'}, services ${describeServices(v.services)}` : '';

function summary(out: Printer, total: number, r: RunReport): void {
  if (out.json) out.object({ type: 'summary', addresses: total, success: r.success, partial: r.partial, failed: r.failed });
  else out.line(`Summary: ${total} address${total === 1 ? '' : 'es'} · Success ${r.success} · Partial ${r.partial} · Failed ${r.failed}`);
}

async function listen(out: Printer, network: Network, ip: string, port: number): Promise<number> {
  const listener = await listenTcp(ip, port).catch((e: Error) => {
    throw new UsageError(`cannot listen on ${ip}:${port}: ${e.message}`);
  });
  // Full nodes that dial out require NODE_NETWORK (and NODE_WITNESS) of the peer they dial.
  const engine = new BitcoinEngine({ network, random: secureRandom, accept: true, afterHandshake: 'stay', services: NODE_NETWORK | NODE_WITNESS, timeoutMs: 10_000 });
  const driver = new EngineDriver(engine, {});
  const label = new Map<string, string>();
  listener.onConnection((conn) => {
    const id = driver.accept(conn);
    label.set(id, endpointKey(conn.remote));
  });
  driver.listen({
    record: (r) => printRecord(out, label.get(r.conn ?? '') ?? '?', r, network),
    event: (e) => {
      const who = label.get(e.conn) ?? '?';
      if (e.type === 'outcome') printOutcome(out, who, e);
      else if (e.type === 'started') out.json ? out.object({ type: 'started', address: who, direction: 'inbound' }) : out.line(`[${who}] STARTED (inbound)`);
      else if (e.type === 'closed') label.delete(e.conn);
    },
  });
  if (out.json) out.object({ type: 'listening', address: endpointKey(listener.local), network: network.name });
  else out.line(`listening on ${endpointKey(listener.local)} (network ${network.name}); Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  listener.close();
  driver.close();
  return 0;
}

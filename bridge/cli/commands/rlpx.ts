// handshake-lab rlpx: the execution layer's encrypted TCP handshake with a node, every packet
// printed with the keys that made it (ECIES per message, the session secrets, the first MAC
// states): `rlpx ping` (auth/ack, Hello both ways, Ping → Pong; prints the peer's Hello or its
// Disconnect reason, like go-ethereum's `devp2p rlpx ping`), `rlpx status` (adds eth Status both
// ways and the EIP-2124 fork-id verdict), `rlpx listen` (the recipient role).
import { fromHex, toHex } from '../../../shared/bytes.ts';
import { isValidPrivateKey, randomPrivateKey } from '../../../shared/crypto/secp256k1.ts';
import { EngineDriver } from '../../../shared/drive/driver.ts';
import { formatEnode } from '../../../shared/enr/index.ts';
import { CHAINS, isChainName, type Chain } from '../../../shared/eth/chains.ts';
import { isStatus69, summarizeStatus } from '../../../shared/eth/status.ts';
import { dissectRlpx } from '../../../shared/rlpx/dissect.ts';
import { RlpxEngine, type Goal, type RlpxEvent, type RlpxRecord } from '../../../shared/rlpx/engine.ts';
import { disconnectReasonText } from '../../../shared/rlpx/spec.ts';
import { parseRlpxTarget } from '../../../shared/rlpx/target.ts';
import { secureRandom } from '../../../shared/random.ts';
import type { TraceRecord } from '../../../shared/trace.ts';
import { endpointKey } from '../../../shared/transport.ts';
import { convertPublicKey, publicKeyOf } from '../../../shared/crypto/secp256k1.ts';
import { keccak256 } from '../../../shared/crypto/hashes.ts';
import { listenTcp, nodeStreamTransport } from '../../node-transport.ts';
import type { Printer } from '../format.ts';
import { intOption, UsageError } from '../usage.ts';

export const RLPX_USAGE = `  rlpx ping <enode|enr> [--timeout ms] [--json]     auth/ack, Hello both ways, Ping/Pong
  rlpx status <enode|enr> [--network mainnet|sepolia] [--timeout ms] [--json]
                                                   adds eth Status both ways and the fork-id verdict
  rlpx listen [--ip A] [--port N] [--key hex] [--network …] [--once] [--json]   the recipient role`;

export interface RlpxOptions {
  json?: boolean;
  network?: string;
  timeout?: string;
  ip?: string;
  port?: string;
  key?: string;
  once?: boolean;
}

type OutcomeEvent = Extract<RlpxEvent, { type: 'outcome' }>;

export async function rlpxCommand(out: Printer, args: string[], o: RlpxOptions): Promise<number> {
  const [sub, targetText, extra] = args;
  const name = o.network ?? 'mainnet';
  if (!isChainName(name)) throw new UsageError(`unknown --network "${name}": mainnet or sepolia`);
  const chain = CHAINS[name];
  const timeoutMs = intOption(o.timeout, 'timeout', 5000, 50, 600_000);
  const privateKey = o.key === undefined ? randomPrivateKey(secureRandom) : fromHexKey(o.key);
  if (sub === 'listen') {
    if (targetText !== undefined) throw new UsageError(`rlpx listen takes no arguments (got "${targetText}"); use --ip and --port`);
    return listen(out, chain, privateKey, o.ip ?? '127.0.0.1', intOption(o.port, 'port', 30303, 0, 65535), timeoutMs, o.once ?? false);
  }
  if (sub !== 'ping' && sub !== 'status') throw new UsageError(`unknown rlpx command "${sub ?? ''}": ping, status or listen`);
  if (!targetText) throw new UsageError('missing target: an enode URL ("enode://…") or an ENR ("enr:…")');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const t = parseRlpxTarget(targetText);
  if (!t.ok) throw new UsageError(`invalid target: ${t.error.reason}`);
  const engine = new RlpxEngine({ privateKey, random: secureRandom, chain, timeoutMs, clientId: 'handshake-lab/0.1.0' });
  const driver = new EngineDriver(engine, { streams: nodeStreamTransport });
  const to = { ip: t.value.ip, port: t.value.tcp };
  const t0 = performance.now();
  tap(out, driver, t0);
  if (out.json) out.object({ type: 'run', command: sub, target: endpointKey(to), nodeId: toHex(t.value.nodeId), network: chain.name, timeoutMs, ourKey: engine.nodeKeyHex });
  else out.line(`RLPx ${sub} ${endpointKey(to)} (node ${toHex(t.value.nodeId).slice(0, 16)}…, network ${chain.name}, timeout ${timeoutMs} ms)`);
  const outcome = new Promise<OutcomeEvent>((resolve) => driver.listen({ event: (e) => e.type === 'outcome' && resolve(e) }));
  driver.command({ type: 'connect', to, remoteKey: t.value.publicKey, conn: 'rlpx-1', goal: sub as Goal, timeoutMs });
  const e = await outcome;
  // Let the goodbye (Disconnect) go out before the socket closes.
  await new Promise((r) => setTimeout(r, 20));
  driver.close();
  printOutcome(out, e);
  return e.outcome === 'SUCCESS' ? 0 : 1;
}

function fromHexKey(text: string): Uint8Array {
  const k = /^(0x)?[0-9a-fA-F]{64}$/.test(text) ? fromHex(text.replace(/^0x/, '')) : undefined;
  if (!k || !isValidPrivateKey(k)) throw new UsageError('bad --key: 64 hex digits, a valid secp256k1 private key');
  return k;
}

/**
 * Prints every record, each followed by the crypto steps that made or read it. The driver hands
 * over a step's records first and its trace after, so both wait for the end of the step.
 */
function tap(out: Printer, driver: EngineDriver<unknown, RlpxEvent>, t0: number): void {
  let records: RlpxRecord[] = [];
  let traces: TraceRecord[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const [rs, ts] = [records, traces];
    records = [];
    traces = [];
    for (const r of rs) {
      printRecord(out, r, t0);
      for (const t of ts) if (t.packet === r.seq) printTrace(out, t);
    }
    for (const t of ts) if (!rs.some((r) => r.seq === t.packet)) printTrace(out, t);
  };
  const later = () => {
    if (!scheduled) queueMicrotask(flush);
    scheduled = true;
  };
  driver.listen({
    record: (r) => {
      records.push(r as RlpxRecord);
      later();
    },
    trace: (t) => {
      traces.push(t);
      later();
    },
    event: () => flush(),
    error: (e) => (out.json ? out.object({ type: 'error', message: e.message }) : out.line(`error: ${e.message}`)),
  });
}

function printRecord(out: Printer, r: RlpxRecord, t0: number): void {
  const d = dissectRlpx(r.raw, r.rlpx, r.kind);
  if (out.json) {
    out.object({ type: 'packet', seq: r.seq, direction: r.direction, conn: r.conn, peer: endpointKey(r.peer), kind: r.kind, size: r.raw.length, summary: r.summary, ...(r.note ? { note: r.note } : {}), ...(r.rejected ? { rejected: r.rejected } : {}), raw: r.raw, dissection: d });
    return;
  }
  const arrow = r.direction === 'out' ? '→' : '←';
  const who = r.direction === 'out' ? `to ${endpointKey(r.peer)}` : `from ${endpointKey(r.peer)}`;
  out.line(`${(performance.now() - t0).toFixed(1).padStart(7)} ms ${arrow} #${r.seq} ${r.rejected ? 'REFUSED' : r.kind}  ${r.raw.length} bytes ${who}`);
  if (r.rejected) {
    out.line(`             reason: ${r.rejected}`);
    return;
  }
  if (r.summary && r.summary !== r.kind) out.line(`             ${r.summary}`);
  if (r.note) out.line(`             (${r.note})`);
}

/** The key schedule as it happens: ECIES keys per message, the secrets, the first MAC states. */
function printTrace(out: Printer, t: TraceRecord): void {
  if (out.json) {
    out.object({ type: 'trace', ...t });
    return;
  }
  out.line(`             ${t.title}${t.ok === undefined ? '' : t.ok ? ' ✓' : ' ✗'}`);
  for (const v of t.outputs) out.line(`               ${v.name}${v.secret ? ' (secret)' : ''}: ${v.hex}`);
}

function printOutcome(out: Printer, e: OutcomeEvent): void {
  const peer = {
    ...(e.hello ? { hello: { protocolVersion: e.hello.protocolVersion, clientId: e.hello.clientId, capabilities: e.hello.capabilities.map((c) => `${c.name}/${c.version}`), listenPort: e.hello.listenPort, nodeKey: e.hello.nodeId } } : {}),
    ...(e.shared ? { shared: e.shared } : {}),
    ...(e.status ? { status: e.status, statusVersion: isStatus69(e.status) ? 69 : e.status.version } : {}),
    ...(e.verdict ? { forkId: e.verdict } : {}),
    ...(e.disconnect !== undefined ? { disconnect: { code: e.disconnect, reason: disconnectReasonText(e.disconnect) } } : {}),
  };
  if (out.json) {
    out.object({ type: 'result', outcome: e.outcome, direction: e.direction, goal: e.goal, elapsedMs: Math.round(e.elapsedMs * 1000) / 1000, ...(e.reason ? { reason: e.reason } : {}), ...peer });
    return;
  }
  const h = e.hello;
  if (h) out.line(`peer Hello: ${h.clientId}, p2p/${h.protocolVersion}, capabilities ${h.capabilities.map((c) => `${c.name}/${c.version}`).join(' ') || '(none)'}, listen port ${h.listenPort}`);
  if (e.shared) out.line(`shared: ${e.shared.map((c) => `${c.name}/${c.version} (ids 0x${c.offset.toString(16)}–0x${(c.offset + c.length - 1).toString(16)})`).join(', ') || 'none'}`);
  if (e.status) out.line(`peer Status: ${summarizeStatus(e.status)}`);
  if (e.verdict) out.line(`fork id: ${e.verdict.accept ? 'ACCEPTED' : 'REJECTED'} — ${e.verdict.words}`);
  if (e.disconnect !== undefined) out.line(`peer Disconnect: ${disconnectReasonText(e.disconnect)}`);
  out.line(e.outcome === 'SUCCESS' ? `SUCCESS in ${e.elapsedMs.toFixed(1)} ms (${e.goal === 'ping' ? 'Hello both ways, Ping → Pong' : 'Hello and Status both ways'})` : `FAILED: ${e.reason ?? ''} (${e.elapsedMs.toFixed(1)} ms)`);
}

async function listen(out: Printer, chain: Chain, privateKey: Uint8Array, ip: string, port: number, timeoutMs: number, once: boolean): Promise<number> {
  const listener = await listenTcp(ip, port).catch((e: Error) => {
    throw new UsageError(`cannot listen on ${ip}:${port}: ${e.message}`);
  });
  const engine = new RlpxEngine({ privateKey, random: secureRandom, chain, accept: true, afterHandshake: once ? 'close' : 'stay', timeoutMs, listenPort: listener.local.port, clientId: 'handshake-lab/0.1.0' });
  const driver = new EngineDriver(engine, {});
  listener.onConnection((conn) => driver.accept(conn));
  tap(out, driver as EngineDriver<unknown, RlpxEvent>, performance.now());
  const pub = publicKeyOf(privateKey, true);
  const enode = formatEnode({ publicKey: pub, nodeId: keccak256(convertPublicKey(pub, false).subarray(1)), ip: listener.local.ip, tcp: listener.local.port, udp: listener.local.port });
  if (out.json) out.object({ type: 'listening', address: endpointKey(listener.local), enode, network: chain.name });
  else out.line(`listening on ${endpointKey(listener.local)} as ${enode} (network ${chain.name}); ${once ? 'the first connection ends it' : 'Ctrl-C stops'}`);
  const code = await new Promise<number>((resolve) => {
    process.once('SIGINT', () => resolve(0));
    process.once('SIGTERM', () => resolve(0));
    driver.listen({
      event: (e) => {
        if (e.type === 'started') out.json ? out.object({ type: 'started', address: endpointKey(e.peer), direction: e.direction }) : out.line(`[${endpointKey(e.peer)}] connected (inbound)`);
        if (e.type === 'outcome') {
          printOutcome(out, e);
          if (once) setTimeout(() => resolve(e.outcome === 'SUCCESS' ? 0 : 1), 20);
        }
      },
    });
  });
  listener.close();
  driver.close();
  return code;
}

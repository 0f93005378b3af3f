// handshake-lab libp2p: dial a libp2p peer over TCP (multistream-select → Noise XX → yamux →
// ping, identify where offered) with every message and the Noise state after every token; or
// listen and take the listener role. Exit 0 on SUCCESS, 1 when the peer or network failed.
import { toHex, parseHex, shortHex } from '../../../shared/bytes.ts';
import { isValidPrivateKey, randomPrivateKey } from '../../../shared/crypto/secp256k1.ts';
import { EngineDriver } from '../../../shared/drive/driver.ts';
import type { WireRecord } from '../../../shared/engine.ts';
import { multiaddrText, parseDialTarget } from '../../../shared/libp2p/address.ts';
import { dissectLibp2p } from '../../../shared/libp2p/dissect.ts';
import { Libp2pEngine, type Libp2pEvent, type Libp2pRecord } from '../../../shared/libp2p/engine.ts';
import { secp256k1Identity, type Identity } from '../../../shared/libp2p/keys.ts';
import { secureRandom } from '../../../shared/random.ts';
import type { TraceRecord } from '../../../shared/trace.ts';
import { endpointKey } from '../../../shared/transport.ts';
import { listenTcp, nodeStreamTransport } from '../../node-transport.ts';
import type { Printer } from '../format.ts';
import { intOption, UsageError } from '../usage.ts';

export const LIBP2P_USAGE = `  libp2p dial <multiaddr|enr> [--timeout ms] [--key hex] [--json]
                                                   multistream → Noise XX → yamux → ping (and identify)
  libp2p listen [--ip A] [--port N] [--key hex] [--json]   the listener role`;

export interface Libp2pOptions {
  json?: boolean;
  timeout?: string;
  ip?: string;
  port?: string;
  key?: string;
}

export async function libp2pCommand(out: Printer, args: string[], options: Libp2pOptions): Promise<number> {
  const [sub, target, extra] = args;
  const identity = identityOf(options.key);
  if (sub === 'listen') {
    if (target !== undefined) throw new UsageError(`libp2p listen takes no arguments (got "${target}"); use --ip and --port`);
    return listen(out, identity, options.ip ?? '127.0.0.1', intOption(options.port, 'port', 9000, 0, 65535));
  }
  if (sub !== 'dial') throw new UsageError(`unknown libp2p command "${sub ?? ''}": dial or listen`);
  if (!target) throw new UsageError('missing target: a multiaddr (/ip4/…/tcp/…/p2p/…) or an ENR (enr:…)');
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  const t = parseDialTarget(target);
  if ('error' in t) throw new UsageError(`invalid target: ${t.error}`);
  const timeoutMs = intOption(options.timeout, 'timeout', 10_000, 1, 600_000);
  const engine = new Libp2pEngine({ identity, random: secureRandom, timeoutMs, afterPing: 'close' });
  const driver = new EngineDriver(engine, { streams: nodeStreamTransport }) as EngineDriver<unknown, Libp2pEvent>;
  const to = multiaddrText(t.endpoint, t.peerIdText);
  if (out.json) out.object({ type: 'run', target: to, from: t.from, ...(t.eth2 ? { eth2: t.eth2 } : {}), ourPeerId: identity.peerId, timeoutMs });
  else {
    out.line(`Dialling ${to}${t.from === 'enr' ? ` (from the ENR${t.eth2 ? `, eth2 ${t.eth2}` : ''})` : ''} as ${identity.peerId}`);
    if (!t.peerIdText) out.line('  (no /p2p/ peer id in the address: any identity the peer proves is accepted)');
  }
  const result = await new Promise<Extract<Libp2pEvent, { type: 'outcome' }>>((resolve) => {
    driver.listen({
      ...inOrder(out, (e) => {
        printEvent(out, e);
        if (e.type === 'outcome') resolve(e);
      }),
      error: (e) => (out.json ? out.object({ type: 'error', message: e.message }) : out.line(`error: ${e.message}`)),
    });
    driver.command({ type: 'dial', to: t.endpoint, conn: 'p2p-1', ...(t.peerId ? { peerId: t.peerId } : {}) });
  });
  // Let the Go Away and our FIN reach the peer before the process ends.
  await new Promise((r) => setTimeout(r, 20));
  driver.close();
  return result.outcome === 'SUCCESS' ? 0 : 1;
}

function identityOf(keyHex: string | undefined): Identity {
  if (keyHex === undefined) return secp256k1Identity(randomPrivateKey(secureRandom));
  const k = parseHex(keyHex);
  if (!k || !isValidPrivateKey(k)) throw new UsageError('bad --key: 64 hex digits of a valid secp256k1 private key');
  return secp256k1Identity(k);
}

/**
 * The driver hands over a step's records, then its crypto steps: printed here with each
 * message followed by the Noise tokens it carried, as the handshake reads.
 */
function inOrder(out: Printer, onEvent: (e: Libp2pEvent) => void): { record: (r: WireRecord) => void; trace: (t: TraceRecord) => void; event: (e: Libp2pEvent) => void } {
  let records: Libp2pRecord[] = [];
  let traces: TraceRecord[] = [];
  let events: Libp2pEvent[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const r of records) {
      printRecord(out, r);
      for (const t of traces) if (t.packet === r.seq) printNoiseTrace(out, t);
    }
    for (const t of traces) if (!records.some((r) => r.seq === t.packet)) printNoiseTrace(out, t);
    const now = events;
    records = [];
    traces = [];
    events = [];
    for (const e of now) onEvent(e);
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(flush);
  };
  return {
    record: (r) => (records.push(r as Libp2pRecord), schedule()),
    trace: (t) => (traces.push(t), schedule()),
    event: (e) => (events.push(e), schedule()),
  };
}

function printRecord(out: Printer, r: Libp2pRecord): void {
  if (out.json) {
    out.object({
      type: 'message', conn: r.conn, direction: r.direction, kind: r.kind, size: r.raw.length, summary: r.summary, streamOffset: r.streamOffset,
      ...(r.note ? { note: r.note } : {}), ...(r.rejected ? { rejected: r.rejected } : {}), raw: r.raw, ...(r.plaintext ? { plaintext: r.plaintext } : {}), dissection: dissectLibp2p(r),
    });
    return;
  }
  const arrow = r.direction === 'out' ? '→' : '←';
  out.line(`${arrow} #${r.seq} ${r.rejected ? 'REFUSED' : r.kind} ${r.raw.length} bytes: ${r.rejected ?? r.summary}`);
  if (r.note) out.line(`      (${r.note})`);
}

/** Noise state after each token, and the identity checks: the key schedule in a terminal. */
function printNoiseTrace(out: Printer, t: TraceRecord): void {
  if (out.json) {
    out.object({ type: 'trace', ...t });
    return;
  }
  out.line(`      ${t.title}${t.ok === undefined ? '' : t.ok ? ' ✓' : ' ✗'}`);
  if (t.step.startsWith('noise-') && t.step !== 'noise-init') {
    const v = (n: string) => t.outputs.find((o) => o.name === n)?.hex;
    const dh = t.inputs.find((i) => i.name === 'DH output');
    out.line(`        ${dh ? `dh ${shortHex(dh.hex, 8)} ` : ''}h ${shortHex(v('h') ?? '', 8)} ck ${shortHex(v('ck') ?? '', 8)}${v('k') ? ` k ${shortHex(v('k')!, 8)} n ${v('n')}` : ' (no key yet)'}`);
  } else if (t.step === 'split') for (const o of t.outputs) out.line(`        ${o.name} ${o.hex}`);
}

function printEvent(out: Printer, e: Libp2pEvent): void {
  if (out.json) {
    if (e.type === 'outcome') out.object({ type: 'result', outcome: e.outcome, elapsedMs: round(e.elapsedMs), ...(e.reason ? { reason: e.reason } : {}), ...(e.peerId ? { peerId: e.peerId } : {}), ...(e.muxer ? { muxer: e.muxer } : {}), ...(e.rttMs !== undefined ? { pingRttMs: round(e.rttMs) } : {}), ...(e.identify ? { identify: e.identify } : {}), address: endpointKey(e.peer), direction: e.direction });
    else if (e.type === 'secured') out.object({ type: 'secured', conn: e.conn, peerId: e.peerId, keyType: e.keyType, handshakeHash: toHex(e.handshakeHash) });
    else if (e.type === 'muxer') out.object({ type: 'muxer', conn: e.conn, muxer: e.muxer, how: e.how });
    else if (e.type === 'ping') out.object({ type: 'ping', conn: e.conn, rttMs: round(e.rttMs), dialToPingMs: round(e.elapsedMs) });
    else if (e.type === 'identify') out.object({ type: 'identify', conn: e.conn, ...e.info });
    else if (e.type === 'started') out.object({ type: 'started', conn: e.conn, address: endpointKey(e.peer), direction: e.direction });
    return;
  }
  if (e.type === 'secured') out.line(`SECURED: the peer is ${e.peerId} (${e.keyType}); handshake hash ${toHex(e.handshakeHash)}`);
  else if (e.type === 'muxer') out.line(`MUXER: ${e.muxer} (${e.how === 'noise-extensions' ? 'agreed inside the Noise payloads' : 'by multistream-select over the encrypted channel'})`);
  else if (e.type === 'ping') out.line(`PING: 32 bytes echoed in ${e.rttMs.toFixed(2)} ms (${e.elapsedMs.toFixed(1)} ms after the dial began)`);
  else if (e.type === 'identify') out.line(`IDENTIFY: ${e.info.agentVersion ?? '?'} (${e.info.protocolVersion ?? '?'}), protocols ${e.info.protocols.join(' ')}`);
  else if (e.type === 'started' && e.direction === 'inbound') out.line(`[${endpointKey(e.peer)}] dialled in (${e.conn})`);
  else if (e.type === 'outcome') {
    if (e.outcome === 'SUCCESS') out.line(`SUCCESS in ${e.elapsedMs.toFixed(1)} ms: peer ${e.peerId}, muxer ${e.muxer}${e.rttMs !== undefined ? `, ping ${e.rttMs.toFixed(2)} ms` : ''}`);
    else out.line(`FAILED: ${e.reason ?? ''} (${e.elapsedMs.toFixed(1)} ms)`);
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function listen(out: Printer, identity: Identity, ip: string, port: number): Promise<number> {
  const listener = await listenTcp(ip, port).catch((e: Error) => {
    throw new UsageError(`cannot listen on ${ip}:${port}: ${e.message}`);
  });
  const engine = new Libp2pEngine({ identity, random: secureRandom, accept: true, timeoutMs: 10_000 });
  const driver = new EngineDriver(engine, {}) as EngineDriver<unknown, Libp2pEvent>;
  listener.onConnection((conn) => driver.accept(conn));
  driver.listen(inOrder(out, (e) => printEvent(out, e)));
  const addr = multiaddrText(listener.local, identity.peerId);
  if (out.json) out.object({ type: 'listening', multiaddr: addr, peerId: identity.peerId, address: endpointKey(listener.local) });
  else out.line(`listening on ${addr}; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  listener.close();
  driver.close();
  return 0;
}

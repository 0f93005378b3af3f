// handshake-lab discv4: Node Discovery v4 against real nodes from a terminal (parity with
// go-ethereum's `devp2p discv4 …`): ping, requestenr, findnode, lookup, and listen for the
// recipient role. Every packet is printed decoded, with the sender recovered from its signature.
import { parseHex, shortHex, toHex } from '../../../shared/bytes.ts';
import { randomPrivateKey } from '../../../shared/crypto/secp256k1.ts';
import { createEnr, encodeEnrText, formatEnode, udpFields } from '../../../shared/enr/index.ts';
import { parseDiscv4Target } from '../../../shared/discv4/contact.ts';
import { dissectDiscv4 } from '../../../shared/discv4/dissect-packet.ts';
import { Discv4Driver, type RequestOutcome } from '../../../shared/discv4/driver.ts';
import { Discv4Engine } from '../../../shared/discv4/engine.ts';
import { wireKey, type Discv4Node } from '../../../shared/discv4/node.ts';
import { keccak256 } from '../../../shared/crypto/hashes.ts';
import { logDistance } from '../../../shared/kademlia/distance.ts';
import type { WireRecord } from '../../../shared/engine.ts';
import { secureRandom } from '../../../shared/random.ts';
import type { TraceRecord } from '../../../shared/trace.ts';
import { endpointKey, type DatagramSocket } from '../../../shared/transport.ts';
import { nodeDatagramTransport } from '../../node-transport.ts';
import type { Printer } from '../format.ts';
import { intOption, UsageError } from '../usage.ts';
import { listenKeyAndSocket } from '../listen-socket.ts';

export const DISCV4_USAGE = `  discv4 ping <enode|enr> [--json]                 PING, and the PONG that proves the endpoint
  discv4 requestenr <enode|enr> [--json]           bond, then ENRRequest (EIP-868)
  discv4 findnode <enode|enr> [target] [--json]    bond, then FINDNODE (target: enode or 128 hex key; random if absent)
  discv4 lookup <bootnode> [target] [--json]       iterative lookup seeded with the bootnode
  discv4 listen [--ip A] [--port N] [--key hex] [--json]   the recipient role`;

export interface Discv4Options {
  json?: boolean;
  timeout?: string;
  retries?: string;
  ip?: string;
  port?: string;
  key?: string;
}

interface Timing {
  requestTimeoutMs: number;
  retries: number;
}

export async function discv4Command(out: Printer, args: string[], options: Discv4Options): Promise<number> {
  const [sub, ...rest] = args;
  const timing: Timing = { requestTimeoutMs: intOption(options.timeout, 'timeout', 1000, 50, 600_000), retries: intOption(options.retries, 'retries', 1, 0, 10) };
  const extra = (n: number) => {
    if (rest.length > n) throw new UsageError(`unexpected argument "${rest[n]}"`);
  };
  switch (sub) {
    case 'ping':
      extra(1);
      return ping(out, target(rest[0]), timing);
    case 'requestenr':
      extra(1);
      return requestEnr(out, target(rest[0]), timing);
    case 'findnode':
      extra(2);
      return findnode(out, target(rest[0]), targetKey(rest[1]), timing);
    case 'lookup':
      extra(2);
      return lookup(out, target(rest[0]), targetKey(rest[1]), timing);
    case 'listen':
      extra(0);
      return listen(out, options.ip ?? '127.0.0.1', intOption(options.port, 'port', 30303, 0, 65535), options.key, timing);
    default:
      throw new UsageError(`unknown discv4 command "${sub ?? ''}": ping, requestenr, findnode, lookup or listen`);
  }
}

function target(text: string | undefined): Discv4Node {
  if (!text) throw new UsageError('missing target: an enode URL or an ENR ("enr:…")');
  const r = parseDiscv4Target(text);
  if (!r.ok) throw new UsageError(`invalid target: ${r.error.reason}`);
  return r.value;
}

/** A lookup / FINDNODE target: an enode URL or its 128 hex digits of public key; random when absent. */
function targetKey(text: string | undefined): Uint8Array {
  if (text === undefined) return secureRandom(64);
  if (text.startsWith('enode://') || text.startsWith('enr:')) return wireKey(target(text).publicKey);
  const k = parseHex(text);
  if (!k || k.length !== 64) throw new UsageError(`bad target "${text}": an enode URL or 128 hex digits (a 64-byte public key)`);
  return k;
}

// ---------------------------------------------------------------- printing

/** A packet as `discv5 ping` prints one: a line with direction, kind, size and peer, then its fields. */
export function printRecord(out: Printer, r: WireRecord, t0: number): void {
  const d = dissectDiscv4(r.raw);
  if (out.json) {
    out.object({ type: 'packet', seq: r.seq, direction: r.direction, at: r.at, peer: endpointKey(r.peer), peerId: r.peerId, kind: r.kind, size: r.raw.length, summary: r.summary, ...(r.retransmit ? { retransmit: true } : {}), ...(r.note ? { note: r.note } : {}), ...(r.rejected ? { rejected: r.rejected } : {}), raw: r.raw, dissection: d });
    return;
  }
  const elapsed = t0 ? `${(r.at - t0).toFixed(1).padStart(7)} ms` : '';
  const arrow = r.direction === 'out' ? '→' : '←';
  const who = r.direction === 'out' ? `to ${endpointKey(r.peer)}` : `from ${endpointKey(r.peer)}`;
  out.line(`${elapsed} ${arrow} #${r.seq} ${r.rejected ? 'REJECTED' : r.kind}${r.retransmit ? ' (retransmit)' : ''}  ${r.raw.length} bytes ${who}`);
  if (r.rejected) out.line(`             reason: ${r.rejected}`);
  else out.line(`             ${d.summary ?? r.summary}`);
  if (r.note) out.line(`             (${r.note})`);
}

/** The recovered sender of each packet in: the step a discv4 receiver always takes. */
export function printTrace(out: Printer, t: TraceRecord): void {
  if (out.json) return void out.object({ type: 'trace', ...t });
  if (t.step === 'signature-recover') out.line(`             sender recovered from the signature: node id ${t.outputs.find((v) => v.name === 'node-id')?.hex ?? '?'} ✓`);
}

/** A throw-away local node on an ephemeral port, printing every packet. */
async function clientNode(out: Printer, to: { ip: string }, timing: Timing, print = true): Promise<Discv4Driver> {
  const loopback = to.ip.startsWith('127.') || to.ip === '::1';
  const bindIp = loopback ? to.ip : to.ip.includes(':') ? '::' : '0.0.0.0';
  const socket = await nodeDatagramTransport.openDatagram({ ip: bindIp, port: 0 });
  return driverOn(out, socket, randomPrivateKey(secureRandom), timing, print);
}

function driverOn(out: Printer, socket: DatagramSocket, privateKey: Uint8Array, timing: Timing, print: boolean): Discv4Driver {
  const local = socket.local;
  const unspecified = local.ip === '0.0.0.0' || local.ip === '::';
  const enr = createEnr({ privateKey, ...(unspecified ? {} : { ...udpFields(local) }) });
  const engine = new Discv4Engine({ privateKey, enr, endpoint: { ip: unspecified ? '127.0.0.1' : local.ip, udp: local.port, tcp: 0 }, random: secureRandom, ...timing });
  const driver = new Discv4Driver(engine, socket);
  let t0 = 0;
  driver.listen({
    ...(print
      ? {
          record: (r) => {
            t0 ||= r.at;
            printRecord(out, r, t0);
          },
          trace: (t) => printTrace(out, t),
        }
      : {}),
    error: (e) => (out.json ? out.object({ type: 'error', message: e.message }) : out.line(`error: ${e.message}`)),
  });
  return driver;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

function finish(out: Printer, outcome: RequestOutcome, detail: Record<string, unknown>, successLine: string): number {
  if (out.json) out.object({ type: 'result', ok: outcome.ok, ...(outcome.ok ? { rttMs: round(outcome.rttMs), bonded: outcome.bonded } : { reason: outcome.reason }), ...detail });
  else out.line(outcome.ok ? `SUCCESS: ${successLine}` : `FAILED: ${outcome.reason}`);
  return outcome.ok ? 0 : 1;
}

const enodeOf = (n: Discv4Node): string => formatEnode({ publicKey: n.publicKey, nodeId: n.nodeId, ip: n.ip, tcp: n.tcp, udp: n.udp });

async function ping(out: Printer, to: Discv4Node, timing: Timing): Promise<number> {
  const driver = await clientNode(out, to, timing);
  const outcome = await driver.ping(to);
  driver.close();
  const pong = outcome.ok && outcome.kind === 'ping' ? outcome.pong : undefined;
  return finish(out, outcome, pong ? { seenAs: pong.to, enrSeq: pong.enrSeq } : {}, pong ? `PONG in ${round(outcome.ok ? outcome.rttMs : 0)} ms; the peer sees us at ${endpointKey({ ip: pong.to.ip, port: pong.to.udp })}${pong.enrSeq === undefined ? ', no enr-seq (pre-EIP-868 node)' : `, its enr-seq is ${pong.enrSeq}`}` : '');
}

async function requestEnr(out: Printer, to: Discv4Node, timing: Timing): Promise<number> {
  const driver = await clientNode(out, to, timing);
  const outcome = await driver.requestEnr(to);
  driver.close();
  const enr = outcome.ok && outcome.kind === 'requestenr' ? outcome.enr : undefined;
  if (enr && !out.json) out.line(`  ${encodeEnrText(enr)}\n    id ${toHex(enr.nodeId)} seq ${enr.seq}${enr.ip ? ` ${enr.ip} udp ${enr.udp ?? '-'} tcp ${enr.tcp ?? '-'}` : ''}`);
  return finish(out, outcome, enr ? { enr: encodeEnrText(enr), seq: enr.seq, nodeId: enr.nodeId } : {}, enr ? `record seq ${enr.seq}, signature verified, signed by the node we asked` : '');
}

async function findnode(out: Printer, to: Discv4Node, key: Uint8Array, timing: Timing): Promise<number> {
  const driver = await clientNode(out, to, timing);
  const outcome = await driver.findnode(to, key);
  driver.close();
  const nodes = outcome.ok && outcome.kind === 'findnode' ? outcome.nodes : [];
  const target = keccak256(key);
  if (!out.json) for (const n of nodes) out.line(`  ${enodeOf(n)}\n    id ${toHex(n.nodeId)} log-distance ${logDistance(n.nodeId, target)}`);
  return finish(out, outcome, { target: toHex(key), nodes: nodes.map((n) => ({ enode: enodeOf(n), nodeId: toHex(n.nodeId), distance: logDistance(n.nodeId, target) })) }, `${nodes.length} node${nodes.length === 1 ? '' : 's'} in ${outcome.ok && outcome.kind === 'findnode' ? outcome.packets : 0} NEIGHBORS packet${outcome.ok && outcome.kind === 'findnode' && outcome.packets === 1 ? '' : 's'}`);
}

async function lookup(out: Printer, boot: Discv4Node, key: Uint8Array, timing: Timing): Promise<number> {
  const driver = await clientNode(out, boot, timing, false);
  const target = keccak256(key);
  driver.listen({
    event: (e) => {
      if (e.type !== 'lookup') return;
      const ev = e.event;
      if (out.json) out.object({ type: 'lookup', event: ev.type, node: 'node' in ev ? toHex(ev.node.nodeId) : undefined, ...(ev.type === 'answered' ? { found: ev.found, newNodes: ev.newNodes.length } : {}), ...(ev.type === 'failed' ? { reason: ev.reason } : {}) });
      else if (ev.type === 'queried') out.line(`queried  ${shortHex(ev.node.nodeId)} ${endpointKey({ ip: ev.node.ip, port: ev.node.udp })}`);
      else if (ev.type === 'answered') out.line(`answered ${shortHex(ev.node.nodeId)} ${ev.found} nodes, ${ev.newNodes.length} new`);
      else if (ev.type === 'failed') out.line(`failed   ${shortHex(ev.node.nodeId)} ${ev.reason}`);
    },
  });
  if (!out.json) out.line(`lookup target ${toHex(key)} (keccak256: ${toHex(target)})`);
  const closest = await driver.lookup(key, [boot]);
  driver.close();
  const rows = closest.map((n) => ({ nodeId: toHex(n.nodeId), distance: logDistance(n.nodeId, target), enode: enodeOf(n) }));
  if (out.json) out.object({ type: 'result', ok: closest.length > 0, target: toHex(key), targetId: toHex(target), closest: rows });
  else {
    out.line(`closest ${rows.length} nodes to the target:`);
    for (const r of rows) out.line(`  ${r.nodeId}  log-distance ${r.distance}  ${r.enode}`);
    out.line(closest.length > 0 ? 'SUCCESS' : 'FAILED: no node answered');
  }
  return closest.length > 0 ? 0 : 1;
}

async function listen(out: Printer, ip: string, port: number, keyHex: string | undefined, timing: Timing): Promise<number> {
  const { privateKey, socket } = await listenKeyAndSocket(ip, port, keyHex);
  const driver = driverOn(out, socket, privateKey, timing, true);
  const me = driver.engine;
  const enode = formatEnode({ publicKey: me.publicKey, nodeId: me.nodeId, ip: socket.local.ip, tcp: 0, udp: socket.local.port });
  if (out.json) out.object({ type: 'listening', enode, enr: encodeEnrText(me.enr!), nodeId: me.nodeId, address: endpointKey(socket.local) });
  else {
    out.line(enode);
    out.line(`listening on ${endpointKey(socket.local)} as node ${toHex(me.nodeId)} (${encodeEnrText(me.enr!)}); Ctrl-C stops`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  driver.close();
  return 0;
}

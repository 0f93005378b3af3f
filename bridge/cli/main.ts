// handshake-lab CLI: decode ENRs and talk discv5 to real nodes from a terminal, with every
// packet decoded. Exit codes: 0 success, 1 the peer or network failed, 2 invalid input.
import { parseArgs } from 'node:util';
import { parseHex, shortHex, toHex, utf8 } from '../../shared/bytes.ts';
import { logDistance } from '../../shared/kademlia/distance.ts';
import { randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { createEnr, encodeEnrText, udpFields, enrToEnode, parseEnrText, dissectEnr, type Enr } from '../../shared/enr/index.ts';
import { parseTarget } from '../../shared/discv5/contact.ts';
import { Discv5Driver, type RequestOutcome } from '../../shared/discv5/driver.ts';
import type { NodeContact, PacketRecord } from '../../shared/discv5/engine.ts';
import { Discv5Node } from '../../shared/discv5/node.ts';
import { secureRandom } from '../../shared/random.ts';
import { endpointKey } from '../../shared/transport.ts';
import { normalizeIp } from '../../shared/tunnel/ip.ts';
import { nodeDatagramTransport } from '../node-transport.ts';
import { conformanceCommand, SCENARIO_NAMES } from './conformance.ts';
import { printPacket, printTrace, stdoutPrinter, type Printer } from './format.ts';
import { btcCommand, BTC_USAGE } from './commands/btc.ts';
import { libp2pCommand, LIBP2P_USAGE } from './commands/libp2p.ts';
import { rlpxCommand, RLPX_USAGE } from './commands/rlpx.ts';
import { discv4Command, DISCV4_USAGE } from './commands/discv4.ts';
import { intOption, UsageError } from './usage.ts';
import { listenKeyAndSocket } from './listen-socket.ts';
import { installFastRecovery } from '../../shared/crypto/secp256k1-fast-recovery.ts';

// Recovery is hot here (every packet received): the faster implementation, same results.
installFastRecovery();


const USAGE = `usage: handshake-lab <command>
  enr <enr-text> [--json]                         decode and verify a node record
  discv5 ping <enr|enode> [--timeout ms] [--json]  cold handshake + PING
  discv5 findnode <enr|enode> <distance…> [--json] ask for nodes at log-distances (0 = its own record)
  discv5 talkreq <enr|enode> <protocol> <hex> [--json]
  discv5 lookup <bootstrap-enr> [target-node-id] [--json]
  discv5 listen [--ip A] [--port N] [--key hex] [--json]
  discv5 test <enr|enode> [--only Name,…] [--listen1 A] [--listen2 B] [--bystander-wait ms] [--json]
                                                   go-ethereum's 7 conformance scenarios against a node
${DISCV4_USAGE}
${BTC_USAGE}
${LIBP2P_USAGE}
${RLPX_USAGE}
Options: --timeout ms (per attempt, default 2000; for test: each answer, default 500; for btc: the
         whole handshake, default 5000), --retries n (default 2), --json (one JSON object per line)`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      ip: { type: 'string' },
      port: { type: 'string' },
      key: { type: 'string' },
      network: { type: 'string' },
      concurrency: { type: 'string' },
      pcap: { type: 'string' },
      only: { type: 'string' },
      listen1: { type: 'string' },
      listen2: { type: 'string' },
      'bystander-wait': { type: 'string' },
      once: { type: 'boolean' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const out = stdoutPrinter(values.json ?? false);
  const [cmd, sub, ...rest] = positionals;
  if (values.help || !cmd) {
    out.line(USAGE);
    return values.help ? 0 : 2;
  }
  if (cmd === 'enr') return enrCommand(out, sub);
  if (cmd === 'libp2p') return libp2pCommand(out, [sub, ...rest].filter((a) => a !== undefined), values);
  if (cmd === 'btc') return btcCommand(out, [sub, ...rest].filter((a) => a !== undefined), values);
  if (cmd === 'rlpx') return rlpxCommand(out, [sub, ...rest].filter((a) => a !== undefined), values);
  if (cmd === 'discv4') return discv4Command(out, [sub, ...rest].filter((a) => a !== undefined), values);
  if (cmd !== 'discv5') throw new UsageError(`unknown command "${cmd}"`);
  const timing = { requestTimeoutMs: intOption(values.timeout, 'timeout', 2000, 50, 600_000), retries: intOption(values.retries, 'retries', 2, 0, 10) };
  switch (sub) {
    case 'ping':
      return ping(out, target(rest[0]), timing);
    case 'findnode': {
      if (rest.length < 2) throw new UsageError('findnode needs a target and at least one distance');
      const distances = rest.slice(1).map((d) => {
        if (!/^\d+$/.test(d) || Number(d) > 256) throw new UsageError(`bad distance "${d}": a whole number from 0 to 256`);
        return Number(d);
      });
      return findnode(out, target(rest[0]), distances, timing);
    }
    case 'talkreq': {
      if (rest.length < 3) throw new UsageError('talkreq needs a target, a protocol and a hex request');
      const request = parseHex(rest[2]);
      if (!request) throw new UsageError(`bad hex "${rest[2]}"`);
      return talkreq(out, target(rest[0]), rest[1], request, timing);
    }
    case 'lookup': {
      const boot = target(rest[0]);
      if (!boot.enr) throw new UsageError('lookup needs the bootstrap node as an ENR (an enode has no record to seed with)');
      let targetId: Uint8Array | undefined;
      if (rest[1] !== undefined) {
        targetId = parseHex(rest[1]);
        if (!targetId || targetId.length !== 32) throw new UsageError(`bad target node id "${rest[1]}": 64 hex digits`);
      }
      return lookup(out, boot.enr, targetId ?? secureRandom(32), timing);
    }
    case 'listen':
      return listen(out, values.ip ?? '127.0.0.1', intOption(values.port, 'port', 9000, 0, 65535), values.key, timing);
    case 'test': {
      const to = target(rest[0]);
      const only = values.only?.split(',').map((n) => n.trim()).filter(Boolean);
      for (const n of only ?? []) if (!SCENARIO_NAMES.includes(n)) throw new UsageError(`unknown scenario "${n}": one of ${SCENARIO_NAMES.join(', ')}`);
      for (const [name, ip] of [['listen1', values.listen1], ['listen2', values.listen2]] as const)
        if (ip !== undefined && !normalizeIp(ip)) throw new UsageError(`bad --${name} "${ip}": an IP address`);
      return conformanceCommand(out, to, {
        waitMs: intOption(values.timeout, 'timeout', 500, 50, 600_000),
        bystanderWaitMs: intOption(values['bystander-wait'], 'bystander-wait', 60_000, 0, 600_000),
        ...(only ? { only } : {}),
        ...(values.listen1 ? { listen1: normalizeIp(values.listen1)! } : {}),
        ...(values.listen2 ? { listen2: normalizeIp(values.listen2)! } : {}),
      });
    }
    default:
      throw new UsageError(`unknown discv5 command "${sub ?? ''}"`);
  }
}

function target(text: string | undefined): NodeContact {
  if (!text) throw new UsageError('missing target: an ENR ("enr:…") or enode URL');
  const r = parseTarget(text);
  if (!r.ok) throw new UsageError(`invalid target: ${r.error.reason}`);
  return r.value;
}

// ---------------------------------------------------------------- enr

function enrCommand(out: Printer, text: string | undefined): number {
  if (!text) throw new UsageError('missing ENR text');
  const r = parseEnrText(text);
  if (!r.ok) throw new UsageError(`invalid ENR: ${r.error.reason}`);
  const enr = r.value;
  const d = dissectEnr(enr.raw);
  if (out.json) {
    out.object({ type: 'enr', text: encodeEnrText(enr), nodeId: enr.nodeId, seq: enr.seq, publicKey: enr.publicKey, ip: enr.ip, udp: enr.udp, tcp: enr.tcp, ip6: enr.ip6, udp6: enr.udp6, tcp6: enr.tcp6, enode: safeEnode(enr), pairs: enr.pairs.map((p) => ({ key: p.key, value: p.rawValue })), signatureValid: true, dissection: d });
    return 0;
  }
  out.line(`node id      ${toHex(enr.nodeId)}`);
  out.line(`seq          ${enr.seq}`);
  out.line(`public key   ${toHex(enr.publicKey)}`);
  out.line(`signature    valid (v4 identity scheme)`);
  for (const [k, v] of [['ip', enr.ip], ['udp', enr.udp], ['tcp', enr.tcp], ['ip6', enr.ip6], ['udp6', enr.udp6], ['tcp6', enr.tcp6]] as const) if (v !== undefined) out.line(`${k.padEnd(12)} ${v}`);
  const enode = safeEnode(enr);
  if (enode) out.line(`enode        ${enode}`);
  out.line('fields:');
  for (const f of d.layers[0]?.fields ?? []) printField(out, f, 1);
  return 0;
}

function printField(out: Printer, f: { name: string; value: string; children?: { name: string; value: string; children?: unknown[] }[] }, depth: number): void {
  out.line(`${'  '.repeat(depth)}${f.name}: ${f.value}`);
  for (const c of f.children ?? []) printField(out, c as typeof f, depth + 1);
}

function safeEnode(enr: Enr): string | undefined {
  try {
    return enr.ip && enr.tcp !== undefined ? enrToEnode(enr) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- discv5 clients

interface Timing {
  requestTimeoutMs: number;
  retries: number;
}

/** A throw-away local node on an ephemeral port, printing every packet as it flows. */
async function clientNode(out: Printer, to: NodeContact, timing: Timing): Promise<{ driver: Discv5Driver; packets: PacketRecord[] }> {
  const v6 = to.endpoint.ip.includes(':');
  const loopback = to.endpoint.ip.startsWith('127.') || to.endpoint.ip === '::1';
  const bindIp = loopback ? to.endpoint.ip : v6 ? '::' : '0.0.0.0';
  const socket = await nodeDatagramTransport.openDatagram({ ip: bindIp, port: 0 });
  const privateKey = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey, ...(loopback ? udpFields({ ip: to.endpoint.ip, port: socket.local.port }) : {}) });
  const driver = new Discv5Driver(new Discv5Node({ privateKey, enr, ...timing }), socket);
  const packets: PacketRecord[] = [];
  let t0 = 0;
  driver.listen({
    event: (e) => {
      if (e.type !== 'packet') return;
      t0 ||= e.packet.at;
      packets.push(e.packet);
      printPacket(out, e.packet, enr.nodeId, t0);
    },
    trace: (t) => printTrace(out, t),
    error: (e) => (out.json ? out.object({ type: 'error', message: e.message }) : out.line(`error: ${e.message}`)),
  });
  return { driver, packets };
}

function finish(out: Printer, outcome: RequestOutcome, detail: Record<string, unknown>, successLine: string): number {
  if (out.json) out.object({ type: 'result', ok: outcome.ok, ...(outcome.ok ? { rttMs: round(outcome.rttMs), response: outcome.response } : { reason: outcome.reason }), ...detail });
  else out.line(outcome.ok ? `SUCCESS: ${successLine}` : `FAILED: ${outcome.reason}`);
  return outcome.ok ? 0 : 1;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

async function ping(out: Printer, to: NodeContact, timing: Timing): Promise<number> {
  const { driver, packets } = await clientNode(out, to, timing);
  const outcome = await driver.ping(to);
  driver.close();
  const pong = outcome.ok && outcome.response.type === 'PONG' ? outcome.response : undefined;
  return finish(out, outcome, { packets: packets.length }, pong ? `PONG in ${round(outcome.ok ? outcome.rttMs : 0)} ms after ${packets.length} packets; the peer sees us at ${pong.recipientIp}:${pong.recipientPort}, its enr-seq is ${pong.enrSeq}` : '');
}

async function findnode(out: Printer, to: NodeContact, distances: number[], timing: Timing): Promise<number> {
  const { driver } = await clientNode(out, to, timing);
  const outcome = await driver.findnode(to, distances);
  driver.close();
  const records = outcome.ok ? (outcome.records ?? []) : [];
  if (!out.json) {
    for (const r of records) out.line(`  ${encodeEnrText(r)}\n    id ${toHex(r.nodeId)} seq ${r.seq}${r.ip ? ` ${r.ip}:${r.udp ?? '-'}` : ''}`);
    for (const why of outcome.ok ? (outcome.rejectedRecords ?? []) : []) out.line(`  rejected record: ${why}`);
  }
  return finish(out, outcome, { records: records.map(encodeEnrText), rejected: outcome.ok ? outcome.rejectedRecords : undefined }, `${records.length} record${records.length === 1 ? '' : 's'} at distance${distances.length > 1 ? 's' : ''} ${distances.join(', ')}`);
}

async function talkreq(out: Printer, to: NodeContact, protocol: string, request: Uint8Array, timing: Timing): Promise<number> {
  const { driver } = await clientNode(out, to, timing);
  const outcome = await driver.talkreq(to, utf8(protocol), request);
  driver.close();
  const response = outcome.ok && outcome.response.type === 'TALKRESP' ? outcome.response.response : undefined;
  return finish(out, outcome, {}, response ? (response.length ? `TALKRESP 0x${toHex(response)}` : 'TALKRESP empty (the peer does not speak this protocol)') : '');
}

async function lookup(out: Printer, boot: Enr, targetId: Uint8Array, timing: Timing): Promise<number> {
  const to = target(encodeEnrText(boot));
  const { driver } = await clientNode(quiet, to, timing);
  driver.listen({
    event: (e) => {
      if (e.type !== 'lookup') return;
      const ev = e.event;
      if (out.json) out.object({ type: 'lookup', event: ev.type, node: 'node' in ev ? toHex(ev.node.nodeId) : undefined, ...(ev.type === 'queried' ? { distances: ev.distances } : {}), ...(ev.type === 'answered' ? { found: ev.found, newNodes: ev.newNodes.length } : {}), ...(ev.type === 'failed' ? { reason: ev.reason } : {}) });
      else if (ev.type === 'queried') out.line(`queried  ${shortHex(ev.node.nodeId)} distances ${ev.distances.join(',')}`);
      else if (ev.type === 'answered') out.line(`answered ${shortHex(ev.node.nodeId)} ${ev.found} records, ${ev.newNodes.length} new`);
      else if (ev.type === 'failed') out.line(`failed   ${shortHex(ev.node.nodeId)} ${ev.reason}`);
    },
  });
  if (!out.json) out.line(`lookup target ${toHex(targetId)}`);
  const closest = await driver.lookup(targetId, [boot]);
  driver.close();
  const rows = closest.map((r) => ({ nodeId: toHex(r.nodeId), distance: logDistance(r.nodeId, targetId), endpoint: r.ip ? `${r.ip}:${r.udp}` : undefined, enr: encodeEnrText(r) }));
  if (out.json) out.object({ type: 'result', ok: closest.length > 0, target: toHex(targetId), closest: rows });
  else {
    out.line(`closest ${rows.length} nodes to the target:`);
    for (const r of rows) out.line(`  ${r.nodeId}  log-distance ${r.distance}  ${r.endpoint ?? ''}`);
    out.line(closest.length > 0 ? 'SUCCESS' : 'FAILED: no node answered');
  }
  return closest.length > 0 ? 0 : 1;
}

/** Lookups print their steps, not every packet. */
const quiet: Printer = { json: true, line: () => undefined, object: () => undefined };

async function listen(out: Printer, ip: string, port: number, keyHex: string | undefined, timing: Timing): Promise<number> {
  const { privateKey, socket } = await listenKeyAndSocket(ip, port, keyHex);
  const enr = createEnr({ privateKey, ...udpFields(socket.local) });
  const driver = new Discv5Driver(new Discv5Node({ privateKey, enr, ...timing }), socket);
  if (out.json) out.object({ type: 'listening', enr: encodeEnrText(enr), nodeId: enr.nodeId, address: endpointKey(socket.local) });
  else {
    out.line(encodeEnrText(enr));
    out.line(`listening on ${endpointKey(socket.local)} as node ${toHex(enr.nodeId)}; Ctrl-C stops`);
  }
  driver.listen({
    event: (e) => {
      if (e.type === 'packet') printPacket(out, e.packet, enr.nodeId, 0);
      else if (e.type === 'session-established' && !out.json) out.line(`             session established with ${shortHex(e.nodeId)} (${e.direction === 'incoming' ? 'they initiated' : 'we initiated'})`);
    },
    trace: (t) => printTrace(out, t),
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  driver.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const usage = e instanceof UsageError || (e instanceof Error && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`handshake-lab: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(usage ? 2 : 1);
  },
);


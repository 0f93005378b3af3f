// go-ethereum's seven discv5 conformance scenarios (shared/discv5/conformance), run in memory on an
// injected clock against our own node — and against nodes made to break one rule each, so every
// scenario is seen to fail when it should.
import { describe, expect, it } from 'vitest';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { ConformanceRun, type ConformanceEvent, type ConformanceOptions, type TesterSocket } from '../shared/discv5/conformance/runner.ts';
import { DISCV5_SCENARIOS } from '../shared/discv5/conformance/scenarios.ts';
import { contactFromEnr } from '../shared/discv5/engine.ts';
import { Discv5Node, type NodeConfig } from '../shared/discv5/node.ts';
import { createEnr } from '../shared/enr/index.ts';
import { endpointKey, type Endpoint } from '../shared/transport.ts';
import { prng } from './helpers/prng.ts';

const NODE_EP: Endpoint = { ip: '127.0.0.1', port: 30303 };
const PRIMARY: TesterSocket = { id: 1, role: 'primary', local: { ip: '127.0.0.1', port: 40001 } };
const SECOND_PRIMARY: TesterSocket = { id: 3, role: 'primary', local: { ip: '127.0.0.1', port: 40003 } };
const SECONDARY: TesterSocket = { id: 2, role: 'secondary', local: { ip: '127.0.0.2', port: 40002 } };

/** Our node and the tester on an in-memory network; the clock jumps from deadline to deadline. */
function runSuite(options: { node?: Partial<NodeConfig>; sockets?: TesterSocket[]; tester?: Partial<ConformanceOptions>; seed?: number } = {}) {
  const gen = prng(options.seed ?? 9);
  const random = (n: number) => gen.bytes(n);
  const privateKey = randomPrivateKey(random);
  const node = new Discv5Node({ privateKey, enr: createEnr({ privateKey, ip: NODE_EP.ip, udp: NODE_EP.port }), random, ...options.node });
  const sockets = options.sockets ?? [PRIMARY, SECONDARY];
  const run = new ConformanceRun(DISCV5_SCENARIOS, { target: contactFromEnr(node.enr)!, sockets, random, bystanderWaitMs: 15_000, ...options.tester });
  const events: ConformanceEvent[] = [];
  let now = 1000;
  type Datagram = { toNode: boolean; socket: number; bytes: Uint8Array };
  const flight: Datagram[] = [];
  const fromRun = (o: ReturnType<ConformanceRun['tick']>) => {
    events.push(...o.events);
    for (const s of o.send) flight.push({ toNode: true, socket: s.socket, bytes: s.bytes });
  };
  const fromNode = (o: ReturnType<Discv5Node['tick']>) => {
    for (const s of o.send) {
      const socket = sockets.find((x) => endpointKey(x.local) === endpointKey(s.to));
      if (socket) flight.push({ toNode: false, socket: socket.id, bytes: s.bytes });
    }
  };
  fromRun(run.start(now));
  for (let i = 0; i < 100_000 && !run.done; i++) {
    const d = flight.shift();
    if (d) {
      now += 1;
      if (d.toNode) fromNode(node.receive(d.bytes, sockets.find((x) => x.id === d.socket)!.local, now));
      else fromRun(run.receive(d.socket, d.bytes, NODE_EP, now));
      continue;
    }
    const next = [run.nextDeadline(), node.nextDeadline()].filter((x): x is number => x !== undefined);
    if (!next.length) break;
    now = Math.max(now, Math.min(...next));
    fromNode(node.tick(now));
    fromRun(run.tick(now));
  }
  const status = Object.fromEntries(run.results.map((r) => [r.name, r.status]));
  return { run, events, status, results: run.results, node };
}

describe('discv5 conformance scenarios against our own node (in memory)', () => {
  it('all seven pass, in go-ethereum order, each with its reason', () => {
    const { results, run } = runSuite();
    expect(run.done).toBe(true);
    expect(results.map((r) => r.name)).toEqual(['Ping', 'PingLargeRequestID', 'PingMultiIP', 'HandshakeResend', 'TalkRequest', 'FindnodeZeroDistance', 'FindnodeResults']);
    for (const r of results) expect(r, `${r.name}: ${r.reason}`).toMatchObject({ status: 'pass' });
    for (const r of results) expect(r.checks.length).toBeGreaterThan(20);
  });

  it('each scenario’s packets are reported with the scenario and the identity that sent or got them', () => {
    const { events } = runSuite({ sockets: [PRIMARY, SECOND_PRIMARY, SECONDARY] });
    const packets = events.filter((e): e is Extract<ConformanceEvent, { type: 'packet' }> => e.type === 'packet');
    const resend = packets.filter((p) => p.scenario === 'HandshakeResend');
    expect(resend.map((p) => `${p.packet.direction} ${p.packet.kind}`)).toEqual(['out random', 'in WHOAREYOU', 'out random', 'in WHOAREYOU', 'out handshake', 'in ordinary']);
    const multi = packets.filter((p) => p.scenario === 'PingMultiIP');
    expect(new Set(multi.map((p) => p.socket))).toEqual(new Set([1, 2, 3].filter((s) => multi.some((p) => p.socket === s))));
    expect(multi.some((p) => p.socket === SECONDARY.id && p.packet.kind === 'WHOAREYOU')).toBe(true);
    // Bystanders spread over the primary sockets, and each was pinged by the node.
    const bystanders = new Set(packets.filter((p) => p.conn.startsWith('bystander')).map((p) => p.conn));
    expect(bystanders.size).toBe(5);
    expect(new Set(packets.filter((p) => p.conn.startsWith('bystander')).map((p) => p.socket))).toEqual(new Set([1, 3]));
    // Packet numbers are unique across all the tester's engines.
    const seqs = packets.map((p) => p.packet.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('PingMultiIP is skipped, with the reason, when there is one source address', () => {
    const { results } = runSuite({ sockets: [PRIMARY], tester: { noSecondaryReason: 'the target is not on loopback' } });
    const r = results.find((x) => x.name === 'PingMultiIP')!;
    expect(r.status).toBe('skipped');
    expect(r.reason).toMatch(/the target is not on loopback/);
    expect(results.filter((x) => x.status === 'pass')).toHaveLength(6);
  });

  it('FindnodeResults fails against a node that never checks newcomers, and says why', () => {
    const { status, results } = runSuite({ node: { revalidation: { newEntryIntervalMs: 3_600_000 } }, tester: { only: ['FindnodeResults'] } });
    expect(status).toEqual({ FindnodeResults: 'fail' });
    expect(results[0].reason).toMatch(/checked 0 of 5 bystanders/);
  });

  it('HandshakeResend fails against a node that makes a fresh challenge for the second packet', () => {
    // challengeTtlMs 0: no challenge is ever pending, so each packet gets a new one (the old behaviour
    // for a packet with another nonce); the handshake signed against the first then fails too.
    const { status, results } = runSuite({ node: { challengeTtlMs: 0 }, tester: { only: ['HandshakeResend'] } });
    expect(status).toEqual({ HandshakeResend: 'fail' });
    expect(results[0].reason).toMatch(/fresh WHOAREYOU for the second packet/);
  });

  it('FindnodeZeroDistance and TalkRequest fail against a node that answers them wrongly', () => {
    const { status, results } = runSuite({ tester: { only: ['TalkRequest', 'FindnodeZeroDistance'] }, node: { talkHandler: () => new Uint8Array([1]) } });
    expect(status.TalkRequest).toBe('fail');
    expect(results.find((r) => r.name === 'TalkRequest')!.reason).toMatch(/not empty: 0x01/);
    expect(status.FindnodeZeroDistance).toBe('pass');
  });
});

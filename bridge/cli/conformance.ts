// `handshake-lab discv5 test <enr|enode>`: go-ethereum's discv5 conformance scenarios against any
// node, from a terminal. The scenarios and their runner are shared/discv5/conformance (the
// playground runs the same); this file opens the sockets and prints. Exit: 0 nothing failed,
// 1 a scenario failed.
import { shortHex } from '../../shared/bytes.ts';
import { driveConformance } from '../../shared/discv5/conformance/drive.ts';
import { ConformanceRun, type ScenarioResult, type TesterSocket } from '../../shared/discv5/conformance/runner.ts';
import { DISCV5_SCENARIOS } from '../../shared/discv5/conformance/scenarios.ts';
import type { NodeContact, PacketRecord } from '../../shared/discv5/engine.ts';
import { wallClock } from '../../shared/drive/clock.ts';
import type { DatagramSocket } from '../../shared/transport.ts';
import { endpointKey } from '../../shared/transport.ts';
import { isWildcard, nodeDatagramTransport } from '../node-transport.ts';
import { packetJson, printTrace, type Printer } from './format.ts';

export const SCENARIO_NAMES = DISCV5_SCENARIOS.map((s) => s.name);

export interface ConformanceCommandOptions {
  waitMs: number;
  bystanderWaitMs: number;
  only?: string[];
  /** Local addresses to send from; undefined: chosen from the target's address. */
  listen1?: string;
  listen2?: string;
}

/** One socket per connection a scenario can have at once (FindnodeResults: 5 bystanders and a tester). */
const PRIMARY_SOCKETS = 6;

const isLoopback4 = (ip: string) => ip.startsWith('127.');

/** Where the tester sends from: go-ethereum's suite uses 127.0.0.1 and 127.0.0.2 (--listen1/--listen2). */
function addresses(to: NodeContact, o: Pick<ConformanceCommandOptions, 'listen1' | 'listen2'>): { listen1: string; listen2?: string; noSecondary?: string } {
  const ip = to.endpoint.ip;
  if (o.listen1) return { listen1: o.listen1, ...(o.listen2 ? { listen2: o.listen2 } : { noSecondary: 'no --listen2 address was given' }) };
  if (isLoopback4(ip)) return { listen1: '127.0.0.1', listen2: o.listen2 ?? '127.0.0.2' };
  if (ip === '::1') return o.listen2 ? { listen1: '::1', listen2: o.listen2 } : { listen1: '::1', noSecondary: 'the target is on IPv6 loopback (::1), which is one address; pass --listen1/--listen2 to use two others' };
  const listen1 = ip.includes(':') ? '::' : '0.0.0.0';
  return o.listen2 ? { listen1, listen2: o.listen2 } : { listen1, noSecondary: 'the target is not on loopback and this machine has one address for it; pass --listen1 and --listen2 with two local addresses it can reach' };
}

/** The tester's sockets: several on the first address (one per connection, as go-ethereum), one on the second. */
export async function openTesterSockets(to: NodeContact, o: Pick<ConformanceCommandOptions, 'listen1' | 'listen2'> = {}): Promise<{ sockets: Map<number, DatagramSocket>; tester: TesterSocket[]; listen1: string; listen2?: string; noSecondary?: string }> {
  const where = addresses(to, o);
  const sockets = new Map<number, DatagramSocket>();
  const tester: TesterSocket[] = [];
  let noSecondary = where.noSecondary;
  try {
    for (let i = 0; i < PRIMARY_SOCKETS; i++) {
      const s = await nodeDatagramTransport.openDatagram({ ip: where.listen1, port: 0 });
      sockets.set(i + 1, s);
      // A wildcard socket's address is unknown: the scenarios check only what they can.
      tester.push({ id: i + 1, role: 'primary', local: isWildcard(where.listen1) ? { ip: where.listen1, port: s.local.port } : s.local });
    }
    if (where.listen2) {
      try {
        const s = await nodeDatagramTransport.openDatagram({ ip: where.listen2, port: 0 });
        sockets.set(100, s);
        tester.push({ id: 100, role: 'secondary', local: s.local });
      } catch (e) {
        noSecondary = `cannot bind a socket to ${where.listen2} (${(e as Error & { code?: string }).code ?? (e as Error).message})`;
      }
    }
  } catch (e) {
    for (const s of sockets.values()) s.close();
    throw e;
  }
  const second = tester.some((s) => s.role === 'secondary');
  return { sockets, tester, listen1: where.listen1, ...(second ? { listen2: where.listen2 } : {}), ...(noSecondary ? { noSecondary } : {}) };
}

export async function conformanceCommand(out: Printer, to: NodeContact, o: ConformanceCommandOptions): Promise<number> {
  const { sockets, tester, listen1, listen2, noSecondary } = await openTesterSockets(to, o);
  try {
    const run = new ConformanceRun(DISCV5_SCENARIOS, { target: to, sockets: tester, waitMs: o.waitMs, bystanderWaitMs: o.bystanderWaitMs, ...(o.only ? { only: o.only } : {}), ...(noSecondary ? { noSecondaryReason: noSecondary } : {}) });
    if (out.json) out.object({ type: 'start', target: endpointKey(to.endpoint), nodeId: to.nodeId, listen1, listen2 });
    else {
      out.line(`discv5 conformance: go-ethereum's v5test scenarios against ${shortHex(to.nodeId)} at ${endpointKey(to.endpoint)}`);
      out.line(`sending from ${listen1}${listen2 ? ` and ${listen2}` : ` only (${noSecondary})`}; each answer awaited ${o.waitMs} ms`);
    }
    let t0 = 0;
    const results = await driveConformance(run, sockets, wallClock, {
      event: (e) => {
        if (e.type === 'scenario-start') {
          t0 = 0;
          if (out.json) out.object({ type: 'scenario', name: e.name, checks: e.checks });
          else out.line(`\n${e.name} — ${e.checks}`);
        } else if (e.type === 'packet') {
          t0 ||= e.packet.at;
          if (out.json) out.object({ ...packetJson(e.packet, e.localId), scenario: e.scenario, conn: e.conn });
          else out.line(packetLine(e.packet, e.conn, e.packet.at - t0));
        } else if (e.type === 'step') {
          if (out.json) out.object({ type: 'step', scenario: e.scenario, text: e.text });
          else out.line(`            … ${e.text}`);
        } else if (e.type === 'scenario-end') {
          const r = e.result;
          if (out.json) out.object({ type: 'result', name: r.name, status: r.status, reason: r.reason, ms: Math.round(r.ms) });
          else out.line(`  ${r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIPPED'}: ${r.reason}`);
        }
      },
      trace: (t) => out.json && printTrace(out, t),
      error: (e) => (out.json ? out.object({ type: 'error', message: e.message }) : out.line(`error: ${e.message}`)),
    }).results;
    return summary(out, results);
  } finally {
    for (const s of sockets.values()) s.close();
  }
}

function packetLine(p: PacketRecord, conn: string, ms: number): string {
  const kind = p.rejected ? 'REJECTED' : p.kind === 'ordinary' ? 'message' : p.kind === 'random' ? 'random packet' : (p.kind ?? '?');
  const parts = [`${ms.toFixed(1).padStart(8)} ms ${p.direction === 'out' ? '→' : '←'} #${p.seq} ${kind}`, p.message?.type, `${p.raw.length} bytes`, p.retransmit ? 'retransmit' : undefined, conn];
  return `${parts.filter(Boolean).join(' · ')}${p.rejected ? ` — ${p.rejected}` : ''}`;
}

function summary(out: Printer, results: ScenarioResult[]): number {
  const count = (s: ScenarioResult['status']) => results.filter((r) => r.status === s).length;
  const [passed, failed, skipped] = [count('pass'), count('fail'), count('skipped')];
  if (out.json) out.object({ type: 'summary', ok: failed === 0, passed, failed, skipped, results });
  else {
    out.line('');
    out.line([`${passed} passed`, failed ? `${failed} failed (${results.filter((r) => r.status === 'fail').map((r) => r.name).join(', ')})` : '', skipped ? `${skipped} skipped` : ''].filter(Boolean).join(', '));
  }
  return failed === 0 ? 0 : 1;
}

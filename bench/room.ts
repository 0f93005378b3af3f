// npm run bench:room — a workshop room on this machine, loopback only, bounded.
//
// Processes, so each figure belongs to one of them: the lab (16 chainsafe discv5 nodes + 2 bcoin
// nodes), the bridge (workshop mode, a room, forgetting departed pages in the lab over IPC as
// npm start does in-process), and a few participant workers, each hosting many participants
// (test/helpers/participant.ts: a tunnel session running the shared engines, plus the room
// channel reporting progress). Every participant, from a random phase: a fresh discv5 handshake
// with a lab node every 10 s, a Bitcoin handshake every 30 s, a lookup every 60 s.
// Printed: handshake p50/p95 (discv5, Bitcoin), lookups, failures with reasons, the bridge's and
// the lab's CPU (average cores over the measured window) and memory, and, as the same run's
// baseline, the same discv5 handshake straight over UDP from this process (no bridge).
//   BENCH_PARTICIPANTS (200) · BENCH_WORKERS (4) · BENCH_SECONDS (60, measured after the ramp)
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { fmt, quantile } from './stats.ts';
import type { LabPeerInfo } from '../shared/lab.ts';
import type { Participant as ParticipantT } from '../test/helpers/participant.ts';

const N = Number(process.env.BENCH_PARTICIPANTS ?? 200);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const RAMP_MS = 10_000;
const DISCV5_EVERY = 10_000;
const BTC_EVERY = 30_000;
const LOOKUP_EVERY = 60_000;

type Msg = { type: string; [k: string]: unknown };

interface Usage {
  cpuMicros: number;
  rss: number;
}

const usage = (): Usage => {
  const c = process.cpuUsage();
  return { cpuMicros: c.user + c.system, rss: process.memoryUsage().rss };
};

// ------------------------------------------------------------------ roles

async function labRole(): Promise<void> {
  const { startLab } = await import('../bridge/lab.ts');
  const { startBitcoinLab } = await import('../bridge/lab-bitcoin.ts');
  const lab = await startLab({ size: 16 });
  const btc = await startBitcoinLab({ size: 2 });
  let forgotten = 0;
  process.on('message', (m: Msg) => {
    if (m.type === 'forget') forgotten += lab.forget(m.e as { ip: string; port: number });
    else if (m.type === 'usage') process.send!({ type: 'usage', ...usage(), forgotten });
    else if (m.type === 'stop') void Promise.allSettled([lab.close(), btc.close()]).then(() => process.exit(0));
  });
  process.send!({ type: 'ready', peers: [...lab.peers, ...btc.peers] });
}

async function bridgeRole(): Promise<void> {
  const { startBridge } = await import('../bridge/server.ts');
  const peers = JSON.parse(process.env.BENCH_LAB!) as LabPeerInfo[];
  const server = await startBridge(
    {
      port: 0,
      host: '127.0.0.1',
      workshop: true,
      logLevel: 'silent',
      maxSessions: N + 16,
      // Every participant comes from 127.0.0.1 here; in a room each has its own address.
      maxSessionsPerClient: N + 16,
      maxHttpConnectionsPerClient: N * 2 + 16,
    },
    { lab: peers, room: { teacherToken: 'bench-teacher-token-0123456789' }, onTunnelSocketGone: (protocol, e) => protocol === 'udp' && process.send!({ type: 'forget', e }) },
  );
  process.on('message', (m: Msg) => {
    if (m.type === 'usage') process.send!({ type: 'usage', ...usage(), sessions: server.stats().sessions, room: server.room?.snapshot().participants.length ?? 0 });
    else if (m.type === 'stop') void server.close().then(() => process.exit(0));
  });
  process.send!({ type: 'ready', origin: server.origin, token: server.token });
}

async function workerRole(): Promise<void> {
  const { Participant } = await import('../test/helpers/participant.ts');
  const origin = process.env.BENCH_ORIGIN!;
  const token = process.env.BENCH_TOKEN!;
  const count = Number(process.env.BENCH_COUNT);
  const index = Number(process.env.BENCH_INDEX);
  const samples = { discv5: [] as number[], bitcoin: [] as number[], lookup: [] as number[] };
  const failures: Record<string, number> = {};
  let measuring = false;
  const fail = (what: string, reason = 'failed') => void (measuring && (failures[`${what}: ${reason}`] = (failures[`${what}: ${reason}`] ?? 0) + 1));
  const timers: ReturnType<typeof setTimeout>[] = [];
  const people: ParticipantT[] = [];
  const every = (ms: number, first: number, fn: () => Promise<void>) => {
    const run = () => void fn().finally(() => timers.push(setTimeout(run, ms)));
    timers.push(setTimeout(run, first));
  };
  for (let i = 0; i < count; i++) {
    // Joins spread over the ramp, every participant with its own phase.
    await new Promise((r) => setTimeout(r, RAMP_MS / 2 / count));
    let p: ParticipantT;
    try {
      p = await Participant.join({ origin, token, name: `w${index}-${i}` });
    } catch (e) {
      failures[`join: ${(e as Error).message}`] = (failures[`join: ${(e as Error).message}`] ?? 0) + 1;
      continue;
    }
    people.push(p);
    let k = i;
    every(DISCV5_EVERY, Math.random() * DISCV5_EVERY, async () => {
      const o = await p.discv5Handshake(k++);
      if (!measuring) return;
      if (o.ok) samples.discv5.push(o.ms);
      else fail('discv5', o.reason);
    });
    every(BTC_EVERY, Math.random() * BTC_EVERY, async () => {
      const o = await p.bitcoinHandshake(k);
      if (!measuring) return;
      if (o.ok) samples.bitcoin.push(o.ms);
      else fail('bitcoin', o.reason);
    });
    every(LOOKUP_EVERY, Math.random() * LOOKUP_EVERY, async () => {
      const r = await p.lookup();
      if (!measuring) return;
      samples.lookup.push(r.ms);
      for (const t of r.timedOut) fail('lookup', `timeout: ${t}`);
    });
  }
  let cpu0 = 0;
  process.on('message', (m: Msg) => {
    if (m.type === 'measure') {
      measuring = true;
      cpu0 = usage().cpuMicros;
    } else if (m.type === 'report') {
      measuring = false;
      process.send!({ type: 'report', samples, failures, joined: people.length, cpuMicros: usage().cpuMicros - cpu0, rss: usage().rss });
    } else if (m.type === 'stop') {
      for (const t of timers) clearTimeout(t);
      for (const p of people) p.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
  process.send!({ type: 'ready', joined: people.length });
}

// ------------------------------------------------------------------ driver

function spawnRole(role: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; ready: Msg }> {
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env, BENCH_ROLE: role } });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${role} exited (${code})`)));
    const onMessage = (m: Msg) => {
      if (m.type !== 'ready') return;
      child.off('message', onMessage);
      resolve({ child, ready: m });
    };
    child.on('message', onMessage);
  });
}

const ask = (child: ChildProcess, type: string): Promise<Msg> =>
  new Promise((resolve) => {
    const on = (m: Msg) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.send({ type });
  });

/** The same discv5 handshake, straight over UDP from this process: the run's baseline. */
async function directBaseline(peers: LabPeerInfo[], stopAt: number): Promise<number[]> {
  const { nodeDatagramTransport } = await import('../bridge/node-transport.ts');
  const { Discv5Driver } = await import('../shared/discv5/driver.ts');
  const { Discv5Node } = await import('../shared/discv5/node.ts');
  const { contactFromEnr } = await import('../shared/discv5/engine.ts');
  const { createEnr, parseEnrText } = await import('../shared/enr/index.ts');
  const { randomPrivateKey } = await import('../shared/crypto/secp256k1.ts');
  const { secureRandom } = await import('../shared/random.ts');
  const socket = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1' });
  const privateKey = randomPrivateKey(secureRandom);
  const driver = new Discv5Driver(new Discv5Node({ privateKey, enr: createEnr({ privateKey, ip: '127.0.0.1', udp: socket.local.port }), random: secureRandom }), socket);
  const contacts = peers.flatMap((p) => (p.protocol === 'discv5' ? [contactFromEnr((parseEnrText(p.enr) as { ok: true; value: Parameters<typeof contactFromEnr>[0] }).value)!] : []));
  const out: number[] = [];
  for (let i = 0; Date.now() < stopAt; i++) {
    const to = contacts[i % contacts.length];
    driver.command({ type: 'drop-session', nodeId: to.nodeId });
    const t0 = performance.now();
    const r = await driver.ping(to);
    if (r.ok) out.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 500));
  }
  driver.close();
  return out;
}

async function main(): Promise<void> {
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`Room benchmark — ${N} participants in ${WORKERS} worker processes, ${SECONDS} s measured; node ${process.version}, ${os.cpus().length} CPUs, load ${load()}`);
  const children: ChildProcess[] = [];
  try {
    const lab = await spawnRole('lab');
    children.push(lab.child);
    const peers = lab.ready.peers as LabPeerInfo[];
    const bridge = await spawnRole('bridge', { BENCH_LAB: JSON.stringify(peers) });
    children.push(bridge.child);
    bridge.child.on('message', (m: Msg) => m.type === 'forget' && lab.child.send(m));
    const per = Math.ceil(N / WORKERS);
    const workers = await Promise.all(
      Array.from({ length: WORKERS }, (_, i) =>
        spawnRole('worker', { BENCH_ORIGIN: String(bridge.ready.origin), BENCH_TOKEN: String(bridge.ready.token), BENCH_COUNT: String(Math.max(0, Math.min(per, N - i * per))), BENCH_INDEX: String(i) }),
      ),
    );
    children.push(...workers.map((w) => w.child));
    await new Promise((r) => setTimeout(r, RAMP_MS / 2)); // every participant's first rounds under way
    const u0 = { bridge: await ask(bridge.child, 'usage'), lab: await ask(lab.child, 'usage') };
    const t0 = performance.now();
    for (const w of workers) w.child.send({ type: 'measure' });
    const baseline = await directBaseline(peers, Date.now() + SECONDS * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const u1 = { bridge: await ask(bridge.child, 'usage'), lab: await ask(lab.child, 'usage') };
    const reports = await Promise.all(workers.map((w) => ask(w.child, 'report')));
    const all = { discv5: [] as number[], bitcoin: [] as number[], lookup: [] as number[] };
    const failures: Record<string, number> = {};
    let joined = 0;
    let workerCpu = 0;
    let workerRss = 0;
    for (const r of reports) {
      workerCpu += (r.cpuMicros as number) / 1e6 / elapsed;
      workerRss += r.rss as number;
      const s = r.samples as typeof all;
      all.discv5.push(...s.discv5);
      all.bitcoin.push(...s.bitcoin);
      all.lookup.push(...s.lookup);
      for (const [k, n] of Object.entries(r.failures as Record<string, number>)) failures[k] = (failures[k] ?? 0) + n;
      joined += r.joined as number;
    }
    const count = (pred: (k: string) => boolean) => Object.entries(failures).reduce((a, [k, n]) => a + (pred(k) ? n : 0), 0);
    const nFail = count((k) => !k.startsWith('lookup:'));
    const nLookup = count((k) => k.startsWith('lookup:'));
    const q = (xs: number[], p: number) => (xs.length ? fmt(quantile(xs, p), 1) : '—');
    const cores = (a: Msg, b: Msg) => ((b.cpuMicros as number) - (a.cpuMicros as number)) / 1e6 / elapsed;
    const mb = (m: Msg) => fmt((m.rss as number) / 2 ** 20, 0);
    const bridgeCores = cores(u0.bridge, u1.bridge);
    const labCores = cores(u0.lab, u1.lab);
    const p95 = all.discv5.length ? quantile(all.discv5, 0.95) : Infinity;
    console.log(`\n  participants joined ${joined}/${N}; the teacher's room lists ${u1.bridge.room}; bridge sessions ${u1.bridge.sessions}; measured ${fmt(elapsed, 1)} s`);
    console.log(`  discv5 handshake (fresh session, PING → PONG) via the bridge: n ${all.discv5.length}  p50 ${q(all.discv5, 0.5)} ms  p95 ${q(all.discv5, 0.95)} ms   aim p95 ≤ 100 ms   ${p95 <= 100 ? 'MET' : 'MISSED'}`);
    console.log(`    baseline, straight over UDP from the driver (same lab, same run): n ${baseline.length}  p50 ${q(baseline, 0.5)} ms  p95 ${q(baseline, 0.95)} ms`);
    console.log(`  Bitcoin handshake (connect, version/verack) via the bridge: n ${all.bitcoin.length}  p50 ${q(all.bitcoin, 0.5)} ms  p95 ${q(all.bitcoin, 0.95)} ms`);
    console.log(`  lookups: n ${all.lookup.length}  p50 ${q(all.lookup, 0.5)} ms  p95 ${q(all.lookup, 0.95)} ms`);
    console.log(`  failed handshakes (and joins): ${nFail}   aim 0   ${nFail === 0 ? 'MET' : 'MISSED'}`);
    console.log(`  lookup requests that timed out: ${nLookup}`);
    for (const [k, n] of Object.entries(failures)) console.log(`    ${n} × ${k}`);
    console.log(`  bridge: ${fmt(bridgeCores)} cores, RSS ${mb(u1.bridge)} MB   lab (16 discv5 + 2 bcoin): ${fmt(labCores)} cores, RSS ${mb(u1.lab)} MB`);
    console.log(`  bridge + lab: ${fmt(bridgeCores + labCores)} cores on average   aim ≤ 1   ${bridgeCores + labCores <= 1 ? 'MET' : 'MISSED'}`);
    console.log(`  the participants themselves (${WORKERS} worker processes: every participant's crypto, which a room spreads over its own machines): ${fmt(workerCpu)} cores, RSS ${fmt(workerRss / 2 ** 20, 0)} MB`);
    console.log(`  load average at the end: ${load()} (other developers share this machine)`);
    for (const w of workers) w.child.send({ type: 'stop' });
    // Every page gone: the bridge tells the lab, which forgets them (bounded wait for a busy machine).
    let forgotten = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const f = (await ask(lab.child, 'usage')).forgotten as number;
      if (f > 0 && f === forgotten && (await ask(bridge.child, 'usage')).sessions === 0) break;
      forgotten = f;
    }
    console.log(`  after every participant left (bridge sessions ${(await ask(bridge.child, 'usage')).sessions}), the lab forgot ${forgotten} records of departed pages`);
  } finally {
    for (const c of children) if (c.exitCode === null) c.send?.({ type: 'stop' });
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

const role = process.env.BENCH_ROLE;
if (role === 'lab') void labRole();
else if (role === 'bridge') void bridgeRole();
else if (role === 'worker') void workerRole();
else
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );

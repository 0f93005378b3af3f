// npm run bench:bridge — the bridge under 200 concurrent sessions, loopback only, bounded.
//
// Three processes, so each number belongs to one of them: the bridge (child, measured for
// memory and CPU), a UDP echo (child), and this one, which drives 200 tunnel sessions with the
// Node-side TunnelClient. Printed, all from the same run:
//   - added latency: tunnel round trip minus direct UDP round trip to the same echo (p50, p99),
//     measured interleaved while the 200 sessions are open and idle;
//   - bridge memory per idle session (each with one UDP socket), after GC;
//   - datagrams/s relayed with all 200 sessions exchanging datagrams with the echo.
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { openTunnel, type TunnelClient } from '../shared/tunnel/client.ts';
import type { DatagramSocket, Endpoint } from '../shared/transport.ts';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const LATENCY_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2000);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IN_FLIGHT = 4; // datagrams each session keeps outstanding during the load phase
const PAYLOAD = 100; // bytes, about a discv5 PING

type Msg = { type: string; [k: string]: unknown };

// ------------------------------------------------------------------ child roles

async function bridgeRole(): Promise<void> {
  const { startBridge } = await import('../bridge/server.ts');
  const server = await startBridge({ port: 0, logLevel: 'silent', maxSessions: SESSIONS + 16, lab: false });
  const gc = (globalThis as { gc?: () => void }).gc;
  const mem = () => {
    for (let i = 0; i < 3; i++) gc?.();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
  };
  process.on('message', (m: Msg) => {
    if (m.type === 'mem') process.send!({ type: 'mem', ...mem(), stats: server.stats() });
    else if (m.type === 'cpu') process.send!({ type: 'cpu', ...process.cpuUsage() });
    else if (m.type === 'stop') void server.close().then(() => process.exit(0));
  });
  process.send!({ type: 'ready', port: server.port, tunnelUrl: server.tunnelUrl, origin: server.origin });
}

function echoRole(): void {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, r) => s.send(msg, r.port, r.address));
  s.bind(0, '127.0.0.1', () => process.send!({ type: 'ready', port: s.address().port }));
  process.on('message', (m: Msg) => m.type === 'stop' && s.close(() => process.exit(0)));
}

// ------------------------------------------------------------------ driver

function spawn(role: string, execArgv: string[] = []): Promise<{ child: ChildProcess; ready: Msg }> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, BENCH_ROLE: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (ready: Msg) => resolve({ child, ready }));
    child.once('exit', (code) => reject(new Error(`${role} exited (${code})`)));
  });
}

const ask = (child: ChildProcess, type: string): Promise<Msg> =>
  new Promise((resolve) => {
    child.once('message', resolve);
    child.send({ type });
  });

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** One round trip, in ms; NaN if no reply within a second (counted as lost, not waited for). */
function rtt(send: () => void, onReply: (h: (() => void) | undefined) => void): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const timer = setTimeout(() => {
      onReply(undefined);
      resolve(NaN);
    }, 1000);
    onReply(() => {
      clearTimeout(timer);
      onReply(undefined);
      resolve(performance.now() - t0);
    });
    send();
  });
}

async function main(): Promise<void> {
  const prof = process.env.BENCH_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const { child: bridge, ready: b } = await spawn('bridge', ['--expose-gc', ...prof]);
  const { child: echo, ready: e } = await spawn('echo');
  const echoAt: Endpoint = { ip: '127.0.0.1', port: e.port as number };
  const stop = async () => {
    for (const c of [bridge, echo]) c.send({ type: 'stop' });
    await Promise.all([bridge, echo].map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))));
  };
  const timeout = setTimeout(() => {
    console.error('bench: over its time bound, stopping');
    bridge.kill();
    echo.kill();
    process.exit(1);
  }, 120_000);

  try {
    const memBefore = await ask(bridge, 'mem');

    // 200 sessions, one UDP socket each.
    const clients: TunnelClient[] = [];
    const socks: DatagramSocket[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const ws = new WebSocket(b.tunnelUrl as string, { origin: b.origin as string });
      const c = await openTunnel(ws);
      clients.push(c);
      socks.push(await c.openDatagram());
    }
    await new Promise((r) => setTimeout(r, 200));
    const memIdle = await ask(bridge, 'mem');

    // Latency, interleaved direct / tunnel, with the 200 sessions open and idle.
    const direct = dgram.createSocket('udp4');
    await new Promise<void>((r) => direct.bind(0, '127.0.0.1', () => r()));
    let directReply: (() => void) | undefined;
    direct.on('message', () => directReply?.());
    // The probe rotates over the sessions: each stays far below its packet budget.
    let tunnelReply: (() => void) | undefined;
    for (const s of socks) s.onMessage(() => tunnelReply?.());
    const payload = new Uint8Array(PAYLOAD);
    const dRtt: number[] = [];
    const tRtt: number[] = [];
    let lost = 0;
    for (let i = 0; i < LATENCY_SAMPLES + 200; i++) {
      const probe = socks[i % socks.length];
      const d = await rtt(() => direct.send(payload, echoAt.port, echoAt.ip), (h) => (directReply = h));
      const t = await rtt(() => probe.send(payload, echoAt), (h) => (tunnelReply = h));
      if (Number.isNaN(d) || Number.isNaN(t)) lost++;
      else if (i >= 200) {
        // the first 200 warm up the JIT on both paths
        dRtt.push(d);
        tRtt.push(t);
      }
    }
    direct.close();

    // Load: every session keeps IN_FLIGHT datagrams outstanding for LOAD_SECONDS.
    let echoed = 0;
    let running = true;
    for (const s of socks) {
      s.onMessage(() => {
        echoed++;
        if (running) s.send(payload, echoAt);
      });
    }
    const cpu0 = await ask(bridge, 'cpu');
    const t0 = performance.now();
    for (const s of socks) for (let k = 0; k < IN_FLIGHT; k++) s.send(payload, echoAt);
    await new Promise((r) => setTimeout(r, LOAD_SECONDS * 1000));
    running = false;
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = await ask(bridge, 'cpu');
    const memLoad = await ask(bridge, 'mem');
    await new Promise((r) => setTimeout(r, 200));

    const roundTrips = echoed / elapsed;
    const bridgeCpu = ((cpu1.user as number) - (cpu0.user as number) + (cpu1.system as number) - (cpu0.system as number)) / 1e6 / elapsed;
    const p = (xs: number[], q: number) => percentile(xs, q).toFixed(3);
    const addedP50 = percentile(tRtt, 50) - percentile(dRtt, 50);
    const addedP99 = percentile(tRtt, 99) - percentile(dRtt, 99);
    const perSession = (k: 'rss' | 'heapUsed' | 'external') => ((memIdle[k] as number) - (memBefore[k] as number)) / SESSIONS;
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

    console.log(`bridge bench: ${SESSIONS} sessions, loopback, payload ${PAYLOAD} B, node ${process.version}`);
    console.log('');
    console.log(`latency (${dRtt.length} interleaved round trips over the ${SESSIONS} open sessions, ${lost} lost):`);
    console.log(`  direct UDP round trip   p50 ${p(dRtt, 50)} ms   p99 ${p(dRtt, 99)} ms`);
    console.log(`  tunnel round trip       p50 ${p(tRtt, 50)} ms   p99 ${p(tRtt, 99)} ms`);
    console.log(`  added per round trip    p50 ${addedP50.toFixed(3)} ms   p99 ${addedP99.toFixed(3)} ms  (two relayed datagrams)`);
    console.log(`  added per datagram      p50 ${(addedP50 / 2).toFixed(3)} ms   p99 ${(addedP99 / 2).toFixed(3)} ms  (aim: p50 ≤ 0.2 ms)`);
    console.log('');
    console.log(`throughput (${SESSIONS} sessions × ${IN_FLIGHT} in flight, ${elapsed.toFixed(1)} s):`);
    console.log(`  round trips/s           ${Math.round(roundTrips)}`);
    console.log(`  datagrams/s relayed     ${Math.round(2 * roundTrips)}  (out + back; aim ≥ 20,000)`);
    console.log(`  bridge CPU              ${(100 * bridgeCpu).toFixed(0)} % of one core`);
    console.log('');
    console.log(`bridge memory per idle session (one UDP socket each, after GC):`);
    console.log(`  rss ${kb(perSession('rss'))}   heap ${kb(perSession('heapUsed'))}   buffers ${kb(perSession('external'))}  (aim ≤ 1 MiB)`);
    console.log(`  bridge rss: ${(((memBefore.rss as number) / 2 ** 20)).toFixed(1)} MiB before, ${((memIdle.rss as number) / 2 ** 20).toFixed(1)} MiB with ${SESSIONS} idle sessions, ${((memLoad.rss as number) / 2 ** 20).toFixed(1)} MiB after the load`);
    const st = memIdle.stats as { sessions: number; total: { udpSockets: number } };
    console.log(`  (bridge saw ${st.sessions} sessions, ${st.total.udpSockets} UDP sockets)`);

    for (const c of clients) c.close();
  } finally {
    clearTimeout(timeout);
    await stop();
  }
}

const role = process.env.BENCH_ROLE;
if (role === 'bridge') void bridgeRole();
else if (role === 'echo') echoRole();
else
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );

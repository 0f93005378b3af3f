// npm run bench:bridge — the bridge under 200 concurrent sessions, loopback only, bounded.
//
// Four processes, so each number belongs to one of them: the bridge (child, measured for
// memory and CPU), a UDP echo (child), a flooder (child, 8 abusive sessions) and this one,
// which drives 200 tunnel sessions with the Node-side TunnelClient. Printed, all from the same run:
//   - added latency: tunnel round trip minus direct UDP round trip to the same echo (p50, p99),
//     measured interleaved while the 200 sessions are open and idle;
//   - bridge memory per idle session (each with one UDP socket), after GC;
//   - datagrams/s relayed with all 200 sessions exchanging datagrams with the echo;
//   - fairness: the added latency of one well-behaved session (paced, under its budget) while
//     8 other sessions are open and idle (quiet: before and after the flood), and while they
//     flood UDP_SEND (to a loopback sink that never answers) as fast as their sockets take it
//     (flooded), the difference, and the bridge's own event-loop delay in each phase.
// BENCH_BRIDGE=/path/to/bridge/server.ts runs another checkout's bridge (e.g. main) under the same driver.
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { openTunnel, type TunnelClient } from '../shared/tunnel/client.ts';
import { encodeFrame } from '../shared/tunnel/frames.ts';
import type { DatagramSocket, Endpoint } from '../shared/transport.ts';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200);
const LATENCY_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2000);
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const IN_FLIGHT = 4; // datagrams each session keeps outstanding during the load phase
const PAYLOAD = 100; // bytes, about a discv5 PING
const FLOODERS = 8;
const FAIR_SAMPLES = Number(process.env.BENCH_FAIR_SAMPLES ?? 2000);

type Msg = { type: string; [k: string]: unknown };

// ------------------------------------------------------------------ child roles

async function bridgeRole(): Promise<void> {
  const { startBridge } = (await import(process.env.BENCH_BRIDGE ?? '../bridge/server.ts')) as typeof import('../bridge/server.ts');
  const echoPort = Number(process.env.BENCH_ECHO_PORT);
  const server = await startBridge({
    port: 0,
    logLevel: 'silent',
    maxSessions: SESSIONS + FLOODERS + 16,
    maxSessionsPerClient: SESSIONS + FLOODERS + 16, // every session comes from 127.0.0.1
    allow: [`127.0.0.1:${echoPort}`, `127.0.0.1:${process.env.BENCH_SINK_PORT}`], // loopback targets need --allow
    lab: false,
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  const mem = () => {
    for (let i = 0; i < 3; i++) gc?.();
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external + m.arrayBuffers };
  };
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  process.on('message', (m: Msg) => {
    if (m.type === 'mem') process.send!({ type: 'mem', ...mem(), stats: server.stats() });
    else if (m.type === 'loop-reset') (loop.reset(), process.send!({ type: 'loop-reset' }));
    else if (m.type === 'loop') process.send!({ type: 'loop', p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 });
    else if (m.type === 'cpu') process.send!({ type: 'cpu', ...process.cpuUsage() });
    else if (m.type === 'stop') void server.close().then(() => process.exit(0));
  });
  process.send!({ type: 'ready', port: server.port, tunnelUrl: server.tunnelUrl, origin: server.origin });
}

/**
 * FLOODERS sessions, each with a UDP socket; on 'flood' each writes UDP_SENDs as fast as its
 * socket takes them. Written as ready-made masked WebSocket frames on a raw socket, so the
 * flooder costs next to no CPU itself (the bridge, not this process, is what is measured).
 */
async function floodRole(): Promise<void> {
  const { tunnelUrl, origin, sinkPort } = JSON.parse(process.env.BENCH_FLOOD ?? '{}') as { tunnelUrl: string; origin: string; sinkPort: number };
  const send = encodeFrame({ type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: sinkPort }, payload: new Uint8Array(PAYLOAD) });
  const open = encodeFrame({ type: 'udp-open', id: 1, ip: '', port: 0 });
  if (!send.ok || !open.ok) throw new Error('cannot encode');
  const one = wsFrame(send.value);
  const burst = Buffer.concat(Array.from({ length: Math.floor(65536 / one.length) }, () => one)); // one socket read's worth
  const sockets: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < FLOODERS; i++) {
    const s = await rawWebSocket(tunnelUrl, origin);
    s.on('data', () => {}); // HELLO, UDP_OPENED, echoes: read and dropped
    s.on('close', () => closed++);
    s.write(wsFrame(open.value));
    sockets.push(s);
  }
  let flooding = false;
  let sent = 0;
  let full = new Set<net.Socket>();
  const pump = (s: net.Socket) => {
    while (flooding && !s.destroyed) {
      sent += burst.length / one.length;
      if (!s.write(burst)) {
        full.add(s);
        return void s.once('drain', () => (full.delete(s), pump(s)));
      }
    }
  };
  process.on('message', async (m: Msg) => {
    if (m.type === 'flood') {
      flooding = true;
      sent = 0;
      full = new Set();
      for (const s of sockets) pump(s);
      // Measure once every flooder is backed up: from then on only the bridge decides what is read.
      const deadline = Date.now() + 3000;
      while (full.size < sockets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      process.send!({ type: 'flooding', backedUp: full.size });
    } else if (m.type === 'calm') {
      flooding = false;
      process.send!({ type: 'calm', sent, closed });
    } else if (m.type === 'stop') {
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready' });
}

/** A client WebSocket frame (binary, final, masked with a zero key: the bytes go as they are). */
function wsFrame(payload: Uint8Array): Buffer {
  if (payload.length >= 126) throw new Error('short frames only');
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/** The WebSocket upgrade by hand; resolves with the socket once the bridge answered 101. */
function rawWebSocket(url: string, origin: string): Promise<net.Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
      s.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nOrigin: ${origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = '';
    const onData = (b: Buffer) => {
      head += b.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      resolve(s);
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

/** The UDP echo, and a sink on another port that takes the flood and never answers. */
function echoRole(): void {
  const s = dgram.createSocket('udp4');
  const sink = dgram.createSocket('udp4');
  s.on('message', (msg, r) => s.send(msg, r.port, r.address));
  sink.on('message', () => {});
  sink.bind(0, '127.0.0.1', () =>
    s.bind(0, '127.0.0.1', () => process.send!({ type: 'ready', port: s.address().port, sinkPort: sink.address().port })),
  );
  process.on('message', (m: Msg) => m.type === 'stop' && sink.close(() => s.close(() => process.exit(0))));
}

// ------------------------------------------------------------------ driver

function spawn(role: string, execArgv: string[] = [], env: Record<string, string> = {}): Promise<{ child: ChildProcess; ready: Msg }> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, ...env, BENCH_ROLE: role },
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
  const { child: echo, ready: e } = await spawn('echo');
  const { child: bridge, ready: b } = await spawn('bridge', ['--expose-gc', ...prof], { BENCH_ECHO_PORT: String(e.port), BENCH_SINK_PORT: String(e.sinkPort) });
  const echoAt: Endpoint = { ip: '127.0.0.1', port: e.port as number };
  const children = [bridge, echo];
  const stop = async () => {
    for (const c of children) if (c.connected) c.send({ type: 'stop' });
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))));
  };
  const timeout = setTimeout(() => {
    console.error('bench: over its time bound, stopping');
    for (const c of children) c.kill();
    process.exit(1);
  }, 180_000);

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
    await new Promise((r) => setTimeout(r, 300));

    if (FAIR_SAMPLES === 0) return; // BENCH_FAIR_SAMPLES=0: the figures above only
    // Fairness: one well-behaved session, quiet (before and after) and with FLOODERS sessions flooding.
    const { child: flood } = await spawn('flood', [], { BENCH_FLOOD: JSON.stringify({ tunnelUrl: b.tunnelUrl, origin: b.origin, sinkPort: e.sinkPort }) });
    children.push(flood);
    const good = await openTunnel(new WebSocket(b.tunnelUrl as string, { origin: b.origin as string }));
    const phase = async (samples: number, warmUp = 0) => {
      await ask(bridge, 'loop-reset');
      const lat = await pacedLatency(good, echoAt, samples, warmUp);
      return { ...lat, loop: await ask(bridge, 'loop') };
    };
    const quiet1 = await phase(FAIR_SAMPLES / 2, 100);
    const before = (await ask(bridge, 'mem')).stats as BridgeStats;
    const t0flood = performance.now();
    const started = await ask(flood, 'flood');
    const flooded = await phase(FAIR_SAMPLES);
    const after = (await ask(bridge, 'mem')).stats as BridgeStats;
    const seconds = (performance.now() - t0flood) / 1000;
    const floodEnd = await ask(flood, 'calm');
    flood.send({ type: 'stop' }); // its sessions go, and with them their backlog
    await new Promise((r) => flood.once('exit', r));
    await new Promise((r) => setTimeout(r, 300));
    const quiet2 = await phase(FAIR_SAMPLES / 2);
    good.close();
    const quiet = merge(quiet1, quiet2);
    const fl = added(flooded);
    const d50 = fl.p50 - quiet.p50;
    const d99 = fl.p99 - quiet.p99;
    const f = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(3)}`;
    const loop = (l: Msg) => `bridge event-loop delay p99 ${(l.p99 as number).toFixed(1)} ms, max ${(l.max as number).toFixed(1)} ms`;
    console.log('');
    console.log(`fairness (one well-behaved session, paced round trips; ${FLOODERS} other sessions flooding over budget):`);
    console.log(`  quiet    added per round trip   p50 ${quiet.p50.toFixed(3)} ms   p99 ${quiet.p99.toFixed(3)} ms   (${quiet.samples} samples, before and after the flood, ${quiet.lost} over 1 s)`);
    console.log(`  flooded  added per round trip   p50 ${fl.p50.toFixed(3)} ms   p99 ${fl.p99.toFixed(3)} ms   (${fl.samples} samples, ${flooded.lost} over 1 s)`);
    console.log(`  delta                           p50 ${f(d50)} ms   p99 ${f(d99)} ms   (aim: ≤ +0.5 ms p50, ≤ +2 ms p99)`);
    console.log(`  quiet: ${loop(quiet1.loop)} / ${loop(quiet2.loop)};  flooded: ${loop(flooded.loop)}`);
    console.log(
      `  flooders offered ${Math.round((floodEnd.sent as number) / seconds)} frames/s; the bridge read ${Math.round((after.total.framesIn - before.total.framesIn) / seconds)} frames/s ` +
        `from all sessions, held sessions ${(after.total.held ?? 0) - (before.total.held ?? 0)} times; flooders backed up: ${started.backedUp}/${FLOODERS}, closed: ${floodEnd.closed}`,
    );
  } finally {
    clearTimeout(timeout);
    await stop();
  }
}

type BridgeStats = { total: { framesIn: number; held?: number } };

/** Round trips of one session, each next to a direct one, paced to stay under its budget. */
async function pacedLatency(client: TunnelClient, echoAt: Endpoint, samples: number, warmUp: number) {
  const sock = await client.openDatagram();
  const direct = dgram.createSocket('udp4');
  await new Promise<void>((r) => direct.bind(0, '127.0.0.1', () => r()));
  let directReply: (() => void) | undefined;
  let tunnelReply: (() => void) | undefined;
  direct.on('message', () => directReply?.());
  sock.onMessage(() => tunnelReply?.());
  const payload = new Uint8Array(PAYLOAD);
  const dRtt: number[] = [];
  const tRtt: number[] = [];
  let lost = 0;
  const t0 = performance.now();
  for (let i = 0; i < samples + warmUp; i++) {
    const d = await rtt(() => direct.send(payload, echoAt.port, echoAt.ip), (h) => (directReply = h));
    const t = await rtt(() => sock.send(payload, echoAt), (h) => (tunnelReply = h));
    if (Number.isNaN(t)) lost++;
    // A tunnel probe with no echo within a second counts as a second (a stall is the finding).
    if (!Number.isNaN(d) && i >= warmUp) {
      dRtt.push(d);
      tRtt.push(Number.isNaN(t) ? 1000 : t);
    }
    await new Promise((r) => setTimeout(r, 1)); // ≤ ~600 datagrams/s: well under the 1000/s budget
  }
  const seconds = (performance.now() - t0) / 1000;
  direct.close();
  sock.close();
  return { dRtt, tRtt, lost, seconds };
}

type Rtts = { dRtt: number[]; tRtt: number[]; lost: number };

/** Added latency per percentile: the tunnel's round trip minus the direct one, as above. */
function added(r: Rtts) {
  return { samples: r.tRtt.length, lost: r.lost, p50: percentile(r.tRtt, 50) - percentile(r.dRtt, 50), p99: percentile(r.tRtt, 99) - percentile(r.dRtt, 99) };
}
const merge = (a: Rtts, b: Rtts) => added({ dRtt: [...a.dRtt, ...b.dRtt], tRtt: [...a.tRtt, ...b.tRtt], lost: a.lost + b.lost });

const role = process.env.BENCH_ROLE;
if (role === 'bridge') void bridgeRole();
else if (role === 'echo') echoRole();
else if (role === 'flood') void floodRole();
else
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );

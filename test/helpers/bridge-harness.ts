// Starts a bridge (and optionally the lab) on loopback for a test, and opens tunnel clients
// and raw tunnel sessions against it. Everything it starts is stopped by close().
//
//   const h = await startBridgeHarness({ lab: 16 });
//   const tunnel = await h.openClient();          // a TunnelClient over a real `ws` WebSocket
//   const sock = await tunnel.openDatagram();     // sock.local: the bridge-bound address
//   … h.labEnrs[0] …                              // ENR text of a real chainsafe discv5 node
//   await h.close();
import dgram from 'node:dgram';
import net from 'node:net';
import { WebSocket } from 'ws';
import { startBridge, type BridgeServer } from '../../bridge/server.ts';
import type { Discv5LabPeer } from '../../shared/lab.ts';
import { startLab, type Lab } from '../../bridge/lab.ts';
import { startBitcoinLab, type BitcoinLab } from '../../bridge/lab-bitcoin.ts';
import { startExecutionLab, type ExecutionLab } from '../../bridge/lab-execution.ts';
import type { BridgeOptions } from '../../bridge/options.ts';
import { type Logger, silentLogger } from '../../bridge/log.ts';
import { type TunnelClient, openTunnel } from '../../shared/tunnel/client.ts';
import { type Frame, decodeFrame, encodeFrame } from '../../shared/tunnel/frames.ts';

export interface HarnessOptions {
  /** Start a lab of this many chainsafe discv5 nodes (true = 16). */
  lab?: boolean | number;
  /** Start this many Bitcoin (bcoin) lab nodes, served by POST /lab/connect. */
  bitcoinLab?: number;
  /** Start this many execution-layer (ethereumjs discv4 + RLPx) lab nodes. */
  executionLab?: number;
  /** Bridge options (port 0 and a silent log unless given). */
  options?: Partial<BridgeOptions>;
  /** Where the bridge logs (silent by default). */
  log?: Logger;
}

export interface BridgeHarness {
  url: string;
  token: string;
  origin: string;
  tunnelUrl: string;
  port: number;
  server: BridgeServer;
  lab: Lab | undefined;
  labPeers: Discv5LabPeer[];
  labEnrs: string[];
  bitcoinLab: BitcoinLab | undefined;
  executionLab: ExecutionLab | undefined;
  /** A TunnelClient on a fresh session. */
  openClient(): Promise<TunnelClient>;
  /** A raw session: frames in and out, for malformed-input tests. */
  openRaw(opts?: WsOpts): Promise<RawSession>;
  /** Stops the bridge, the lab, and every client opened through the harness. */
  close(): Promise<void>;
}

export interface WsOpts {
  origin?: string | null;
  token?: string | null;
  host?: string;
  path?: string;
}

export async function startBridgeHarness(opts: HarnessOptions = {}): Promise<BridgeHarness> {
  const labSize = opts.lab === true ? 16 : typeof opts.lab === 'number' ? opts.lab : 0;
  const lab = labSize > 0 ? await startLab({ size: labSize }) : undefined;
  const bitcoinLab = opts.bitcoinLab ? await startBitcoinLab({ size: opts.bitcoinLab }) : undefined;
  const executionLab = opts.executionLab ? await startExecutionLab({ size: opts.executionLab }) : undefined;
  let server: BridgeServer;
  try {
    server = await startBridge(
      { port: 0, logLevel: 'silent', ...opts.options },
      { log: opts.log ?? silentLogger, lab: [...(lab?.peers ?? []), ...(bitcoinLab?.peers ?? []), ...(executionLab?.peers ?? [])], ...(bitcoinLab ? { bitcoinLab } : {}), ...(executionLab ? { executionLab } : {}) },
    );
  } catch (e) {
    await lab?.close();
    await bitcoinLab?.close();
    await executionLab?.close();
    throw e;
  }
  const opened = new Set<WebSocket>();
  const wsFor = (o: WsOpts = {}) => {
    const token = o.token === undefined ? server.token : o.token;
    const q = token === null ? '' : `?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${o.path ?? '/tunnel'}${q}`, {
      origin: o.origin === null ? undefined : (o.origin ?? server.origin),
      headers: o.host ? { host: o.host } : undefined,
    });
    opened.add(ws);
    ws.once('close', () => opened.delete(ws));
    return ws;
  };
  return {
    url: server.url,
    token: server.token,
    origin: server.origin,
    tunnelUrl: server.tunnelUrl,
    port: server.port,
    server,
    lab,
    labPeers: lab?.peers ?? [],
    labEnrs: (lab?.peers ?? []).map((p) => p.enr),
    bitcoinLab,
    executionLab,
    openClient: () => openTunnel(wsFor()),
    openRaw: (o) => RawSession.open(wsFor(o)),
    async close() {
      for (const ws of opened) ws.terminate();
      await server.close();
      await lab?.close();
      await bitcoinLab?.close();
      await executionLab?.close();
    },
  };
}

/** Outcome of a WebSocket upgrade attempt: the HTTP status when refused. */
export function tryUpgrade(h: BridgeHarness, o: WsOpts): Promise<{ opened: true } | { opened: false; status: number }> {
  return new Promise((resolve) => {
    const token = o.token === undefined ? h.token : o.token;
    const q = token === null ? '' : `?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}${o.path ?? '/tunnel'}${q}`, {
      origin: o.origin === null ? undefined : (o.origin ?? h.origin),
      headers: o.host ? { host: o.host } : undefined,
    });
    ws.on('open', () => {
      ws.terminate();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ opened: false, status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

/** A tunnel session driven frame by frame. */
export class RawSession {
  readonly received: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const r = decodeFrame(new Uint8Array(data), { maxDatagram: 65507, maxFrame: 1 << 24 });
      if (r.ok) this.received.push(structuredClone(r.value));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  static open(ws: WebSocket): Promise<RawSession> {
    const s = new RawSession(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => s.next((f) => f.type === 'hello').then(() => resolve(s), reject));
      ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(frame: Frame | Uint8Array): void {
    if (frame instanceof Uint8Array) return this.ws.send(frame);
    const r = encodeFrame(frame);
    if (!r.ok) throw r.error;
    this.ws.send(r.value);
  }

  /** The first received frame matching `pred` (consumed), waiting up to timeoutMs. */
  async next(pred: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex(pred);
      if (i >= 0) return this.received.splice(i, 1)[0];
      if (this.closed) throw new Error(`session closed (${this.closed.code} ${this.closed.reason}) before the frame came`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a frame');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves with the close code once the bridge closes the session. */
  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('session still open');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }

  close(): void {
    this.ws.terminate();
  }
}

// ------------------------------------------------------------------ loopback peers

/** A UDP echo server on loopback that counts what it got. */
export async function udpEcho(ip = '127.0.0.1'): Promise<{ port: number; received: number; close(): Promise<void> }> {
  const socket = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  const state = { port: 0, received: 0, close: () => new Promise<void>((r) => socket.close(() => r())) };
  socket.on('message', (msg, rinfo) => {
    state.received++;
    socket.send(msg, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, ip, () => r()));
  state.port = socket.address().port;
  return state;
}

/** A TCP server on loopback; `onConnection` runs for each accepted socket. */
export async function tcpServer(
  onConnection: (s: net.Socket) => void,
  ip = '127.0.0.1',
): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, ip, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A loopback port with nothing listening (bound, then released). */
export async function freeTcpPort(): Promise<number> {
  const s = await tcpServer(() => {});
  await s.close();
  return s.port;
}

/** Polls `cond` every few ms until true or timeoutMs passes. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

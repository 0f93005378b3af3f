// One WebSocket = one tunnel session: the UDP sockets, TCP connections and DNS lookups the
// page opened through it, their quotas and budgets, and their teardown. Every frame from the
// page is untrusted: it is decoded with the shared codec, checked against the policy, and a
// refusal answers with an ERROR frame (or closes the session when going on is unsafe).
// Frames come in through a ReadGate: one token of the packet budget each, before decoding; a
// session out of tokens is not read (its WebSocket is paused) until the budget refills, so a
// flood waits in its own TCP buffers instead of taking the event loop from the other sessions.
import type { Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import dns from 'node:dns';
import type WebSocket from 'ws';
import {
  CLIENT_TYPES,
  FIRST_ACCEPTED_ID,
  type Frame,
  FrameType,
  TUNNEL_VERSION,
  type TunnelErrorName,
  TunnelErrorCode,
  decodeFrame,
  encodeFrame,
  frameTypeName,
  peekHeader,
  typeCode,
  MAX_DNS_ANSWERS,
} from '../shared/tunnel/frames.ts';
import { type Endpoint, endpointKey } from '../shared/transport.ts';
import type { StreamEndReason } from '../shared/transport.ts';
import type { BridgeOptions } from './options.ts';
import type { TargetPolicy } from './policy.ts';
import type { PeerRegistry } from './peers.ts';
import type { ExpectedInbound } from './inbound.ts';
import type { Logger } from './log.ts';
import { Budget } from './budget.ts';
import { ReadGate, type ReadGateHooks } from './read-gate.ts';
import { bindUdp, closeReasonOf, isWildcard, socketAddress, unmap } from './node-transport.ts';

/** WebSocket close codes the bridge uses (docs/tunnel.md). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001, // the bridge is shutting down
  unsupportedData: 1003, // a text message
  policy: 1008, // too many bad frames
  internal: 1011,
  unsupportedVersion: 4000,
  idle: 4001,
  overBudget: 4002, // held back for its packet budget, again and again, for overBudgetCloseMs
} as const;

export interface SessionContext {
  options: BridgeOptions;
  policy: TargetPolicy;
  log: Logger;
  /** Every open tunnel socket is registered here (lab peers by the server): reachable for its protocol. */
  peers: PeerRegistry;
  /** What a wildcard-bound socket reports as its address. */
  advertiseIp: string;
  /** Where a UDP socket binds when the page names no address (the advertised address by default). */
  defaultBindIp: string;
  /** Addresses a page may ask its UDP socket to bind to. */
  bindIps: ReadonlySet<string>;
  /** Lab dials the bridge itself started towards a page's TCP listener. */
  inbound?: ExpectedInbound;
  now?: () => number;
}

export interface SessionStats {
  udpSockets: number;
  tcpConnections: number;
  dnsInFlight: number;
  timers: number;
  framesIn: number;
  framesOut: number;
  refused: number;
  dropped: number;
  /** Times reading was held for the packet budget. */
  held: number;
}

interface UdpEntry {
  socket?: UdpSocket;
  family: 4 | 6;
  /** Bound to a dual-stack wildcard: reaches IPv4 and IPv6 targets. */
  dualStack: boolean;
  local?: Endpoint;
}

interface TcpEntry {
  socket: net.Socket;
  remote: Endpoint;
  connected: boolean;
  /** Bytes sent to the page and not yet acknowledged. */
  inflightOut: number;
  /** Bytes received from the page and not yet acknowledged. */
  inflightIn: number;
  /** Written to the socket, ACK held back by the byte budget. */
  pendingAck: number;
  ackTimer?: ReturnType<typeof setTimeout>;
  paused: boolean;
  pageEnded: boolean;
  /** The page closed it: no TCP_CLOSE back. */
  silent: boolean;
  reason?: StreamEndReason;
  detail?: string;
  error?: Error & { code?: string };
}

/** At most one 'rate-limited' ERROR per this many ms: a flood must not be answered by a flood. */
const RATE_LIMIT_NOTICE_MS = 250;

let nextSessionId = 1;

export class TunnelSession implements ReadGateHooks {
  readonly id = nextSessionId++;
  private readonly udp = new Map<number, UdpEntry>();
  private readonly tcp = new Map<number, TcpEntry>();
  /** The one TCP listener a session may have (the recipient role). */
  private listener: { id: number; server: net.Server; local?: Endpoint } | undefined;
  private nextAccepted = FIRST_ACCEPTED_ID;
  private readonly dnsTimers = new Set<ReturnType<typeof setTimeout>>();
  private dnsInFlight = 0;
  private readonly packets: Budget;
  private readonly bytes: Budget;
  private readonly badFrames: Budget;
  private lastRateNotice = -Infinity;
  private wsBlocked = false;
  private wsRetry: ReturnType<typeof setTimeout> | undefined;
  private readonly gate: ReadGate;
  private closed = false;
  private alive = true;
  private lastPing: number;
  lastActivity: number;
  private readonly s = { framesIn: 0, framesOut: 0, refused: 0, dropped: 0 };
  private readonly now: () => number;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SessionContext,
    /** The largest frame accepted (also the WebSocket's maxPayload). */
    private readonly maxFrame: number,
    private readonly from: string,
    private readonly onClosed: (s: TunnelSession) => void,
    /** The connection under the WebSocket: ended after our close frame when reading is held. */
    private readonly connection?: { end(): void },
  ) {
    const o = ctx.options;
    this.now = ctx.now ?? (() => performance.now());
    const t = this.now();
    this.lastActivity = this.lastPing = t;
    this.packets = new Budget(o.packetsPerSecond, o.packetsPerSecond, t);
    this.bytes = new Budget(o.bytesPerSecond, o.bytesPerSecond, t);
    this.badFrames = new Budget(o.badFramesPerSecond, 2 * o.badFramesPerSecond, t);
    this.gate = new ReadGate(this.packets, { rate: o.packetsPerSecond, closeAfterMs: o.overBudgetCloseMs }, this, this.now);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', (code: number) => this.teardown(code));
    ws.on('error', (e: Error) => {
      ctx.log.debug('session-error', { session: this.id, error: (e as { code?: string }).code ?? e.message });
      this.teardown(CloseCode.internal);
    });
    ctx.log.info('session-open', { session: this.id, from });
    this.send({
      type: 'hello',
      maxDatagram: o.maxDatagram,
      maxUdpSockets: o.maxUdpSockets,
      maxTcpConnections: o.maxTcpConnections,
      window: o.tcpWindow,
      maxFrame,
    });
  }

  stats(): SessionStats {
    let timers = this.dnsTimers.size + (this.wsRetry ? 1 : 0) + this.gate.timers;
    for (const c of this.tcp.values()) if (c.ackTimer) timers++;
    return { udpSockets: this.udp.size, tcpConnections: this.tcp.size, dnsInFlight: this.dnsInFlight, timers, ...this.s, held: this.gate.holds };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called by the server's sweeper: idle timeout and heartbeat. */
  tick(now: number): void {
    if (this.closed) return;
    const o = this.ctx.options;
    if (now - this.lastActivity > o.idleTimeoutMs) return this.close(CloseCode.idle, 'idle timeout');
    if (now - this.lastPing >= o.heartbeatMs) {
      if (!this.alive) {
        this.ctx.log.info('session-dead', { session: this.id });
        this.ws.terminate();
        return this.teardown(1006);
      }
      this.alive = false;
      this.lastPing = now;
      this.ws.ping();
    }
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
    // A held session reads nothing more, not even the page's answering close frame: end the
    // connection after ours instead of reading (and parsing) what the page queued up.
    if (this.gate.isPaused) this.connection?.end();
    this.teardown(code, reason);
  }

  // ---------------------------------------------------------------- inbound frames

  /** @internal */
  pause(): void {
    this.ws.pause();
  }

  /** @internal */
  resume(): void {
    this.ws.resume();
  }

  /** @internal Held for its budget again and again for overBudgetCloseMs. */
  overBudget(): void {
    this.ctx.log.info('session-abuse', { session: this.id, why: 'over budget' });
    this.close(CloseCode.overBudget, 'over budget');
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    this.lastActivity = this.now();
    this.s.framesIn++;
    if (!isBinary) return this.close(CloseCode.unsupportedData, 'binary frames only');
    this.gate.push(data);
  }

  // ReadGateHooks: the gate lets frames in, and pauses and resumes reading.

  /** @internal One frame the gate let in. */
  handle(data: Buffer): void {
    if (this.closed) return;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const o = this.ctx.options;
    const r = decodeFrame(bytes, { maxDatagram: o.maxDatagram, maxFrame: this.maxFrame });
    if (!r.ok) {
      const h = peekHeader(bytes);
      if (r.error.code === 'bad-version')
        return this.close(CloseCode.unsupportedVersion, `tunnel version ${TUNNEL_VERSION} only`);
      const code: TunnelErrorName =
        r.error.code === 'too-large' && r.error.field === 'payload'
          ? 'too-large'
          : r.error.code === 'bad-type'
            ? 'unknown-type'
            : 'malformed';
      return this.refuse(h?.id ?? 0, h?.type ?? 0, code, r.error.reason, true);
    }
    const f = r.value;
    if (!CLIENT_TYPES.has(typeCode(f.type)))
      return this.refuse('id' in f ? f.id : 0, typeCode(f.type), 'unexpected', 'only the bridge sends this frame', true);
    try {
      this.dispatch(f);
    } catch (e) {
      // A bug, not the page's fault: report it and keep the session.
      this.ctx.log.info('session-internal', { session: this.id, frame: f.type, error: (e as Error).message });
      this.refuse('id' in f ? f.id : 0, typeCode(f.type), 'internal', 'internal error', false);
    }
  }

  private dispatch(f: Frame): void {
    switch (f.type) {
      case 'udp-open':
        return this.udpOpen(f.id, f.ip, f.port);
      case 'udp-send':
        return this.udpSend(f.id, f.peer, f.payload);
      case 'udp-close':
        return this.udpClose(f.id);
      case 'tcp-connect':
        return this.tcpConnect(f.id, f.peer, f.timeoutMs);
      case 'tcp-data':
        return this.tcpData(f.id, f.payload);
      case 'tcp-ack':
        return this.tcpAck(f.id, f.bytes);
      case 'tcp-end':
        return this.tcpEnd(f.id);
      case 'tcp-close':
        return this.listener?.id === f.id ? this.closeListener() : this.tcpClose(f.id);
      case 'tcp-listen':
        return this.tcpListen(f.id, f.ip, f.port);
      case 'dns-resolve':
        return this.dnsResolve(f.id, f.name);
    }
  }

  // ---------------------------------------------------------------- UDP

  private udpOpen(id: number, ip: string, port: number): void {
    const o = this.ctx.options;
    const T = FrameType.UDP_OPEN;
    if (this.udp.has(id)) return this.refuse(id, T, 'unexpected', 'socket id already in use', true);
    if (this.udp.size >= o.maxUdpSockets) return this.refuse(id, T, 'quota', `at most ${o.maxUdpSockets} UDP sockets`, true);
    const bindIp = ip || this.ctx.defaultBindIp;
    if (!this.ctx.bindIps.has(bindIp))
      return this.refuse(id, T, 'policy', `cannot bind to ${bindIp} (this bridge binds ${[...this.ctx.bindIps].join(', ')})`, true);
    if (port !== 0 && port < 1024) return this.refuse(id, T, 'policy', 'privileged port', true);
    const entry: UdpEntry = { family: bindIp.includes(':') ? 6 : 4, dualStack: bindIp === '::' };
    this.udp.set(id, entry); // reserved while binding
    bindUdp(bindIp, port).then(
      (socket) => {
        if (this.closed || this.udp.get(id) !== entry) return socket.close();
        const bound = socket.address();
        entry.socket = socket;
        entry.local = { ip: isWildcard(bound.address) ? this.ctx.advertiseIp : unmap(bound.address), port: bound.port };
        this.ctx.peers.add('udp', 'tunnel', entry.local);
        socket.on('message', (msg, rinfo) => this.udpIn(id, msg, rinfo.address, rinfo.port));
        socket.on('error', (e: Error & { code?: string }) => this.refuse(id, FrameType.UDP_SEND, 'send-failed', e.code ?? 'send failed', false));
        this.ctx.log.debug('udp-open', { session: this.id, socket: id, local: endpointKey(entry.local) });
        this.send({ type: 'udp-opened', id, ip: entry.local.ip, port: entry.local.port });
      },
      (e: Error & { code?: string }) => {
        if (this.udp.get(id) === entry) this.udp.delete(id);
        this.refuse(id, T, 'bind-failed', e.code ?? 'bind failed', false);
      },
    );
  }

  private udpIn(id: number, msg: Buffer, address: string, port: number): void {
    if (this.closed) return;
    const ip = address.includes(':') ? unmap(address) : address;
    // The page hears only from sources it could send to; the rest is dropped here.
    if (!this.ctx.policy.check('udp', ip, port).ok || msg.length > this.ctx.options.maxDatagram) {
      this.s.dropped++;
      return;
    }
    if (this.ws.bufferedAmount > this.ctx.options.maxBufferedBytes) {
      this.s.dropped++; // the page is not keeping up; UDP may drop
      return;
    }
    this.send({ type: 'udp-recv', id, peer: { ip, port }, payload: new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength) });
  }

  private udpSend(id: number, peer: Endpoint, payload: Uint8Array): void {
    const T = FrameType.UDP_SEND;
    const entry = this.udp.get(id);
    if (!entry?.socket) return this.refuse(id, T, 'unexpected', 'no such open socket', true);
    if (!this.bytes.take(payload.length, this.now())) return this.rateLimited(id, T);
    const v = this.ctx.policy.check('udp', peer.ip, peer.port);
    if (!v.ok) {
      this.ctx.log.debug('refused', { session: this.id, to: endpointKey(peer), reason: v.reason });
      return this.refuse(id, T, 'policy', `${endpointKey(peer)}: ${v.reason}`, false);
    }
    const family = v.ip.includes(':') ? 6 : 4;
    if (family !== entry.family && !entry.dualStack)
      return this.refuse(id, T, 'send-failed', `an IPv${entry.family} socket cannot reach ${endpointKey(peer)}`, false);
    entry.socket.send(payload, peer.port, socketAddress(v.ip, entry.family));
  }

  private udpClose(id: number): void {
    const entry = this.udp.get(id);
    if (!entry) return this.refuse(id, FrameType.UDP_CLOSE, 'unexpected', 'no such socket', true);
    this.udp.delete(id);
    this.closeUdp(entry);
  }

  private closeUdp(entry: UdpEntry): void {
    if (entry.local) this.ctx.peers.remove('udp', 'tunnel', entry.local);
    entry.socket?.close();
    entry.socket = undefined;
  }

  // ---------------------------------------------------------------- TCP

  private tcpConnect(id: number, peer: Endpoint, timeoutMs: number): void {
    const o = this.ctx.options;
    const T = FrameType.TCP_CONNECT;
    if (this.tcp.has(id) || this.listener?.id === id) return this.refuse(id, T, 'unexpected', 'connection id already in use', true);
    const closeNow = (reason: StreamEndReason, detail: string) => this.send({ type: 'tcp-close', id, reason, detail });
    if (this.tcp.size >= o.maxTcpConnections) return closeNow('policy', `quota: at most ${o.maxTcpConnections} TCP connections`);
    const v = this.ctx.policy.check('tcp', peer.ip, peer.port);
    if (!v.ok) {
      this.ctx.log.debug('refused', { session: this.id, to: endpointKey(peer), reason: v.reason });
      return closeNow('policy', `${endpointKey(peer)}: ${v.reason}`);
    }
    const socket = net.connect({ host: v.ip, port: peer.port, allowHalfOpen: true, noDelay: true });
    const c: TcpEntry = {
      socket,
      remote: { ip: v.ip, port: peer.port },
      connected: false,
      inflightOut: 0,
      inflightIn: 0,
      pendingAck: 0,
      paused: false,
      pageEnded: false,
      silent: false,
    };
    this.tcp.set(id, c);
    const connectTimeout = timeoutMs === 0 ? o.tcpConnectTimeoutMs : Math.min(timeoutMs, o.tcpConnectTimeoutMs);
    socket.setTimeout(connectTimeout, () => {
      c.reason = 'timed-out';
      c.detail = c.connected ? 'idle' : 'connect';
      socket.destroy();
    });
    socket.on('connect', () => {
      c.connected = true;
      socket.setTimeout(o.tcpIdleTimeoutMs);
      this.ctx.log.debug('tcp-open', { session: this.id, conn: id, to: endpointKey(c.remote) });
      this.send({ type: 'tcp-connected', id, window: o.tcpWindow });
    });
    this.wireTcp(id, c);
  }

  /** Data, end, errors and close of a connection (dialled or accepted), relayed to the page. */
  private wireTcp(id: number, c: TcpEntry): void {
    const socket = c.socket;
    socket.on('data', (b: Buffer) => this.tcpIn(id, c, b));
    socket.on('end', () => {
      if (!c.silent) this.send({ type: 'tcp-end', id });
    });
    socket.on('error', (e: Error & { code?: string }) => (c.error ??= e));
    socket.on('close', () => {
      if (c.ackTimer) clearTimeout(c.ackTimer);
      c.ackTimer = undefined;
      if (this.tcp.get(id) === c) this.tcp.delete(id);
      if (c.silent || this.closed) return;
      const reason = c.reason ?? closeReasonOf(c.error);
      this.ctx.log.debug('tcp-close', { session: this.id, conn: id, reason, code: c.error?.code });
      this.send({ type: 'tcp-close', id, reason, detail: c.detail ?? c.error?.code ?? '' });
    });
  }

  // ---------------------------------------------------------------- TCP listener

  private tcpListen(id: number, ip: string, port: number): void {
    const o = this.ctx.options;
    const T = FrameType.TCP_LISTEN;
    if (this.listener) return this.refuse(id, T, 'quota', 'one TCP listener per session', true);
    if (this.tcp.has(id)) return this.refuse(id, T, 'unexpected', 'id already in use', true);
    const bindIp = ip || this.ctx.defaultBindIp;
    if (!this.ctx.bindIps.has(bindIp))
      return this.refuse(id, T, 'policy', `cannot listen on ${bindIp} (this bridge binds ${[...this.ctx.bindIps].join(', ')})`, true);
    if (port !== 0 && port < 1024) return this.refuse(id, T, 'policy', 'privileged port', true);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(server, socket));
    const entry: { id: number; server: net.Server; local?: Endpoint } = { id, server };
    this.listener = entry;
    server.maxConnections = o.maxTcpConnections;
    server.once('error', (e: Error & { code?: string }) => {
      if (this.listener !== entry) return;
      this.listener = undefined;
      this.refuse(id, T, 'bind-failed', e.code ?? 'listen failed', false);
    });
    server.listen({ host: bindIp, port }, () => {
      if (this.closed || this.listener !== entry) return void server.close();
      const a = server.address() as net.AddressInfo;
      entry.local = { ip: isWildcard(a.address) ? this.ctx.advertiseIp : unmap(a.address), port: a.port };
      this.ctx.peers.add('tcp', 'tunnel', entry.local);
      this.ctx.log.debug('tcp-listen', { session: this.id, at: endpointKey(entry.local) });
      this.send({ type: 'tcp-listening', id, ip: entry.local.ip, port: entry.local.port });
    });
  }

  /** A peer dialled the page's listener: only lab dials the bridge expected, or --allow-ed addresses. */
  private accept(server: net.Server, socket: net.Socket): void {
    const l = this.listener;
    const remote = { ip: unmap(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const o = this.ctx.options;
    const expected = !!l?.local && !!this.ctx.inbound?.take(l.local, remote.ip);
    const verdict = expected ? { ok: true as const } : this.ctx.policy.checkInbound(remote.ip);
    if (this.closed || !l || l.server !== server || !l.local || !verdict.ok || this.tcp.size >= o.maxTcpConnections || remote.port === 0) {
      this.ctx.log.debug('refused', { session: this.id, inbound: endpointKey(remote), reason: verdict.ok ? 'quota' : verdict.reason });
      return void socket.destroy();
    }
    let id = this.nextAccepted;
    for (let i = 0; this.tcp.has(id) && i < 0x8000; i++) id = id === 0xffff ? FIRST_ACCEPTED_ID : id + 1;
    if (this.tcp.has(id)) return void socket.destroy();
    this.nextAccepted = id === 0xffff ? FIRST_ACCEPTED_ID : id + 1;
    const c: TcpEntry = { socket, remote, connected: true, inflightOut: 0, inflightIn: 0, pendingAck: 0, paused: false, pageEnded: false, silent: false };
    this.tcp.set(id, c);
    socket.setTimeout(o.tcpIdleTimeoutMs, () => {
      c.reason = 'timed-out';
      c.detail = 'idle';
      socket.destroy();
    });
    this.wireTcp(id, c);
    this.ctx.log.debug('tcp-accepted', { session: this.id, conn: id, from: endpointKey(remote) });
    this.send({ type: 'tcp-accepted', id, listener: l.id, peer: remote, window: o.tcpWindow });
  }

  private closeListener(): void {
    const l = this.listener;
    if (!l) return;
    this.listener = undefined;
    if (l.local) {
      this.ctx.peers.remove('tcp', 'tunnel', l.local);
      this.ctx.inbound?.forget(l.local);
    }
    l.server.close();
  }

  private tcpIn(id: number, c: TcpEntry, b: Buffer): void {
    if (this.closed || c.silent) return;
    const o = this.ctx.options;
    for (let at = 0; at < b.length; at += o.tcpChunk) {
      const chunk = new Uint8Array(b.buffer, b.byteOffset + at, Math.min(o.tcpChunk, b.length - at));
      c.inflightOut += chunk.length;
      this.sendData(id, chunk);
    }
    // Pause reading while the page has a full window, or the WebSocket is backed up.
    if (c.inflightOut >= o.tcpWindow || this.wsBlocked) {
      c.paused = true;
      c.socket.pause();
    }
  }

  private sendData(id: number, payload: Uint8Array): void {
    const r = encodeFrame({ type: 'tcp-data', id, payload });
    if (!r.ok || this.ws.readyState !== this.ws.OPEN) return;
    this.s.framesOut++;
    if (this.ws.bufferedAmount + r.value.length > this.ctx.options.maxBufferedBytes) {
      this.wsBlocked = true;
      this.ws.send(r.value, this.afterFlush);
    } else this.ws.send(r.value);
  }

  private readonly afterFlush = (): void => {
    if (this.closed || !this.wsBlocked) return;
    if (this.ws.bufferedAmount > this.ctx.options.maxBufferedBytes / 2) {
      // Still backed up and nothing else may call back: look again shortly.
      this.wsRetry ??= setTimeout(() => {
        this.wsRetry = undefined;
        this.afterFlush();
      }, 10);
      return;
    }
    this.wsBlocked = false;
    for (const c of this.tcp.values()) this.maybeResume(c);
  };

  private maybeResume(c: TcpEntry): void {
    if (c.paused && !this.wsBlocked && c.inflightOut < this.ctx.options.tcpWindow) {
      c.paused = false;
      c.socket.resume();
    }
  }

  private tcpData(id: number, payload: Uint8Array): void {
    const T = FrameType.TCP_DATA;
    const c = this.tcp.get(id);
    // Data may follow TCP_CONNECT before TCP_CONNECTED: the socket holds it until connected (one round trip less).
    if (!c) return this.refuse(id, T, 'unexpected', 'no such stream', true);
    if (c.pageEnded) return this.refuse(id, T, 'unexpected', 'data after TCP_END', true);
    c.inflightIn += payload.length;
    if (c.inflightIn > this.ctx.options.tcpWindow) {
      // The page ignored its window: buffering for it would be unbounded.
      this.refuse(id, T, 'window-exceeded', `more than ${this.ctx.options.tcpWindow} bytes unacknowledged`, true);
      this.send({ type: 'tcp-close', id, reason: 'policy', detail: 'window-exceeded' });
      this.dropTcp(id, c);
      return;
    }
    const wait = this.bytes.borrow(payload.length, this.now());
    c.socket.write(payload, () => this.ackLater(id, c, payload.length, wait));
  }

  /** ACKs what reached the socket; held back while the byte budget is in debt (that is the shaping). */
  private ackLater(id: number, c: TcpEntry, n: number, waitMs: number): void {
    if (this.closed || c.silent || c.socket.destroyed) return;
    c.pendingAck += n;
    if (c.ackTimer) return;
    const flush = () => {
      c.ackTimer = undefined;
      if (this.closed || c.silent || c.pendingAck === 0) return;
      const bytes = c.pendingAck;
      c.pendingAck = 0;
      c.inflightIn -= bytes;
      this.send({ type: 'tcp-ack', id, bytes });
    };
    if (waitMs <= 0) flush();
    else c.ackTimer = setTimeout(flush, waitMs);
  }

  private tcpAck(id: number, bytes: number): void {
    const c = this.tcp.get(id);
    if (!c) return; // acks may cross a close: not an error
    if (bytes > c.inflightOut) return this.refuse(id, FrameType.TCP_ACK, 'unexpected', 'ACK beyond what was sent', true);
    c.inflightOut -= bytes;
    this.maybeResume(c);
  }

  private tcpEnd(id: number): void {
    const c = this.tcp.get(id);
    if (!c || !c.connected) return this.refuse(id, FrameType.TCP_END, 'unexpected', 'no such connected stream', true);
    if (c.pageEnded) return;
    c.pageEnded = true;
    c.socket.end();
  }

  private tcpClose(id: number): void {
    const c = this.tcp.get(id);
    if (!c) return; // may cross the bridge's own TCP_CLOSE
    this.dropTcp(id, c);
  }

  /** Ends a connection without a TCP_CLOSE from its 'close' event (the page knows already). */
  private dropTcp(id: number, c: TcpEntry): void {
    c.silent = true;
    if (c.ackTimer) clearTimeout(c.ackTimer);
    c.ackTimer = undefined;
    if (this.tcp.get(id) === c) this.tcp.delete(id);
    c.socket.destroy();
  }

  // ---------------------------------------------------------------- DNS

  private dnsResolve(id: number, name: string): void {
    const o = this.ctx.options;
    const T = FrameType.DNS_RESOLVE;
    if (this.dnsInFlight >= o.maxDnsInFlight) return this.refuse(id, T, 'quota', `at most ${o.maxDnsInFlight} lookups at once`, true);
    if (!this.bytes.take(name.length, this.now())) return this.refuse(id, T, 'rate-limited', 'over the byte budget', false);
    this.dnsInFlight++;
    let done = false;
    const timer = setTimeout(() => {
      this.dnsTimers.delete(timer);
      done = true;
      this.refuse(id, T, 'timed-out', `no answer in ${o.dnsTimeoutMs} ms`, false);
    }, o.dnsTimeoutMs);
    this.dnsTimers.add(timer);
    dns.promises
      .lookup(name, { all: true, verbatim: true })
      .then(
        (answers) => {
          if (done || this.closed) return;
          const ips = [...new Set(answers.map((a) => unmap(a.address)))];
          const allowed = ips.filter((ip) => this.ctx.policy.checkAddress(ip).ok).slice(0, MAX_DNS_ANSWERS);
          this.ctx.log.debug('dns', { session: this.id, name, answers: ips.length, allowed: allowed.length });
          if (allowed.length === 0)
            return this.refuse(id, T, ips.length ? 'policy' : 'dns-failed', ips.length ? 'every answer refused by the policy' : 'no address', false);
          this.send({ type: 'dns-result', id, addresses: allowed });
        },
        (e: Error & { code?: string }) => {
          if (!done && !this.closed) this.refuse(id, T, 'dns-failed', e.code ?? 'lookup failed', false);
        },
      )
      .finally(() => {
        this.dnsInFlight--;
        clearTimeout(timer);
        this.dnsTimers.delete(timer);
      });
  }

  // ---------------------------------------------------------------- outbound frames

  private rateLimited(id: number, refType: number): void {
    this.s.dropped++;
    const now = this.now();
    if (now - this.lastRateNotice < RATE_LIMIT_NOTICE_MS) return;
    this.lastRateNotice = now;
    this.sendError(id, refType, 'rate-limited', 'over the packet or byte budget; dropped');
  }

  /** Answers a refused frame. `bad` frames count against the session's tolerance. */
  private refuse(id: number, refType: number, code: TunnelErrorName, message: string, bad: boolean): void {
    this.s.refused++;
    if (bad && !this.badFrames.take(1, this.now())) {
      this.ctx.log.info('session-abuse', { session: this.id, last: frameTypeName(refType), code });
      return this.close(CloseCode.policy, 'too many bad frames');
    }
    this.sendError(id, refType, code, message);
  }

  private sendError(id: number, refType: number, code: TunnelErrorName, message: string): void {
    this.send({ type: 'error', id, refType, code: TunnelErrorCode[code], message });
  }

  private send(frame: Frame): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    const r = encodeFrame(frame);
    if (!r.ok) {
      this.ctx.log.info('encode-failed', { session: this.id, frame: frame.type, error: r.error.reason });
      return;
    }
    this.s.framesOut++;
    this.ws.send(r.value);
  }

  // ---------------------------------------------------------------- teardown

  private teardown(code: number, reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const e of this.udp.values()) this.closeUdp(e);
    this.udp.clear();
    for (const c of this.tcp.values()) {
      c.silent = true;
      if (c.ackTimer) clearTimeout(c.ackTimer);
      c.socket.destroy();
    }
    this.tcp.clear();
    this.closeListener();
    for (const t of this.dnsTimers) clearTimeout(t);
    this.dnsTimers.clear();
    if (this.wsRetry) clearTimeout(this.wsRetry);
    this.wsRetry = undefined;
    this.gate.close();
    this.ctx.log.info('session-close', {
      session: this.id,
      code,
      reason,
      framesIn: this.s.framesIn,
      framesOut: this.s.framesOut,
      refused: this.s.refused,
      dropped: this.s.dropped,
      held: this.gate.holds,
    });
    this.onClosed(this);
  }
}

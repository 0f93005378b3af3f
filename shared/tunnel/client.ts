// The tunnel client: the DatagramTransport, StreamTransport and Resolver of shared/transport.ts
// over one bridge WebSocket. It needs only a WebSocket-like object, so the same code runs in
// the browser (native WebSocket) and in Node (a `ws` WebSocket). No timers: the bridge answers
// every request (or the WebSocket closes, which fails whatever is pending).
import type {
  DatagramSocket,
  DatagramTransport,
  Endpoint,
  Resolver,
  StreamConnection,
  StreamEndReason,
  StreamListener,
  StreamTransport,
} from '../transport.ts';
import {
  type Frame,
  FIRST_ACCEPTED_ID,
  FrameType,
  type TunnelErrorName,
  type TunnelLimits,
  decodeFrame,
  encodeFrame,
  frameTypeName,
  isDnsName,
  tunnelErrorName,
} from './frames.ts';
import { normalizeIp } from './ip.ts';

/** What the client needs of a WebSocket: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // `any`: the browser and `ws` each have their own event classes; only .data/.code/.reason are read.
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
}

const OPEN = 1;
const CONNECTING = 0;

/** A refusal or failure reported by the bridge (or a closed tunnel). */
export class TunnelError extends Error {
  constructor(
    /**
     * The bridge's error code name; 'connect-failed' when a TCP connect ended (see `reason`);
     * 'closed' when the tunnel itself went away; 'bad-frame' for input this end refused to send.
     */
    readonly code: TunnelErrorName | 'connect-failed' | 'closed' | 'bad-frame',
    message: string,
    /** For TCP: why the connection ended (refused, reset, timed-out, policy…). */
    readonly reason?: StreamEndReason,
  ) {
    super(message);
    this.name = 'TunnelError';
  }
}

/** One line per frame, metadata only: for a UI that shows the tunnel itself. */
export interface TunnelTraffic {
  direction: 'out' | 'in';
  type: string;
  id: number;
  size: number;
}

export interface OpenTunnelOptions {
  /** Called for every frame sent or received (metadata only). */
  onTraffic?: (t: TunnelTraffic) => void;
}

type Pending<T> = { resolve: (v: T) => void; reject: (e: Error) => void };

/** Ids are u16, nonzero; they advance so a just-closed id is not reused at once. */
class IdSpace {
  private next = 1;
  constructor(private readonly max = 0xffff) {}
  take(inUse: (id: number) => boolean): number | undefined {
    for (let i = 0; i < this.max; i++) {
      const id = this.next;
      this.next = this.next === this.max ? 1 : this.next + 1;
      if (!inUse(id)) return id;
    }
    return undefined;
  }
}

/**
 * Opens a tunnel over a WebSocket (connecting or open) and waits for the bridge's HELLO.
 * The WebSocket must not be used by anything else afterwards.
 */
export function openTunnel(ws: WebSocketLike, options: OpenTunnelOptions = {}): Promise<TunnelClient> {
  return new Promise((resolve, reject) => {
    ws.binaryType = 'arraybuffer';
    if (ws.readyState !== OPEN && ws.readyState !== CONNECTING) {
      reject(new TunnelError('closed', 'the WebSocket is already closed'));
      return;
    }
    ws.onerror = () => {}; // the close event that follows carries the outcome
    ws.onclose = (ev) => reject(new TunnelError('closed', `tunnel closed before HELLO (${ev?.code ?? '?'} ${ev?.reason ?? ''})`));
    ws.onmessage = (ev) => {
      const bytes = messageBytes(ev?.data);
      const f = bytes ? decodeFrame(bytes) : undefined;
      if (!f || !f.ok || f.value.type !== 'hello') {
        ws.close(1002, 'expected HELLO');
        reject(new TunnelError('bad-frame', f && !f.ok ? `bad HELLO: ${f.error.reason}` : 'expected a HELLO frame first'));
        return;
      }
      const { type: _t, ...limits } = f.value;
      options.onTraffic?.({ direction: 'in', type: 'HELLO', id: 0, size: bytes!.length });
      resolve(new TunnelClient(ws, limits, options));
    };
  });
}

function messageBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined; // text frames are not part of the protocol
}

export class TunnelClient implements DatagramTransport, StreamTransport, Resolver {
  private readonly udp = new Map<number, TunnelDatagramSocket>();
  private readonly tcp = new Map<number, TunnelStream>();
  private readonly udpOpening = new Map<number, Pending<TunnelDatagramSocket>>();
  /** Connects under way; `early`: bytes sent before TCP_CONNECTED (already in flight). */
  private readonly tcpOpening = new Map<number, { pending: Pending<TunnelStream>; remote: Endpoint; early: number }>();
  private readonly dns = new Map<number, Pending<string[]>>();
  private readonly udpIds = new IdSpace();
  /** Connections and listeners we open; the bridge numbers accepted connections from FIRST_ACCEPTED_ID up. */
  private readonly tcpIds = new IdSpace(FIRST_ACCEPTED_ID - 1);
  private readonly listeners = new Map<number, TunnelListener>();
  private readonly listening = new Map<number, Pending<TunnelListener>>();
  private readonly dnsIds = new IdSpace();
  private readonly errorHandlers: ((e: TunnelError) => void)[] = [];
  private readonly closeHandlers: ((code: number, reason: string) => void)[] = [];
  private closedWith: { code: number; reason: string } | undefined;

  constructor(
    private readonly ws: WebSocketLike,
    /** What the bridge granted this session (HELLO). */
    readonly limits: TunnelLimits,
    private readonly options: OpenTunnelOptions = {},
  ) {
    ws.onmessage = (ev) => this.receive(ev?.data);
    ws.onclose = (ev) => this.teardown(ev?.code ?? 1006, ev?.reason ?? '');
    ws.onerror = () => {};
    if (ws.readyState !== OPEN) this.teardown(1006, 'closed');
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Errors not tied to one socket (a refused frame, a bad frame from the bridge). */
  onError(handler: (e: TunnelError) => void): void {
    this.errorHandlers.push(handler);
  }

  onClose(handler: (code: number, reason: string) => void): void {
    if (this.closedWith) handler(this.closedWith.code, this.closedWith.reason);
    else this.closeHandlers.push(handler);
  }

  close(): void {
    if (this.ws.readyState === OPEN || this.ws.readyState === CONNECTING) this.ws.close(1000, 'client closed');
    this.teardown(1000, 'client closed');
  }

  // ------------------------------------------------------------ transports

  openDatagram(options: { ip?: string; port?: number } = {}): Promise<DatagramSocket> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new TunnelError('closed', 'tunnel closed'));
      const id = this.udpIds.take((i) => this.udp.has(i) || this.udpOpening.has(i));
      if (id === undefined) return reject(new TunnelError('quota', 'no free socket id'));
      this.udpOpening.set(id, { resolve, reject });
      if (!this.send({ type: 'udp-open', id, ip: options.ip ?? '', port: options.port ?? 0 })) {
        this.udpOpening.delete(id);
        reject(new TunnelError('bad-frame', 'could not encode UDP_OPEN (bad ip or port?)'));
      }
    });
  }

  connect(to: Endpoint, options: { timeoutMs?: number; initialData?: Uint8Array } = {}): Promise<StreamConnection> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new TunnelError('closed', 'tunnel closed', 'error'));
      const ip = normalizeIp(to.ip);
      if (!ip) return reject(new TunnelError('bad-frame', `not an IP address: ${to.ip}`, 'error'));
      const id = this.tcpIds.take(this.tcpIdInUse);
      if (id === undefined) return reject(new TunnelError('quota', 'no free connection id', 'policy'));
      const remote = { ip, port: to.port };
      // The first bytes go right behind TCP_CONNECT (the bridge writes them once connected): one
      // round trip less. Within one window and one frame, or they wait for the connection as usual.
      const early = options.initialData && options.initialData.length > 0 && options.initialData.length <= Math.min(this.limits.window, this.limits.maxFrame - 8) ? options.initialData : undefined;
      const entry: { pending: Pending<TunnelStream>; remote: Endpoint; early: number } = { pending: { resolve, reject }, remote, early: 0 };
      this.tcpOpening.set(id, entry);
      const timeoutMs = Math.max(0, Math.min(0xffffffff, Math.floor(options.timeoutMs ?? 0)));
      if (!this.send({ type: 'tcp-connect', id, peer: remote, timeoutMs })) {
        this.tcpOpening.delete(id);
        reject(new TunnelError('bad-frame', 'could not encode TCP_CONNECT (bad port?)', 'error'));
        return;
      }
      if (early && this.send({ type: 'tcp-data', id, payload: early.slice() })) entry.early = early.length;
      const late = options.initialData && options.initialData.length > 0 && entry.early === 0 ? options.initialData.slice() : undefined;
      if (late)
        entry.pending = {
          resolve: (c: TunnelStream) => {
            c.write(late);
            resolve(c);
          },
          reject,
        };
    });
  }

  private readonly tcpIdInUse = (i: number) => this.tcp.has(i) || this.tcpOpening.has(i) || this.listeners.has(i) || this.listening.has(i);

  /** A TCP listener on the bridge (one per session): peers the bridge lets in arrive as connections. */
  listen(options: { ip?: string; port?: number } = {}): Promise<StreamListener> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new TunnelError('closed', 'tunnel closed'));
      const id = this.tcpIds.take(this.tcpIdInUse);
      if (id === undefined) return reject(new TunnelError('quota', 'no free connection id'));
      this.listening.set(id, { resolve, reject });
      if (!this.send({ type: 'tcp-listen', id, ip: options.ip ?? '', port: options.port ?? 0 })) {
        this.listening.delete(id);
        reject(new TunnelError('bad-frame', 'could not encode TCP_LISTEN (bad ip or port?)'));
      }
    });
  }

  resolve(name: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new TunnelError('closed', 'tunnel closed'));
      if (!isDnsName(name)) return reject(new TunnelError('bad-frame', `not a DNS name: ${name.slice(0, 64)}`));
      const id = this.dnsIds.take((i) => this.dns.has(i));
      if (id === undefined) return reject(new TunnelError('quota', 'too many lookups'));
      this.dns.set(id, { resolve, reject });
      this.send({ type: 'dns-resolve', id, name });
    });
  }

  // ------------------------------------------------------------ wire

  /** @internal Encodes and sends; false if the tunnel is closed or the frame cannot be encoded. */
  send(frame: Frame): boolean {
    if (this.closed || this.ws.readyState !== OPEN) return false;
    const r = encodeFrame(frame);
    if (!r.ok) return false;
    this.ws.send(r.value);
    this.options.onTraffic?.({ direction: 'out', type: frameTypeName(r.value[1]), id: 'id' in frame ? frame.id : 0, size: r.value.length });
    return true;
  }

  private receive(data: unknown): void {
    const bytes = messageBytes(data);
    if (!bytes) return this.fault('the bridge sent a text message');
    const r = decodeFrame(bytes, { maxDatagram: this.limits.maxDatagram, maxFrame: Math.max(this.limits.maxFrame, 64) });
    if (!r.ok) return this.fault(`bad frame from the bridge: ${r.error.reason}`);
    const f = r.value;
    this.options.onTraffic?.({ direction: 'in', type: frameTypeName(bytes[1]), id: 'id' in f ? f.id : 0, size: bytes.length });
    switch (f.type) {
      case 'udp-opened': {
        const p = this.udpOpening.get(f.id);
        if (!p) return;
        this.udpOpening.delete(f.id);
        const s = new TunnelDatagramSocket(this, f.id, { ip: f.ip, port: f.port }, () => this.udp.delete(f.id));
        this.udp.set(f.id, s);
        p.resolve(s);
        return;
      }
      case 'udp-recv':
        this.udp.get(f.id)?.deliver(f.payload, f.peer);
        return;
      case 'udp-close':
        this.udp.get(f.id)?.closedByBridge(f.code);
        return;
      case 'tcp-connected': {
        const o = this.tcpOpening.get(f.id);
        if (!o) return;
        this.tcpOpening.delete(f.id);
        const c = new TunnelStream(this, f.id, o.remote, f.window, () => this.tcp.delete(f.id), o.early);
        this.tcp.set(f.id, c);
        o.pending.resolve(c);
        return;
      }
      case 'tcp-listening': {
        const p = this.listening.get(f.id);
        if (!p) return;
        this.listening.delete(f.id);
        const l = new TunnelListener(this, f.id, { ip: f.ip, port: f.port }, () => this.listeners.delete(f.id));
        this.listeners.set(f.id, l);
        p.resolve(l);
        return;
      }
      case 'tcp-accepted': {
        const l = this.listeners.get(f.listener);
        if (!l || f.id < FIRST_ACCEPTED_ID || this.tcp.has(f.id)) {
          this.send({ type: 'tcp-close', id: f.id, reason: 'closed', detail: 'not listening' });
          return;
        }
        const c = new TunnelStream(this, f.id, f.peer, f.window, () => this.tcp.delete(f.id));
        this.tcp.set(f.id, c);
        l.accepted(c);
        return;
      }
      case 'tcp-data':
        this.tcp.get(f.id)?.deliver(f.payload);
        return;
      case 'tcp-ack':
        this.tcp.get(f.id)?.acked(f.bytes);
        return;
      case 'tcp-end':
        this.tcp.get(f.id)?.remoteEnded();
        return;
      case 'tcp-close': {
        const o = this.tcpOpening.get(f.id);
        if (o) {
          this.tcpOpening.delete(f.id);
          o.pending.reject(new TunnelError(f.reason === 'policy' ? 'policy' : 'connect-failed', `connect: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`, f.reason));
          return;
        }
        const l = this.listeners.get(f.id);
        if (l) return l.closedByBridge();
        this.tcp.get(f.id)?.closedByBridge(f.reason, f.detail);
        return;
      }
      case 'dns-result': {
        const p = this.dns.get(f.id);
        if (!p) return;
        this.dns.delete(f.id);
        p.resolve(f.addresses);
        return;
      }
      case 'error':
        return this.routeError(f);
      default:
        return this.fault(`the bridge sent a client-only frame (${f.type})`);
    }
  }

  private routeError(f: Extract<Frame, { type: 'error' }>): void {
    const code = tunnelErrorName(f.code) ?? 'internal';
    const e = new TunnelError(code, `${frameTypeName(f.refType)}: ${code}${f.message ? `: ${f.message}` : ''}`);
    switch (f.refType) {
      case FrameType.UDP_OPEN: {
        const p = this.udpOpening.get(f.id);
        if (p) {
          this.udpOpening.delete(f.id);
          return p.reject(e);
        }
        break;
      }
      case FrameType.UDP_SEND:
      case FrameType.UDP_CLOSE: {
        const s = this.udp.get(f.id);
        if (s) return s.error(e);
        break;
      }
      case FrameType.TCP_CONNECT: {
        const o = this.tcpOpening.get(f.id);
        if (o) {
          this.tcpOpening.delete(f.id);
          return o.pending.reject(new TunnelError(code, e.message, code === 'policy' ? 'policy' : 'error'));
        }
        break;
      }
      case FrameType.TCP_LISTEN: {
        const p = this.listening.get(f.id);
        if (p) {
          this.listening.delete(f.id);
          return p.reject(e);
        }
        break;
      }
      case FrameType.DNS_RESOLVE: {
        const p = this.dns.get(f.id);
        if (p) {
          this.dns.delete(f.id);
          return p.reject(e);
        }
        break;
      }
    }
    for (const h of this.errorHandlers) h(e);
  }

  private fault(message: string): void {
    const e = new TunnelError('bad-frame', message);
    for (const h of this.errorHandlers) h(e);
  }

  private teardown(code: number, reason: string): void {
    if (this.closedWith) return;
    this.closedWith = { code, reason };
    const e = () => new TunnelError('closed', `tunnel closed (${code}${reason ? ` ${reason}` : ''})`, 'error');
    for (const p of this.udpOpening.values()) p.reject(e());
    for (const o of this.tcpOpening.values()) o.pending.reject(e());
    for (const p of this.listening.values()) p.reject(e());
    for (const p of this.dns.values()) p.reject(e());
    this.listening.clear();
    for (const l of [...this.listeners.values()]) l.closedByBridge();
    this.udpOpening.clear();
    this.tcpOpening.clear();
    this.dns.clear();
    for (const s of [...this.udp.values()]) s.closedByBridge(0, 'tunnel closed');
    for (const c of [...this.tcp.values()]) c.closedByBridge('error', 'tunnel closed');
    for (const h of this.closeHandlers.splice(0)) h(code, reason);
  }
}

/** Datagrams that arrive before a handler is set are kept, up to this many. */
const EARLY_DATAGRAMS = 64;

class TunnelDatagramSocket implements DatagramSocket {
  private readonly messageHandlers: ((bytes: Uint8Array, from: Endpoint) => void)[] = [];
  private readonly errorHandlers: ((error: Error) => void)[] = [];
  private early: [Uint8Array, Endpoint][] = [];
  private closed = false;

  constructor(
    private readonly client: TunnelClient,
    readonly id: number,
    readonly local: Endpoint,
    private readonly forget: () => void,
  ) {}

  send(bytes: Uint8Array, to: Endpoint): void {
    if (this.closed) return this.error(new TunnelError('closed', 'socket closed'));
    if (bytes.length > this.client.limits.maxDatagram)
      return this.error(new TunnelError('too-large', `datagram of ${bytes.length} bytes, over ${this.client.limits.maxDatagram}`));
    const ip = normalizeIp(to.ip);
    if (!ip || !this.client.send({ type: 'udp-send', id: this.id, peer: { ip, port: to.port }, payload: bytes }))
      this.error(new TunnelError(this.client.closed ? 'closed' : 'bad-frame', `cannot send to ${to.ip}:${to.port}`));
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.messageHandlers.push(handler);
    const early = this.early;
    this.early = [];
    for (const [b, from] of early) handler(b, from);
  }

  onError(handler: (error: Error) => void): void {
    this.errorHandlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    this.client.send({ type: 'udp-close', id: this.id, code: 0 });
  }

  /** @internal */
  deliver(payload: Uint8Array, from: Endpoint): void {
    if (this.closed) return;
    if (this.messageHandlers.length === 0) {
      if (this.early.length < EARLY_DATAGRAMS) this.early.push([payload, from]);
      return;
    }
    for (const h of this.messageHandlers) h(payload, from);
  }

  /** @internal */
  error(e: Error): void {
    for (const h of this.errorHandlers) h(e);
  }

  /** @internal The bridge closed the socket (an error) or the tunnel went away. */
  closedByBridge(code: number, message?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    const name = tunnelErrorName(code) ?? 'closed';
    this.error(new TunnelError(code === 0 ? 'closed' : name, message ?? `socket closed by the bridge (${name})`));
  }
}

class TunnelListener implements StreamListener {
  private readonly handlers: ((c: StreamConnection) => void)[] = [];
  private closed = false;

  constructor(
    private readonly client: TunnelClient,
    readonly id: number,
    /** Where peers reach it: the bridge's advertised address and the port it got. */
    readonly local: Endpoint,
    private readonly forget: () => void,
  ) {}

  onConnection(handler: (c: StreamConnection) => void): void {
    this.handlers.push(handler);
  }

  close(): void {
    if (this.closed) return;
    this.client.send({ type: 'tcp-close', id: this.id, reason: 'closed', detail: '' });
    this.closedByBridge();
  }

  /** @internal */
  accepted(c: StreamConnection): void {
    if (this.handlers.length === 0) return c.close();
    for (const h of this.handlers) h(c);
  }

  /** @internal */
  closedByBridge(): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
  }
}

class TunnelStream implements StreamConnection {
  private readonly dataHandlers: ((bytes: Uint8Array) => void)[] = [];
  private readonly drainHandlers: (() => void)[] = [];
  private readonly closeHandlers: ((reason: StreamEndReason, detail?: string) => void)[] = [];
  private readonly endHandlers: (() => void)[] = [];
  private remoteEndedSeen = false;
  /** Bytes sent and not yet acknowledged by the bridge (at most `window`). */
  private inflight = 0;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private needDrain = false;
  private endRequested = false;
  private endSent = false;
  private early: Uint8Array[] = [];
  /** Bytes handed to onData and not yet acknowledged to the bridge. */
  private consumed = 0;
  private closedReason: [StreamEndReason, string | undefined] | undefined;

  constructor(
    private readonly client: TunnelClient,
    readonly id: number,
    readonly remote: Endpoint,
    private readonly window: number,
    private readonly forget: () => void,
    /** Bytes sent with the connect, before this stream existed: already in flight. */
    early = 0,
  ) {
    this.inflight = early;
  }

  write(bytes: Uint8Array): boolean {
    if (this.closedReason || this.endRequested) return false;
    if (bytes.length > 0) {
      this.queue.push(bytes.slice()); // the caller may reuse its buffer
      this.queued += bytes.length;
      this.flush();
    }
    const room = this.queued === 0 && this.inflight < this.window;
    if (!room) this.needDrain = true;
    return room;
  }

  onData(handler: (bytes: Uint8Array) => void): void {
    this.dataHandlers.push(handler);
    const early = this.early;
    this.early = [];
    for (const b of early) this.deliver(b);
  }

  onDrain(handler: () => void): void {
    this.drainHandlers.push(handler);
  }

  onClose(handler: (reason: StreamEndReason, detail?: string) => void): void {
    if (this.closedReason) handler(...this.closedReason);
    else this.closeHandlers.push(handler);
  }

  onEnd(handler: () => void): void {
    if (this.remoteEndedSeen) handler();
    else this.endHandlers.push(handler);
  }

  end(): void {
    if (this.closedReason || this.endRequested) return;
    this.endRequested = true;
    this.flush();
  }

  close(): void {
    if (this.closedReason) return;
    this.client.send({ type: 'tcp-close', id: this.id, reason: 'closed', detail: '' });
    this.finish('closed', undefined);
  }

  /** Sends queued bytes while the bridge's window has room; then END if asked. */
  private flush(): void {
    const chunkMax = Math.max(1, this.client.limits.maxFrame - 8);
    while (this.queue.length > 0 && this.inflight < this.window) {
      const head = this.queue[0];
      const n = Math.min(head.length, chunkMax, this.window - this.inflight);
      const chunk = n === head.length ? head : head.subarray(0, n);
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
      this.queued -= n;
      this.inflight += n;
      if (!this.client.send({ type: 'tcp-data', id: this.id, payload: chunk })) return;
    }
    if (this.endRequested && !this.endSent && this.queue.length === 0) {
      this.endSent = true;
      this.client.send({ type: 'tcp-end', id: this.id });
    }
  }

  /** @internal */
  deliver(payload: Uint8Array): void {
    if (this.closedReason) return;
    if (this.dataHandlers.length === 0) {
      this.early.push(payload); // bounded: the bridge never sends past the window we have not acked
      return;
    }
    for (const h of this.dataHandlers) h(payload);
    this.consumed += payload.length;
    // Acknowledge in quarter windows: few ACK frames, and the bridge never stalls.
    if (this.consumed >= this.window / 4 && !this.closedReason) {
      this.client.send({ type: 'tcp-ack', id: this.id, bytes: this.consumed });
      this.consumed = 0;
    }
  }

  /** @internal */
  acked(bytes: number): void {
    if (this.closedReason) return;
    this.inflight = Math.max(0, this.inflight - bytes);
    this.flush();
    if (this.needDrain && this.queued === 0 && this.inflight < this.window) {
      this.needDrain = false;
      for (const h of this.drainHandlers) h();
    }
  }

  /** @internal The remote end half-closed; nothing more will arrive. */
  remoteEnded(): void {
    if (this.consumed > 0 && !this.closedReason) {
      this.client.send({ type: 'tcp-ack', id: this.id, bytes: this.consumed });
      this.consumed = 0;
    }
    if (this.remoteEndedSeen || this.closedReason) return;
    this.remoteEndedSeen = true;
    for (const h of this.endHandlers.splice(0)) h();
  }

  /** @internal */
  closedByBridge(reason: StreamEndReason, detail: string): void {
    this.finish(reason, detail || undefined);
  }

  private finish(reason: StreamEndReason, detail: string | undefined): void {
    if (this.closedReason) return;
    this.closedReason = [reason, detail];
    this.forget();
    this.queue.length = 0;
    this.queued = 0;
    for (const h of this.closeHandlers.splice(0)) h(reason, detail);
  }
}

// The thin adapter between a sans-IO discv5 node and the world: a datagram socket, the
// clock and one timer. The same driver runs in Node (dgram) and in the browser (tunnel).
import { toHex } from '../bytes.ts';
import type { Enr } from '../enr/index.ts';
import type { TraceRecord } from '../trace.ts';
import type { DatagramSocket } from '../transport.ts';
import type { NodeContact } from './engine.ts';
import type { Message } from './messages.ts';
import { Discv5Node, type NodeCommand, type NodeEvent, type NodeOutput } from './node.ts';

export type Clock = () => number;
/** Milliseconds since the epoch with sub-millisecond resolution. */
export const wallClock: Clock = () => performance.timeOrigin + performance.now();

export type RequestOutcome =
  | { ok: true; response: Message; rttMs: number; records?: Enr[]; rejectedRecords?: string[] }
  | { ok: false; reason: string };

export interface DriverListener {
  event?: (e: NodeEvent) => void;
  trace?: (t: TraceRecord) => void;
  /** A datagram could not be sent (refused by the bridge, socket error). */
  error?: (e: Error) => void;
}

export class Discv5Driver {
  private timer: unknown;
  private timerAt: number | undefined;
  private readonly listeners = new Set<DriverListener>();
  private readonly waiting = new Map<string, (o: RequestOutcome) => void>();
  private readonly lookupWaiters = new Map<number, (closest: Enr[]) => void>();
  private closed = false;
  private nextLookup = 1;

  constructor(
    readonly node: Discv5Node,
    readonly socket: DatagramSocket,
    private readonly clock: Clock = wallClock,
  ) {
    socket.onMessage((bytes, from) => {
      if (this.closed) return;
      // The engine turns bad packets into rejections; this guards the I/O loop against a bug.
      let out: NodeOutput;
      try {
        out = node.receive(bytes, from, this.clock());
      } catch (e) {
        this.listeners.forEach((l) => l.error?.(e instanceof Error ? e : new Error(String(e))));
        return;
      }
      this.apply(out);
    });
    socket.onError((e) => this.listeners.forEach((l) => l.error?.(e)));
  }

  listen(l: DriverListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  command(cmd: NodeCommand): void {
    if (this.closed) return;
    this.apply(this.node.command(cmd, this.clock()));
  }

  ping(to: NodeContact): Promise<RequestOutcome> {
    return this.request((requestId) => ({ type: 'ping', to, requestId }));
  }

  findnode(to: NodeContact, distances: number[]): Promise<RequestOutcome> {
    return this.request((requestId) => ({ type: 'findnode', to, distances, requestId }));
  }

  talkreq(to: NodeContact, protocol: Uint8Array, request: Uint8Array): Promise<RequestOutcome> {
    return this.request((requestId) => ({ type: 'talkreq', to, protocol, request, requestId }));
  }

  /** Resolves with the k closest nodes found (every lookup ends: its queries time out). */
  lookup(target: Uint8Array, seeds: Enr[] = []): Promise<Enr[]> {
    const lookupId = 1_000_000 + this.nextLookup++;
    return new Promise((resolve) => {
      this.lookupWaiters.set(lookupId, resolve);
      this.command({ type: 'lookup', target, lookupId, seeds });
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const w of this.waiting.values()) w({ ok: false, reason: 'closed' });
    this.waiting.clear();
    for (const w of this.lookupWaiters.values()) w([]);
    this.lookupWaiters.clear();
    this.socket.close();
  }

  private request(make: (requestId: Uint8Array) => NodeCommand): Promise<RequestOutcome> {
    const requestId = globalThis.crypto.getRandomValues(new Uint8Array(8));
    requestId[0] |= 0x80;
    return new Promise((resolve) => {
      this.waiting.set(toHex(requestId), resolve);
      this.command(make(requestId));
    });
  }

  private apply(out: NodeOutput): void {
    for (const s of out.send) {
      try {
        this.socket.send(s.bytes, s.to);
      } catch (e) {
        this.listeners.forEach((l) => l.error?.(e instanceof Error ? e : new Error(String(e))));
      }
    }
    // Packets first, then the crypto steps that made or read them (records link by packet seq).
    const settled: NodeEvent[] = [];
    for (const e of out.events) {
      this.listeners.forEach((l) => l.event?.(e));
      settled.push(e);
    }
    for (const t of out.trace) this.listeners.forEach((l) => l.trace?.(t));
    settled.forEach((e) => this.settle(e));
    this.schedule();
    // The packets are out: use the wait for their answers to make the next handshakes' ECDH.
    if (out.send.length > 0 && !this.closed) this.node.engine.prepareHandshakes();
  }

  private settle(e: NodeEvent): void {
    if (e.type === 'response' || e.type === 'failure' || e.type === 'timeout') {
      const w = this.waiting.get(e.requestId);
      if (!w) return;
      this.waiting.delete(e.requestId);
      if (e.type === 'response') w({ ok: true, response: e.response, rttMs: e.rttMs, ...(e.records ? { records: e.records } : {}), ...(e.rejectedRecords ? { rejectedRecords: e.rejectedRecords } : {}) });
      else w({ ok: false, reason: e.type === 'timeout' ? `timeout: no answer after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}` : e.reason });
    } else if (e.type === 'lookup' && e.event.type === 'done') {
      const w = this.lookupWaiters.get(e.lookupId);
      if (w) {
        this.lookupWaiters.delete(e.lookupId);
        w(e.event.closest);
      }
    }
  }

  /** One timer, set for the engine's next deadline. */
  private schedule(): void {
    if (this.closed) return;
    const next = this.node.nextDeadline();
    if (next === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      if (!this.closed) this.apply(this.node.tick(this.clock()));
    }, Math.max(0, next - this.clock()) + 1);
  }
}

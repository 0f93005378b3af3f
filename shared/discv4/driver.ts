// A discv4 engine on the generic EngineDriver, with a promise per request (ping, findnode,
// requestenr) and per lookup. Sockets, the clock and the timer are the driver's.
import { EngineDriver, type DriverListener } from '../drive/driver.ts';
import { wallClock, type Clock } from '../drive/clock.ts';
import type { DatagramSocket } from '../transport.ts';
import { Discv4Engine, type Discv4Command, type Discv4Event, type Discv4Response } from './engine.ts';
import type { Discv4Node } from './node.ts';

export type RequestOutcome = ({ ok: true; rttMs: number; bonded: boolean } & Discv4Response) | { ok: false; reason: string };

export class Discv4Driver {
  private readonly driver: EngineDriver<Discv4Command, Discv4Event>;
  private readonly waiting = new Map<number, (o: RequestOutcome) => void>();
  private readonly lookupWaiters = new Map<number, (closest: Discv4Node[]) => void>();
  private closed = false;
  private nextRequest = 1;
  private nextLookup = 1;

  constructor(
    readonly engine: Discv4Engine,
    readonly socket: DatagramSocket,
    clock: Clock = wallClock,
  ) {
    this.driver = new EngineDriver(engine, { datagram: socket }, clock);
    this.driver.listen({ event: (e) => this.settle(e) });
  }

  listen(l: DriverListener<Discv4Event>): () => void {
    return this.driver.listen(l);
  }

  ping(to: Discv4Node): Promise<RequestOutcome> {
    return this.request((requestId) => ({ type: 'ping', to, requestId }));
  }

  findnode(to: Discv4Node, target: Uint8Array): Promise<RequestOutcome> {
    return this.request((requestId) => ({ type: 'findnode', to, target, requestId }));
  }

  requestEnr(to: Discv4Node): Promise<RequestOutcome> {
    return this.request((requestId) => ({ type: 'requestenr', to, requestId }));
  }

  /** Resolves with the k closest nodes found (every lookup ends: its queries time out). */
  lookup(target?: Uint8Array, seeds: Discv4Node[] = []): Promise<Discv4Node[]> {
    if (this.closed) return Promise.resolve([]);
    const lookupId = this.nextLookup++;
    return new Promise((resolve) => {
      this.lookupWaiters.set(lookupId, resolve);
      this.driver.command({ type: 'lookup', lookupId, seeds, ...(target ? { target } : {}) });
    });
  }

  close(): void {
    this.closed = true;
    this.driver.close();
    for (const w of this.waiting.values()) w({ ok: false, reason: 'closed' });
    this.waiting.clear();
    for (const w of this.lookupWaiters.values()) w([]);
    this.lookupWaiters.clear();
  }

  private request(make: (requestId: number) => Discv4Command): Promise<RequestOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'closed' });
    const requestId = this.nextRequest++;
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve);
      this.driver.command(make(requestId));
    });
  }

  private settle(e: Discv4Event): void {
    if (e.type === 'response' || e.type === 'failure') {
      const w = this.waiting.get(e.requestId);
      if (!w) return;
      this.waiting.delete(e.requestId);
      if (e.type === 'failure') return w({ ok: false, reason: e.reason });
      const { type: _t, requestId: _r, ...rest } = e;
      w({ ok: true, ...rest });
    } else if (e.type === 'lookup' && e.event.type === 'done') {
      const w = this.lookupWaiters.get(e.lookupId);
      if (w) {
        this.lookupWaiters.delete(e.lookupId);
        w(e.event.closest);
      }
    }
  }
}

// A discv5 node on the generic EngineDriver, with promises for the caller: one per request
// (ping, findnode, talkreq) and one per lookup. Sockets, the clock and the timer are the
// EngineDriver's; request-ids come from the node's injected randomness.
import { toHex } from '../bytes.ts';
import { EngineDriver, type DriverListener } from '../drive/driver.ts';
import { wallClock, type Clock } from '../drive/clock.ts';
import type { Enr } from '../enr/index.ts';
import type { DatagramSocket } from '../transport.ts';
import type { NodeContact } from './engine.ts';
import type { Message } from './messages.ts';
import type { Discv5Node, NodeCommand, NodeEvent } from './node.ts';
import { Discv5Protocol } from './protocol.ts';

export type RequestOutcome =
  | { ok: true; response: Message; rttMs: number; records?: Enr[]; rejectedRecords?: string[] }
  | { ok: false; reason: string };

export class Discv5Driver {
  readonly protocol: Discv5Protocol;
  private readonly driver: EngineDriver<NodeCommand, NodeEvent>;
  private readonly waiting = new Map<string, (o: RequestOutcome) => void>();
  private readonly lookupWaiters = new Map<number, (closest: Enr[]) => void>();
  private closed = false;
  private nextLookup = 1;

  constructor(
    readonly node: Discv5Node,
    readonly socket: DatagramSocket,
    clock: Clock = wallClock,
  ) {
    this.protocol = new Discv5Protocol(node);
    this.driver = new EngineDriver(this.protocol, { datagram: socket }, clock);
    this.driver.listen({ event: (e) => this.settle(e) });
  }

  /** Events (the node's, 'packet' included), wire records, trace records and send errors. */
  listen(l: DriverListener<NodeEvent>): () => void {
    return this.driver.listen(l);
  }

  command(cmd: NodeCommand): void {
    if (!this.closed) this.driver.command(cmd);
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
    // Above the node's own lookup numbers, so the two never meet.
    const lookupId = 1_000_000 + this.nextLookup++;
    return new Promise((resolve) => {
      this.lookupWaiters.set(lookupId, resolve);
      this.command({ type: 'lookup', target, lookupId, seeds });
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

  private request(make: (requestId: Uint8Array) => NodeCommand): Promise<RequestOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'closed' });
    const requestId = this.protocol.newRequestId();
    return new Promise((resolve) => {
      this.waiting.set(toHex(requestId), resolve);
      this.command(make(requestId));
    });
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
}

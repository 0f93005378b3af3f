// Step mode without touching the engine: a virtual clock that stands still while the user
// reads, and a datagram socket that can hold packets in both directions until the user
// releases them one by one. The driver and the node see an ordinary clock and socket.
import type { DatagramSocket, Endpoint } from '../../shared/transport.ts';

/**
 * Milliseconds that pass only while running. Request timeouts are measured on it, so a
 * paused room never sees a timeout that the pause caused.
 */
export class VirtualClock {
  private base = 0;
  private since: number | undefined;

  constructor(private readonly real: () => number = () => performance.now()) {
    this.since = real();
  }

  now = (): number => (this.since === undefined ? this.base : this.base + (this.real() - this.since));

  get running(): boolean {
    return this.since !== undefined;
  }

  pause(): void {
    if (this.since === undefined) return;
    this.base = this.now();
    this.since = undefined;
  }

  resume(): void {
    if (this.since === undefined) this.since = this.real();
  }
}

export type HeldDatagram =
  | { direction: 'out'; bytes: Uint8Array; to: Endpoint; seq?: number }
  | { direction: 'in'; bytes: Uint8Array; from: Endpoint };

/**
 * Wraps the real socket. While holding, sends and arrivals are queued instead of passing
 * through; release() lets the oldest one go (an arrival is then handed to the node, which
 * may queue new sends). `changed` runs after every change of the queue.
 */
export class GatedSocket implements DatagramSocket {
  readonly queue: HeldDatagram[] = [];
  private holding = false;
  private handler: ((bytes: Uint8Array, from: Endpoint) => void) | undefined;

  constructor(
    private readonly inner: DatagramSocket,
    private readonly changed: () => void = () => {},
    /** Most datagrams kept while holding; arrivals beyond are dropped (as a full socket buffer would). */
    private readonly limit = 256,
  ) {
    inner.onMessage((bytes, from) => {
      if (!this.holding) return this.handler?.(bytes, from);
      if (this.queue.length >= this.limit) return;
      this.queue.push({ direction: 'in', bytes, from });
      this.changed();
    });
  }

  get local(): Endpoint {
    return this.inner.local;
  }

  get isHolding(): boolean {
    return this.holding;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    if (!this.holding) return this.inner.send(bytes, to);
    this.queue.push({ direction: 'out', bytes, to });
    this.changed();
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.inner.onError(handler);
  }

  close(): void {
    this.queue.length = 0;
    this.inner.close();
  }

  /** Tags the oldest untagged held send of exactly these bytes with its packet seq. */
  tag(bytes: Uint8Array, seq: number): boolean {
    const item = this.queue.find((q) => q.direction === 'out' && q.seq === undefined && q.bytes === bytes);
    if (!item || item.direction !== 'out') return false;
    item.seq = seq;
    return true;
  }

  /** Lets the oldest held datagram go; undefined when nothing is held. */
  release(): HeldDatagram | undefined {
    const item = this.queue.shift();
    if (!item) return undefined;
    if (item.direction === 'out') this.inner.send(item.bytes, item.to);
    else this.handler?.(item.bytes, item.from);
    this.changed();
    return item;
  }

  /** Holding on: queue from now on. Off: everything held goes, in order (arrivals may queue nothing new). */
  setHolding(on: boolean): HeldDatagram[] {
    if (on === this.holding) return [];
    if (on) {
      this.holding = true;
      this.changed();
      return [];
    }
    const released: HeldDatagram[] = [];
    // Releasing an arrival may make the node send: those sends still queue while holding is on,
    // so drain with holding on, bounded, then switch off.
    for (let i = 0; i < 10_000 && this.queue.length > 0; i++) released.push(this.release()!);
    this.holding = false;
    this.changed();
    return released;
  }
}

// Step mode without touching any engine: a virtual clock that stands still while the user
// reads, and wrappers around a datagram socket and a stream transport that hold what would be
// sent and what arrived, in one queue, until the user releases the items one by one. The
// driver and the engines see an ordinary clock, socket and connections.
import type { DatagramSocket, Endpoint, StreamConnection, StreamEndReason, StreamTransport } from '../transport.ts';

/**
 * Milliseconds that pass only while running. Timeouts are measured on it, so a paused room
 * never sees a timeout that the pause caused.
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

/** One held step. `seq` is set on sends once the page knows their wire record; `protocol` names whose it is. */
export type HeldStep = { protocol?: string } & (
  | { direction: 'out'; transport: 'udp'; bytes: Uint8Array; to: Endpoint; seq?: number; release: () => void }
  | { direction: 'in'; transport: 'udp'; bytes: Uint8Array; from: Endpoint; release: () => void }
  | { direction: 'out'; transport: 'tcp'; bytes: Uint8Array; to: Endpoint; seq?: number; release: () => void }
  | { direction: 'in'; transport: 'tcp'; bytes: Uint8Array; from: Endpoint; release: () => void }
  /** A stream ended or closed (by the peer: in; by us: out): kept behind that stream's data, never a step of its own. */
  | { direction: 'in'; transport: 'tcp-end'; bytes: Uint8Array; from: Endpoint; release: () => void }
  | { direction: 'out'; transport: 'tcp-end'; bytes: Uint8Array; to: Endpoint; seq?: number; release: () => void }
);

/** The one queue of held steps, for every socket and connection of a page. */
export class StepGate {
  readonly queue: HeldStep[] = [];
  private holding = false;

  constructor(
    private readonly changed: () => void = () => {},
    /** Most steps kept while holding; arrivals beyond are dropped (as a full socket buffer would). */
    private readonly limit = 512,
  ) {}

  get isHolding(): boolean {
    return this.holding;
  }

  /** Passes at once, or queues while holding. Arrivals over the limit are dropped. */
  pass(step: HeldStep): void {
    if (this.queue.length === 0 && (!this.holding || step.transport === 'tcp-end')) return step.release();
    if (step.direction === 'in' && step.transport !== 'tcp-end' && this.queue.length >= this.limit) return;
    this.queue.push(step);
    if (!this.holding) return this.drain();
    this.changed();
  }

  /** Tags the oldest untagged held send of exactly these bytes with its record's seq. */
  tag(bytes: Uint8Array, seq: number): boolean {
    const item = this.queue.find((q) => q.direction === 'out' && q.seq === undefined && q.bytes === bytes);
    if (!item || item.direction !== 'out') return false;
    item.seq = seq;
    return true;
  }

  /** Lets the oldest step go (and any stream end right behind it); undefined when nothing is held. */
  release(): HeldStep | undefined {
    const item = this.queue.shift();
    if (!item) return undefined;
    item.release();
    while (this.queue[0]?.transport === 'tcp-end') this.queue.shift()!.release();
    this.changed();
    return item;
  }

  /** Holding on: queue from now on. Off: everything held goes, in order. */
  setHolding(on: boolean): HeldStep[] {
    if (on === this.holding) return [];
    if (on) {
      this.holding = true;
      this.changed();
      return [];
    }
    // Releasing an arrival may make an engine send: those sends still queue while holding is
    // on, so drain with holding on, bounded, then switch off.
    const released: HeldStep[] = [];
    for (let i = 0; i < 10_000 && this.queue.length > 0; i++) released.push(this.release()!);
    this.holding = false;
    this.changed();
    return released;
  }

  private drain(): void {
    for (let i = 0; i < 10_000 && this.queue.length > 0; i++) this.queue.shift()!.release();
  }
}

/** A datagram socket whose sends and arrivals pass through the gate. */
export class GatedSocket implements DatagramSocket {
  private handler: ((bytes: Uint8Array, from: Endpoint) => void) | undefined;

  constructor(
    private readonly inner: DatagramSocket,
    private readonly gate: StepGate,
    /** The protocol spoken on this socket (held steps carry it, for their explanation). */
    private readonly protocol?: string,
  ) {
    inner.onMessage((bytes, from) => gate.pass({ protocol, direction: 'in', transport: 'udp', bytes, from, release: () => this.handler?.(bytes, from) }));
  }

  get local(): Endpoint {
    return this.inner.local;
  }

  send(bytes: Uint8Array, to: Endpoint): void {
    this.gate.pass({ protocol: this.protocol, direction: 'out', transport: 'udp', bytes, to, release: () => this.inner.send(bytes, to) });
  }

  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.handler = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.inner.onError(handler);
  }

  close(): void {
    this.inner.close();
  }
}

/** A stream transport whose connections' writes, data, ends and closes pass through the gate. */
export class GatedStreams implements StreamTransport {
  constructor(
    private readonly inner: StreamTransport,
    private readonly gate: StepGate,
    private readonly protocol?: string,
  ) {}

  async connect(to: Endpoint, options: { timeoutMs?: number; initialData?: Uint8Array } = {}): Promise<StreamConnection> {
    const { initialData, ...rest } = options;
    if (!initialData || (!this.gate.isHolding && this.gate.queue.length === 0)) return gateStream(await this.inner.connect(to, options), this.gate, this.protocol);
    // Held: the first bytes join the queue now (their record is being made now) and go once
    // released and connected, whichever comes last.
    let inner: StreamConnection | undefined;
    let released = false;
    this.gate.pass({ protocol: this.protocol, direction: 'out', transport: 'tcp', bytes: initialData, to, release: () => ((released = true), void inner?.write(initialData)) });
    inner = await this.inner.connect(to, rest);
    if (released) inner.write(initialData);
    return gateStream(inner, this.gate, this.protocol);
  }
}

/** Wraps one connection (outbound, or inbound from a listener) so it passes through the gate. */
export function gateStream(inner: StreamConnection, gate: StepGate, protocol?: string): StreamConnection {
  const remote = inner.remote;
  let onData: ((b: Uint8Array) => void) | undefined;
  let onEnd: (() => void) | undefined;
  let onClose: ((reason: StreamEndReason, detail?: string) => void) | undefined;
  let closedByUs = false;
  inner.onData((bytes) => gate.pass({ protocol, direction: 'in', transport: 'tcp', bytes, from: remote, release: () => onData?.(bytes) }));
  inner.onEnd(() => gate.pass({ protocol, direction: 'in', transport: 'tcp-end', bytes: new Uint8Array(0), from: remote, release: () => onEnd?.() }));
  inner.onClose((reason, detail) => {
    if (!closedByUs) gate.pass({ protocol, direction: 'in', transport: 'tcp-end', bytes: new Uint8Array(0), from: remote, release: () => onClose?.(reason, detail) });
  });
  return {
    remote,
    write(bytes) {
      gate.pass({ protocol, direction: 'out', transport: 'tcp', bytes, to: remote, release: () => void inner.write(bytes) });
      return true;
    },
    onData: (h) => void (onData = h),
    onDrain: (h) => inner.onDrain(h),
    onEnd: (h) => void (onEnd = h),
    onClose: (h) => void (onClose = h),
    end: () => gate.pass({ protocol, direction: 'out', transport: 'tcp-end', bytes: new Uint8Array(0), to: remote, release: () => inner.end() }),
    close() {
      closedByUs = true;
      // Held writes of this connection still go out first when released, then the close.
      gate.pass({ protocol, direction: 'out', transport: 'tcp-end', bytes: new Uint8Array(0), to: remote, release: () => inner.close() });
    },
  };
}

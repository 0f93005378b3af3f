// The thin adapter between any sans-IO engine and the world: datagram sockets, stream
// connections (outbound through a StreamTransport, inbound handed over by a listener), a
// clock and one timer. The CLI, the tests and the browser worker use the same driver.
import type { ConnectionId, Engine, EngineInput, EngineOutput, Transmit, WireRecord } from '../engine.ts';
import type { TraceRecord } from '../trace.ts';
import type { DatagramSocket, StreamConnection, StreamTransport } from '../transport.ts';
import { wallClock, type Clock } from './clock.ts';

export interface DriverListener<Event> {
  event?: (e: Event) => void;
  record?: (r: WireRecord) => void;
  trace?: (t: TraceRecord) => void;
  /** A send or connect the world refused (bridge policy, socket error); the engine hears of it too. */
  error?: (e: Error) => void;
  /** Every input as the engine gets it, and every transmit it makes (a capture's connection log). */
  input?: (input: EngineInput<unknown>, now: number) => void;
  transmits?: (transmits: readonly Transmit[], now: number) => void;
}

export interface DriverIo {
  datagram?: DatagramSocket;
  streams?: StreamTransport;
}

type Slot = { state: 'connecting'; closeWhenOpen: boolean } | { state: 'open'; conn: StreamConnection };

export class EngineDriver<Command, Event> {
  private timer: unknown;
  private timerAt: number | undefined;
  private readonly listeners = new Set<DriverListener<Event>>();
  private readonly streams = new Map<ConnectionId, Slot>();
  private closed = false;
  private nextInbound = 1;

  constructor(
    readonly engine: Engine<Command, Event>,
    private readonly io: DriverIo,
    private readonly clock: Clock = wallClock,
  ) {
    io.datagram?.onMessage((bytes, from) => this.handle({ type: 'datagram', from, bytes }));
    io.datagram?.onError((e) => this.fail(e));
  }

  listen(l: DriverListener<Event>): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  command(command: Command): void {
    this.handle({ type: 'command', command });
  }

  /** Hands an inbound connection (from a listener) to the engine. */
  accept(conn: StreamConnection): ConnectionId {
    const id = `in-${this.nextInbound++}`;
    if (this.closed) {
      conn.close();
      return id;
    }
    this.streams.set(id, { state: 'open', conn });
    this.handle({ type: 'stream-opened', conn: id, remote: conn.remote, direction: 'inbound' });
    this.wire(id, conn);
    return id;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [, slot] of this.streams) if (slot.state === 'open') slot.conn.close();
    this.streams.clear();
    this.io.datagram?.close();
  }

  /** Runs one engine step (an input, or without one a tick); a bug in the engine is reported, never thrown into a socket handler. */
  private handle(input?: EngineInput<Command>): void {
    if (this.closed) return;
    const now = this.clock();
    let out: EngineOutput<Event>;
    try {
      if (input) this.listeners.forEach((l) => l.input?.(input, now));
      out = input ? this.engine.handle(input, now) : this.engine.tick(now);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (out.transmits.length > 0) this.listeners.forEach((l) => l.transmits?.(out.transmits, now));
    this.apply(out);
  }

  private apply(out: EngineOutput<Event>): void {
    for (const t of out.transmits) {
      switch (t.type) {
        case 'datagram':
          try {
            if (!this.io.datagram) throw new Error('no datagram socket');
            this.io.datagram.send(t.bytes, t.to);
          } catch (e) {
            this.fail(e instanceof Error ? e : new Error(String(e)));
          }
          break;
        case 'connect':
          this.connect(t.conn, t.to, t.timeoutMs, t.initialData);
          break;
        case 'stream-write': {
          const s = this.streams.get(t.conn);
          if (s?.state === 'open') s.conn.write(t.bytes);
          break;
        }
        case 'stream-end': {
          const s = this.streams.get(t.conn);
          if (s?.state === 'open') s.conn.end();
          break;
        }
        case 'stream-close': {
          const s = this.streams.get(t.conn);
          this.streams.delete(t.conn);
          if (s?.state === 'open') s.conn.close();
          else if (s) this.streams.set(t.conn, { state: 'connecting', closeWhenOpen: true });
          break;
        }
      }
    }
    // Wire records first, then the crypto steps that made or read them, then events.
    for (const r of out.records) this.listeners.forEach((l) => l.record?.(r));
    for (const t of out.trace) this.listeners.forEach((l) => l.trace?.(t));
    for (const e of out.events) this.listeners.forEach((l) => l.event?.(e));
    this.schedule();
    // The transmits are out: the wait for their answers is the time for work ahead.
    if (out.transmits.length > 0 && !this.closed && this.engine.prepare) {
      try {
        this.engine.prepare();
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  private connect(id: ConnectionId, to: { ip: string; port: number }, timeoutMs?: number, initialData?: Uint8Array): void {
    const streams = this.io.streams;
    if (!streams) {
      this.handle({ type: 'stream-failed', conn: id, reason: 'error', detail: 'no stream transport' });
      return;
    }
    this.streams.set(id, { state: 'connecting', closeWhenOpen: false });
    streams.connect(to, { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(initialData ? { initialData } : {}) }).then(
      (conn) => {
        const slot = this.streams.get(id);
        if (this.closed || !slot || (slot.state === 'connecting' && slot.closeWhenOpen)) {
          this.streams.delete(id);
          conn.close();
          return;
        }
        this.streams.set(id, { state: 'open', conn });
        // Opened first, then wired: a connection may hand over bytes that came with it (the
        // answer to data sent behind the connect) as soon as a handler is attached.
        this.handle({ type: 'stream-opened', conn: id, remote: conn.remote, direction: 'outbound' });
        this.wire(id, conn);
      },
      (e: Error & { reason?: string }) => {
        const slot = this.streams.get(id);
        this.streams.delete(id);
        if (!slot || (slot.state === 'connecting' && slot.closeWhenOpen)) return;
        const reason = (e.reason ?? 'error') as 'error';
        this.handle({ type: 'stream-failed', conn: id, reason, detail: e.message });
      },
    );
  }

  private wire(id: ConnectionId, conn: StreamConnection): void {
    const mine = () => {
      const s = this.streams.get(id);
      return s?.state === 'open' && s.conn === conn;
    };
    conn.onData((bytes) => {
      if (mine()) this.handle({ type: 'stream-data', conn: id, bytes });
    });
    conn.onEnd(() => {
      if (mine()) this.handle({ type: 'stream-remote-ended', conn: id });
    });
    conn.onClose((reason, detail) => {
      if (!mine()) return;
      this.streams.delete(id);
      this.handle({ type: 'stream-closed', conn: id, reason, ...(detail ? { detail } : {}) });
    });
  }

  private fail(e: Error): void {
    this.listeners.forEach((l) => l.error?.(e));
  }

  /** One timer, set for the engine's next deadline. */
  private schedule(): void {
    if (this.closed) return;
    const next = this.engine.nextDeadline();
    if (next === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.handle();
    }, Math.max(0, next - this.clock()) + 1);
  }
}

// The one contract every protocol engine implements (sans-IO, like h11 or quinn-proto):
// inputs are datagrams, stream events and commands, each with `now`; outputs are what to
// transmit, events for the caller, wire records for the UI and crypto trace records. An
// engine never opens a socket, reads a clock or draws randomness by itself.
import type { TraceRecord } from './trace.ts';
import type { Endpoint, StreamEndReason } from './transport.ts';

/** A stream (TCP connection) as the engine names it. Engines pick ids for connections they open. */
export type ConnectionId = string;

export type StreamEvent =
  /** The connection is up. Outbound: the answer to a `connect` transmit; inbound: a peer dialled us. */
  | { type: 'stream-opened'; conn: ConnectionId; remote: Endpoint; direction: 'outbound' | 'inbound' }
  | { type: 'stream-data'; conn: ConnectionId; bytes: Uint8Array }
  /** The peer half-closed: no more bytes will come; we may still write. */
  | { type: 'stream-remote-ended'; conn: ConnectionId }
  | { type: 'stream-closed'; conn: ConnectionId; reason: StreamEndReason; detail?: string }
  /** An outbound connect did not succeed. */
  | { type: 'stream-failed'; conn: ConnectionId; reason: StreamEndReason; detail?: string };

export type EngineInput<Command> =
  | { type: 'datagram'; from: Endpoint; bytes: Uint8Array }
  | StreamEvent
  | { type: 'command'; command: Command };

export type Transmit =
  | { type: 'datagram'; to: Endpoint; bytes: Uint8Array }
  /** initialData: the first bytes to send once connected (StreamTransport.connect's option). */
  | { type: 'connect'; conn: ConnectionId; to: Endpoint; timeoutMs?: number; initialData?: Uint8Array }
  | { type: 'stream-write'; conn: ConnectionId; bytes: Uint8Array }
  /** Half-close: we send nothing more. */
  | { type: 'stream-end'; conn: ConnectionId }
  | { type: 'stream-close'; conn: ConnectionId };

/** One protocol message (or datagram) in or out, with enough to dissect and show it later. */
export interface WireRecord {
  /** Order within its engine: links trace records and UI selection. */
  seq: number;
  protocol: string;
  direction: 'in' | 'out';
  at: number;
  peer: Endpoint;
  /** The stream it travelled on; absent for datagrams. */
  conn?: ConnectionId;
  /** Where the bytes start within their direction of the stream (TCP protocols dissect messages, not segments). */
  streamOffset?: number;
  /** A protocol-level peer identity when known (node id, peer id). */
  peerId?: string;
  raw: Uint8Array;
  /** "version", "WHOAREYOU", "auth", … (the registry gives it a label and colour). */
  kind: string;
  /** One line: "version 70016 /Satoshi:27.0.0/ height 870000". */
  summary: string;
  retransmit?: boolean;
  /** Why an incoming message was refused; nothing else changed state. */
  rejected?: string;
  /** What happened, in plain words. */
  note?: string;
}

export interface EngineOutput<Event> {
  transmits: Transmit[];
  events: Event[];
  records: WireRecord[];
  trace: TraceRecord[];
}

export interface Engine<Command, Event> {
  readonly protocol: string;
  handle(input: EngineInput<Command>, now: number): EngineOutput<Event>;
  /** Called at (or after) nextDeadline(): timeouts, retransmits, schedules. */
  tick(now: number): EngineOutput<Event>;
  nextDeadline(): number | undefined;
  /**
   * Optional work ahead of time, called by the driver once a step's transmits are out (discv5
   * makes the next handshake's ECDH while the peer answers), drawing only on injected randomness.
   */
  prepare?(): void;
}

export const emptyOutput = <Event>(): EngineOutput<Event> => ({ transmits: [], events: [], records: [], trace: [] });

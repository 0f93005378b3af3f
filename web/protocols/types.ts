// What the generic views (Timeline, PacketInspector, Stepper, KeySchedule) ask of a protocol.
// Each protocol answers in its own module; the views never name a protocol or a message.
import type { Dissection } from '../../shared/dissect.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import type { PacketInfo } from '../lib/protocol.ts';
import type { HandshakeView, MessageCrypto } from './discv5-keys.ts';
import type { Endpoint } from '../../shared/transport.ts';
import type { RlpxDetail } from '../../shared/rlpx/engine.ts';
import type { LessonEntry } from '../lessons/types.ts';

/** A wire record as the page keeps it (see web/lib/protocol.ts PacketInfo). */
export interface RecordView {
  seq: number;
  protocol?: string;
  direction: 'in' | 'out';
  at: number;
  peer: Endpoint;
  peerId?: string;
  raw: Uint8Array;
  kind?: string;
  summary?: string;
  conn?: string;
  streamOffset?: number;
  rejected?: string;
  retransmit?: boolean;
  note?: string;
  held?: boolean;
  /** discv5: the id the header was masked with. */
  destId?: string;
  plaintext?: Uint8Array;
  /** RLPx: the decrypted layers the engine kept (auth/ack body, frame header and data). */
  rlpx?: RlpxDetail;
  message?: { type: string };
  /** libp2p (see shared/libp2p/engine.ts Libp2pRecord). */
  continues?: number;
  streams?: Record<number, string>;
  noiseStatic?: Uint8Array;
}

export interface Narration {
  title: string;
  /** Plain words for a workshop audience. */
  plain: string;
  /** The spec's words, quoted, with where they come from. */
  spec?: string;
  section?: string;
  link?: string;
  /** A second paragraph about the message inside, when there is one. */
  extra?: string;
}

export type Moment =
  | { phase: 'before-send' | 'after-receive'; record: RecordView; peer: string }
  | { phase: 'arrived'; peer: string; size: number; transport: 'udp' | 'tcp' };

export interface ProtocolView {
  id: string;
  /** Shown in the protocol choice and headings. */
  label: string;
  transport: 'udp' | 'tcp';
  /** Every byte of one record, layer by layer. */
  dissect(r: RecordView): Dissection;
  /** Loads the dissector when it comes on first use (lazy-dissect.ts): export and print wait for it. */
  loadDissector?: () => Promise<void>;
  /** The arrow's main label: "WHOAREYOU", "version", "rejected". */
  kindLabel(r: RecordView): string;
  /** A second label when the kind is a container: "PING" inside a "message". */
  messageLabel(r: RecordView): string;
  /** A CSS colour for the arrow and label. */
  color(r: RecordView): string;
  /** Facts above the inspector beside size and time; `ourId` names whose id "we" are ("your id", "node A"…). */
  facts(r: RecordView, ctx: { ourId: string }): { label: string; value: string }[];
  /** What turns one inspector layer into the next (shown between the layer tabs). */
  layerSteps: Record<string, string>;
  /** Step narration, loaded with the stepper: what one moment means, in plain and spec words. */
  narration(): Promise<(m: Moment) => Narration>;
  /** The timeline's legend: the kinds this protocol's arrows come in. */
  legend: { label: string; color: string }[];
  /** When there is no key schedule to show, why (plain words). */
  noKeySchedule?: string;
  /** The key-schedule view over the trace, for protocols with keys. */
  keySchedule?: KeyScheduleView;
  /** Step mode with nothing done yet: what to press. */
  idle: string;
  /** Guided lessons for this protocol (at least one); their steps load on first use. */
  lessons: LessonEntry[];
  /** The inspector's empty state: what a first exchange looks like, arrow by arrow. */
  hint: { lead: string; steps: { label: string; color: string; text: string }[]; after: string };
}

export interface KeyScheduleView {
  handshakesOf(traces: TraceRecord[]): HandshakeView[];
  /** The handshake that explains a record (the latest with its peer; the next one for a record that provokes one). */
  handshakeFor(all: HandshakeView[], peer: string | undefined, seq: number, provokes?: boolean): HandshakeView | undefined;
  provokesHandshake(r: RecordView): boolean;
  messagesOf(records: PacketInfo[], all: HandshakeView[], hs: HandshakeView): MessageCrypto[];
  /** What each step is for, by step name. */
  stepNotes: Record<string, { label: string; why: string }>;
  /** Headings in the protocol's own words when "Handshake with … ✓ keys agreed" does not fit. */
  wording?: { group?: string; ok?: string };
}

// The room channel (/room WebSocket, JSON text frames): what a participant's page tells the
// bridge (a name, its progress), what the teacher's page sees (everyone's progress, counts) and
// the shared view the teacher points at. Only progress travels: no keys, no packets. Every
// message from the other side is untrusted: decoders check shape and size and return undefined.

/** Where a participant is in the current lesson (issue 13's lessons module fills it). */
export interface LessonProgress {
  lessonId: string;
  stepIndex: number;
  stepCount: number;
  completed: boolean;
}

/** Handshakes of one protocol this page completed and failed, failures counted by reason. */
export interface HandshakeTally {
  completed: number;
  failed: number;
  reasons: Record<string, number>;
}

export interface ParticipantProgress {
  lesson?: LessonProgress;
  /** By protocol id ('discv5', 'bitcoin', …). */
  handshakes: Record<string, HandshakeTally>;
}

/** The Replay (every page computes the same one) or a session file the teacher loaded. */
export type SharedSource = { kind: 'replay' } | { kind: 'session'; id: string; json: string };

/** What the teacher is looking at: packet, field (layer + path in its tree) and step. */
export interface Pointer {
  seq?: number;
  layer?: string;
  field?: number[];
  /** Step n of the view (the packet's index), for "step 3 of 7" on the follower's page. */
  step?: number;
}

export interface ParticipantRow {
  id: string;
  name: string;
  bridge: string;
  following: boolean;
  progress: ParticipantProgress;
}

export interface RoomSnapshot {
  participants: ParticipantRow[];
  /** Summed over the room: completed and failed per protocol, reasons merged. */
  totals: Record<string, HandshakeTally>;
  sharing: boolean;
}

/** Page → bridge (participant). */
export type ParticipantMessage =
  | { type: 'hello'; id: string; name: string }
  | { type: 'name'; name: string }
  | { type: 'progress'; progress: ParticipantProgress }
  | { type: 'following'; on: boolean };

/** Page → bridge (teacher). */
export type TeacherMessage = { type: 'share'; source: SharedSource; pointer: Pointer } | { type: 'pointer'; pointer: Pointer } | { type: 'unshare' };

/** Bridge → pages. */
export type RoomServerMessage =
  | { type: 'welcome'; label: string; bridge: string }
  | { type: 'share'; source: SharedSource; pointer: Pointer }
  | { type: 'pointer'; pointer: Pointer }
  | { type: 'unshare' }
  | { type: 'room'; snapshot: RoomSnapshot };

/** Bridge → peer bridge (its local participants) and back (the teacher's share, applied locally). */
export type PeerMessage = { type: 'participants'; rows: ParticipantRow[] } | TeacherMessage;

export const LIMITS = {
  name: 40,
  id: 64,
  protocols: 8,
  reasons: 16,
  reason: 120,
  /** A participant's frames: hello, name, progress. */
  participantFrame: 8 * 1024,
  /** The teacher's frames may carry a session file. */
  teacherFrame: 4 * 1024 * 1024,
  /** Participants one peer bridge may report. */
  peerRows: 2000,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const text = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const ID = /^[A-Za-z0-9_-]{8,64}$/;

/** Printable, trimmed, bounded: a name shown on the teacher's screen. */
export function cleanName(v: unknown): string {
  if (typeof v !== 'string') return '';
  return v.replace(/[\p{C}]/gu, '').trim().slice(0, LIMITS.name);
}

function decodeTally(v: unknown): HandshakeTally | undefined {
  if (!isObj(v) || !count(v.completed) || !count(v.failed) || !isObj(v.reasons)) return undefined;
  const entries = Object.entries(v.reasons);
  if (entries.length > LIMITS.reasons) return undefined;
  const reasons: Record<string, number> = {};
  for (const [k, n] of entries) {
    if (!text(k, LIMITS.reason) || !count(n)) return undefined;
    reasons[k] = n;
  }
  return { completed: v.completed, failed: v.failed, reasons };
}

export function decodeProgress(v: unknown): ParticipantProgress | undefined {
  if (!isObj(v) || !isObj(v.handshakes)) return undefined;
  const entries = Object.entries(v.handshakes);
  if (entries.length > LIMITS.protocols) return undefined;
  const handshakes: Record<string, HandshakeTally> = {};
  for (const [proto, t] of entries) {
    const tally = decodeTally(t);
    if (!/^[a-z0-9-]{1,16}$/.test(proto) || !tally) return undefined;
    handshakes[proto] = tally;
  }
  const out: ParticipantProgress = { handshakes };
  if (v.lesson !== undefined) {
    const l = v.lesson;
    if (!isObj(l) || !text(l.lessonId, 64) || !count(l.stepIndex) || !count(l.stepCount) || typeof l.completed !== 'boolean') return undefined;
    out.lesson = { lessonId: l.lessonId, stepIndex: l.stepIndex, stepCount: l.stepCount, completed: l.completed };
  }
  return out;
}

function decodePointer(v: unknown): Pointer | undefined {
  if (!isObj(v)) return undefined;
  const p: Pointer = {};
  if (v.seq !== undefined) {
    if (!count(v.seq)) return undefined;
    p.seq = v.seq;
  }
  if (v.layer !== undefined) {
    if (!text(v.layer, 64)) return undefined;
    p.layer = v.layer;
  }
  if (v.field !== undefined) {
    if (!Array.isArray(v.field) || v.field.length > 16 || !v.field.every(count)) return undefined;
    p.field = v.field as number[];
  }
  if (v.step !== undefined) {
    if (!count(v.step)) return undefined;
    p.step = v.step;
  }
  return p;
}

function decodeSource(v: unknown): SharedSource | undefined {
  if (!isObj(v)) return undefined;
  if (v.kind === 'replay') return { kind: 'replay' };
  if (v.kind === 'session' && typeof v.id === 'string' && ID.test(v.id) && text(v.json, LIMITS.teacherFrame)) return { kind: 'session', id: v.id, json: v.json };
  return undefined;
}

function parse(raw: string, max: number): Obj | undefined {
  if (raw.length > max) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function decodeParticipantMessage(raw: string): ParticipantMessage | undefined {
  const m = parse(raw, LIMITS.participantFrame);
  if (!m) return undefined;
  switch (m.type) {
    case 'hello':
      return typeof m.id === 'string' && ID.test(m.id) ? { type: 'hello', id: m.id, name: cleanName(m.name) } : undefined;
    case 'name':
      return { type: 'name', name: cleanName(m.name) };
    case 'progress': {
      const progress = decodeProgress(m.progress);
      return progress && { type: 'progress', progress };
    }
    case 'following':
      return typeof m.on === 'boolean' ? { type: 'following', on: m.on } : undefined;
  }
  return undefined;
}

export function decodeTeacherMessage(raw: string): TeacherMessage | undefined {
  return decodeTeacherObject(parse(raw, LIMITS.teacherFrame));
}

function decodeTeacherObject(m: Obj | undefined): TeacherMessage | undefined {
  if (!m) return undefined;
  if (m.type === 'unshare') return { type: 'unshare' };
  const pointer = decodePointer(m.pointer);
  if (!pointer) return undefined;
  if (m.type === 'pointer') return { type: 'pointer', pointer };
  if (m.type !== 'share') return undefined;
  const source = decodeSource(m.source);
  return source && { type: 'share', source, pointer };
}

function decodeRow(v: unknown): ParticipantRow | undefined {
  if (!isObj(v) || typeof v.id !== 'string' || !ID.test(v.id) || !text(v.bridge, 128) || typeof v.following !== 'boolean') return undefined;
  const progress = decodeProgress(v.progress);
  return progress && { id: v.id, name: cleanName(v.name), bridge: v.bridge, following: v.following, progress };
}

export function decodePeerMessage(raw: string): PeerMessage | undefined {
  const m = parse(raw, LIMITS.teacherFrame);
  if (m?.type !== 'participants') return decodeTeacherObject(m);
  if (!Array.isArray(m.rows) || m.rows.length > LIMITS.peerRows) return undefined;
  const rows: ParticipantRow[] = [];
  for (const r of m.rows) {
    const row = decodeRow(r);
    if (!row) return undefined;
    rows.push(row);
  }
  return { type: 'participants', rows };
}

export function decodeServerMessage(raw: string): RoomServerMessage | undefined {
  const m = parse(raw, LIMITS.teacherFrame * 2);
  if (!m) return undefined;
  switch (m.type) {
    case 'welcome':
      return text(m.label, 64) && text(m.bridge, 128) ? { type: 'welcome', label: m.label, bridge: m.bridge } : undefined;
    case 'share':
    case 'pointer':
    case 'unshare':
      return decodeTeacherObject(m);
    case 'room': {
      const s = m.snapshot;
      if (!isObj(s) || !Array.isArray(s.participants) || !isObj(s.totals) || typeof s.sharing !== 'boolean') return undefined;
      const participants: ParticipantRow[] = [];
      for (const r of s.participants) {
        const row = decodeRow(r);
        if (!row) return undefined;
        participants.push(row);
      }
      const totals = decodeProgress({ handshakes: s.totals });
      return totals && { type: 'room', snapshot: { participants, totals: totals.handshakes, sharing: s.sharing } };
    }
  }
  return undefined;
}

/** Adds one tally into another (room totals). */
export function addTally(into: Record<string, HandshakeTally>, from: Record<string, HandshakeTally>): void {
  for (const [proto, t] of Object.entries(from)) {
    const sum = (into[proto] ??= { completed: 0, failed: 0, reasons: {} });
    sum.completed += t.completed;
    sum.failed += t.failed;
    for (const [r, n] of Object.entries(t.reasons)) {
      // The room's totals stay within a participant's bounds: rare reasons beyond them are "other".
      const key = r in sum.reasons || Object.keys(sum.reasons).length < LIMITS.reasons - 1 ? r : 'other';
      sum.reasons[key] = (sum.reasons[key] ?? 0) + n;
    }
  }
}

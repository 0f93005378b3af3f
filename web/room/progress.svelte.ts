// What a participant's page reports to the room: its place in the current lesson (optional,
// from the lessons module) and its handshakes per protocol, completed and failed with reasons,
// counted from the session's own messages. Counts and short reasons only: nothing of a packet.
import type { FromWorker } from '../lib/protocol.ts';
import { LIMITS, type HandshakeTally, type LessonProgress, type ParticipantProgress } from '../../shared/room/messages.ts';

export type { LessonProgress, ParticipantProgress };

/**
 * Where the room reads a page's progress. `lesson` is the lessons module's reactive value (lesson
 * id, step index, step count, completed), or undefined when none is open; `handshakes` comes from
 * HandshakeCounter. Both are read inside an effect, so changes are sent as they happen.
 */
export interface ProgressSource {
  readonly lesson?: () => LessonProgress | undefined;
  readonly handshakes: () => Record<string, HandshakeTally>;
}

/** A stream protocol's host reports each handshake's outcome as a notice "SUCCESS: …", "PARTIAL: …" or "FAILED: …", naming its protocol. */
const STREAM_OUTCOME = /^(SUCCESS|PARTIAL|FAILED): ?(.*)$/;

export class HandshakeCounter {
  tallies = $state.raw<Record<string, HandshakeTally>>({});

  /** Feed it every worker message (Playground.observe). */
  observe = (m: FromWorker): void => {
    if (m.type === 'event') {
      const e = m.event;
      if (e.type === 'session-established') this.count('discv5', true);
      else if (e.type === 'timeout') this.count('discv5', false, `${e.request.type}: no answer (timeout)`);
      else if (e.type === 'failure') this.count('discv5', false, `${e.request.type}: ${e.reason}`);
    } else if (m.type === 'notice') {
      const o = m.protocol ? STREAM_OUTCOME.exec(m.text) : null;
      if (o && m.protocol) this.count(m.protocol, o[1] === 'SUCCESS', o[1] === 'SUCCESS' ? undefined : o[1] === 'PARTIAL' ? `PARTIAL: ${o[2]}` : o[2]);
    }
  };

  count(protocol: string, ok: boolean, reason = 'failed'): void {
    const prev = this.tallies[protocol] ?? { completed: 0, failed: 0, reasons: {} };
    const t = { completed: prev.completed + (ok ? 1 : 0), failed: prev.failed + (ok ? 0 : 1), reasons: { ...prev.reasons } };
    if (!ok) {
      const r = reason.slice(0, LIMITS.reason);
      const key = r in t.reasons || Object.keys(t.reasons).length < LIMITS.reasons - 1 ? r : 'other';
      t.reasons[key] = (t.reasons[key] ?? 0) + 1;
    }
    this.tallies = { ...this.tallies, [protocol]: t };
  }
}

/** The progress message's body from a source, read reactively. */
export function progressOf(source: ProgressSource): ParticipantProgress {
  const lesson = source.lesson?.();
  return { handshakes: source.handshakes(), ...(lesson ? { lesson } : {}) };
}

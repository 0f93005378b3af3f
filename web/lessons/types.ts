// Lessons are data: ordered steps, each with a goal, what to do (the control it names is
// highlighted on the page), a checkpoint the page verifies from what the learner did, a
// one-line why and the spec link. The registry lists each protocol's lessons (LessonEntry);
// their steps load on first use (web/lessons/<protocol>.ts).
import type { RecordView } from '../protocols/types.ts';

/** What the learner has done, as the page sees it: every checkpoint reads only this. */
export interface LessonContext {
  protocol: string;
  view: 'live' | 'replay' | 'imported';
  stepMode: boolean;
  /** The right-hand tab on show. */
  tab: string;
  /** Records of the view on screen, oldest first (held ones included, marked). */
  records: readonly RecordView[];
  /** Records that arrived or were sent since this step began (seq above the step's start). */
  since: readonly RecordView[];
  selected?: RecordView;
  /** The inspector's selected field and the layer it is in. */
  field?: { name: string; layer: string };
  /** The key the learner clicked in the key schedule ("initiator-key", "recipient-key"). */
  pickedKey?: string;
  /** The last action's outcome ("ping" ok, "drop" ok…). */
  result?: { action: string; ok: boolean };
}

/** A checkpoint: reached, or not yet (with what to try, when the learner did something else). */
export type Verdict = true | false | { hint: string };

export interface LessonStep {
  id: string;
  /** What this step is for, one line. */
  goal: string;
  /** What to do, in plain words; names the control that is highlighted. */
  todo: string;
  /** CSS selectors of the control(s) to highlight: the first that matches on the page wins. */
  target: string[];
  check(c: LessonContext): Verdict;
  /** Why it matters, one line. */
  why: string;
  spec: { label: string; link: string };
}

export interface Lesson {
  id: string;
  protocol: string;
  title: string;
  steps: LessonStep[];
}

/** A lesson as the registry lists it; its steps load on first use. */
export interface LessonEntry {
  id: string;
  title: string;
  /** A first-timer's time, in minutes. */
  minutes: number;
  /** Offered on a first visit. */
  first?: boolean;
  load(): Promise<Lesson>;
}

/** The newest record since the step began that matches. */
export const latest = (rs: readonly RecordView[], f: (r: RecordView) => boolean): RecordView | undefined => [...rs].reverse().find(f);

// The lesson the learner is following: which step, whether its checkpoint is reached (read from
// what the learner did, via the page's LessonContext), and progress kept in localStorage.
// `progress` is a small read-only value other parts of the page can send on (workshop mode).
import type { LessonProgress } from '../../shared/room/messages.ts';
import type { StorageLike } from '../lib/identity.ts';
import type { Lesson, LessonContext, LessonEntry, Verdict } from '../lessons/types.ts';

/** Where the learner is, for a teacher's view: small, serialisable, read-only. */
/** What the page sends on (a workshop room): lesson id, step index (0-based), step count, completed. */
export type { LessonProgress };

const KEY = 'handshake-lab.lessons';

interface Stored {
  /** Per lesson: the step reached and whether it was finished. */
  lessons: Record<string, { step: number; completed: boolean }>;
  /** The first-visit offer was answered (started or dismissed). */
  offered?: boolean;
}

export class Lessons {
  /** The lesson being followed (its steps loaded). */
  lesson = $state.raw<Lesson | undefined>();
  step = $state(0);
  /** The current step's checkpoint was reached (kept once reached, until the step changes). */
  reached = $state(false);
  completed = $state(false);
  /** Show the lesson list. */
  listOpen = $state(false);
  private stored = $state<Stored>({ lessons: {} });
  /** The newest record's seq when the step began: a checkpoint counts only what came after. */
  private startSeq = 0;

  constructor(
    private readonly storage: StorageLike | undefined,
    /** What the learner has done so far (the page's state, read at each check). */
    private readonly context: () => Omit<LessonContext, 'since'>,
  ) {
    try {
      const s = JSON.parse(storage?.getItem(KEY) ?? 'null') as Stored | null;
      if (s && typeof s === 'object' && s.lessons && typeof s.lessons === 'object') this.stored = s;
    } catch {
      // unreadable progress: start afresh
    }
  }

  /** Offer the first lesson: nothing stored yet (a first visit). */
  get firstVisit(): boolean {
    return !this.stored.offered && Object.keys(this.stored.lessons).length === 0;
  }

  readonly progress: LessonProgress | undefined = $derived(
    this.lesson ? { lessonId: this.lesson.id, stepIndex: this.step, stepCount: this.lesson.steps.length, completed: this.completed } : undefined,
  );

  /** The current step's checkpoint as of now. */
  readonly verdict: Verdict = $derived.by(() => {
    const l = this.lesson;
    if (!l) return false;
    const c = this.context();
    return l.steps[this.step].check({ ...c, since: c.records.filter((r) => r.seq > this.startSeq) });
  });

  saved(id: string): { step: number; completed: boolean } | undefined {
    return this.stored.lessons[id];
  }

  async start(entry: LessonEntry, fromStart = false): Promise<void> {
    const lesson = await entry.load();
    const s = this.stored.lessons[lesson.id];
    this.lesson = lesson;
    this.completed = !fromStart && !!s?.completed;
    this.go(fromStart || !s || s.completed ? 0 : Math.min(s.step, lesson.steps.length - 1));
    this.listOpen = false;
    this.stored.offered = true;
    this.save();
  }

  /** Checkpoint reached: latch it, so looking elsewhere afterwards does not undo it. */
  markReached(): void {
    if (this.reached) return;
    this.reached = true;
  }

  next(): void {
    const l = this.lesson;
    if (!l || !this.reached) return;
    if (this.step < l.steps.length - 1) this.go(this.step + 1);
    else this.completed = true;
    this.save();
  }

  back(): void {
    if (this.step > 0) this.go(this.step - 1);
    this.save();
  }

  close(): void {
    this.lesson = undefined;
  }

  dismissOffer(): void {
    this.stored.offered = true;
    this.save();
  }

  private go(step: number): void {
    this.step = step;
    this.reached = false;
    this.startSeq = this.context().records.reduce((m, r) => Math.max(m, r.seq), 0);
  }

  private save(): void {
    if (this.lesson) this.stored.lessons[this.lesson.id] = { step: this.step, completed: this.completed };
    try {
      this.storage?.setItem(KEY, JSON.stringify(this.stored));
    } catch {
      // storage refused: progress lasts for this page only
    }
  }
}

// How a session's frames are let in. Each frame costs one token of the session's packet
// budget, and a session handles at most TURN_FRAMES frames per event-loop turn. Past either,
// its WebSocket is paused (the page's further frames wait in its own TCP buffers) and the
// frames already read with the last socket read wait here, in order, until the turn is over
// or the budget has a slice back. So a flood is read no faster than its budget, and no session
// holds the event loop for long: the other sessions' frames and datagrams come in between.
import type { Budget } from './budget.ts';

/** Frames one session may handle in one turn of the event loop before it yields. */
export const TURN_FRAMES = 64;
/** A session held for its budget is read again once this share of a second's budget is back. */
const RELEASE_SHARE = 0.05;
/** Held again within this long of being read again: the same stretch of flooding. */
const STREAK_GAP_MS = 1000;

// One counter for every session: it moves once per event-loop turn in which frames came in.
let turn = 0;
let turnScheduled = false;
function currentTurn(): number {
  if (!turnScheduled) {
    turnScheduled = true;
    setImmediate(() => {
      turn++;
      turnScheduled = false;
    });
  }
  return turn;
}

export interface ReadGateHooks {
  /** Handles one frame (decode, dispatch). */
  handle(frame: Buffer): void;
  /** Stop / start reading the WebSocket. */
  pause(): void;
  resume(): void;
  /** Held for the budget again and again for closeAfterMs: close the session. */
  overBudget(): void;
}

export class ReadGate {
  /** Frames read while paused; allocated on the first pause (most sessions never have one). */
  private queue: (Buffer | undefined)[] | undefined;
  private head = 0;
  private paused = false;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private turnSeen = -1;
  private turnCount = 0;
  private lastRelease = -Infinity;
  private streakStart: number | undefined;
  /** Times the session was paused for its budget. */
  holds = 0;

  constructor(
    private readonly budget: Budget,
    private readonly o: { rate: number; closeAfterMs: number },
    private readonly hooks: ReadGateHooks,
    private readonly now: () => number,
  ) {}

  /** A frame read from the WebSocket: handled now, or queued behind the ones waiting. */
  push(frame: Buffer): void {
    if (this.closed) return;
    if (!this.paused && this.admit()) return this.hooks.handle(frame);
    // The rest of a socket read that came in after the pause; none once admit() closed the session.
    if (!this.closed) this.queue!.push(frame);
  }

  /** Is the WebSocket paused by this gate? */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Timers held (for the session's stats). */
  get timers(): number {
    return (this.timer ? 1 : 0) + (this.immediate ? 1 : 0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    this.queue = undefined;
  }

  /** May one more frame be handled now? If not, pauses and schedules the drain. */
  private admit(): boolean {
    const t = currentTurn();
    if (t !== this.turnSeen) {
      this.turnSeen = t;
      this.turnCount = 0;
    }
    if (this.turnCount >= TURN_FRAMES) {
      this.pause();
      this.immediate = setImmediate(drain, this);
      return false;
    }
    const now = this.now();
    if (!this.budget.take(1, now)) {
      this.holdForBudget(now);
      return false;
    }
    this.turnCount++;
    return true;
  }

  private holdForBudget(now: number): void {
    // A new stretch unless this hold follows the last one without a quiet second in between.
    if (this.streakStart === undefined || (this.lastRelease > this.streakStart && now - this.lastRelease > STREAK_GAP_MS)) this.streakStart = now;
    this.pause();
    if (now - this.streakStart >= this.o.closeAfterMs) {
      this.hooks.overBudget();
      return this.close();
    }
    this.holds++;
    const slice = Math.min(this.o.rate, Math.max(1, Math.ceil(this.o.rate * RELEASE_SHARE)));
    this.timer = setTimeout(drain, Math.max(1, this.budget.msUntil(slice, now)), this);
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.queue ??= [];
    this.hooks.pause();
  }

  /** Handles what waits, as far as the turn and the budget allow; reads again once all is done. */
  drain(): void {
    this.timer = this.immediate = undefined;
    const queue = this.queue;
    if (this.closed || !queue) return;
    while (this.head < queue.length) {
      if (this.closed || !this.admit()) return; // admit() scheduled the next drain
      const frame = queue[this.head]!;
      queue[this.head++] = undefined;
      this.hooks.handle(frame);
    }
    if (this.closed) return;
    queue.length = 0;
    this.head = 0;
    this.paused = false;
    this.lastRelease = this.now();
    this.hooks.resume();
  }
}

const drain = (gate: ReadGate) => gate.drain();

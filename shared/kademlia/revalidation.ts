// When to check that table entries are still alive (discv5-theory.md, "Table Maintenance In
// Practice"): asynchronously, one PING at a time per kind of entry, so the traffic stays bounded
// however large the table. Entries not verified yet (they contacted us, or replaced a dead one)
// are checked soon and one after another; verified ones again once their last answer is old.
// Sans-IO: the caller asks when the next check is due and which entries to ping now, pings them
// and reports each outcome to the table. go-ethereum's table runs two lists the same way ("fast"
// for new entries, "slow" for verified ones); this picks the longest-waiting entry, not a random one.
import { toHex } from '../bytes.ts';
import type { EntryState, RoutingTable } from './table.ts';

export interface RevalidationOptions {
  /** An entry not verified yet is checked this long after it entered; such checks are this far apart. */
  newEntryIntervalMs?: number;
  /** Checks of verified entries are at least this far apart. */
  verifiedIntervalMs?: number;
  /** A verified entry is checked again once its last answer is this old. */
  recheckAfterMs?: number;
}

export const REVALIDATION_DEFAULTS: Required<RevalidationOptions> = {
  newEntryIntervalMs: 1000,
  verifiedIntervalMs: 3000,
  recheckAfterMs: 30_000,
};

export interface LivenessCheck<T> {
  entry: T;
  /** Why now, in plain words (for the timeline and logs). */
  reason: string;
}

type Candidate<T> = { state: EntryState<T>; at: number };

export class Revalidation<T extends { nodeId: Uint8Array }> {
  private readonly o: Required<RevalidationOptions>;
  /** The earliest time the next check of each kind may start. */
  private nextNew = -Infinity;
  private nextVerified = -Infinity;
  private cached: { key: string; due: number | undefined } | undefined;

  constructor(options: RevalidationOptions = {}) {
    this.o = { ...REVALIDATION_DEFAULTS, ...options };
    for (const [name, v] of Object.entries(this.o)) if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a number >= 0`);
  }

  /** When tick() should next ask for checks; undefined when the table has nothing to check. */
  nextDeadline(table: RoutingTable<T>, inFlight: ReadonlySet<string>): number | undefined {
    // The driver asks after every packet: scan the table only when it (or what is in flight) changed.
    const key = `${table.version}/${inFlight.size}`;
    if (this.cached?.key === key) return this.cached.due;
    const { fresh, verified } = this.candidates(table, inFlight);
    const times = [fresh?.at, verified?.at].filter((t): t is number => t !== undefined);
    const due = times.length ? Math.min(...times) : undefined;
    this.cached = { key, due };
    return due;
  }

  /** The entries to ping now: at most one not yet verified and one verified. */
  due(table: RoutingTable<T>, inFlight: ReadonlySet<string>, now: number): LivenessCheck<T>[] {
    const { fresh, verified } = this.candidates(table, inFlight);
    const out: LivenessCheck<T>[] = [];
    if (fresh && fresh.at <= now) {
      out.push({ entry: fresh.state.entry, reason: 'it entered the table without answering us yet: is it alive at its address?' });
      this.nextNew = now + this.o.newEntryIntervalMs;
    }
    if (verified && verified.at <= now) {
      out.push({ entry: verified.state.entry, reason: `its last answer is ${Math.round((now - verified.state.checkedAt) / 1000)} s old: is it still alive?` });
      this.nextVerified = now + this.o.verifiedIntervalMs;
    }
    if (out.length) this.cached = undefined;
    return out;
  }

  /** The longest-waiting entry of each kind, with the time its check is due. */
  private candidates(table: RoutingTable<T>, inFlight: ReadonlySet<string>): { fresh?: Candidate<T>; verified?: Candidate<T> } {
    let fresh: EntryState<T> | undefined;
    let verified: EntryState<T> | undefined;
    for (const s of table.states()) {
      if (inFlight.has(toHex(s.entry.nodeId))) continue;
      if (!s.verified) {
        if (!fresh || s.checkedAt < fresh.checkedAt) fresh = s;
      } else if (!verified || s.checkedAt < verified.checkedAt) verified = s;
    }
    return {
      ...(fresh ? { fresh: { state: fresh, at: Math.max(this.nextNew, fresh.checkedAt + this.o.newEntryIntervalMs) } } : {}),
      ...(verified ? { verified: { state: verified, at: Math.max(this.nextVerified, verified.checkedAt + this.o.recheckAfterMs) } } : {}),
    };
  }
}

// The Kademlia node table (discv5-theory.md "Node Table"; discv4 keeps the same): one k-bucket per
// log-distance 1..256 from the local id, entries ordered least- to most-recently seen, plus a
// bounded replacement cache per bucket. Sans-IO: liveness checks are the caller's job; the table
// says whom to ping (the least-recently-seen entry of a full bucket), keeps whether each entry's
// liveness was verified (it answered a request of ours) and takes the outcome of each check.
import { equalBytes } from '../bytes.ts';
import { compareDistance, logDistance } from './distance.ts';

export interface TableOptions {
  /** Entries per bucket (the spec's k). */
  k?: number;
  /** Replacement-cache size per bucket; defaults to k. */
  replacements?: number;
}

export const TABLE_DEFAULTS = { k: 16 } as const;

/** Number of buckets: one per possible non-zero log-distance of 256-bit ids. */
export const BUCKET_COUNT = 256;

export type InsertResult<T> =
  | { status: 'added' | 'updated'; bucket: number }
  | { status: 'full'; bucket: number; /** least-recently-seen: ping it before evicting */ pingCandidate: T }
  | { status: 'self' | 'rejected' };

interface Slot<T> {
  entry: T;
  lastSeen: number;
  /** It answered a request of ours (discv5-theory.md: only such nodes are relayed in NODES). */
  verified: boolean;
  /** When it last answered us (verified entries), or entered the table (unverified ones). */
  checkedAt: number;
}

/** An entry with its liveness state, for the revalidation schedule and for display. */
export interface EntryState<T> {
  entry: T;
  lastSeen: number;
  verified: boolean;
  checkedAt: number;
}

interface Bucket<T> {
  /** Least-recently seen first, most-recently seen last. */
  entries: Slot<T>[];
  /** Oldest first, newest last. */
  replacements: Slot<T>[];
}

const indexOf = <T extends { nodeId: Uint8Array }>(slots: Slot<T>[], id: Uint8Array): number =>
  slots.findIndex((s) => equalBytes(s.entry.nodeId, id));

function checkCount(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}`);
  return value;
}

export class RoutingTable<T extends { nodeId: Uint8Array }> {
  readonly k: number;
  readonly maxReplacements: number;
  private readonly local: Uint8Array;
  private readonly table: Bucket<T>[];
  private count = 0;
  /** Changes on every change to the entries (callers cache what they compute from them). */
  private changes = 0;

  constructor(localId: Uint8Array, options: TableOptions = {}) {
    this.local = localId.slice();
    this.k = checkCount('k', options.k ?? TABLE_DEFAULTS.k, 1);
    this.maxReplacements = checkCount('replacements', options.replacements ?? this.k, 0);
    this.table = Array.from({ length: BUCKET_COUNT }, () => ({ entries: [], replacements: [] }));
  }

  get localId(): Uint8Array {
    return this.local.slice();
  }

  get size(): number {
    return this.count;
  }

  get version(): number {
    return this.changes;
  }

  /**
   * Called on verified contact (a node completed a handshake at the address in its record, or
   * answered us: `answered`, which also verifies its liveness). Moves it to most-recently-seen.
   */
  seen(entry: T, now: number, answered = false): InsertResult<T> {
    const id = entry.nodeId;
    if (id.length !== this.local.length) return { status: 'rejected' };
    const bucket = logDistance(this.local, id);
    if (bucket === 0) return { status: 'self' };
    const b = this.table[bucket - 1];
    this.changes++;

    const at = indexOf(b.entries, id);
    if (at >= 0) {
      // Known: take the (possibly newer) record and move it to the most-recent end.
      const [old] = b.entries.splice(at, 1);
      b.entries.push({ entry, lastSeen: now, verified: old.verified || answered, checkedAt: answered ? now : old.checkedAt });
      return { status: 'updated', bucket };
    }
    const slot = { entry, lastSeen: now, verified: answered, checkedAt: now };
    if (b.entries.length < this.k) {
      const r = indexOf(b.replacements, id);
      if (r >= 0) b.replacements.splice(r, 1);
      b.entries.push(slot);
      this.count++;
      return { status: 'added', bucket };
    }
    // Full: never evict on contact alone (that would let newcomers flush live nodes); cache the
    // newcomer and ask the caller to revalidate the least-recently-seen entry.
    this.cacheReplacement(b, slot);
    return { status: 'full', bucket, pingCandidate: b.entries[0].entry };
  }

  /** Outcome of a liveness check (a pingCandidate's, or revalidation): alive → verified, stays (becomes
   *  most recent), replacement stays cached; dead → removed and the newest replacement takes its place
   *  (not verified: it is checked in turn). Returns the node that entered, if any. */
  pingResult(nodeId: Uint8Array, alive: boolean, now: number): T | undefined {
    const b = this.bucketOf(nodeId);
    if (!b) return undefined;
    this.changes++;
    const at = indexOf(b.entries, nodeId);
    if (at < 0) {
      // A cached replacement that turned out dead is no use as a replacement.
      if (!alive) this.dropReplacement(b, nodeId);
      return undefined;
    }
    const [slot] = b.entries.splice(at, 1);
    if (alive) {
      slot.lastSeen = now;
      slot.verified = true;
      slot.checkedAt = now;
      b.entries.push(slot);
      return undefined;
    }
    this.count--;
    return this.promote(b, now);
  }

  /** Removes a node (entry or replacement). A freed entry slot is filled from the replacement cache. */
  remove(nodeId: Uint8Array, now = 0): boolean {
    const b = this.bucketOf(nodeId);
    if (!b) return false;
    this.changes++;
    const at = indexOf(b.entries, nodeId);
    if (at >= 0) {
      b.entries.splice(at, 1);
      this.count--;
      this.promote(b, now);
      return true;
    }
    return this.dropReplacement(b, nodeId);
  }

  get(nodeId: Uint8Array): T | undefined {
    const b = this.bucketOf(nodeId);
    if (!b) return undefined;
    const at = indexOf(b.entries, nodeId);
    return at >= 0 ? b.entries[at].entry : undefined;
  }

  /** When the node was last seen (ms, the caller's clock); undefined if not in the table. */
  lastSeen(nodeId: Uint8Array): number | undefined {
    const b = this.bucketOf(nodeId);
    if (!b) return undefined;
    const at = indexOf(b.entries, nodeId);
    return at >= 0 ? b.entries[at].lastSeen : undefined;
  }

  /** Whether the node is in the table with its liveness verified (false: absent or not yet checked). */
  isVerified(nodeId: Uint8Array): boolean {
    const b = this.bucketOf(nodeId);
    const at = b ? indexOf(b.entries, nodeId) : -1;
    return at >= 0 && b!.entries[at].verified;
  }

  /** Nodes at log-distance d from the local id (1..256); d = 0 is the local node and is the caller's job. */
  atDistance(d: number): T[] {
    if (!Number.isInteger(d) || d < 1 || d > BUCKET_COUNT) return [];
    return this.table[d - 1].entries.map((s) => s.entry);
  }

  /** The entries at log-distance d whose liveness is verified: the ones a FINDNODE answer may relay. */
  verifiedAtDistance(d: number): T[] {
    if (!Number.isInteger(d) || d < 1 || d > BUCKET_COUNT) return [];
    return this.table[d - 1].entries.filter((s) => s.verified).map((s) => s.entry);
  }

  /** Every entry with its liveness state (bucket by bucket; copies). */
  *states(): IterableIterator<EntryState<T>> {
    for (const b of this.table) for (const s of b.entries) yield { entry: s.entry, lastSeen: s.lastSeen, verified: s.verified, checkedAt: s.checkedAt };
  }

  /** The `count` entries closest to `target` by XOR distance, closest first. */
  closest(target: Uint8Array, count: number): T[] {
    if (count <= 0 || target.length !== this.local.length) return [];
    const all: T[] = [];
    for (const b of this.table) for (const s of b.entries) all.push(s.entry);
    all.sort((a, b) => compareDistance(target, a.nodeId, b.nodeId));
    return all.slice(0, count);
  }

  /** Non-empty buckets, nearest first, for display. Entries least- to most-recently seen. */
  buckets(): { distance: number; entries: T[]; replacements: T[] }[] {
    const out: { distance: number; entries: T[]; replacements: T[] }[] = [];
    this.table.forEach((b, i) => {
      if (b.entries.length === 0 && b.replacements.length === 0) return;
      out.push({
        distance: i + 1,
        entries: b.entries.map((s) => s.entry),
        replacements: b.replacements.map((s) => s.entry),
      });
    });
    return out;
  }

  private bucketOf(nodeId: Uint8Array): Bucket<T> | undefined {
    if (nodeId.length !== this.local.length) return undefined;
    const d = logDistance(this.local, nodeId);
    return d === 0 ? undefined : this.table[d - 1];
  }

  private cacheReplacement(b: Bucket<T>, slot: Slot<T>): void {
    if (this.maxReplacements === 0) return;
    const r = indexOf(b.replacements, slot.entry.nodeId);
    if (r >= 0) b.replacements.splice(r, 1);
    b.replacements.push(slot);
    if (b.replacements.length > this.maxReplacements) b.replacements.shift();
  }

  private dropReplacement(b: Bucket<T>, nodeId: Uint8Array): boolean {
    const r = indexOf(b.replacements, nodeId);
    if (r < 0) return false;
    b.replacements.splice(r, 1);
    return true;
  }

  /** Moves the newest replacement into the entries, keeping them ordered by lastSeen. It is not
   *  verified (it may have left since it was cached): its first check is due from `now`. */
  private promote(b: Bucket<T>, now: number): T | undefined {
    const slot = b.replacements.pop();
    if (!slot) return undefined;
    slot.verified = false;
    slot.checkedAt = now;
    let at = b.entries.length;
    while (at > 0 && b.entries[at - 1].lastSeen > slot.lastSeen) at--;
    b.entries.splice(at, 0, slot);
    this.count++;
    return slot.entry;
  }
}

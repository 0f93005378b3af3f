// Iterative (recursive) Kademlia lookup (discv5-theory.md "Lookup"), as a sans-IO state machine.
// The caller sends the FINDNODE queries `next()` hands out (discv5 asks the log-distances each
// query carries; discv4 asks for the target and ignores them), and reports each outcome with
// `onNodes` (the whole, already validated answer of one query) or `onFailure` (timeout, error).
// Of the k closest non-failed nodes heard of, up to α unqueried ones are asked at a time; the
// lookup is done once those k have all answered and nothing is in flight.
import { toHex } from '../bytes.ts';
import { compareDistance, logDistance } from './distance.ts';

export interface LookupOptions {
  /** How many closest nodes the lookup finds (the spec's k). */
  k?: number;
  /** Queries in flight at once (the spec's α). */
  alpha?: number;
}

export const LOOKUP_DEFAULTS = { k: 16, alpha: 3 } as const;

/** Distances asked per FINDNODE (geth's lookupRequestLimit). */
export const LOOKUP_DISTANCES = 3;

export type LookupEvent<T> =
  | { type: 'queried'; node: T; distances: number[] }
  | { type: 'answered'; node: T; found: number; newNodes: T[] }
  | { type: 'failed'; node: T; reason: string }
  | { type: 'done'; closest: T[]; queried: number };

type State = 'new' | 'in-flight' | 'answered' | 'failed';

interface Candidate<T> {
  node: T;
  state: State;
}

/**
 * The log-distances to ask `node` for when looking for `target`: the distance d between them,
 * then d+1, d-1, d+2, … within 1..256 until there are three. The nodes the target's neighbours
 * are likeliest to sit in, from `node`'s point of view. d = 0 (the node is the target) gives [1, 2, 3].
 */
export function lookupDistances(target: Uint8Array, nodeId: Uint8Array): number[] {
  const d = logDistance(target, nodeId);
  const out = d > 0 ? [d] : [];
  for (let step = 1; out.length < LOOKUP_DISTANCES && step <= 256; step++) {
    if (d + step <= 256) out.push(d + step);
    if (out.length < LOOKUP_DISTANCES && d - step >= 1) out.push(d - step);
  }
  return out;
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1`);
  return value;
}

export class Lookup<T extends { nodeId: Uint8Array }> {
  readonly target: Uint8Array;
  readonly k: number;
  readonly alpha: number;
  private readonly local: string;
  private readonly byId = new Map<string, Candidate<T>>();
  /** Every candidate except failed ones, closest to the target first. */
  private ranked: Candidate<T>[] = [];
  private inFlight = 0;
  private queriedCount = 0;
  private finished = false;
  private doneReported = false;

  constructor(target: Uint8Array, localId: Uint8Array, seeds: T[], options: LookupOptions = {}) {
    this.target = target.slice();
    this.local = toHex(localId);
    this.k = checkCount('k', options.k ?? LOOKUP_DEFAULTS.k);
    this.alpha = checkCount('alpha', options.alpha ?? LOOKUP_DEFAULTS.alpha);
    for (const s of seeds) this.learn(s);
    this.finished = this.converged();
  }

  /** True once the k closest known nodes have all answered (or there is no one left to ask). */
  get done(): boolean {
    return this.finished;
  }

  /** Queries sent and not yet answered or failed. */
  get pending(): number {
    return this.inFlight;
  }

  /** Next FINDNODE queries to issue now (at most alpha in flight); also returns events ('queried'). */
  next(): { queries: { node: T; distances: number[] }[]; events: LookupEvent<T>[] } {
    const queries: { node: T; distances: number[] }[] = [];
    const events: LookupEvent<T>[] = [];
    if (this.finished) {
      events.push(...this.reportDone());
      return { queries, events };
    }
    const window = Math.min(this.k, this.ranked.length);
    for (let i = 0; i < window && this.inFlight < this.alpha; i++) {
      const c = this.ranked[i];
      if (c.state !== 'new') continue;
      c.state = 'in-flight';
      this.inFlight++;
      this.queriedCount++;
      const distances = lookupDistances(this.target, c.node.nodeId);
      queries.push({ node: c.node, distances });
      events.push({ type: 'queried', node: c.node, distances });
    }
    return { queries, events };
  }

  /**
   * The answer of a node we queried. Records are deduplicated, the local node is ignored, and only
   * nodes not seen before are added. A late answer from a node that already failed is still taken
   * (the spec drops slow nodes "until and unless they do respond"); answers from nodes not queried,
   * a second answer, or anything after done are ignored.
   */
  onNodes(from: Uint8Array, nodes: T[]): LookupEvent<T>[] {
    if (this.doneReported) return [];
    const c = this.byId.get(toHex(from));
    if (!c || (c.state !== 'in-flight' && c.state !== 'failed')) return [];
    if (c.state === 'in-flight') this.inFlight--;
    else this.rank(c); // back into consideration
    c.state = 'answered';

    const distinct = new Set<string>();
    const newNodes: T[] = [];
    for (const n of nodes) {
      const id = toHex(n.nodeId);
      if (id === this.local || distinct.has(id) || n.nodeId.length !== this.target.length) continue;
      distinct.add(id);
      if (this.learn(n)) newNodes.push(n);
    }
    const events: LookupEvent<T>[] = [{ type: 'answered', node: c.node, found: distinct.size, newNodes }];
    return this.settle(events);
  }

  /** A query that timed out or errored: the node leaves consideration. */
  onFailure(from: Uint8Array, reason: string): LookupEvent<T>[] {
    if (this.doneReported) return [];
    const c = this.byId.get(toHex(from));
    if (!c || c.state !== 'in-flight') return [];
    this.inFlight--;
    c.state = 'failed';
    this.ranked.splice(this.ranked.indexOf(c), 1);
    return this.settle([{ type: 'failed', node: c.node, reason }]);
  }

  /** The k closest nodes known that have not failed, closest first (all answered once done). */
  closest(): T[] {
    return this.ranked.slice(0, this.k).map((c) => c.node);
  }

  /** Adds a node not seen before; false if it is known (in any state) or is the local node. */
  private learn(node: T): boolean {
    const id = toHex(node.nodeId);
    if (id === this.local || this.byId.has(id) || node.nodeId.length !== this.target.length) return false;
    const c: Candidate<T> = { node, state: 'new' };
    this.byId.set(id, c);
    this.rank(c);
    return true;
  }

  private rank(c: Candidate<T>): void {
    // Binary search for the insertion point keeps `ranked` sorted without re-sorting.
    let lo = 0;
    let hi = this.ranked.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareDistance(this.target, this.ranked[mid].node.nodeId, c.node.nodeId) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.ranked.splice(lo, 0, c);
  }

  private converged(): boolean {
    if (this.inFlight > 0) return false;
    const window = Math.min(this.k, this.ranked.length);
    for (let i = 0; i < window; i++) if (this.ranked[i].state !== 'answered') return false;
    return true;
  }

  private settle(events: LookupEvent<T>[]): LookupEvent<T>[] {
    if (!this.finished && this.converged()) this.finished = true;
    if (this.finished) events.push(...this.reportDone());
    return events;
  }

  private reportDone(): LookupEvent<T>[] {
    if (this.doneReported) return [];
    this.doneReported = true;
    return [{ type: 'done', closest: this.closest(), queried: this.queriedCount }];
  }
}

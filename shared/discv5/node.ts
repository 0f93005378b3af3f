// The discv5 behaviour layer, sans-IO like the engine it wraps: a routing table fed by
// verified contact, liveness checks of its entries (revalidation, ping-before-evict), FINDNODE
// answers from verified entries only, iterative lookups, ENR refresh and external-address votes.
import { equalBytes, toHex } from '../bytes.ts';
import { logDistance } from '../kademlia/distance.ts';
import { updateEnr, udpEndpoint, udpFields, type Enr } from '../enr/index.ts';
import type { TraceRecord } from '../trace.ts';
import { endpointKey, type Endpoint } from '../transport.ts';
import { AddressVotes, type AddressVotesOptions } from '../kademlia/address-votes.ts';
import { contactFromEnr, Discv5Engine, FINDNODE_RESULT_LIMIT, type Command, type EngineConfig, type EngineEvent, type NodeContact } from './engine.ts';
import { Lookup, type LookupEvent } from '../kademlia/lookup.ts';
import { Revalidation, type RevalidationOptions } from '../kademlia/revalidation.ts';
import { RoutingTable } from '../kademlia/table.ts';

export interface NodeConfig extends EngineConfig {
  k?: number;
  alpha?: number;
  /** Move the local ENR to the address a clear majority of PONGs report. Off for a fixed address. */
  autoAddress?: boolean;
  addressVotes?: AddressVotesOptions;
  /** How often table entries are pinged to check they are alive. */
  revalidation?: RevalidationOptions;
}

export type NodeCommand =
  | Command
  /** Iterative lookup from the table's closest nodes plus `seeds` (e.g. a bootstrap node). */
  | { type: 'lookup'; target: Uint8Array; lookupId?: number; seeds?: Enr[] }
  /** Put a node we have not verified yet in contact: ping it (it enters the table when it answers). */
  | { type: 'add-node'; enr: Enr };

export type NodeEvent =
  | EngineEvent
  /** 'verified': it answered a liveness check (or a request), so FINDNODE answers may relay it. */
  | { type: 'table'; change: 'added' | 'updated' | 'removed' | 'verified'; enr: Enr; bucket: number }
  /** A liveness check of a table entry starts (a PING; its outcome comes as a 'table' event). */
  | { type: 'liveness-check'; enr: Enr; reason: string }
  | { type: 'lookup'; lookupId: number; target: Uint8Array; event: LookupEvent<Enr> }
  | { type: 'enr-updated'; enr: Enr; reason: string };

export interface NodeOutput {
  send: { to: Endpoint; bytes: Uint8Array }[];
  events: NodeEvent[];
  trace: TraceRecord[];
}

interface LookupQuery {
  nodeId: Uint8Array;
  /** Distances asked of this node whose answer is complete (or still coming). */
  asked: Set<number>;
  /** Records from its answers so far: the lookup hears them as one answer when we are done with the node. */
  collected: Enr[];
  /** FINDNODEs sent to it beyond the first (to widen or complete its answer). */
  extras: number;
}

/** At most this many FINDNODEs more per queried node; each costs one round trip in a session. */
const LOOKUP_EXTRA_REQUESTS = 3;
/** Below the target's distance, buckets this far down are as good as empty in any network. */
const LOOKUP_WIDEN_BELOW = 16;

interface LookupRun {
  id: number;
  lookup: Lookup<Enr>;
  /** request-id (hex) → the query it belongs to and the distances it asked, for every FINDNODE in flight. */
  inFlight: Map<string, { query: LookupQuery; distances: number[] }>;
}

export class Discv5Node {
  readonly engine: Discv5Engine;
  readonly table: RoutingTable<Enr>;
  private readonly privateKey: Uint8Array;
  private readonly votes: AddressVotes;
  private readonly autoAddress: boolean;
  private readonly alpha: number;
  private readonly k: number;
  private readonly lookups = new Map<number, LookupRun>();
  private readonly lookupByRequest = new Map<string, LookupRun>();
  /** Liveness checks in flight (revalidation, and full buckets' least-recently-seen nodes): request-id → node id. */
  private readonly livenessPings = new Map<string, Uint8Array>();
  /** Node ids (hex) with a liveness check in flight. */
  private readonly checking = new Set<string>();
  private readonly revalidation: Revalidation<Enr>;
  /** FINDNODE [0] sent to fetch a newer record: request-id → node id. */
  private readonly recordFetches = new Map<string, Uint8Array>();
  private nextLookupId = 1;

  constructor(config: NodeConfig) {
    this.engine = new Discv5Engine(config);
    this.table = new RoutingTable<Enr>(this.engine.localId, { k: config.k ?? 16 });
    // discv5-theory.md: FINDNODE answers must not relay nodes whose liveness was not verified.
    this.engine.nodesAtDistances = (distances) => distances.flatMap((d) => this.table.verifiedAtDistance(d));
    this.revalidation = new Revalidation(config.revalidation);
    this.privateKey = config.privateKey;
    this.votes = new AddressVotes(config.addressVotes);
    this.autoAddress = config.autoAddress ?? false;
    this.alpha = config.alpha ?? 3;
    this.k = config.k ?? 16;
  }

  get localId(): Uint8Array {
    return this.engine.localId;
  }

  get enr(): Enr {
    return this.engine.enr;
  }

  nextDeadline(): number | undefined {
    const engine = this.engine.nextDeadline();
    const checks = this.revalidation.nextDeadline(this.table, this.checking);
    return engine === undefined ? checks : checks === undefined ? engine : Math.min(engine, checks);
  }

  receive(bytes: Uint8Array, from: Endpoint, now: number): NodeOutput {
    return this.react(this.engine.receive(bytes, from, now), now);
  }

  tick(now: number): NodeOutput {
    const out = this.react(this.engine.tick(now), now);
    for (const check of this.revalidation.due(this.table, this.checking, now)) {
      const more = this.react(this.checkLiveness(check.entry, check.reason, now), now);
      out.send.push(...more.send);
      out.events.push(...more.events);
      out.trace.push(...more.trace);
    }
    return out;
  }

  command(cmd: NodeCommand, now: number): NodeOutput {
    if (cmd.type === 'lookup') return this.startLookup(cmd.target, now, cmd.lookupId, cmd.seeds);
    if (cmd.type === 'add-node') {
      const to = contactFromEnr(cmd.enr);
      if (!to) return { send: [], events: [], trace: [] };
      return this.react(this.engine.command({ type: 'ping', to }, now), now);
    }
    return this.react(this.engine.command(cmd, now), now);
  }

  /** A new local record (e.g. the user changed the address): bumps seq. */
  updateLocalEnr(changes: Parameters<typeof updateEnr>[2], reason: string): NodeEvent {
    const enr = updateEnr(this.engine.enr, this.privateKey, changes);
    this.engine.setLocalEnr(enr);
    return { type: 'enr-updated', enr, reason };
  }

  // ---------------------------------------------------------------- reactions

  /** Feeds engine events through the behaviour; anything that sends more is merged in. */
  private react(first: { send: NodeOutput['send']; events: NodeEvent[]; trace: TraceRecord[] }, now: number): NodeOutput {
    const out: NodeOutput = { send: [...first.send], events: [], trace: [...first.trace] };
    const queue: NodeEvent[] = [...first.events];
    // Bounded: each reaction only answers events already produced.
    for (let i = 0; i < queue.length && i < 10_000; i++) {
      const e = queue[i];
      out.events.push(e);
      const more = this.onEvent(e, now);
      for (const o of more) {
        out.send.push(...o.send);
        out.trace.push(...o.trace);
        queue.push(...o.events);
      }
    }
    return out;
  }

  private onEvent(e: NodeEvent, now: number): NodeOutput[] {
    const more: NodeOutput[] = [];
    const cmd = (c: Command) => more.push(this.engine.command(c, now));
    switch (e.type) {
      case 'session-established':
      case 'request': {
        const nodeId = e.type === 'request' ? e.from.nodeId : e.nodeId;
        const endpoint = e.type === 'request' ? e.from.endpoint : e.endpoint;
        more.push(...this.verifiedContact(nodeId, endpoint, now));
        if (e.type === 'request' && e.message.type === 'PING') this.maybeFetchRecord(e.from.nodeId, e.from.endpoint, e.message.enrSeq, cmd);
        break;
      }
      case 'response': {
        more.push(...this.verifiedContact(e.to.nodeId, e.to.endpoint, now, undefined, true));
        const checked = this.endCheck(e.requestId);
        if (checked) this.table.pingResult(checked, true, now);
        if (e.response.type === 'PONG') {
          this.maybeFetchRecord(e.to.nodeId, e.to.endpoint, e.response.enrSeq, cmd);
          const moved = this.vote(e.to.nodeId, { ip: e.response.recipientIp, port: e.response.recipientPort }, now);
          if (moved) more.push({ send: [], events: [moved], trace: [] });
        }
        if (e.response.type === 'NODES') {
          const fetched = this.recordFetches.get(e.requestId);
          if (fetched) {
            this.recordFetches.delete(e.requestId);
            const fresh = e.records?.find((r) => equalBytes(r.nodeId, fetched));
            if (fresh) more.push(...this.verifiedContact(fresh.nodeId, e.to.endpoint, now, fresh));
          }
          const run = this.lookupByRequest.get(e.requestId);
          const received = e.response.records.length + (e.rejectedRecords?.length ?? 0);
          if (run) more.push(this.lookupAnswer(run, e.requestId, e.records ?? [], undefined, now, received >= FINDNODE_RESULT_LIMIT));
        }
        break;
      }
      case 'timeout':
      case 'failure': {
        const reason = e.type === 'timeout' ? `no answer after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}` : e.reason;
        const checked = this.endCheck(e.requestId);
        if (checked) {
          // Failed a liveness check (a PING and its retransmits): removed, and the newest
          // replacement takes the slot (it is checked in turn).
          const gone = this.table.get(checked);
          const entered = this.table.pingResult(checked, false, now);
          if (gone) more.push({ send: [], events: [{ type: 'table', change: 'removed', enr: gone, bucket: this.bucketOf(gone) }], trace: [] });
          if (entered) more.push({ send: [], events: [{ type: 'table', change: 'added', enr: entered, bucket: this.bucketOf(entered) }], trace: [] });
        }
        this.recordFetches.delete(e.requestId);
        const run = this.lookupByRequest.get(e.requestId);
        if (run) more.push(this.lookupAnswer(run, e.requestId, undefined, reason, now));
        break;
      }
      default:
        break;
    }
    return more;
  }

  /**
   * A node proved itself at this endpoint: it may enter the table (only with a record for that
   * endpoint). `answered`: it answered a request of ours there, which also verifies its liveness.
   */
  private verifiedContact(nodeId: Uint8Array, endpoint: Endpoint, now: number, record?: Enr, answered = false): NodeOutput[] {
    const enr = record ?? this.engine.knownRecord(nodeId);
    if (!enr) return [];
    const recorded = udpEndpoint(enr);
    if (!recorded || endpointKey(recorded) !== endpointKey(endpoint)) return [];
    const before = this.table.get(nodeId);
    const wasVerified = this.table.isVerified(nodeId);
    const result = this.table.seen(enr, now, answered);
    const events: NodeEvent[] = [];
    const more: NodeOutput[] = [];
    if (result.status === 'added' || (result.status === 'updated' && before && before.seq !== enr.seq)) {
      events.push({ type: 'table', change: result.status, enr, bucket: result.bucket });
    } else if (result.status === 'full') {
      more.push(this.checkLiveness(result.pingCandidate, 'its bucket is full and a newcomer waits: is the least recently seen entry still alive?', now));
    }
    if (!wasVerified && this.table.isVerified(nodeId)) events.push({ type: 'table', change: 'verified', enr, bucket: this.bucketOf(enr) });
    if (events.length) more.push({ send: [], events, trace: [] });
    return more;
  }

  /** PINGs a table entry; its answer (or silence) goes to the table as the outcome. One at a time per
   *  node. Returns the engine's output, not yet reacted to. */
  private checkLiveness(enr: Enr, reason: string, now: number): NodeOutput {
    const to = contactFromEnr(enr);
    const id = toHex(enr.nodeId);
    if (!to || this.checking.has(id)) return { send: [], events: [], trace: [] };
    const requestId = this.engine.newRequestId();
    this.livenessPings.set(toHex(requestId), enr.nodeId);
    this.checking.add(id);
    const out = this.engine.command({ type: 'ping', to, requestId }, now);
    return { ...out, events: [{ type: 'liveness-check', enr, reason }, ...out.events] };
  }

  /** The node a finished request was a liveness check of, if it was one. */
  private endCheck(requestId: string): Uint8Array | undefined {
    const nodeId = this.livenessPings.get(requestId);
    if (!nodeId) return undefined;
    this.livenessPings.delete(requestId);
    this.checking.delete(toHex(nodeId));
    return nodeId;
  }

  private maybeFetchRecord(nodeId: Uint8Array, endpoint: Endpoint, seq: bigint, cmd: (c: Command) => void): void {
    const known = this.engine.knownRecord(nodeId);
    if (known && known.seq >= seq) return;
    if ([...this.recordFetches.values()].some((id) => equalBytes(id, nodeId))) return;
    const publicKey = known?.publicKey;
    if (!publicKey) return;
    const requestId = this.engine.newRequestId();
    this.recordFetches.set(toHex(requestId), nodeId);
    cmd({ type: 'findnode', to: { nodeId, publicKey, endpoint }, distances: [0], requestId });
  }

  private vote(voter: Uint8Array, observed: Endpoint, now: number): NodeEvent | undefined {
    const current = udpEndpoint(this.engine.enr);
    const winner = this.votes.vote(voter, observed, now, current);
    if (!winner || !this.autoAddress) return undefined;
    return this.updateLocalEnr(udpFields(winner), `a majority of peers see us at ${endpointKey(winner)}`);
  }

  // ---------------------------------------------------------------- lookups

  private startLookup(target: Uint8Array, now: number, lookupId?: number, extraSeeds: Enr[] = []): NodeOutput {
    const id = lookupId ?? this.nextLookupId++;
    const seeds = [...this.table.closest(target, this.k)];
    for (const s of extraSeeds) if (contactFromEnr(s) && !seeds.some((x) => equalBytes(x.nodeId, s.nodeId))) seeds.push(s);
    for (const s of extraSeeds) this.engine.addRecord(s);
    const run: LookupRun = { id, lookup: new Lookup<Enr>(target, this.localId, seeds, { k: this.k, alpha: this.alpha }), inFlight: new Map() };
    this.lookups.set(id, run);
    return this.react(this.pump(run, [], now), now);
  }

  /**
   * One FINDNODE of a lookup ended. Before the lookup hears the node's answer, the node may be
   * asked again, in the same session:
   *  - an answer at the limit (16 records) may have cut off later distances: answers fill the
   *    asked distances in order, so from the last one reached on nothing is known to be complete
   *    (a first distance that alone filled the answer is: a bucket holds at most 16);
   *  - other distances may hold nodes that belong among the k closest. A node at log-distance
   *    d' from the queried node (at d from the target) is at max(d, d') from the target, closer
   *    if d' = d. In a large network the k closest known are soon all nearer than any d' ≠ d and
   *    nothing more is asked; in a small one (the lab: 24 nodes, k = 16) the k closest reach the
   *    far half of the id space, which asking only d, d ± 1 never finds.
   */
  private lookupAnswer(run: LookupRun, requestId: string, records: Enr[] | undefined, failure: string | undefined, now: number, full = false): NodeOutput {
    const flight = run.inFlight.get(requestId);
    run.inFlight.delete(requestId);
    this.lookupByRequest.delete(requestId);
    if (!flight) return { send: [], events: [], trace: [] };
    const { query, distances } = flight;
    if (!records) {
      // A later request failing does not undo the answers the node already gave.
      const events = query.extras === 0 ? run.lookup.onFailure(query.nodeId, failure ?? 'failed') : run.lookup.onNodes(query.nodeId, query.collected);
      return this.pump(run, events, now);
    }
    query.collected.push(...records.filter((r) => contactFromEnr(r)));
    if (full) {
      const reached = Math.max(-1, ...records.map((r) => distances.indexOf(logDistance(r.nodeId, query.nodeId))));
      if (reached >= 0) for (const d of distances.slice(reached === 0 ? 1 : reached)) query.asked.delete(d);
    }
    const next = query.extras < LOOKUP_EXTRA_REQUESTS ? this.widen(run, query) : [];
    const enr = next.length > 0 ? this.engine.knownRecord(query.nodeId) : undefined;
    const to = enr && contactFromEnr(enr);
    if (!to) return this.pump(run, run.lookup.onNodes(query.nodeId, query.collected), now);
    query.extras++;
    for (const d of next) query.asked.add(d);
    return this.sendLookupQuery(run, query, to, next, now);
  }

  /** Distances not yet asked of the queried node that could hold nodes among the k closest to the target. */
  private widen(run: LookupRun, query: LookupQuery): number[] {
    const target = run.lookup.target;
    const d = logDistance(target, query.nodeId);
    const seen = new Map<string, number>();
    for (const n of [...run.lookup.closest(), ...query.collected]) seen.set(toHex(n.nodeId), logDistance(target, n.nodeId));
    const known = [...seen.values()].sort((x, y) => x - y);
    const kth = known.length >= run.lookup.k ? known[run.lookup.k - 1] : 257;
    const out: number[] = [];
    if (d > 0 && !query.asked.has(d)) out.push(d);
    if (d <= kth) for (let x = d - 1; x >= Math.max(1, d - LOOKUP_WIDEN_BELOW); x--) if (!query.asked.has(x)) out.push(x);
    for (let x = d + 1; x <= Math.min(256, kth); x++) if (!query.asked.has(x)) out.push(x);
    return out;
  }

  private sendLookupQuery(run: LookupRun, query: LookupQuery, to: NodeContact, distances: number[], now: number): NodeOutput {
    const requestId = this.engine.newRequestId();
    const key = toHex(requestId);
    run.inFlight.set(key, { query, distances });
    this.lookupByRequest.set(key, run);
    return this.engine.command({ type: 'findnode', to, distances, requestId }, now);
  }

  private pump(run: LookupRun, earlier: LookupEvent<Enr>[], now: number): NodeOutput {
    const out: NodeOutput = { send: [], events: [], trace: [] };
    const wrap = (event: LookupEvent<Enr>) => out.events.push({ type: 'lookup', lookupId: run.id, target: run.lookup.target, event });
    earlier.forEach(wrap);
    const { queries, events } = run.lookup.next();
    events.forEach(wrap);
    for (const q of queries) {
      const query: LookupQuery = { nodeId: q.node.nodeId, asked: new Set(q.distances), collected: [], extras: 0 };
      const o = this.sendLookupQuery(run, query, contactFromEnr(q.node) as NodeContact, q.distances, now);
      out.send.push(...o.send);
      out.trace.push(...o.trace);
      out.events.push(...o.events);
    }
    if (run.lookup.done && run.inFlight.size === 0) this.lookups.delete(run.id);
    return out;
  }

  private bucketOf(enr: Enr): number {
    return logDistance(this.localId, enr.nodeId);
  }
}

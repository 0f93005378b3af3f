// The discv5 behaviour layer, sans-IO like the engine it wraps: a routing table fed by
// verified contact, ping-before-evict, iterative lookups, ENR refresh and external-address votes.
import { equalBytes, logDistance, toHex } from '../bytes.ts';
import { updateEnr, udpEndpoint, type Enr } from '../enr/index.ts';
import { secureRandom, type RandomSource } from '../random.ts';
import type { TraceRecord } from '../trace.ts';
import { endpointKey, type Endpoint } from '../transport.ts';
import { AddressVotes, type AddressVotesOptions } from './address-votes.ts';
import { contactFromEnr, Discv5Engine, FINDNODE_RESULT_LIMIT, type Command, type EngineConfig, type EngineEvent, type NodeContact } from './engine.ts';
import { Lookup, type LookupEvent } from './lookup.ts';
import { RoutingTable } from './table.ts';

export interface NodeConfig extends EngineConfig {
  k?: number;
  alpha?: number;
  /** Move the local ENR to the address a clear majority of PONGs report. Off for a fixed address. */
  autoAddress?: boolean;
  addressVotes?: AddressVotesOptions;
}

export type NodeCommand =
  | Command
  /** Iterative lookup from the table's closest nodes plus `seeds` (e.g. a bootstrap node). */
  | { type: 'lookup'; target: Uint8Array; lookupId?: number; seeds?: Enr[] }
  /** Put a node we have not verified yet in contact: ping it (it enters the table when it answers). */
  | { type: 'add-node'; enr: Enr };

export type NodeEvent =
  | EngineEvent
  | { type: 'table'; change: 'added' | 'updated' | 'removed'; enr: Enr; bucket: number }
  | { type: 'lookup'; lookupId: number; target: Uint8Array; event: LookupEvent<Enr> }
  | { type: 'enr-updated'; enr: Enr; reason: string };

export interface NodeOutput {
  send: { to: Endpoint; bytes: Uint8Array }[];
  events: NodeEvent[];
  trace: TraceRecord[];
}

interface LookupQuery {
  nodeId: Uint8Array;
  distances: number[];
  /** Set once the first answer came back full: the records so far and the follow-ups still out. */
  collected?: Enr[];
  followUps?: Set<string>;
}

interface LookupRun {
  id: number;
  lookup: Lookup<Enr>;
  /** request-id (hex) → the query it belongs to, for every FINDNODE in flight (follow-ups too). */
  inFlight: Map<string, LookupQuery>;
}

export class Discv5Node {
  readonly engine: Discv5Engine;
  readonly table: RoutingTable<Enr>;
  private readonly privateKey: Uint8Array;
  private readonly random: RandomSource;
  private readonly votes: AddressVotes;
  private readonly autoAddress: boolean;
  private readonly alpha: number;
  private readonly k: number;
  private readonly lookups = new Map<number, LookupRun>();
  private readonly lookupByRequest = new Map<string, LookupRun>();
  /** Liveness pings of full buckets' least-recently-seen nodes: request-id → node id. */
  private readonly evictionPings = new Map<string, Uint8Array>();
  /** FINDNODE [0] sent to fetch a newer record: request-id → node id. */
  private readonly recordFetches = new Map<string, Uint8Array>();
  private nextLookupId = 1;

  constructor(config: NodeConfig) {
    this.engine = new Discv5Engine(config);
    this.table = new RoutingTable<Enr>(this.engine.localId, { k: config.k ?? 16 });
    this.engine.nodesAtDistances = (distances) => distances.flatMap((d) => this.table.atDistance(d));
    this.privateKey = config.privateKey;
    this.random = config.random ?? secureRandom;
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
    return this.engine.nextDeadline();
  }

  receive(bytes: Uint8Array, from: Endpoint, now: number): NodeOutput {
    return this.react(this.engine.receive(bytes, from, now), now);
  }

  tick(now: number): NodeOutput {
    return this.react(this.engine.tick(now), now);
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
        more.push(...this.verifiedContact(e.to.nodeId, e.to.endpoint, now));
        const evicting = this.evictionPings.get(e.requestId);
        if (evicting) {
          this.evictionPings.delete(e.requestId);
          this.table.pingResult(evicting, true, now);
        }
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
        const evicting = this.evictionPings.get(e.requestId);
        if (evicting) {
          this.evictionPings.delete(e.requestId);
          const entered = this.table.pingResult(evicting, false, now);
          const gone = this.engine.knownRecord(evicting);
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

  /** A node proved itself at this endpoint: it may enter the table (only with a record for that endpoint). */
  private verifiedContact(nodeId: Uint8Array, endpoint: Endpoint, now: number, record?: Enr): NodeOutput[] {
    const enr = record ?? this.engine.knownRecord(nodeId);
    if (!enr) return [];
    const recorded = udpEndpoint(enr);
    if (!recorded || endpointKey(recorded) !== endpointKey(endpoint)) return [];
    const before = this.table.get(nodeId);
    const result = this.table.seen(enr, now);
    const events: NodeEvent[] = [];
    const more: NodeOutput[] = [];
    if (result.status === 'added' || (result.status === 'updated' && before && before.seq !== enr.seq)) {
      events.push({ type: 'table', change: result.status, enr, bucket: result.bucket });
    } else if (result.status === 'full') {
      const candidate = result.pingCandidate;
      const already = [...this.evictionPings.values()].some((id) => equalBytes(id, candidate.nodeId));
      const to = contactFromEnr(candidate);
      if (!already && to) {
        const requestId = this.requestId();
        this.evictionPings.set(toHex(requestId), candidate.nodeId);
        more.push(this.engine.command({ type: 'ping', to, requestId }, now));
      }
    }
    if (events.length) more.push({ send: [], events, trace: [] });
    return more;
  }

  private maybeFetchRecord(nodeId: Uint8Array, endpoint: Endpoint, seq: bigint, cmd: (c: Command) => void): void {
    const known = this.engine.knownRecord(nodeId);
    if (known && known.seq >= seq) return;
    if ([...this.recordFetches.values()].some((id) => equalBytes(id, nodeId))) return;
    const publicKey = known?.publicKey;
    if (!publicKey) return;
    const requestId = this.requestId();
    this.recordFetches.set(toHex(requestId), nodeId);
    cmd({ type: 'findnode', to: { nodeId, publicKey, endpoint }, distances: [0], requestId });
  }

  private vote(voter: Uint8Array, observed: Endpoint, now: number): NodeEvent | undefined {
    const current = udpEndpoint(this.engine.enr);
    const winner = this.votes.vote(voter, observed, now, current);
    if (!winner || !this.autoAddress) return undefined;
    const changes = winner.ip.includes(':') ? { ip6: winner.ip, udp6: winner.port } : { ip: winner.ip, udp: winner.port };
    return this.updateLocalEnr(changes, `a majority of peers see us at ${endpointKey(winner)}`);
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
   * One FINDNODE of a lookup ended. A full answer (16 records, the most a node may send) may have
   * left out records of the later distances asked: the same node is asked once more, one distance
   * at a time from the last one the answer reached, and the lookup hears the merged answer. In a
   * small network (the lab) the k closest are otherwise easily cut off.
   */
  private lookupAnswer(run: LookupRun, requestId: string, records: Enr[] | undefined, failure: string | undefined, now: number, full = false): NodeOutput {
    const query = run.inFlight.get(requestId);
    run.inFlight.delete(requestId);
    this.lookupByRequest.delete(requestId);
    if (!query) return { send: [], events: [], trace: [] };
    const usable = (records ?? []).filter((r) => contactFromEnr(r));
    if (query.followUps) {
      query.followUps.delete(requestId);
      query.collected!.push(...usable);
      if (query.followUps.size > 0) return { send: [], events: [], trace: [] };
      return this.pump(run, run.lookup.onNodes(query.nodeId, query.collected!), now);
    }
    if (records && full) {
      const again = this.followUpDistances(run, query, records, usable);
      const enr = this.engine.knownRecord(query.nodeId);
      const to = enr && contactFromEnr(enr);
      if (again.length > 0 && to) {
        query.collected = usable;
        query.followUps = new Set();
        const out: NodeOutput = { send: [], events: [], trace: [] };
        for (const d of again) {
          const id = this.requestId();
          const key = toHex(id);
          query.followUps.add(key);
          run.inFlight.set(key, query);
          this.lookupByRequest.set(key, run);
          const o = this.engine.command({ type: 'findnode', to, distances: [d], requestId: id }, now);
          out.send.push(...o.send);
          out.trace.push(...o.trace);
          out.events.push(...o.events);
        }
        return out;
      }
    }
    const events = records ? run.lookup.onNodes(query.nodeId, usable) : run.lookup.onFailure(query.nodeId, failure ?? 'failed');
    return this.pump(run, events, now);
  }

  /**
   * The asked distances a full answer may have cut short, worth asking again one by one. Answers
   * fill the distances in the order asked, so those before the last one reached are complete (and
   * so is a first distance that alone filled the answer: a bucket holds at most 16). A node at
   * log-distance d' ≠ d from the queried node (d: its distance to the target) is at log-distance
   * max(d, d') from the target: skipped when the k closest known are all nearer than that, as in
   * any large network. In a small one (the lab) the k closest include far nodes, and this matters.
   */
  private followUpDistances(run: LookupRun, query: LookupQuery, records: Enr[], usable: Enr[]): number[] {
    const reached = Math.max(-1, ...records.map((r) => query.distances.indexOf(logDistance(r.nodeId, query.nodeId))));
    if (reached < 0) return [];
    const cut = query.distances.slice(reached === 0 ? 1 : reached);
    const target = run.lookup.target;
    const d = logDistance(target, query.nodeId);
    const known = [...run.lookup.closest(), ...usable].map((n) => logDistance(target, n.nodeId)).sort((a, b) => a - b);
    const kth = known.length >= run.lookup.k ? known[run.lookup.k - 1] : 257;
    return cut.filter((dd) => dd === d || Math.max(d, dd) <= kth);
  }

  private pump(run: LookupRun, earlier: LookupEvent<Enr>[], now: number): NodeOutput {
    const out: NodeOutput = { send: [], events: [], trace: [] };
    const wrap = (event: LookupEvent<Enr>) => out.events.push({ type: 'lookup', lookupId: run.id, target: run.lookup.target, event });
    earlier.forEach(wrap);
    const { queries, events } = run.lookup.next();
    events.forEach(wrap);
    for (const q of queries) {
      const to = contactFromEnr(q.node) as NodeContact;
      const requestId = this.requestId();
      const key = toHex(requestId);
      run.inFlight.set(key, { nodeId: q.node.nodeId, distances: q.distances });
      this.lookupByRequest.set(key, run);
      const o = this.engine.command({ type: 'findnode', to, distances: q.distances, requestId }, now);
      out.send.push(...o.send);
      out.trace.push(...o.trace);
      out.events.push(...o.events);
    }
    if (run.lookup.done && run.inFlight.size === 0) this.lookups.delete(run.id);
    return out;
  }

  private requestId(): Uint8Array {
    const id = this.random(8);
    id[0] |= 0x80; // never a leading zero: request-ids travel as RLP strings
    return id;
  }

  private bucketOf(enr: Enr): number {
    return logDistance(this.localId, enr.nodeId);
  }
}

// Discovery v4, sans-IO, both roles (discv4.md): PING/PONG with ping-hash and enr-seq (EIP-868),
// the endpoint proof both ways, FINDNODE answered with NEIGHBORS split within 1280 bytes,
// ENRRequest/ENRResponse with the request hash checked and the record verified, and lookups on
// the shared Kademlia table and lookup. Time and randomness come in from outside.
//
// Endpoint proof ("bonding"): a node that answered our PING within the last 12 hours is verified
// and may ask us FINDNODE and ENRRequest; anyone else's query is refused, unanswered (it could be
// a forged source address, and NEIGHBORS is much larger than FINDNODE: an amplifier). The other
// way round, before we ask a node anything we make sure it has verified us: unless it pinged us
// (and we answered) within 12 hours, we PING it first, and once it has answered, wait briefly for
// the PING with which it checks us in turn.
import { equalBytes, toHex } from '../bytes.ts';
import { keccak256 } from '../crypto/hashes.ts';
import { convertPublicKey, publicKeyOf } from '../crypto/secp256k1.ts';
import { compareDistance } from '../kademlia/distance.ts';
import { emptyOutput, type Engine, type EngineInput, type EngineOutput, type WireRecord } from '../engine.ts';
import { decodeEnr, type Enr } from '../enr/index.ts';
import { RoutingTable, type TableOptions } from '../kademlia/table.ts';
import { Lookup, type LookupEvent, type LookupOptions } from '../kademlia/lookup.ts';
import { Lru } from '../lru.ts';
import type { RandomSource } from '../random.ts';
import type { TraceRecord } from '../trace.ts';
import type { Endpoint } from '../transport.ts';
import { nodeFromNeighbor, udpOf, wireKey, type Discv4Node } from './node.ts';
import { decodePacket, encodePacket, neighborsSize, splitPacket, summarizeMessage, type Discv4Message, type Discv4Packet, type NeighborNode, type NodeEndpoint } from './packet.ts';
import { BOND_EXPIRATION_MS, DISCV4_STEPS, EXPIRATION_SECONDS, MAX_NEIGHBORS, isPacketType, MAX_PACKET_SIZE, PING_VERSION, SPEC, TYPE_NAMES } from './spec.ts';

export const PROTOCOL = 'discv4';

/** Wire-record kind of a datagram that did not decode (or authenticate) as a discv4 packet. */
export const REJECTED = 'rejected';

export interface Discv4Config {
  privateKey: Uint8Array;
  /** Our endpoint as PING's `from` tells it (UDP and RLPx ports). */
  endpoint: NodeEndpoint;
  /** Our record: its seq goes in PING/PONG (EIP-868), and it answers ENRRequest. */
  enr?: Enr;
  /** For random lookup targets. */
  random: RandomSource;
  /** Numbers wire records. Engines that share one timeline share one counter. */
  packetSeq?: () => number;
  /** Wait for each answer, ms (default 1000). */
  requestTimeoutMs?: number;
  /** PINGs sent again after a timeout (default 1). */
  retries?: number;
  /** After our PING is answered, how long to wait for the node's own PING before asking (default 500). */
  bondWaitMs?: number;
  /** After a NEIGHBORS packet, how long to wait for the next one of the same answer (default 200). */
  neighborsWaitMs?: number;
  /**
   * Added to `now` to get Unix time in ms, for expiration (default 0: `now` is wall-clock time).
   * A driver on a virtual clock (the page's, which stops in Step mode) passes its offset.
   */
  epochOffsetMs?: number;
  /** Refuse expired packets (default true; false only to replay recordings). */
  checkExpiration?: boolean;
  /** How long an endpoint proof lasts (default 12 h). */
  bondExpirationMs?: number;
  table?: TableOptions;
  lookup?: LookupOptions;
  /** Peers whose proof state is remembered (default 1024, least recently used forgotten). */
  maxPeers?: number;
}

export type Discv4Command =
  | { type: 'ping'; to: Discv4Node; requestId: number }
  | { type: 'findnode'; to: Discv4Node; target: Uint8Array; requestId: number }
  | { type: 'requestenr'; to: Discv4Node; requestId: number }
  /** target: a 64-byte public key (random when absent); seeds join the table's closest. */
  | { type: 'lookup'; lookupId: number; target?: Uint8Array; seeds?: Discv4Node[] };

export type Discv4Response =
  | { kind: 'ping'; pong: Extract<Discv4Message, { type: 'PONG' }> }
  | { kind: 'findnode'; nodes: Discv4Node[]; packets: number; rejectedNodes: number }
  | { kind: 'requestenr'; enr: Enr };

export type Discv4Event =
  | ({ type: 'response'; requestId: number; rttMs: number; bonded: boolean } & Discv4Response)
  | { type: 'failure'; requestId: number; reason: string }
  /** A node's endpoint proof: 'verified' = it answered our PING; 'verified-us' = we answered its PING. */
  | { type: 'bond'; nodeId: string; endpoint: Endpoint; direction: 'verified' | 'verified-us' }
  | { type: 'lookup'; lookupId: number; target: Uint8Array; event: LookupEvent<Discv4Node> }
  | { type: 'table'; size: number };

interface PeerProof {
  ip: string;
  /** When it answered our PING (it is verified). */
  pongAt?: number;
  /** When we answered its PING (it has verified us). */
  pingAt?: number;
  enrSeq?: bigint;
}

type Phase = 'ping' | 'await-their-ping' | 'query' | 'done';

interface Job {
  id: number;
  kind: 'ping' | 'findnode' | 'requestenr';
  to: Discv4Node;
  key: string;
  /** A caller's request, or a lookup's query. */
  requestId?: number;
  lookupId?: number;
  target?: Uint8Array;
  startedAt: number;
  phase: Phase;
  deadline: number;
  attempts: number;
  pingHash?: Uint8Array;
  pingRaw?: Uint8Array;
  queryHash?: Uint8Array;
  bonded: boolean;
  nodes: Discv4Node[];
  seen: Set<string>;
  packets: number;
  rejectedNodes: number;
  pong?: Extract<Discv4Message, { type: 'PONG' }>;
}

interface LookupRun {
  lookup: Lookup<Discv4Node>;
  targetKey: Uint8Array;
}

/** Pending requests at most (reverse-bonding PINGs beyond it are skipped). */
const MAX_PENDING = 256;

const fresh = (): EngineOutput<Discv4Event> => emptyOutput<Discv4Event>();

export class Discv4Engine implements Engine<Discv4Command, Discv4Event> {
  readonly protocol = PROTOCOL;
  readonly nodeId: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly table: RoutingTable<Discv4Node>;
  private readonly o: Required<Omit<Discv4Config, 'enr' | 'packetSeq' | 'table' | 'lookup'>>;
  private readonly nextSeq: () => number;
  private readonly proofs: Lru<string, PeerProof>;
  private readonly jobs = new Map<number, Job>();
  private readonly lookups = new Map<number, LookupRun>();
  private nextJob = 1;
  private out = fresh();

  constructor(readonly config: Discv4Config) {
    this.o = {
      privateKey: config.privateKey, endpoint: config.endpoint, random: config.random,
      requestTimeoutMs: config.requestTimeoutMs ?? 1000, retries: config.retries ?? 1, bondWaitMs: config.bondWaitMs ?? 500,
      neighborsWaitMs: config.neighborsWaitMs ?? 200, checkExpiration: config.checkExpiration ?? true, epochOffsetMs: config.epochOffsetMs ?? 0,
      bondExpirationMs: config.bondExpirationMs ?? BOND_EXPIRATION_MS, maxPeers: config.maxPeers ?? 1024,
    };
    const full = publicKeyOf(config.privateKey, false);
    this.publicKey = convertPublicKey(full, true);
    this.nodeId = keccak256(full.subarray(1));
    this.table = new RoutingTable(this.nodeId, config.table);
    this.proofs = new Lru(this.o.maxPeers);
    let seq = 0;
    this.nextSeq = config.packetSeq ?? (() => ++seq);
  }

  get enr(): Enr | undefined {
    return this.config.enr;
  }

  /** Whether `nodeId` answered our PING at `ip` within the proof window. */
  isVerified(nodeId: Uint8Array, ip: string, now: number): boolean {
    const p = this.proofs.peek(toHex(nodeId));
    return !!p && p.ip === ip && p.pongAt !== undefined && now - p.pongAt < this.o.bondExpirationMs;
  }

  /** Whether we answered a PING from `nodeId` at `ip` within the window: it has verified us. */
  hasVerifiedUs(nodeId: Uint8Array, ip: string, now: number): boolean {
    const p = this.proofs.peek(toHex(nodeId));
    return !!p && p.ip === ip && p.pingAt !== undefined && now - p.pingAt < this.o.bondExpirationMs;
  }

  handle(input: EngineInput<Discv4Command>, now: number): EngineOutput<Discv4Event> {
    if (input.type === 'datagram') this.receive(input.bytes, input.from, now);
    else if (input.type === 'command') this.command(input.command, now);
    return this.flush();
  }

  tick(now: number): EngineOutput<Discv4Event> {
    for (const job of [...this.jobs.values()]) if (job.deadline <= now) this.expire(job, now);
    return this.flush();
  }

  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const j of this.jobs.values()) if (next === undefined || j.deadline < next) next = j.deadline;
    return next;
  }

  // ---------------------------------------------------------------- commands

  private command(c: Discv4Command, now: number): void {
    if (c.type === 'lookup') return this.startLookup(c.lookupId, c.target ?? this.o.random(64), c.seeds ?? [], now);
    if (c.type === 'findnode' && c.target.length !== 64) return this.emit({ type: 'failure', requestId: c.requestId, reason: 'target must be a 64-byte public key' });
    this.startJob(c.type, c.to, now, { requestId: c.requestId, ...(c.type === 'findnode' ? { target: c.target } : {}) });
  }

  private startJob(kind: Job['kind'], to: Discv4Node, now: number, extra: { requestId?: number; lookupId?: number; target?: Uint8Array }): void {
    const key = toHex(to.nodeId);
    // NEIGHBORS name no request: one FINDNODE per node at a time, or answers could not be told apart.
    if (kind === 'findnode' && [...this.jobs.values()].some((j) => j.kind === 'findnode' && j.key === key)) {
      const reason = 'a FINDNODE to this node is already waiting for its answer';
      if (extra.requestId !== undefined) this.emit({ type: 'failure', requestId: extra.requestId, reason });
      // A lookup's query must end too, or the lookup would wait for it for ever.
      if (extra.lookupId !== undefined) this.lookupAnswered(extra.lookupId, to, undefined, reason, now);
      return;
    }
    const job: Job = { id: this.nextJob++, kind, to, key, ...extra, startedAt: now, phase: 'ping', deadline: now, attempts: 0, bonded: false, nodes: [], seen: new Set(), packets: 0, rejectedNodes: 0 };
    this.jobs.set(job.id, job);
    // Ask at once when the node has verified us recently; otherwise bond first (a PING job always pings).
    if (kind !== 'ping' && this.hasVerifiedUs(to.nodeId, to.ip, now)) this.query(job, now);
    else this.sendJobPing(job, now);
  }

  private sendJobPing(job: Job, now: number): void {
    if (!job.pingRaw) {
      const sent = this.send({ type: 'PING', version: PING_VERSION, from: this.o.endpoint, to: { ip: job.to.ip, udp: job.to.udp, tcp: job.to.tcp }, expiration: this.expiration(now), ...this.enrSeq() }, job.to, now, job.kind === 'ping' ? undefined : 'bonding: proving endpoints before the query');
      job.pingHash = sent.hash;
      job.pingRaw = sent.raw;
    } else this.resend(job.pingRaw, job.to, now, 'PING');
    job.attempts++;
    job.phase = 'ping';
    job.deadline = now + this.o.requestTimeoutMs;
  }

  private query(job: Job, now: number): void {
    job.phase = 'query';
    job.deadline = now + this.o.requestTimeoutMs;
    if (job.kind === 'findnode') {
      job.queryHash = this.send({ type: 'FINDNODE', target: job.target!, expiration: this.expiration(now) }, job.to, now).hash;
    } else if (job.kind === 'requestenr') {
      job.queryHash = this.send({ type: 'ENRRequest', expiration: this.expiration(now) }, job.to, now).hash;
    } else this.finish(job, { ok: true }, now);
  }

  private expire(job: Job, now: number): void {
    if (job.phase === 'ping') {
      if (job.attempts <= this.o.retries) return this.sendJobPing(job, now);
      return this.finish(job, { ok: false, reason: `timeout: no PONG after ${job.attempts} PING${job.attempts === 1 ? '' : 's'}` }, now);
    }
    if (job.phase === 'await-their-ping') return this.query(job, now); // it did not ping us: ask anyway
    if (job.kind === 'findnode' && job.packets > 0) return this.finish(job, { ok: true }, now);
    this.finish(job, { ok: false, reason: `timeout: no ${job.kind === 'findnode' ? 'NEIGHBORS' : 'ENRResponse'} within ${this.o.requestTimeoutMs} ms` }, now);
  }

  private finish(job: Job, result: { ok: true; enr?: Enr } | { ok: false; reason: string }, now: number): void {
    this.jobs.delete(job.id);
    job.phase = 'done';
    const rttMs = now - job.startedAt;
    if (job.lookupId !== undefined) return this.lookupAnswered(job.lookupId, job.to, result.ok ? job.nodes : undefined, result.ok ? '' : result.reason, now);
    if (job.requestId === undefined) return;
    if (!result.ok) return this.emit({ type: 'failure', requestId: job.requestId, reason: result.reason });
    const base = { type: 'response' as const, requestId: job.requestId, rttMs, bonded: job.bonded };
    if (job.kind === 'ping') this.emit({ ...base, kind: 'ping', pong: job.pong! });
    else if (job.kind === 'findnode') this.emit({ ...base, kind: 'findnode', nodes: job.nodes, packets: job.packets, rejectedNodes: job.rejectedNodes });
    else this.emit({ ...base, kind: 'requestenr', enr: result.enr! });
  }

  // ---------------------------------------------------------------- lookups

  private startLookup(lookupId: number, targetKey: Uint8Array, seeds: Discv4Node[], now: number): void {
    const target = keccak256(targetKey);
    const lookup = new Lookup<Discv4Node>(target, this.nodeId, [...seeds, ...this.table.closest(target, this.table.k)], this.config.lookup);
    this.lookups.set(lookupId, { lookup, targetKey });
    this.pump(lookupId, now);
  }

  private pump(lookupId: number, now: number): void {
    const run = this.lookups.get(lookupId);
    if (!run) return;
    const { queries, events } = run.lookup.next();
    this.lookupEvents(lookupId, run, events);
    for (const q of queries) this.startJob('findnode', q.node, now, { lookupId, target: run.targetKey });
  }

  private lookupAnswered(lookupId: number, from: Discv4Node, nodes: Discv4Node[] | undefined, reason: string, now: number): void {
    const run = this.lookups.get(lookupId);
    if (!run) return;
    const events = nodes ? run.lookup.onNodes(from.nodeId, nodes) : run.lookup.onFailure(from.nodeId, reason);
    this.lookupEvents(lookupId, run, events);
    this.pump(lookupId, now);
  }

  private lookupEvents(lookupId: number, run: LookupRun, events: LookupEvent<Discv4Node>[]): void {
    for (const event of events) {
      this.emit({ type: 'lookup', lookupId, target: run.targetKey, event });
      if (event.type === 'done') this.lookups.delete(lookupId);
    }
  }

  // ---------------------------------------------------------------- receiving

  private receive(bytes: Uint8Array, from: Endpoint, now: number): void {
    const decoded = decodePacket(bytes, { nowSeconds: Math.floor((now + this.o.epochOffsetMs) / 1000), checkExpiration: this.o.checkExpiration });
    if (!decoded.ok) {
      const parts = splitPacket(bytes);
      const what = parts.ok && isPacketType(parts.value.type) ? TYPE_NAMES[parts.value.type] : 'packet';
      this.record({ direction: 'in', at: now, peer: from, raw: bytes, kind: REJECTED, summary: `${what} refused: ${decoded.error.reason}`, rejected: decoded.error.reason });
      return;
    }
    const p = decoded.value;
    if (equalBytes(p.nodeId, this.nodeId)) return void this.inbound(p, from, now, 'a packet signed with our own key');
    switch (p.message.type) {
      case 'PING':
        return this.onPing(p, p.message, from, now);
      case 'PONG':
        return this.onPong(p, p.message, from, now);
      case 'FINDNODE':
        return this.onFindnode(p, p.message, from, now);
      case 'NEIGHBORS':
        return this.onNeighbors(p, p.message, from, now);
      case 'ENRRequest':
        return this.onEnrRequest(p, from, now);
      case 'ENRResponse':
        return this.onEnrResponse(p, p.message, from, now);
    }
  }

  /** Records an inbound packet and its signature recovery; `rejected` says why nothing else happened. */
  private inbound(p: Discv4Packet, from: Endpoint, now: number, rejected?: string, note?: string): number {
    const seq = this.record({ direction: 'in', at: now, peer: from, raw: p.raw, kind: TYPE_NAMES[p.type], summary: summarizeMessage(p.message), peerId: toHex(p.nodeId), ...(rejected ? { rejected } : {}), ...(note ? { note } : {}) });
    this.out.trace.push(recoverTrace(p, seq));
    return seq;
  }

  private proof(nodeId: Uint8Array, ip: string): PeerProof {
    const key = toHex(nodeId);
    let p = this.proofs.get(key);
    if (!p || p.ip !== ip) {
      p = { ip };
      this.proofs.set(key, p);
    }
    return p;
  }

  private onPing(p: Discv4Packet, m: Extract<Discv4Message, { type: 'PING' }>, from: Endpoint, now: number): void {
    const verified = this.isVerified(p.nodeId, from.ip, now);
    const pingingBack = !verified && [...this.jobs.values()].some((j) => j.key === toHex(p.nodeId) && j.phase === 'ping');
    this.inbound(p, from, now, undefined, verified ? 'answered with PONG' : pingingBack ? 'answered with PONG; our PING to it is on its way' : 'answered with PONG, and pinged back: it has no endpoint proof with us yet');
    const proof = this.proof(p.nodeId, from.ip);
    const first = proof.pingAt === undefined || now - proof.pingAt >= this.o.bondExpirationMs;
    proof.pingAt = now;
    if (m.enrSeq !== undefined) proof.enrSeq = m.enrSeq;
    const node: Discv4Node = { nodeId: p.nodeId, publicKey: p.publicKey, ip: from.ip, udp: from.port, tcp: m.from.tcp };
    // The PONG goes to where the PING came from (the UDP source), not to its `from` field.
    this.send({ type: 'PONG', to: { ip: from.ip, udp: from.port, tcp: m.from.tcp }, pingHash: p.hash, expiration: this.expiration(now), ...this.enrSeq() }, node, now);
    if (first) this.emit({ type: 'bond', nodeId: toHex(p.nodeId), endpoint: from, direction: 'verified-us' });
    // Reverse bonding: a node we cannot vouch for gets our PING, so it can ask us things later.
    // (Bounded: a flood of PINGs from fresh keys must not grow our pending work without end.)
    if (!verified && !pingingBack && this.jobs.size < MAX_PENDING) this.startJob('ping', node, now, {});
    // Queries that waited for this PING may go now.
    for (const j of this.jobs.values()) if (j.key === toHex(p.nodeId) && j.phase === 'await-their-ping') this.query(j, now);
  }

  private onPong(p: Discv4Packet, m: Extract<Discv4Message, { type: 'PONG' }>, from: Endpoint, now: number): void {
    const job = [...this.jobs.values()].find((j) => j.phase === 'ping' && j.pingHash && equalBytes(j.pingHash, m.pingHash));
    if (!job) return void this.inbound(p, from, now, 'PONG for no PING of ours (unknown ping-hash)');
    if (!equalBytes(job.to.nodeId, p.nodeId) || job.to.ip !== from.ip) return void this.inbound(p, from, now, 'PONG from another node than the one we pinged');
    const proof = this.proof(p.nodeId, from.ip);
    const first = proof.pongAt === undefined || now - proof.pongAt >= this.o.bondExpirationMs;
    proof.pongAt = now;
    if (m.enrSeq !== undefined) proof.enrSeq = m.enrSeq;
    this.inbound(p, from, now, undefined, first ? 'endpoint proof: it answered our PING at this address' : undefined);
    const node: Discv4Node = { ...job.to, ip: from.ip, udp: from.port };
    const before = this.table.size;
    this.table.seen(node, now, true);
    if (this.table.size !== before) this.emit({ type: 'table', size: this.table.size });
    if (first) this.emit({ type: 'bond', nodeId: toHex(p.nodeId), endpoint: from, direction: 'verified' });
    job.bonded = true;
    job.pong = m;
    if (job.kind === 'ping') return this.finish(job, { ok: true }, now);
    if (this.hasVerifiedUs(p.nodeId, from.ip, now)) return this.query(job, now);
    job.phase = 'await-their-ping';
    job.deadline = now + this.o.bondWaitMs;
  }

  private onFindnode(p: Discv4Packet, m: Extract<Discv4Message, { type: 'FINDNODE' }>, from: Endpoint, now: number): void {
    if (!this.isVerified(p.nodeId, from.ip, now)) return void this.inbound(p, from, now, 'no endpoint proof: it has not answered a PING of ours from this address within 12 h');
    const target = keccak256(m.target);
    const closest = [...this.table.states()]
      .filter((s) => s.verified && !equalBytes(s.entry.nodeId, p.nodeId))
      .map((s) => s.entry)
      .sort((a, b) => compareDistance(target, a.nodeId, b.nodeId))
      .slice(0, MAX_NEIGHBORS);
    const packets = splitNeighbors(closest.map(neighborOf), this.expiration(now));
    this.inbound(p, from, now, undefined, `answered with ${closest.length} node${closest.length === 1 ? '' : 's'} in ${packets.length} NEIGHBORS packet${packets.length === 1 ? '' : 's'}`);
    const to = { nodeId: p.nodeId, publicKey: p.publicKey, ip: from.ip, udp: from.port, tcp: 0 };
    for (const nodes of packets) this.send({ type: 'NEIGHBORS', nodes, expiration: this.expiration(now) }, to, now);
  }

  private onNeighbors(p: Discv4Packet, m: Extract<Discv4Message, { type: 'NEIGHBORS' }>, from: Endpoint, now: number): void {
    const job = [...this.jobs.values()].find((j) => j.kind === 'findnode' && j.phase === 'query' && equalBytes(j.to.nodeId, p.nodeId) && j.to.ip === from.ip);
    if (!job) return void this.inbound(p, from, now, 'NEIGHBORS we did not ask for');
    job.packets++;
    let added = 0;
    for (const n of m.nodes) {
      const node = nodeFromNeighbor(n);
      if (!node.ok) {
        job.rejectedNodes++;
        continue;
      }
      const id = toHex(node.value.nodeId);
      if (job.seen.has(id) || job.nodes.length >= MAX_NEIGHBORS) continue;
      job.seen.add(id);
      job.nodes.push(node.value);
      added++;
      if (!equalBytes(node.value.nodeId, this.nodeId)) this.table.seen(node.value, now, false);
    }
    this.inbound(p, from, now, undefined, `${added} new node${added === 1 ? '' : 's'} (${job.nodes.length} so far)`);
    this.emit({ type: 'table', size: this.table.size });
    if (job.nodes.length >= MAX_NEIGHBORS) return this.finish(job, { ok: true }, now);
    // More NEIGHBORS of the same answer come right behind; the answer is complete after a pause.
    job.deadline = Math.min(job.deadline, now + this.o.neighborsWaitMs);
  }

  private onEnrRequest(p: Discv4Packet, from: Endpoint, now: number): void {
    if (!this.isVerified(p.nodeId, from.ip, now)) return void this.inbound(p, from, now, 'no endpoint proof: it has not answered a PING of ours from this address within 12 h');
    const enr = this.config.enr;
    this.inbound(p, from, now, undefined, enr ? `answered with our record (seq ${enr.seq})` : 'we have no record to send');
    if (enr) this.send({ type: 'ENRResponse', requestHash: p.hash, record: enr.raw }, { nodeId: p.nodeId, publicKey: p.publicKey, ip: from.ip, udp: from.port, tcp: 0 }, now);
  }

  private onEnrResponse(p: Discv4Packet, m: Extract<Discv4Message, { type: 'ENRResponse' }>, from: Endpoint, now: number): void {
    const job = [...this.jobs.values()].find((j) => j.kind === 'requestenr' && j.phase === 'query' && j.queryHash && equalBytes(j.queryHash, m.requestHash));
    if (!job) return void this.inbound(p, from, now, 'ENRResponse for no ENRRequest of ours (unknown request-hash)');
    if (!equalBytes(job.to.nodeId, p.nodeId)) return void this.inbound(p, from, now, 'ENRResponse from another node than the one we asked');
    const enr = decodeEnr(m.record);
    if (!enr.ok) return void this.inbound(p, from, now, `the record does not verify: ${enr.error.reason}`);
    if (!equalBytes(enr.value.nodeId, p.nodeId)) return void this.inbound(p, from, now, 'the record is signed by another key than the packet');
    this.inbound(p, from, now, undefined, `record seq ${enr.value.seq} verified: signed by the sender's key`);
    this.finish(job, { ok: true, enr: enr.value }, now);
  }

  // ---------------------------------------------------------------- sending

  private send(m: Discv4Message, to: Discv4Node, now: number, note?: string): { hash: Uint8Array; raw: Uint8Array } {
    const e = encodePacket(m, this.o.privateKey);
    const seq = this.record({ direction: 'out', at: now, peer: udpOf(to), raw: e.raw, kind: m.type, summary: summarizeMessage(m), peerId: toHex(to.nodeId), ...(note ? { note } : {}) });
    this.out.trace.push(signTrace(e.signingHash, e.signature, e.hash, seq, toHex(to.nodeId)));
    this.out.transmits.push({ type: 'datagram', to: udpOf(to), bytes: e.raw });
    return e;
  }

  private resend(raw: Uint8Array, to: Discv4Node, now: number, kind: string): void {
    this.record({ direction: 'out', at: now, peer: udpOf(to), raw, kind, summary: `${kind} again: no answer yet`, peerId: toHex(to.nodeId), retransmit: true });
    this.out.transmits.push({ type: 'datagram', to: udpOf(to), bytes: raw });
  }

  private record(r: Omit<WireRecord, 'seq' | 'protocol'>): number {
    const seq = this.nextSeq();
    this.out.records.push({ seq, protocol: PROTOCOL, ...r });
    return seq;
  }

  private emit(e: Discv4Event): void {
    this.out.events.push(e);
  }

  private expiration(now: number): number {
    return Math.floor((now + this.o.epochOffsetMs) / 1000) + EXPIRATION_SECONDS;
  }

  private enrSeq(): { enrSeq?: bigint } {
    return this.config.enr ? { enrSeq: this.config.enr.seq } : {};
  }

  private flush(): EngineOutput<Discv4Event> {
    const o = this.out;
    this.out = fresh();
    return o;
  }
}

const neighborOf = (n: Discv4Node): NeighborNode => ({ ip: n.ip, udp: n.udp, tcp: n.tcp, publicKey: wireKey(n.publicKey) });

/** Splits an answer over as few NEIGHBORS packets as fit within 1280 bytes each, in order. */
export function splitNeighbors(nodes: NeighborNode[], expiration: number): NeighborNode[][] {
  const packets: NeighborNode[][] = [];
  let current: NeighborNode[] = [];
  for (const n of nodes) {
    if (current.length > 0 && neighborsSize([...current, n], expiration) > MAX_PACKET_SIZE) {
      packets.push(current);
      current = [];
    }
    current.push(n);
  }
  if (current.length > 0 || packets.length === 0) packets.push(current);
  return packets;
}

const hexOf = (b: Uint8Array) => toHex(b);

function signTrace(signingHash: Uint8Array, sig: Uint8Array, hash: Uint8Array, seq: number, peer: string): TraceRecord {
  return {
    step: DISCV4_STEPS.sign,
    title: 'Sign: secp256k1 over keccak256(packet-type ‖ packet-data), then hash = keccak256(signature ‖ packet-type ‖ packet-data)',
    inputs: [{ name: 'signing-hash', hex: hexOf(signingHash), note: 'keccak256(packet-type ‖ packet-data)' }],
    outputs: [
      { name: 'r', hex: hexOf(sig.subarray(0, 32)) },
      { name: 's', hex: hexOf(sig.subarray(32, 64)) },
      { name: 'v', hex: hexOf(sig.subarray(64)) },
      { name: 'hash', hex: hexOf(hash), note: 'the packet id a PONG or ENRResponse quotes' },
    ],
    spec: SPEC.wire,
    handshake: `discv4:${peer}`,
    peer,
    packet: seq,
  };
}

function recoverTrace(p: Discv4Packet, seq: number): TraceRecord {
  const sig = p.signature;
  const peer = toHex(p.nodeId);
  return {
    step: DISCV4_STEPS.recover,
    title: 'Recover the sender: public key from signature and signing hash; node id = keccak256(public key)',
    inputs: [
      { name: 'signing-hash', hex: hexOf(p.signingHash), note: 'keccak256(packet-type ‖ packet-data)' },
      { name: 'r', hex: hexOf(sig.subarray(0, 32)) },
      { name: 's', hex: hexOf(sig.subarray(32, 64)) },
      { name: 'v', hex: hexOf(sig.subarray(64)) },
    ],
    outputs: [
      { name: 'public-key', hex: hexOf(p.wireKey), note: '64 bytes x ‖ y' },
      { name: 'node-id', hex: peer, note: 'keccak256(public-key)' },
    ],
    ok: true,
    spec: SPEC.wire,
    handshake: `discv4:${peer}`,
    peer,
    packet: seq,
  };
}

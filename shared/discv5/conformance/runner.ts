// Runs conformance scenarios against one discv5 node, sans-IO like the engine: datagrams (with
// the socket they arrived on) and the time go in; datagrams to send (with the socket to send from),
// events and trace records come out. The caller opens the sockets, feeds what arrives, and calls
// tick() at nextDeadline() — the CLI over Node sockets, the playground over bridge tunnel sockets.
//
// Each scenario is a generator: it talks through "connections" — throw-away identities, each a
// real Discv5Engine (the codec and handshake of our own node) whose packets the runner routes,
// and may hold or re-route — and yields what it waits for; the runner resumes it with what came
// (or with nothing, on time-out). Nothing here reads a clock or a socket.
import { toHex } from '../../bytes.ts';
import { randomPrivateKey } from '../../crypto/secp256k1.ts';
import { createEnr, udpFields } from '../../enr/index.ts';
import { secureRandom, type RandomSource } from '../../random.ts';
import type { TraceRecord } from '../../trace.ts';
import { endpointKey, type Endpoint } from '../../transport.ts';
import { decodePacket } from '../packet.ts';
import { Discv5Engine, sealWithRandomKey, type Command, type EngineEvent, type NodeContact, type Output, type PacketRecord } from '../engine.ts';
import { randomRequestId, type Message } from '../messages.ts';
import type { Enr } from '../../enr/index.ts';

/** A socket of the tester. 'secondary' sockets have another source IP than the 'primary' ones. */
export interface TesterSocket {
  id: number;
  role: 'primary' | 'secondary';
  /** Its address as the target sees it; a wildcard IP ('0.0.0.0', '::') when unknown. */
  local: Endpoint;
}

export type ScenarioStatus = 'pass' | 'fail' | 'skipped';

export interface ScenarioResult {
  name: string;
  /** What it checks, in one plain sentence. */
  checks: string;
  status: ScenarioStatus;
  /** Why it passed, failed or was skipped. */
  reason: string;
  ms: number;
}

export type ConformanceEvent =
  | { type: 'scenario-start'; name: string; checks: string; index: number; total: number }
  /** A packet of one of the tester's connections (conn: its name; localId: the id it unmasks with). */
  | { type: 'packet'; scenario: string; conn: string; localId: Uint8Array; socket: number; packet: PacketRecord }
  | { type: 'step'; scenario: string; text: string }
  | { type: 'scenario-end'; result: ScenarioResult }
  | { type: 'done'; results: ScenarioResult[] };

export interface ConformanceOutput {
  send: { socket: number; to: Endpoint; bytes: Uint8Array }[];
  events: ConformanceEvent[];
  trace: TraceRecord[];
}

export interface ConformanceOptions {
  target: NodeContact;
  sockets: TesterSocket[];
  random?: RandomSource;
  /** Scenario names to run (default: all, in go-ethereum's order). */
  only?: string[];
  /** How long to wait for each answer (go-ethereum's suite: 300 ms). */
  waitMs?: number;
  /** How long FindnodeResults waits for the node to ping its bystanders (go-ethereum: 60 s). */
  bystanderWaitMs?: number;
  /** Why there is no second source address, when there is none (PingMultiIP says so when skipped). */
  noSecondaryReason?: string;
  /** Packet numbering shared with the host's own engines (the playground's timeline). */
  packetSeq?: () => number;
}

/** Something a scenario can wait for. */
export type TesterEvent =
  | { type: 'packet'; conn: Conn; socket: number; packet: PacketRecord }
  | { type: 'engine'; conn: Conn; event: Exclude<EngineEvent, { type: 'packet' }> };

export interface Wait {
  match: (e: TesterEvent) => boolean;
  timeoutMs: number;
}

export type Verdict = { status: ScenarioStatus; reason: string };
export type ScenarioRun = Generator<Wait, Verdict, TesterEvent | undefined>;

export interface Scenario {
  name: string;
  checks: string;
  run: (t: Tester) => ScenarioRun;
}

/** The answer to one request of a connection. */
export type Answer =
  | { ok: true; response: Message; records: Enr[]; rejected: string[] }
  /** response: an answer that came with another request-id. */
  | { ok: false; reason: string; timeout: boolean; response?: Message };

/** One identity of the tester: its own key and record, a real engine, the socket it sends from. */
export class Conn {
  /** Outgoing packets held back (hold()) with their records, sent by release(). */
  private held: { send: Output['send']; events: EngineEvent[] } | undefined;
  constructor(
    readonly name: string,
    readonly engine: Discv5Engine,
    readonly enr: Enr,
    public socket: TesterSocket,
  ) {}
  get localId(): Uint8Array {
    return this.engine.localId;
  }
  get holding(): boolean {
    return this.held !== undefined;
  }
  /** From now on, packets this connection makes wait until release(). */
  hold(): void {
    this.held ??= { send: [], events: [] };
  }
  takeHeld(): { send: Output['send']; events: EngineEvent[] } {
    const h = this.held ?? { send: [], events: [] };
    this.held = undefined;
    return h;
  }
  keep(out: Output): void {
    this.held!.send.push(...out.send);
    this.held!.events.push(...out.events.filter((e) => e.type === 'packet' && e.packet.direction === 'out'));
  }
}

const DEFAULT_WAIT_MS = 500;
const DEFAULT_BYSTANDER_WAIT_MS = 60_000;
/** A socket bound to a wildcard address: its source address, as the target sees it, is unknown. */
export const isWildcard = (ip: string): boolean => ip === '0.0.0.0' || ip === '::';

/** What a scenario gets: connections, requests, waiting, and the facts of the run. */
export class Tester {
  constructor(private readonly run: ConformanceRun) {}
  get target(): NodeContact {
    return this.run.options.target;
  }
  get waitMs(): number {
    return this.run.waitMs;
  }
  get bystanderWaitMs(): number {
    return this.run.options.bystanderWaitMs ?? DEFAULT_BYSTANDER_WAIT_MS;
  }
  get now(): number {
    return this.run.now;
  }
  /** Why there is no second source address, or undefined when there is one. */
  get noSecondary(): string | undefined {
    if (this.run.options.sockets.some((s) => s.role === 'secondary')) return undefined;
    return this.run.options.noSecondaryReason ?? 'the tester has only one source address';
  }
  socket(role: TesterSocket['role']): TesterSocket | undefined {
    return this.run.pickSocket(role);
  }
  /** Whether a node could reach us at the primary socket's address (it is not a wildcard). */
  get reachable(): boolean {
    const s = this.run.pickSocket('primary');
    return !!s && !isWildcard(s.local.ip);
  }
  /** A new identity; `reachable`: its record carries its socket's address, so the node can contact it. */
  conn(name: string, role: TesterSocket['role'] = 'primary', reachable = false): Conn {
    return this.run.newConn(name, role, reachable);
  }
  /** Sends a request from the connection; returns its request-id (hex). */
  request(c: Conn, cmd: Command): string {
    return this.run.command(c, cmd);
  }
  /** An ordinary packet sealed with a throw-away key, made by hand (no engine request behind it). */
  sendRandom(c: Conn, message: Message, note: string): Uint8Array {
    return this.run.sendRandom(c, message, note);
  }
  /** Sends what the connection held back, as it was made. */
  release(c: Conn): void {
    this.run.release(c);
  }
  log(text: string): void {
    this.run.step(text);
  }
  /** Waits for an event that matches, or `timeoutMs` (then resumes with undefined). */
  *next(match: (e: TesterEvent) => boolean, timeoutMs: number): Generator<Wait, TesterEvent | undefined, TesterEvent | undefined> {
    return yield { match, timeoutMs };
  }
  /** The next packet from the node to this connection. */
  *packetTo(c: Conn, timeoutMs = this.waitMs): Generator<Wait, (TesterEvent & { type: 'packet' }) | undefined, TesterEvent | undefined> {
    const e = yield* this.next((x) => x.type === 'packet' && x.conn === c && x.packet.direction === 'in', timeoutMs);
    return e?.type === 'packet' ? e : undefined;
  }
  /**
   * The outcome of a request (the engine times it out after waitMs per step). A response the engine
   * refused because its request-id is not ours ends it too: request-ids must come back byte for byte.
   */
  *answer(c: Conn, requestId: string): Generator<Wait, Answer, TesterEvent | undefined> {
    const misnamed = (x: TesterEvent) => x.type === 'packet' && x.conn === c && x.packet.direction === 'in' && !!x.packet.message && !!x.packet.rejected && /answers no pending request/.test(x.packet.rejected);
    const e = yield* this.next((x) => misnamed(x) || (x.type === 'engine' && x.conn === c && (x.event.type === 'response' || x.event.type === 'timeout' || x.event.type === 'failure') && x.event.requestId === requestId), this.waitMs * 8);
    if (e?.type === 'packet' && e.packet.message) return { ok: false, reason: `${e.packet.message.type} came with request-id 0x${toHex(e.packet.message.requestId)}, the request had 0x${requestId} (it must be echoed byte for byte)`, timeout: false, response: e.packet.message };
    if (!e || e.type !== 'engine') return { ok: false, reason: 'no answer', timeout: true };
    const ev = e.event;
    if (ev.type === 'response') return { ok: true, response: ev.response, records: ev.records ?? [], rejected: ev.rejectedRecords ?? [] };
    if (ev.type === 'timeout') return { ok: false, reason: `no answer within ${this.waitMs} ms`, timeout: true };
    if (ev.type === 'failure') return { ok: false, reason: ev.reason, timeout: false };
    return { ok: false, reason: 'no answer', timeout: true };
  }
  /** Waits `ms` (nothing matches). */
  *sleep(ms: number): Generator<Wait, void, TesterEvent | undefined> {
    yield { match: () => false, timeoutMs: ms };
  }
}

interface Running {
  scenario: Scenario;
  gen: ScenarioRun;
  wait: Wait | undefined;
  deadline: number | undefined;
  startedAt: number;
}

export class ConformanceRun {
  readonly options: ConformanceOptions;
  readonly waitMs: number;
  readonly results: ScenarioResult[] = [];
  now = 0;
  private readonly scenarios: Scenario[];
  private readonly random: RandomSource;
  private readonly packetSeq: () => number;
  private readonly tester: Tester;
  private conns: Conn[] = [];
  private current: Running | undefined;
  private index = -1;
  private finished = false;
  private queue: TesterEvent[] = [];
  private out: ConformanceOutput = { send: [], events: [], trace: [] };

  constructor(scenarios: Scenario[], options: ConformanceOptions) {
    if (!options.sockets.some((s) => s.role === 'primary')) throw new Error('the tester needs a primary socket');
    this.options = options;
    this.scenarios = options.only ? scenarios.filter((s) => options.only!.includes(s.name)) : scenarios;
    this.waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
    this.random = options.random ?? secureRandom;
    let seq = 0;
    this.packetSeq = options.packetSeq ?? (() => ++seq);
    this.tester = new Tester(this);
  }

  get done(): boolean {
    return this.finished;
  }

  start(now: number): ConformanceOutput {
    this.now = now;
    this.nextScenario();
    this.pump();
    return this.flush();
  }

  /** A datagram that arrived on socket `socket`. Only the target's packets to a live connection count. */
  receive(socket: number, bytes: Uint8Array, from: Endpoint, now: number): ConformanceOutput {
    this.now = now;
    if (endpointKey(from) === endpointKey(this.options.target.endpoint)) {
      // Which connection: the one whose node id unmasks the header (they may share a socket).
      const conn = this.conns.find((c) => decodePacket(c.localId, bytes).ok);
      if (conn) this.absorb(conn, conn.engine.receive(bytes, from, now), socket);
    }
    this.pump();
    return this.flush();
  }

  tick(now: number): ConformanceOutput {
    this.now = now;
    for (const c of [...this.conns]) this.absorb(c, c.engine.tick(now));
    this.pump();
    const r = this.current;
    if (r?.deadline !== undefined && r.deadline <= now) {
      this.resume(undefined);
      this.pump();
    }
    return this.flush();
  }

  nextDeadline(): number | undefined {
    if (this.finished) return undefined;
    let next = this.current?.deadline;
    for (const c of this.conns) {
      const d = c.engine.nextDeadline();
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    return next;
  }

  // ---------------------------------------------------------------- for the Tester

  pickSocket(role: TesterSocket['role']): TesterSocket | undefined {
    // Spread connections over the sockets of a role (one each where the host could open enough).
    const candidates = this.options.sockets.filter((s) => s.role === role);
    let best: TesterSocket | undefined;
    let least = Infinity;
    for (const s of candidates) {
      const n = this.conns.filter((c) => c.socket.id === s.id).length;
      if (n < least) (best = s), (least = n);
    }
    return best;
  }

  newConn(name: string, role: TesterSocket['role'], reachable: boolean): Conn {
    const socket = this.pickSocket(role);
    if (!socket) throw new Error(`no ${role} socket`);
    const privateKey = randomPrivateKey(this.random);
    const ep = socket.local;
    const enr = createEnr({ privateKey, ...(reachable ? udpFields(ep) : {}) });
    const engine = new Discv5Engine({ privateKey, enr, random: this.random, requestTimeoutMs: this.waitMs, retries: 0, packetSeq: this.packetSeq });
    const c = new Conn(name, engine, enr, socket);
    this.conns.push(c);
    return c;
  }

  command(c: Conn, cmd: Command): string {
    const requestId = 'requestId' in cmd && cmd.requestId ? cmd.requestId : randomRequestId(this.random);
    this.absorb(c, c.engine.command({ ...cmd, requestId } as Command, this.now));
    return toHex(requestId);
  }

  sendRandom(c: Conn, message: Message, note: string): Uint8Array {
    const to = this.options.target;
    const { bytes, nonce, plaintext, key } = sealWithRandomKey(c.localId, to.nodeId, message, this.random);
    const packet: PacketRecord = { seq: this.packetSeq(), direction: 'out', at: this.now, peer: to.endpoint, peerId: toHex(to.nodeId), raw: bytes, kind: 'random', plaintext, message, messageKey: key, note };
    this.absorb(c, { send: [{ to: to.endpoint, bytes }], events: [{ type: 'packet', packet }], trace: [] }, undefined, true);
    return nonce;
  }

  release(c: Conn): void {
    const { send, events } = c.takeHeld();
    for (const e of events) if (e.type === 'packet') e.packet.at = this.now;
    this.absorb(c, { send, events, trace: [] }, undefined, true);
  }

  step(text: string): void {
    if (this.current) this.out.events.push({ type: 'step', scenario: this.current.scenario.name, text });
  }

  // ---------------------------------------------------------------- the loop

  /** Takes an engine's output: its datagrams go out from the connection's socket (or wait, if held). */
  private absorb(c: Conn, o: Output, arrivedOn?: number, unheld = false): void {
    this.out.trace.push(...o.trace);
    if (c.holding && !unheld && o.send.length > 0) {
      c.keep(o);
      o = { ...o, send: [], events: o.events.filter((e) => e.type !== 'packet' || e.packet.direction === 'in') };
    }
    for (const s of o.send) this.out.send.push({ socket: c.socket.id, to: s.to, bytes: s.bytes });
    const scenario = this.current?.scenario.name ?? '';
    for (const e of o.events) {
      if (e.type === 'packet') {
        const socket = e.packet.direction === 'in' ? (arrivedOn ?? c.socket.id) : c.socket.id;
        this.out.events.push({ type: 'packet', scenario, conn: c.name, localId: c.localId, socket, packet: e.packet });
        this.queue.push({ type: 'packet', conn: c, socket, packet: e.packet });
      } else this.queue.push({ type: 'engine', conn: c, event: e });
    }
  }

  /** Hands queued events to the running scenario, in order. Bounded: each resume only answers events already made. */
  private pump(): void {
    for (let i = 0; i < 10_000 && this.queue.length > 0 && this.current; i++) {
      const e = this.queue.shift()!;
      if (this.current.wait?.match(e)) this.resume(e);
    }
    this.queue = [];
  }

  private resume(e: TesterEvent | undefined): void {
    const r = this.current;
    if (!r) return;
    let step: IteratorResult<Wait, Verdict>;
    try {
      step = r.gen.next(e);
    } catch (err) {
      step = { done: true, value: { status: 'fail', reason: `the tester itself failed: ${err instanceof Error ? err.message : String(err)}` } };
    }
    if (step.done) return this.endScenario(step.value);
    r.wait = step.value;
    r.deadline = this.now + step.value.timeoutMs;
  }

  private nextScenario(): void {
    this.current = undefined;
    this.conns = [];
    this.index++;
    const scenario = this.scenarios[this.index];
    if (!scenario) {
      this.finished = true;
      this.out.events.push({ type: 'done', results: [...this.results] });
      return;
    }
    this.out.events.push({ type: 'scenario-start', name: scenario.name, checks: scenario.checks, index: this.index, total: this.scenarios.length });
    this.current = { scenario, gen: scenario.run(this.tester), wait: undefined, deadline: undefined, startedAt: this.now };
    this.resume(undefined);
  }

  private endScenario(v: Verdict): void {
    const r = this.current!;
    const result: ScenarioResult = { name: r.scenario.name, checks: r.scenario.checks, status: v.status, reason: v.reason, ms: this.now - r.startedAt };
    this.results.push(result);
    this.out.events.push({ type: 'scenario-end', result });
    this.nextScenario();
  }

  private flush(): ConformanceOutput {
    const o = this.out;
    this.out = { send: [], events: [], trace: [] };
    return o;
  }
}

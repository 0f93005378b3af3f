// The page's session state (packets, notes, trace, Step, views, results), fed by the node worker's messages, read by the components; each protocol's own choices live in its class (discv5.svelte.ts, bitcoin.svelte.ts).
// Components call its methods (callback props); nothing else talks to the worker.
import { fromHex, toHex } from '../../shared/bytes.ts';
import { publicKey64, publicKeyOf } from '../../shared/crypto/secp256k1.ts';
import { logDistance } from '../../shared/kademlia/distance.ts';
import { isProtocolId, loadDissectors, viewOf, type ProtocolId } from '../protocols/registry.ts';
import { onDissectorLoaded } from '../protocols/lazy-dissect.ts';
import type { Dissection } from '../../shared/dissect.ts';
import { dissectEnr, parseEnrText, type Enr } from '../../shared/enr/index.ts';
import { secureRandom } from '../../shared/random.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import { endpointKey, type Endpoint } from '../../shared/transport.ts';
import { loadKey, newKey, nextSeq, noteSeq, parsePrivateKey, saveKey, type StorageLike } from '../lib/identity.ts';
import { parseDistances, parseLookupTarget, parseTalk } from '../lib/inputs.ts';
import { exportSession, importSession, type SessionData, type SessionNote } from '../lib/session-file.ts';
import type { Action, CommandOutcome, ConformanceUpdate, ConsensusPeer, FromWorker, WorkerBatch, HeldItem, PacketInfo, ReplayInfo, ReplayPacketInfo, StatusInfo, ToWorker } from '../lib/protocol.ts';
import { shortId } from '../lib/names.ts';

export type { Discv5LabPeer as LabPeer } from '../../shared/lab.ts';
import type { BitcoinLabPeer, Discv5LabPeer as LabPeer, ExecutionLabPeer, LabPeerInfo, Libp2pLabPeer } from '../../shared/lab.ts';
import { BitcoinState } from './bitcoin.svelte.ts';
import { Libp2pState } from './libp2p.svelte.ts';
import { RlpxState } from './rlpx.svelte.ts';
import { Discv4State } from './discv4.svelte.ts';
import { Discv5State, type LookupProgress } from './discv5.svelte.ts';
export type { LookupProgress, TableBucket } from './discv5.svelte.ts';

export interface Lane {
  key: string;
  name: string;
  sub: string;
  local?: boolean;
}

export type TimelineItem =
  /** from: the local lane the packet belongs to, when not your node's (the conformance tester's). */
  | { type: 'packet'; packet: PacketInfo; lane: string; from?: string }
  | { type: 'note'; id: number; at: number; level: SessionNote['level']; text: string; lane?: string }
  | { type: 'arrival'; id: number; size: number; lane: string };

export type ViewId = 'live' | 'replay' | 'imported';

export interface SessionView {
  id: ViewId;
  localName: string;
  localId: string;
  lanes: Lane[];
  items: TimelineItem[];
  packets: PacketInfo[];
  traces: TraceRecord[];
  vectors?: Map<number, NonNullable<ReplayPacketInfo['vector']>>;
}


export type ActionName = 'ping' | 'findnode' | 'talkreq' | 'drop' | 'lookup' | 'inbound' | 'handshake' | 'connect-in' | 'dial';

export interface ActionResult {
  action: ActionName;
  ok: boolean;
  text: string;
  detail?: Record<string, string>;
  rttMs?: number;
  /** A lookup's finds with eth2 and tcp: "Dial with libp2p". */
  consensus?: ConsensusPeer[];
}

export type ScenarioStatus = 'waiting' | 'running' | 'pass' | 'fail' | 'skipped';

export interface ScenarioRow {
  name: string;
  checks: string;
  status: ScenarioStatus;
  reason?: string;
  /** What the tester did, step by step (beyond the packets). */
  steps: string[];
  /** Its first packet on the timeline. */
  firstSeq?: number;
}

export interface ConformanceState {
  targetName: string;
  /** The target is a lab node (@chainsafe/discv5: another implementation, with its own results). */
  lab: boolean;
  running: boolean;
  /** The tester's source addresses on the bridge. */
  sources?: string;
  noSecondary?: string;
  scenarios: ScenarioRow[];
  /** Why the run ended early. */
  stopped?: string;
}

/** Lane of the conformance tester's identities on the timeline. */
export const TESTER_LANE = 'tester';

type RightTab = 'packet' | 'keys' | 'table' | 'conformance';

/** How long worker messages are gathered before one state update (see enqueue). */
const RENDER_MS = 60;

export class Playground {
  // ---------------------------------------------------------------- connection & identity
  status = $state<StatusInfo>({ state: 'connecting', detail: 'starting your node…' });
  identity = $state.raw<{ enrText: string; nodeId: string; seq: bigint; local: Endpoint; enr?: Enr } | undefined>();
  privateKeyHex = $state('');
  keyError = $state<string | undefined>();

  // ---------------------------------------------------------------- protocols' own state
  /** discv5's choices, routing table and lookup. */
  readonly discv5 = new Discv5State((id) => this.nameOf(id));

  // ---------------------------------------------------------------- live session
  packets = $state.raw<PacketInfo[]>([]);
  notes = $state.raw<(SessionNote & { id: number; lane?: string; afterSeq?: number })[]>([]);
  traces = $state.raw<TraceRecord[]>([]);
  held = $state.raw<HeldItem[]>([]);
  clockPaused = $state(false);
  stepMode = $state(false);
  playing = $state(false);
  playDelayMs = $state(1500);
  /** The last packet released or read in step mode (its seq). */
  lastStep = $state.raw<{ phase: 'sent' | 'received'; seq: number } | undefined>();

  conformance = $state.raw<ConformanceState | undefined>();
  busy = $state<Partial<Record<ActionName, boolean>>>({});
  result = $state.raw<ActionResult | undefined>();
  inputError = $state<Partial<Record<'target' | 'distances' | 'talk' | 'lookup', string>>>({});

  // ---------------------------------------------------------------- views
  view = $state<ViewId>('live');
  selectedSeq = $state<number | undefined>();
  rightTab = $state<RightTab>('packet');
  replay = $state.raw<ReplayInfo | undefined>();
  /** Replay stepped one packet at a time (with the live Step narration): how many are shown. */
  replayShown = $state(0);
  replayStepping = $state(false);
  imported = $state.raw<SessionData | undefined>();
  importError = $state<string | undefined>();
  /** The inspector's selected field (its name and layer), for lessons and deep links. */
  selectedField = $state.raw<{ name: string; layer: string } | undefined>();
  /** A field to open in the inspector (a deep link's `field=`), with the layer that has it. */
  focusField = $state.raw<{ name: string; layer: string } | undefined>();
  /** The session key the learner clicked in the key schedule (a lesson's question). */
  pickedKey = $state<string | undefined>();
  /** Why a deep link shows nothing (yet). */
  linkError = $state<string | undefined>();
  /** An ENR shown in the inspector instead of a packet. */
  inspectEnr = $state.raw<{ title: string; dissection: Dissection } | undefined>();

  private worker: Worker | undefined;
  private token = '';
  private storage: StorageLike | undefined;
  private commandId = 0;
  private readonly pending = new Map<number, ActionName>();
  private readonly listenWaiters = new Map<number, (m: Extract<FromWorker, { type: 'btc-listening' }>) => void>();

  // ---------------------------------------------------------------- protocols
  /** The protocol the side panel acts with; every protocol's records share the one timeline. */
  protocol = $state<ProtocolId>('discv5');
  /** Bitcoin's own choices (targets, network, the page's listener). */
  readonly bitcoin = new BitcoinState();
  /** RLPx's own choices (execution node, goal, chain, the page's listener). */
  readonly rlpx = new RlpxState();
  /** libp2p's own choices (lab node or pasted multiaddr / ENR). */
  readonly libp2p = new Libp2pState();
  /** discv4's choices, its socket, routing table, lookup and answers. */
  readonly discv4 = new Discv4State({ post: (m) => this.post(m), connected: () => this.connected, token: () => this.token, toLive: () => void (this.view !== 'live' && (this.view = 'live')) });
  private readonly index = new Map<number, number>();
  private readonly endpointIds = new Map<string, string>();
  private noteId = 0;
  private wasOpen = false;
  private inbox: FromWorker[] = [];
  private flushQueued = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private pendingHash: { view: ViewId; seq: number; field?: string } | undefined;
  private readonly observers: ((m: FromWorker) => void)[] = [];

  /** Sees every message from the worker as it is applied (the room's progress counts read them). */
  observe(fn: (m: FromWorker) => void): void {
    this.observers.push(fn);
  }

  // ---------------------------------------------------------------- derived
  current = $derived.by(() => this.buildView());
  selectedPacket = $derived.by(() => (this.selectedSeq === undefined ? undefined : this.current.packets.find((p) => p.seq === this.selectedSeq)));
  /** Bumped when a protocol's dissector loads (web/protocols/lazy-dissect.ts): the selection is dissected again. */
  private dissectorsLoaded = $state(0);
  dissection = $derived.by(() => (void this.dissectorsLoaded, this.selectedPacket ? dissectPacket(this.selectedPacket) : undefined));
  connected = $derived(this.status.state === 'open');

  // ---------------------------------------------------------------- start

  start(options: { token: string; storage?: StorageLike }): void {
    onDissectorLoaded(() => this.dissectorsLoaded++);
    this.token = options.token;
    this.storage = options.storage;
    const { key } = loadKey(this.storage);
    this.privateKeyHex = toHex(key);
    this.worker = new Worker(new URL('../worker/node.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<WorkerBatch>) => ev.data.items.forEach((m) => this.enqueue(m));
    this.worker.onerror = (ev) => this.note('error', `The node worker failed: ${ev.message}`);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const tunnelUrl = `${scheme}://${location.host}/tunnel?token=${encodeURIComponent(this.token)}`;
    this.post({ type: 'init', privateKey: key, enrSeq: nextSeq(this.storage), tunnelUrl });
    void this.loadLab();
    this.readHash();
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  async loadLab(): Promise<void> {
    try {
      const r = await fetch(`/lab.json?token=${encodeURIComponent(this.token)}`, { cache: 'no-store' });
      if (!r.ok) throw new Error(r.status === 403 ? 'the bridge refused the token: open the URL that npm start printed' : `${r.status} ${r.statusText}`);
      const body = (await r.json()) as { peers?: LabPeerInfo[] };
      this.discv5.setLab((body.peers ?? []).filter((p): p is LabPeer => p.protocol === 'discv5' && typeof p.enr === 'string' && typeof p.nodeId === 'string'));
      this.bitcoin.setLab((body.peers ?? []).filter((p): p is BitcoinLabPeer => p.protocol === 'bitcoin' && typeof p.ip === 'string' && Number.isInteger(p.tcp)));
      this.libp2p.setLab((body.peers ?? []).filter((p): p is Libp2pLabPeer => p.protocol === 'libp2p' && typeof p.multiaddr === 'string' && Number.isInteger(p.tcp)));
      this.rlpx.setLab((body.peers ?? []).filter((p): p is ExecutionLabPeer => p.protocol === 'execution' && typeof p.enode === 'string' && Number.isInteger(p.tcp)));
      this.discv4.setLab((body.peers ?? []).filter((p): p is ExecutionLabPeer => p.protocol === 'execution' && typeof p.enode === 'string' && typeof p.nodeId === 'string'));
    } catch (e) {
      this.discv5.labError = `could not load the lab list: ${(e as Error).message}`;
      if (!this.discv5.choice) this.discv5.choice = 'custom';
    }
  }

  // ---------------------------------------------------------------- worker messages

  private enqueue(m: FromWorker): void {
    this.inbox.push(m);
    // Packets and trace records are applied in batches, at most every RENDER_MS: a whole cold
    // handshake (4 packets, ~20 ms) lands in one render instead of four, so painting never competes
    // with the worker's crypto while a handshake is under way (it did: 2 cores, +50% latency).
    // Answers, connection changes and anything in step mode show at once.
    const urgent = this.stepMode || m.type === 'result' || m.type === 'status' || m.type === 'identity' || m.type === 'replay' || m.type === 'notice' || m.type === 'conformance';
    if (urgent) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(() => this.flush());
      }
    } else if (this.flushTimer === undefined && !this.flushQueued) this.flushTimer = setTimeout(() => this.flush(), RENDER_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushQueued = false;
    const batch = this.inbox;
    this.inbox = [];
    this.apply(batch);
  }

  /** A deep link's live packet arrived in this batch: selected once the batch is applied. */
  private pendingLive: number | undefined;

  /** While a batch is applied: the packet list it is building. */
  private pendingPackets: PacketInfo[] | undefined;

  private apply(batch: FromWorker[]): void {
    let packets: PacketInfo[] | undefined;
    let traces: TraceRecord[] | undefined;
    const touch = () => (this.pendingPackets = packets ??= [...this.packets]);
    for (const m of batch) {
      for (const o of this.observers) o(m);
      switch (m.type) {
        case 'status':
          if (m.status.state === 'open' && this.status.state !== 'open') {
            void this.loadLab();
            if (this.wasOpen) this.note('info', `reconnected to the bridge: ${m.status.detail.replace(/^connected: /, '')}`);
            else mark('bridge-open');
            this.wasOpen = true;
          } else if (m.status.state === 'closed' && this.status.state === 'open') this.note('error', `lost the bridge (${m.status.detail}); your node keeps its keys and reconnects`);
          this.status = m.status;
          break;
        case 'identity': {
          const enr = parseEnrText(m.enrText);
          this.identity = { enrText: m.enrText, nodeId: m.nodeId, seq: m.seq, local: m.local, ...(enr.ok ? { enr: enr.value } : {}) };
          noteSeq(this.storage, m.seq);
          break;
        }
        case 'packet': {
          const list = touch();
          const p = m.packet;
          if (p.peerId) this.endpointIds.set(endpointKey(p.peer), p.peerId);
          if (p.tester) this.markScenarioPacket(p.tester.scenario, p.seq);
          const at = this.index.get(p.seq);
          if (at !== undefined) list[at] = p;
          else {
            this.index.set(p.seq, list.length);
            list.push(p);
          }
          if (p.direction === 'in' && this.stepMode) {
            this.lastStep = { phase: 'received', seq: p.seq };
            if (this.view === 'live') this.selectedSeq = p.seq;
          }
          if (this.pendingHash?.view === 'live' && this.pendingHash.seq === p.seq) this.pendingLive = p.seq;
          break;
        }
        case 'released': {
          const list = touch();
          const at = this.index.get(m.seq);
          if (at !== undefined) list[at] = { ...list[at], held: false };
          if (this.stepMode) {
            this.lastStep = { phase: 'sent', seq: m.seq };
            if (this.view === 'live') this.selectedSeq = m.seq;
          }
          break;
        }
        case 'held': {
          this.held = m.items;
          this.clockPaused = m.clockPaused;
          // Step mode: the packet about to be sent is shown in the inspector before it goes.
          const head = m.items[0];
          if (this.stepMode && this.view === 'live' && head?.direction === 'out' && head.seq !== undefined) this.selectedSeq = head.seq;
          break;
        }
        case 'trace':
          (traces ??= [...this.traces]).push(m.record);
          break;
        case 'event':
          this.onEvent(m.event, m.at);
          break;
        case 'notice':
          this.note(m.level, m.text, m.at, m.lane, m.afterSeq);
          break;
        case 'scenarios':
          this.scenarioList = m.list.map((x) => ({ name: x.name, checks: x.checks, status: 'waiting', steps: [] }));
          break;
        case 'discv4-result':
          this.discv4.onWorker(m);
          if (m.outcome.ok && !this.stepMode && this.view === 'live') this.selectAnswer('discv4');
          break;
        case 'discv4-identity':
        case 'discv4-table':
        case 'discv4-lookup':
          this.discv4.onWorker(m);
          break;
        case 'discv4-note':
          this.note(m.level, m.text.replace('{peer}', this.nameOf(m.lane)), m.at, m.lane);
          break;
        case 'btc-listening':
          this.listenWaiters.get(m.id)?.(m);
          this.listenWaiters.delete(m.id);
          break;
        case 'result':
          this.onResult(m.id, m.outcome);
          break;
        case 'conformance':
          this.onConformance(m.update, m.at);
          break;
        case 'replay':
          this.replay = m.replay;
          this.view = 'replay';
          this.rightTab = 'packet';
          this.inspectEnr = undefined;
          this.replayShown = m.replay.packets.length;
          if (!this.resolvePending('replay', m.replay.packets.map((_, i) => i + 1))) this.selectedSeq = 1;
          break;
      }
    }
    if (packets) this.packets = packets;
    if (traces) this.traces = traces;
    this.pendingPackets = undefined;
    if (this.pendingLive !== undefined && this.view === 'live') this.resolvePending('live', [this.pendingLive]);
    this.pendingLive = undefined;
  }

  private onEvent(e: Extract<FromWorker, { type: 'event' }>['event'], at: number): void {
    switch (e.type) {
      case 'session-established':
        this.note('ok', `session with ${this.nameOf(toHex(e.nodeId))} established — you are the ${e.direction === 'outgoing' ? 'initiator' : 'recipient'}`, at, toHex(e.nodeId));
        break;
      case 'timeout':
        this.note('error', `${e.request.type} to ${this.nameOf(toHex(e.to.nodeId))}: no answer after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'} — timed out`, at, toHex(e.to.nodeId));
        break;
      case 'failure':
        this.note('error', `${e.request.type} to ${this.nameOf(toHex(e.to.nodeId))} failed: ${e.reason}`, at, toHex(e.to.nodeId));
        break;
      case 'enr-updated':
        this.note('info', `your ENR is now seq ${e.enr.seq}: ${e.reason}`, at);
        break;
      case 'liveness-check':
        this.note('info', `revalidation: is ${this.nameOf(toHex(e.enr.nodeId))} alive? (${e.reason})`, at, toHex(e.enr.nodeId));
        break;
      case 'table': {
        const id = toHex(e.enr.nodeId);
        const before = this.discv5.table.flatMap((b) => b.nodes).find((n) => n.nodeId === id);
        const buckets = this.discv5.table.map((b) => ({ ...b, nodes: b.nodes.filter((n) => n.nodeId !== id) }));
        if (e.change === 'removed' && before) this.note('error', `${this.nameOf(id)} left your routing table: it did not answer its liveness check`, at, id);
        if (e.change !== 'removed') {
          let b = buckets.find((x) => x.distance === e.bucket);
          if (!b) buckets.push((b = { distance: e.bucket, nodes: [] }));
          const ep = e.enr.ip ? `${e.enr.ip}:${e.enr.udp}` : `[${e.enr.ip6}]:${e.enr.udp6 ?? e.enr.udp}`;
          b.nodes.push({ nodeId: id, seq: e.enr.seq, endpoint: ep, addedAt: before?.addedAt ?? performance.now(), verified: e.change === 'verified' || (before?.verified ?? false) });
        }
        this.discv5.table = buckets.filter((b) => b.nodes.length > 0).sort((a, b) => b.distance - a.distance);
        break;
      }
      case 'lookup': {
        const ev = e.event;
        const prev = this.discv5.lookup?.id === e.lookupId ? this.discv5.lookup : undefined;
        const l: LookupProgress = prev
          ? { ...prev, inFlight: [...prev.inFlight], closest: prev.closest }
          : { id: e.lookupId, target: toHex(e.target), inFlight: [], queried: 0, answered: 0, failed: 0, found: 0, done: false, closest: [] };
        if (ev.type === 'queried') {
          l.queried++;
          l.inFlight.push(toHex(ev.node.nodeId));
        } else if (ev.type === 'answered' || ev.type === 'failed') {
          const id = toHex(ev.node.nodeId);
          l.inFlight = l.inFlight.filter((x) => x !== id);
          if (ev.type === 'answered') {
            l.answered++;
            l.found += ev.newNodes.length;
          } else l.failed++;
        } else if (ev.type === 'done') {
          l.done = true;
          l.inFlight = [];
          l.closest = ev.closest.map((n) => ({ nodeId: toHex(n.nodeId), distance: logDistance(e.target, n.nodeId) }));
          this.note('ok', `lookup done: asked ${ev.queried} nodes, the ${ev.closest.length} closest to ${shortId(l.target)} are in the Routing table tab`, at);
        }
        this.discv5.lookup = l;
        break;
      }
      default:
        break;
    }
  }

  private note(level: SessionNote['level'], text: string, at = this.lastAt(), lane?: string, afterSeq?: number): void {
    this.notes = [...this.notes, { id: ++this.noteId, at, level, text, ...(lane ? { lane } : {}), ...(afterSeq !== undefined ? { afterSeq } : {}) }];
  }

  /** A conformance note goes right after the packets already shown (its time ties with the next scenario's first packet). */
  private testerNote(level: SessionNote['level'], text: string, at: number): void {
    this.note(level, text, at, undefined, this.pendingPackets?.at(-1)?.seq ?? this.packets.at(-1)?.seq ?? 0);
  }

  private lastAt(): number {
    return this.packets.length ? this.packets[this.packets.length - 1].at : 0;
  }

  private onResult(id: number, outcome: CommandOutcome): void {
    const action = this.pending.get(id);
    this.pending.delete(id);
    if (!action) return;
    this.busy = { ...this.busy, [action]: false };
    if (outcome.ok && action === 'ping') mark('first-pong');
    // The answer is selected, so the inspector shows what came back (step mode selects as it goes):
    // the last message in of the protocol that acted.
    if (outcome.ok && !this.stepMode && this.view === 'live' && action !== 'lookup' && action !== 'drop') this.selectAnswer(this.protocol);
    this.result = outcome.ok
      ? { action, ok: true, text: outcome.summary, ...(outcome.detail ? { detail: outcome.detail } : {}), ...(outcome.rttMs !== undefined ? { rttMs: outcome.rttMs } : {}), ...(outcome.consensus ? { consensus: outcome.consensus } : {}) }
      : { action, ok: false, text: outcome.reason };
  }

  // ---------------------------------------------------------------- targets & names

  nameOf(nodeId: string | undefined, endpoint?: Endpoint): string {
    // A stream protocol's key schedule names its peer by address ("127.0.0.1:9000", "[::1]:9000").
    const addr = nodeId ? /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:.]+)\]):(\d{1,5})$/.exec(nodeId) : null;
    if (addr) return this.nameOf(undefined, { ip: addr[1] ?? addr[2], port: Number(addr[3]) });
    const btcLab = !nodeId && endpoint ? (this.bitcoin.labAt(endpoint) ?? this.rlpx.labAt(endpoint) ?? this.libp2p.labAt(endpoint)) : undefined;
    if (btcLab) return btcLab.name;
    const elLab = nodeId ? this.rlpx.lab.find((p) => p.nodeId === nodeId) : undefined;
    if (elLab) return elLab.name;
    const id = nodeId ?? (endpoint ? this.endpointIds.get(endpointKey(endpoint)) : undefined);
    if (id && this.identity && id === this.identity.nodeId) return 'you';
    const lab = id ? this.discv5.lab.find((p) => p.nodeId === id) : endpoint ? this.discv5.lab.find((p) => p.ip === endpoint.ip && p.udp === endpoint.port) : undefined;
    if (lab) return lab.name;
    const el = id ? this.discv4.labName(id) : undefined;
    if (el) return el;
    if (id) return `node ${id.slice(0, 6)}`;
    return endpoint ? endpointKey(endpoint) : '?';
  }

  laneOf(p: PacketInfo): string {
    // A stream protocol's lane is its peer's TCP endpoint: one per connection.
    if (p.conn) return `tcp:${endpointKey(p.peer)}`;
    if (p.direction === 'out') return p.destId;
    return p.peerId ?? this.endpointIds.get(endpointKey(p.peer)) ?? this.discv5.lab.find((l) => l.ip === p.peer.ip && l.udp === p.peer.port)?.nodeId ?? endpointKey(p.peer);
  }

  // ---------------------------------------------------------------- views

  private buildView(): SessionView {
    if (this.view === 'replay' && this.replay) return replayView(this.replay, this.replayStepping ? this.replayShown : this.replay.packets.length);
    if (this.view === 'imported' && this.imported) return importedView(this.imported);
    const lanes: Lane[] = [{ key: this.identity?.nodeId ?? 'local', name: 'you (browser)', sub: this.identity ? endpointKey(this.identity.local) : 'not connected', local: true }];
    const seen = new Set<string>([lanes[0].key]);
    const items: TimelineItem[] = [];
    const addLane = (key: string, endpoint?: Endpoint) => {
      if (seen.has(key)) return;
      seen.add(key);
      if (key.startsWith('tcp:') && endpoint) return void lanes.push({ key, ...(this.libp2p.laneName(endpoint) ?? this.rlpx.laneName(endpoint) ?? this.bitcoin.laneName(endpoint)) });
      const lab = this.discv5.lab.find((l) => l.nodeId === key);
      const name = this.nameOf(/^[0-9a-f]{64}$/.test(key) ? key : undefined, endpoint);
      const sub = lab ? `${lab.ip}:${lab.udp}` : endpoint ? endpointKey(endpoint) : '';
      lanes.push({ key, name, sub: sub === name ? 'unknown node' : sub });
    };
    // Packets and notes interleave by time; both lists are already in order.
    let n = 0;
    for (const p of this.packets) {
      while (n < this.notes.length && (this.notes[n].afterSeq !== undefined ? this.notes[n].afterSeq! < p.seq : this.notes[n].at < p.at)) items.push({ type: 'note', ...this.notes[n++] });
      const lane = this.laneOf(p);
      if (p.tester && !seen.has(TESTER_LANE)) {
        seen.add(TESTER_LANE);
        lanes.splice(1, 0, { key: TESTER_LANE, name: 'tester', sub: '', local: true });
      }
      addLane(lane, p.peer);
      items.push({ type: 'packet', packet: p, lane, ...(p.tester ? { from: TESTER_LANE } : {}) });
    }
    while (n < this.notes.length) items.push({ type: 'note', ...this.notes[n++] });
    this.held.forEach((h, i) => {
      if (h.direction !== 'in') return;
      const lane = h.transport === 'tcp' ? `tcp:${endpointKey(h.peer)}` : (this.endpointIds.get(endpointKey(h.peer)) ?? this.discv5.lab.find((l) => l.ip === h.peer.ip && l.udp === h.peer.port)?.nodeId ?? endpointKey(h.peer));
      addLane(lane, h.peer);
      items.push({ type: 'arrival', id: i, size: h.size, lane });
    });
    return { id: 'live', localName: 'you', localId: this.identity?.nodeId ?? '', lanes, items, packets: this.packets, traces: this.traces };
  }

  // ---------------------------------------------------------------- actions

  selectTarget(choice: string): void {
    this.discv5.choice = choice;
    this.inputError = { ...this.inputError, target: undefined };
    this.result = undefined;
  }

  /** A pasted peer being typed: an old answer or error no longer belongs next to it. */
  setCustomText(text: string): void {
    this.discv5.customText = text;
    this.inputError = { ...this.inputError, target: undefined };
    this.result = undefined;
  }

  private send(action: ActionName, a: Action): boolean {
    const t = this.discv5.target;
    if (!t.ok) {
      this.inputError = { ...this.inputError, target: t.reason };
      this.result = undefined;
      return false;
    }
    if (!this.connected) {
      this.result = { action, ok: false, text: 'not connected to the bridge: nothing was sent (it reconnects by itself)' };
      return false;
    }
    const id = ++this.commandId;
    this.pending.set(id, action);
    this.busy = { ...this.busy, [action]: true };
    this.result = undefined;
    this.inputError = { ...this.inputError, target: undefined };
    if (this.view !== 'live') this.view = 'live';
    this.post({ type: 'command', id, target: t.text, ...a });
    return true;
  }

  ping(): void {
    this.send('ping', { action: 'ping' });
  }

  findNodes(distancesText: string): void {
    const d = parseDistances(distancesText);
    this.inputError = { ...this.inputError, distances: d.ok ? undefined : d.reason };
    if (d.ok) this.send('findnode', { action: 'findnode', distances: d.value });
  }

  talk(protocol: string, requestHex: string): void {
    const t = parseTalk(protocol, requestHex);
    this.inputError = { ...this.inputError, talk: t.ok ? undefined : t.reason };
    if (t.ok) this.send('talkreq', { action: 'talkreq', protocol: t.value.protocol, request: t.value.request });
  }

  dropSession(): void {
    this.send('drop', { action: 'drop' });
  }

  startLookup(targetText: string): void {
    const t = parseLookupTarget(targetText, () => secureRandom(32));
    this.inputError = { ...this.inputError, lookup: t.ok ? undefined : t.reason };
    if (!t.ok) return;
    if (this.discv5.target.ok && !this.discv5.target.contact.enr) {
      this.inputError = { ...this.inputError, target: 'a lookup starts from a node record: paste an ENR, an enode URL has none' };
      return;
    }
    if (this.send('lookup', { action: 'lookup', targetId: t.value })) {
      this.discv5.lookup = undefined;
      this.rightTab = 'table';
    }
  }

  // ---------------------------------------------------------------- conformance

  /** The scenarios as listed before any run (the worker, which runs them, sends the list). */
  scenarioList = $state.raw<ScenarioRow[]>([]);

  /** go-ethereum's seven discv5 scenarios against the chosen peer; results in the Conformance tab. */
  runConformance(): void {
    const t = this.discv5.target;
    if (!t.ok) {
      this.inputError = { ...this.inputError, target: t.reason };
      this.rightTab = 'conformance';
      return;
    }
    if (this.conformance?.running) return;
    const scenarios = this.scenarioList;
    const lab = this.discv5.choice.startsWith('lab:');
    if (!this.connected) {
      this.conformance = { targetName: t.name, lab, running: false, scenarios, stopped: 'not connected to the bridge: nothing was sent (it reconnects by itself)' };
      return;
    }
    if (this.stepMode) {
      this.conformance = { targetName: t.name, lab, running: false, scenarios, stopped: 'turn Step off first: the scenarios wait on a running clock' };
      return;
    }
    this.conformance = { targetName: t.name, lab, running: true, scenarios };
    this.inputError = { ...this.inputError, target: undefined };
    if (this.view !== 'live') this.view = 'live';
    this.rightTab = 'conformance';
    this.post({ type: 'conformance', target: t.text });
  }

  stopConformance(): void {
    this.post({ type: 'conformance-stop' });
  }

  private onConformance(u: ConformanceUpdate, at: number): void {
    const c = this.conformance;
    if (!c) return;
    const rows = (f: (r: ScenarioRow) => ScenarioRow) => c.scenarios.map(f);
    switch (u.type) {
      case 'started':
        this.conformance = { ...c, sources: u.sources, ...(u.noSecondary ? { noSecondary: u.noSecondary } : {}) };
        this.testerNote('info', `conformance run against ${c.targetName}: go-ethereum's 7 discv5 scenarios, from the tester's own sockets (${u.sources})`, at);
        break;
      case 'scenario-start': {
        const s = c.scenarios.find((r) => r.name === u.name);
        this.conformance = { ...c, scenarios: rows((r) => (r.name === u.name ? { ...r, status: 'running' } : r)) };
        this.testerNote('info', `${u.name}: ${s?.checks ?? ''}`, at);
        break;
      }
      case 'step':
        this.conformance = { ...c, scenarios: rows((r) => (r.name === u.scenario ? { ...r, steps: [...r.steps, u.text] } : r)) };
        this.testerNote('info', `${u.scenario}: ${u.text}`, at);
        break;
      case 'scenario-end': {
        const r = u.result;
        this.conformance = { ...c, scenarios: rows((x) => (x.name === r.name ? { ...x, status: r.status, reason: r.reason } : x)) };
        this.testerNote(r.status === 'pass' ? 'ok' : r.status === 'fail' ? 'error' : 'info', `${r.name}: ${r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIPPED'} — ${r.reason}`, at);
        break;
      }
      case 'done': {
        this.conformance = { ...c, running: false };
        const count = (s: string) => u.results.filter((r) => r.status === s).length;
        this.testerNote(count('fail') ? 'error' : 'ok', `conformance: ${count('pass')} passed, ${count('fail')} failed, ${count('skipped')} skipped`, at);
        break;
      }
      case 'stopped':
        this.conformance = { ...c, running: false, stopped: u.reason, scenarios: rows((r) => (r.status === 'running' ? { ...r, status: 'waiting' } : r)) };
        this.testerNote('error', `conformance run stopped: ${u.reason}`, at);
        break;
    }
  }

  private markScenarioPacket(name: string, seq: number): void {
    const c = this.conformance;
    if (!c || c.scenarios.find((r) => r.name === name)?.firstSeq !== undefined) return;
    this.conformance = { ...c, scenarios: c.scenarios.map((r) => (r.name === name ? { ...r, firstSeq: seq } : r)) };
  }

  // ---------------------------------------------------------------- Bitcoin actions

  /** multistream → Noise XX → yamux → ping with the chosen libp2p lab node, multiaddr or ENR. */
  p2pDial(): void {
    const t = this.libp2p.target;
    if (!t.ok) {
      this.inputError = { ...this.inputError, target: t.reason };
      return;
    }
    if (!this.connected) {
      this.result = { action: 'dial', ok: false, text: 'not connected to the bridge: nothing was sent (it reconnects by itself)' };
      return;
    }
    const id = ++this.commandId;
    this.pending.set(id, 'dial');
    this.busy = { ...this.busy, dial: true };
    this.result = undefined;
    this.inputError = { ...this.inputError, target: undefined };
    if (this.view !== 'live') this.view = 'live';
    this.post({ type: 'p2p-dial', id, target: t.text });
  }

  /** A discv5 lookup found a consensus client: switch to libp2p and dial its ENR. */
  dialWithLibp2p(enr: string): void {
    this.setProtocol('libp2p');
    this.libp2p.dialText(enr);
    void this.libp2p.ready().then(() => this.p2pDial());
  }

  setProtocol(p: ProtocolId): void {
    this.protocol = p;
    this.result = undefined;
    if (p === 'discv4' && this.connected) this.post({ type: 'discv4-open' });
    // discv4 hands a node over to RLPx in one click, as an execution client dials what it discovered.
    this.discv4.openRlpx = (enode) => void this.openRlpxTo(enode);
  }

  // ---------------------------------------------------------------- RLPx actions

  /** auth/ack, Hello and Status (or Ping) with the chosen execution node. */
  rlpxHandshake(): void {
    const t = this.rlpx.target;
    this.startHandshake(t, (id) => ({ type: 'rlpx-handshake', id, target: t.ok ? t.text : '', goal: this.rlpx.goal, network: this.rlpx.network }));
  }

  /** A stream protocol's handshake from the side panel: checks the target and the bridge, then asks the worker. */
  private startHandshake(t: { ok: true } | { ok: false; reason: string }, message: (id: number) => ToWorker): void {
    if (!t.ok) {
      this.inputError = { ...this.inputError, target: t.reason };
      return;
    }
    if (!this.connected) {
      this.result = { action: 'handshake', ok: false, text: 'not connected to the bridge: nothing was sent (it reconnects by itself)' };
      return;
    }
    const id = ++this.commandId;
    this.pending.set(id, 'handshake');
    this.busy = { ...this.busy, handshake: true };
    this.result = undefined;
    this.inputError = { ...this.inputError, target: undefined };
    if (this.view !== 'live') this.view = 'live';
    this.post(message(id));
  }

  /** Aims the page at an execution node from its enode and switches the side panel to RLPx. */
  openRlpxTo(enode: string): boolean {
    const r = this.rlpx.setTargetFromEnode(enode);
    if (!r.ok) {
      this.inputError = { ...this.inputError, target: r.reason };
      return false;
    }
    this.setProtocol('rlpx');
    return true;
  }

  /** Opens the page's TCP listener for RLPx, then asks the chosen lab node to dial it (its auth is encrypted to your node key). */
  async askRlpxToConnect(): Promise<void> {
    const t = this.rlpx.target;
    if (!t.ok || !t.labPeer) {
      this.result = { action: 'connect-in', ok: false, text: 'choose an execution lab node: only lab nodes can be asked to connect to you' };
      return;
    }
    if (!this.connected || !this.privateKeyHex) {
      this.result = { action: 'connect-in', ok: false, text: 'not connected to the bridge: nothing was sent' };
      return;
    }
    const labPeer = t.labPeer;
    await this.askLabToDial({
      listen: (id) => ({ type: 'rlpx-listen', id, network: this.rlpx.network }),
      peer: labPeer.name,
      // Its auth is encrypted to your node key: the browser node's key, one identity for discovery and RLPx.
      key: toHex(publicKey64(publicKeyOf(fromHex(this.privateKeyHex), false))),
      listening: (l) => {
        this.rlpx.listening = l;
        this.rlpx.dialler = labPeer.name;
      },
      success: (l, body: { clientId?: string; statusVersion?: number }) => `${labPeer.name} dialled your listener ${l.ip}:${l.port}: auth, ack, Hello and eth/${body.statusVersion ?? '?'} Status with your node (it saw ${body.clientId ?? '?'})`,
    });
  }

  /** version/verack with the chosen Bitcoin lab node or host. */
  btcHandshake(): void {
    const t = this.bitcoin.target;
    this.startHandshake(t, (id) => ({ type: 'btc-handshake', id, target: t.ok ? t.text : '', network: t.ok ? t.network : this.bitcoin.network }));
  }

  /** Opens the page's TCP listener on the bridge (once), then asks the chosen lab node to dial it: you are the recipient. */
  async askBtcToConnect(): Promise<void> {
    const t = this.bitcoin.target;
    if (!t.ok || !t.labPeer) {
      this.result = { action: 'connect-in', ok: false, text: 'choose a Bitcoin lab node: only lab nodes can be asked to connect to you' };
      return;
    }
    if (!this.connected) {
      this.result = { action: 'connect-in', ok: false, text: 'not connected to the bridge: nothing was sent' };
      return;
    }
    const labPeer = t.labPeer;
    await this.askLabToDial({
      listen: (id) => ({ type: 'btc-listen', id, network: t.network }),
      peer: labPeer.name,
      listening: (l) => {
        this.bitcoin.listening = l;
        this.bitcoin.dialler = labPeer.name;
      },
      success: (l, body: { version?: number; agent?: string }) => `${labPeer.name} dialled your listener ${l.ip}:${l.port} and completed version/verack with your node (it saw ${body.agent ?? '?'}, protocol ${body.version ?? '?'})`,
    });
  }

  /**
   * The recipient role, for any stream protocol: opens the page's TCP listener on the bridge (once;
   * aimed at the protocol that asks), then has a lab node dial it (POST /lab/connect).
   */
  private async askLabToDial<Body>(o: { listen: (id: number) => ToWorker; peer: string; key?: string; listening: (l: Endpoint) => void; success: (l: Endpoint, body: Body) => string }): Promise<void> {
    if (this.view !== 'live') this.view = 'live';
    this.busy = { ...this.busy, 'connect-in': true };
    this.result = undefined;
    try {
      const id = ++this.commandId;
      const l = await new Promise<Extract<FromWorker, { type: 'btc-listening' }>>((resolve) => {
        this.listenWaiters.set(id, resolve);
        this.post(o.listen(id));
      });
      if (l.error || !l.ip || !l.port) {
        this.result = { action: 'connect-in', ok: false, text: `could not open your TCP listener on the bridge: ${l.error ?? 'no address'}` };
        return;
      }
      const at = { ip: l.ip, port: l.port };
      o.listening(at);
      const r = await fetch(`/lab/connect?token=${encodeURIComponent(this.token)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ peer: o.peer, ip: l.ip, port: l.port, ...(o.key ? { key: o.key } : {}) }),
      });
      const body = (await r.json().catch(() => ({}))) as Body & { ok?: boolean; rttMs?: number; error?: string };
      this.result = r.ok && body.ok
        ? { action: 'connect-in', ok: true, text: o.success(at, body), ...(body.rttMs !== undefined ? { rttMs: body.rttMs } : {}) }
        : { action: 'connect-in', ok: false, text: body.error ?? `the bridge answered ${r.status}` };
    } catch (e) {
      this.result = { action: 'connect-in', ok: false, text: `could not reach the bridge: ${(e as Error).message}` };
    } finally {
      this.busy = { ...this.busy, 'connect-in': false };
    }
  }

  /** Asks the selected lab node to ping the browser node (it starts the handshake: you are the recipient). */
  async askPeerToPing(): Promise<void> {
    const t = this.discv5.target;
    const peer = this.discv5.choice.startsWith('lab:') ? this.discv5.lab.find((p) => `lab:${p.nodeId}` === this.discv5.choice) : undefined;
    if (!peer || !t.ok) {
      this.result = { action: 'inbound', ok: false, text: 'choose a lab node: only lab nodes can be asked to ping you' };
      return;
    }
    if (!this.identity || !this.connected) {
      this.result = { action: 'inbound', ok: false, text: 'not connected to the bridge: nothing was sent' };
      return;
    }
    if (this.view !== 'live') this.view = 'live';
    this.busy = { ...this.busy, inbound: true };
    this.result = undefined;
    try {
      const r = await fetch(`/lab/ping?token=${encodeURIComponent(this.token)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ peer: peer.name, enr: this.identity.enrText }),
      });
      const body = (await r.json().catch(() => ({}))) as { ok?: boolean; rttMs?: number; error?: string; enrSeq?: string; ip?: string; port?: number };
      this.result = r.ok && body.ok
        ? { action: 'inbound', ok: true, text: `${peer.name} pinged you cold and got your PONG; your PONG told ${peer.name} the address your node saw it at: ${body.ip}:${body.port}`, ...(body.rttMs !== undefined ? { rttMs: body.rttMs } : {}) }
        : { action: 'inbound', ok: false, text: body.error ?? `the bridge answered ${r.status}` };
    } catch (e) {
      this.result = { action: 'inbound', ok: false, text: `could not reach the bridge: ${(e as Error).message}` };
    } finally {
      this.busy = { ...this.busy, inbound: false };
    }
  }

  reconnect(): void {
    this.post({ type: 'reconnect' });
  }

  // ---------------------------------------------------------------- identity

  setKey(text: string): boolean {
    const r = parsePrivateKey(text);
    if (!r.ok) {
      this.keyError = r.reason;
      return false;
    }
    this.keyError = undefined;
    this.useKey(r.key);
    return true;
  }

  resetKey(): void {
    this.keyError = undefined;
    this.useKey(newKey());
  }

  private useKey(key: Uint8Array): void {
    saveKey(this.storage, key);
    this.privateKeyHex = toHex(key);
    this.identity = undefined;
    this.clearSession();
    this.post({ type: 'set-key', privateKey: key, enrSeq: nextSeq(this.storage) });
  }

  clearSession(): void {
    this.packets = [];
    this.notes = [];
    this.traces = [];
    this.discv5.table = [];
    this.discv5.lookup = undefined;
    this.index.clear();
    this.selectedSeq = undefined;
    this.lastStep = undefined;
  }

  showEnr(title: string, text: string): void {
    const r = parseEnrText(text);
    if (!r.ok) return;
    this.inspectEnr = { title, dissection: dissectEnr(r.value.raw) };
    this.rightTab = 'packet';
  }

  // ---------------------------------------------------------------- step mode

  setStepMode(on: boolean): void {
    this.stepMode = on;
    this.playing = false;
    this.lastStep = undefined;
    this.post({ type: 'step-mode', on });
  }

  step(): void {
    if (!this.stepMode) this.setStepMode(true);
    else this.post({ type: 'step' });
  }

  togglePlay(): void {
    if (!this.stepMode) return this.setStepMode(true);
    this.playing = !this.playing;
    this.post({ type: 'play', playing: this.playing, delayMs: this.playDelayMs });
  }

  setPlayDelay(ms: number): void {
    this.playDelayMs = ms;
    if (this.playing) this.post({ type: 'play', playing: true, delayMs: ms });
  }

  // ---------------------------------------------------------------- selection, replay, files

  /** Selects the newest message in of this protocol, not refused (after an action: what came back). */
  private selectAnswer(protocol: string): void {
    const answer = [...(this.pendingPackets ?? this.packets)].reverse().find((p) => p.direction === 'in' && !p.rejected && (p.protocol ?? 'discv5') === protocol);
    if (answer) this.select(answer.seq);
  }

  select(seq: number | undefined, field?: string): void {
    this.selectedSeq = seq;
    this.inspectEnr = undefined;
    this.selectedField = undefined;
    this.focusField = undefined;
    if (field && seq !== undefined) this.openField(field);
    this.writeHash();
  }

  /** The inspector reports the field the reader selected. */
  pickField(f: { name: string; layer: string } | undefined): void {
    this.selectedField = f;
    this.writeHash();
  }

  private writeHash(): void {
    if (typeof history === 'undefined') return;
    const seq = this.selectedSeq;
    const field = this.selectedField ? `&field=${encodeURIComponent(this.selectedField.name)}` : '';
    const hash = seq === undefined ? '' : `#${this.view === 'live' ? 'packet' : this.view}=${seq}${field}`;
    if (hash !== location.hash) history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  }

  /** Opens a field by name in the selected packet (the first layer that has it), or says why not. */
  private openField(name: string): void {
    const d = this.dissection;
    if (!d) return;
    const has = (fs: Dissection['layers'][number]['fields']): boolean => fs.some((f) => f.name === name || has(f.children ?? []));
    const layer = d.layers.find((l) => has(l.fields));
    if (!layer) {
      this.linkError = `Packet #${this.selectedSeq} has no field “${name}”: its fields are listed under Packet bytes.`;
      return;
    }
    this.focusField = { name, layer: layer.name };
    this.selectedField = { name, layer: layer.name };
  }

  /** Moves the selection by `delta` packets in the current view. */
  move(delta: number): void {
    const list = this.current.packets;
    if (list.length === 0) return;
    const at = list.findIndex((p) => p.seq === this.selectedSeq);
    const next = at < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, at + delta));
    this.select(list[next].seq);
  }

  /** A deep link: `#packet=3&field=id-nonce` (live), `#replay=3&field=…`, `#imported=2&field=…`. */
  readHash(): void {
    const m = /^#(packet|replay|imported)=(\d+)(?:&field=([^&]+))?$/.exec(location.hash);
    this.linkError = undefined;
    if (!m) return;
    const view: ViewId = m[1] === 'packet' ? 'live' : (m[1] as ViewId);
    const seq = Number(m[2]);
    const field = m[3] ? decodeURIComponent(m[3]) : undefined;
    const link = { view, seq, ...(field ? { field } : {}) };
    if (view === 'replay') {
      this.pendingHash = link;
      this.runReplay();
      return;
    }
    if (view === 'live' && this.packets.some((p) => p.seq === seq)) {
      this.view = 'live';
      this.select(seq, field);
    } else if (view === 'imported' && this.imported) {
      this.view = 'imported';
      if (this.imported.packets.some((p) => p.seq === seq)) this.select(seq, field);
      else this.linkError = `The imported session has no packet #${seq} (it has ${this.imported.packets.length}).`;
    } else {
      this.pendingHash = link;
      this.linkError =
        view === 'live'
          ? `This link points to packet #${seq} of a live session, and this page has no such packet: a live session lives only in the tab that made it. Import that session’s file (Import, top bar) and open #imported=${seq}, or press Replay for the spec’s handshake.`
          : `This link points into an imported session: press Import (top bar) and open the session file; packet #${seq} is selected then.`;
    }
  }

  /** Applies a deep link that waited for its packet (live packets, the replay, an import). */
  private resolvePending(view: ViewId, seqs: number[]): boolean {
    const h = this.pendingHash;
    if (!h || h.view !== view) return false;
    this.pendingHash = undefined;
    if (!seqs.includes(h.seq)) {
      this.linkError = `This session has no packet #${h.seq} (it has ${seqs.length}).`;
      return false;
    }
    this.linkError = undefined;
    this.select(h.seq, h.field);
    return true;
  }

  runReplay(): void {
    if (this.replay) {
      this.view = 'replay';
      this.rightTab = 'packet';
      this.inspectEnr = undefined;
      if (!this.resolvePending('replay', this.replay.packets.map((_, i) => i + 1))) this.select(this.selectedSeq ?? 1);
      return;
    }
    this.post({ type: 'replay' });
  }

  /** Replay, one packet at a time: start over with none shown. */
  stepReplay(): void {
    if (!this.replay) return;
    if (!this.replayStepping) {
      this.replayStepping = true;
      this.replayShown = 0;
      this.select(undefined);
      return;
    }
    if (this.replayShown >= this.replay.packets.length) return;
    this.replayShown++;
    this.select(this.replayShown);
  }

  /** Replay: every packet at once again. */
  showWholeReplay(): void {
    this.replayStepping = false;
    if (this.replay) this.replayShown = this.replay.packets.length;
  }

  setView(v: ViewId): void {
    if (v === 'replay') return this.runReplay();
    this.view = v;
    this.selectedSeq = undefined;
    this.inspectEnr = undefined;
  }

  /** Exports keep your node's private key only when this is ticked. */
  exportPrivateKey = $state(false);

  async exportJson(): Promise<string> {
    await loadDissectors(); // the file carries every packet's dissection
    const names: Record<string, string> = {};
    for (const p of this.discv5.lab) names[p.nodeId] = p.name;
    return exportSession(
      { local: { nodeId: this.identity?.nodeId ?? '0'.repeat(64), ...(this.identity ? { enr: this.identity.enrText } : {}) }, names, packets: this.packets, trace: this.traces, notes: this.notes.map(({ at, level, text }) => ({ at, level, text })) },
      dissectPacket,
      new Date(),
      { includePrivateKey: this.exportPrivateKey },
    );
  }

  /** The session (the view on screen) as pcapng for Wireshark: our side is the browser node's socket on the bridge. */
  async exportPcapng(): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; reason: string }> {
    const packets = this.current.packets.filter((p) => !p.held);
    if (packets.length === 0) return { ok: false, reason: 'no packets yet' };
    const local = this.identity?.local ?? { ip: '127.0.0.1', port: 0 };
    // Loaded on first use: most visits never export.
    const { toPcapng } = await import('../../shared/pcapng.ts');
    const r = toPcapng(packets, { local, application: 'Handshake Lab (browser)' });
    return r.ok ? { ok: true, bytes: r.value } : { ok: false, reason: r.error.reason };
  }

  importJson(text: string): void {
    const r = importSession(text);
    if (!r.ok) {
      this.importError = r.reason;
      return;
    }
    this.importError = undefined;
    this.imported = r.session;
    this.view = 'imported';
    if (!this.resolvePending('imported', r.session.packets.map((p) => p.seq))) this.select(r.session.packets[0]?.seq);
  }
}

/** User-timing marks (devtools, bench/web.ts): the first of each name only. */
function mark(name: string): void {
  if (typeof performance !== 'undefined' && performance.getEntriesByName(name).length === 0) performance.mark(name);
}

/** The dissection of one record as the inspector shows it: its protocol's own view. */
export const dissectPacket = (p: PacketInfo): Dissection => viewOf(p).dissect(p);

/** The replay's first `shown` packets, as a session (stepping reveals one more at a time). */
function replayView(r: ReplayInfo, shown: number): SessionView {
  const lanes: Lane[] = [
    { key: r.nodeA.nodeId, name: 'node A', sub: 'initiator (spec key)', local: true },
    { key: r.nodeB.nodeId, name: 'node B', sub: 'recipient (spec key)' },
  ];
  const seen = new Set<TraceRecord>();
  const traces: TraceRecord[] = [];
  const packets: PacketInfo[] = [];
  const vectors = new Map<number, NonNullable<ReplayPacketInfo['vector']>>();
  r.packets.slice(0, shown).forEach((p, i) => {
    const seq = i + 1;
    packets.push({ ...p.record, seq, direction: p.sender === 'A' ? 'out' : 'in', peerId: p.sender === 'A' ? r.nodeB.nodeId : r.nodeA.nodeId });
    if (p.vector) vectors.set(seq, p.vector);
    for (const t of p.trace) if (!seen.has(t)) (seen.add(t), traces.push(t));
  });
  const items: TimelineItem[] = packets.map((p) => ({ type: 'packet', packet: p, lane: r.nodeB.nodeId }));
  return { id: 'replay', localName: 'node A', localId: r.nodeA.nodeId, lanes, items, packets, traces, vectors };
}

function importedView(s: SessionData): SessionView {
  const lanes: Lane[] = [{ key: s.local.nodeId, name: 'you (imported)', sub: shortId(s.local.nodeId), local: true }];
  const seen = new Set([s.local.nodeId]);
  const items: TimelineItem[] = [];
  let n = 0;
  for (const p of s.packets) {
    while (n < s.notes.length && s.notes[n].at < p.at) items.push({ type: 'note', id: n, ...s.notes[n++] });
    const lane = (p.direction === 'out' ? p.destId : p.peerId) ?? endpointKey(p.peer);
    if (!seen.has(lane)) {
      seen.add(lane);
      lanes.push({ key: lane, name: s.names[lane] ?? (/^[0-9a-f]{64}$/.test(lane) ? `node ${lane.slice(0, 6)}` : lane), sub: endpointKey(p.peer) });
    }
    items.push({ type: 'packet', packet: p, lane });
  }
  while (n < s.notes.length) items.push({ type: 'note', id: n, ...s.notes[n++] });
  return { id: 'imported', localName: 'you', localId: s.local.nodeId, lanes, items, packets: s.packets, traces: s.trace };
}

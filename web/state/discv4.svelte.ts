// The page's discv4 choices and views of its own: which lab execution node or pasted enode to
// talk to, the page's own discv4 socket on the bridge, the routing table as it fills and the
// running lookup, and the last answer. Session state (packets, notes, trace) stays in Playground.
import { toHex } from '../../shared/bytes.ts';
import { parseDiscv4Target } from '../../shared/discv4/contact.ts';
import { formatEnode } from '../../shared/enr/index.ts';
import type { ExecutionLabPeer } from '../../shared/lab.ts';
import type { Endpoint } from '../../shared/transport.ts';
import type { CommandOutcome, Discv4Action, Discv4NodeInfo, FromWorker, ToWorker } from '../lib/protocol.ts';
import type { LookupProgress, TableBucket } from './discv5.svelte.ts';

/** text: what the worker parses; enode: the node as an enode URL (what RLPx dials). */
export type Discv4Target = { ok: true; text: string; enode: string; name: string; labPeer?: ExecutionLabPeer } | { ok: false; reason: string };

export interface Discv4Result {
  action: Discv4Action | 'pinged-by';
  ok: boolean;
  text: string;
  rttMs?: number;
  /** Nodes an answer named (NEIGHBORS, a lookup's closest): each can be opened over RLPx. */
  nodes?: Discv4NodeInfo[];
}

export interface Discv4Deps {
  post: (m: ToWorker) => void;
  connected: () => boolean;
  token: () => string;
  /** A lookup or request started: the page shows the live timeline. */
  toLive: () => void;
}

export class Discv4State {
  lab = $state.raw<ExecutionLabPeer[]>([]);
  /** 'lab:<name>' or 'custom'. */
  choice = $state('');
  customText = $state('');
  /** The page's discv4 socket on the bridge and its enode, once opened. */
  local = $state.raw<{ endpoint: Endpoint; enode: string } | undefined>();
  table = $state.raw<TableBucket[]>([]);
  lookup = $state.raw<LookupProgress | undefined>();
  result = $state.raw<Discv4Result | undefined>();
  busy = $state<Partial<Record<Discv4Result['action'], boolean>>>({});
  /**
   * Opens an RLPx connection to a node (its enode), as an execution client does after discovery.
   * Set by the session when a protocol that speaks RLPx is in the registry; absent, no button shows.
   */
  openRlpx = $state.raw<((enode: string) => void) | undefined>();

  target = $derived.by((): Discv4Target => {
    if (this.choice.startsWith('lab:')) {
      const p = this.lab.find((l) => `lab:${l.name}` === this.choice);
      if (!p) return { ok: false, reason: 'choose a lab execution node or paste an enode' };
      return { ok: true, text: p.enode, enode: p.enode, name: p.name, labPeer: p };
    }
    const text = this.customText.trim();
    if (!text) return { ok: false, reason: 'paste an enode URL (enode://…) or an ENR (enr:…) first' };
    const r = parseDiscv4Target(text);
    return r.ok ? { ok: true, text, enode: formatEnode({ ...r.value, tcp: r.value.tcp }), name: `node ${toHex(r.value.nodeId).slice(0, 6)}` } : { ok: false, reason: r.error.reason };
  });

  private nextId = 0;
  private readonly pending = new Map<number, Discv4Action>();
  private identityWaiters: ((m: Extract<FromWorker, { type: 'discv4-identity' }>) => void)[] = [];

  constructor(private readonly deps: Discv4Deps) {}

  setLab(peers: ExecutionLabPeer[]): void {
    this.lab = peers;
    if (!this.choice || (this.choice.startsWith('lab:') && !peers.some((p) => `lab:${p.name}` === this.choice))) this.choice = peers.length ? `lab:${peers[0].name}` : 'custom';
  }

  /** The lab node with this node id (hex), for names on lanes and in lists. */
  labName(nodeId: string): string | undefined {
    return this.lab.find((p) => p.nodeId === nodeId)?.name;
  }

  /** ping, requestenr, findnode or lookup with the chosen node. */
  run(action: Discv4Action): void {
    const t = this.target;
    if (!t.ok) return void (this.result = { action, ok: false, text: t.reason });
    if (!this.deps.connected()) return void (this.result = { action, ok: false, text: 'not connected to the bridge: nothing was sent (it reconnects by itself)' });
    const id = ++this.nextId;
    this.pending.set(id, action);
    this.busy = { ...this.busy, [action]: true };
    this.result = undefined;
    if (action === 'lookup') this.lookup = undefined;
    this.deps.toLive();
    this.deps.post({ type: 'discv4', id, action, target: t.text });
  }

  /** "Ask a lab node to ping you": the bridge has the chosen lab node ping the page's own discv4 socket. */
  async askToPing(): Promise<void> {
    const t = this.target;
    if (!t.ok || !t.labPeer) return void (this.result = { action: 'pinged-by', ok: false, text: 'choose a lab execution node: only lab nodes can be asked to ping you' });
    if (!this.deps.connected()) return void (this.result = { action: 'pinged-by', ok: false, text: 'not connected to the bridge: nothing was sent' });
    this.busy = { ...this.busy, 'pinged-by': true };
    this.result = undefined;
    this.deps.toLive();
    try {
      const id = await new Promise<Extract<FromWorker, { type: 'discv4-identity' }>>((resolve) => {
        this.identityWaiters.push(resolve);
        this.deps.post({ type: 'discv4-open' });
        if (this.local) resolve({ type: 'discv4-identity', local: this.local.endpoint, enode: this.local.enode });
      });
      if (!id.enode) return void (this.result = { action: 'pinged-by', ok: false, text: `could not open your discv4 socket on the bridge: ${id.error ?? 'no address'}` });
      const r = await fetch(`/lab/ping-v4?token=${encodeURIComponent(this.deps.token())}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ peer: t.labPeer.name, enode: id.enode }) });
      const body = (await r.json().catch(() => ({}))) as { ok?: boolean; rttMs?: number; error?: string };
      this.result = r.ok && body.ok
        ? { action: 'pinged-by', ok: true, text: `${t.labPeer.name} pinged you and got your PONG; your node pinged it back to prove its endpoint in turn (bonding)`, ...(body.rttMs !== undefined ? { rttMs: body.rttMs } : {}) }
        : { action: 'pinged-by', ok: false, text: body.error ?? `the bridge answered ${r.status}` };
    } catch (e) {
      this.result = { action: 'pinged-by', ok: false, text: `could not reach the bridge: ${(e as Error).message}` };
    } finally {
      this.busy = { ...this.busy, 'pinged-by': false };
    }
  }

  /** Worker messages that are discv4's; false for any other. */
  onWorker(m: FromWorker): boolean {
    switch (m.type) {
      case 'discv4-identity':
        if (m.local && m.enode) this.local = { endpoint: m.local, enode: m.enode };
        for (const w of this.identityWaiters.splice(0)) w(m);
        return true;
      case 'discv4-result': {
        const action = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!action) return true;
        this.busy = { ...this.busy, [action]: false };
        this.result = answer(action, m.outcome, m.nodes);
        return true;
      }
      case 'discv4-table':
        this.table = m.buckets
          .map((b) => ({ distance: b.distance, nodes: b.nodes.map((n) => ({ nodeId: n.nodeId, seq: 0n, endpoint: n.endpoint, addedAt: this.addedAt(n.nodeId), verified: n.verified })) }))
          .sort((a, b) => b.distance - a.distance);
        return true;
      case 'discv4-lookup': {
        const prev = this.lookup?.id === m.lookupId ? this.lookup : undefined;
        const l: LookupProgress = prev ? { ...prev, inFlight: [...prev.inFlight] } : { id: m.lookupId, target: m.target, inFlight: [], queried: 0, answered: 0, failed: 0, found: 0, done: false, closest: [] };
        if (m.event === 'queried' && m.node) {
          l.queried++;
          l.inFlight.push(m.node);
        } else if (m.event === 'answered' || m.event === 'failed') {
          l.inFlight = l.inFlight.filter((x) => x !== m.node);
          if (m.event === 'answered') {
            l.answered++;
            l.found += m.newNodes ?? 0;
          } else l.failed++;
        } else if (m.event === 'done') {
          l.done = true;
          l.inFlight = [];
          l.closest = m.closest ?? [];
        }
        this.lookup = l;
        return true;
      }
      default:
        return false;
    }
  }

  private addedAt(nodeId: string): number {
    return this.table.flatMap((b) => b.nodes).find((n) => n.nodeId === nodeId)?.addedAt ?? performance.now();
  }
}

function answer(action: Discv4Action, o: CommandOutcome, nodes?: Discv4NodeInfo[]): Discv4Result {
  if (!o.ok) return { action, ok: false, text: o.reason };
  return { action, ok: true, text: o.summary, ...(o.rttMs !== undefined ? { rttMs: o.rttMs } : {}), ...(nodes ? { nodes } : {}) };
}

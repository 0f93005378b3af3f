// The browser's discv4 side, in the worker beside the discv5 node: its own UDP socket on the
// bridge (through the step gate), one Discv4Engine with the page's key, its records numbered on
// the page's one timeline. The page asks for ping, ENR request, FINDNODE or a lookup; it gets
// every packet, the crypto trace, the routing table as it fills, and each answer.
import { toHex } from '../../shared/bytes.ts';
import { EngineDriver } from '../../shared/drive/driver.ts';
import type { GatedSocket } from '../../shared/drive/gate.ts';
import { createEnr, encodeEnrText, formatEnode, udpFields } from '../../shared/enr/index.ts';
import { parseDiscv4Target } from '../../shared/discv4/contact.ts';
import { Discv4Engine, type Discv4Command, type Discv4Event } from '../../shared/discv4/engine.ts';
import type { Discv4Node } from '../../shared/discv4/node.ts';
import { keccak256 } from '../../shared/crypto/hashes.ts';
import { logDistance } from '../../shared/kademlia/distance.ts';
import type { WireRecord } from '../../shared/engine.ts';
import { parseHex } from '../../shared/bytes.ts';
import { secureRandom } from '../../shared/random.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import { endpointKey } from '../../shared/transport.ts';
import type { CommandOutcome, Discv4Action, Discv4NodeInfo, FromWorker } from '../lib/protocol.ts';
import { installFastRecovery } from '../../shared/crypto/secp256k1-fast-recovery.ts';

// Recovery is hot here (every packet received): the faster implementation, same results.
installFastRecovery();

export interface Discv4HostDeps {
  privateKey: Uint8Array;
  socket: GatedSocket;
  clock: () => number;
  /** Unix time in ms minus clock() now: expiration is wall-clock time, the page's clock is virtual. */
  epochOffsetMs: number;
  packetSeq: () => number;
  tagHeld: (bytes: Uint8Array, seq: number) => boolean;
  record: (r: WireRecord, held: boolean) => void;
  trace: (t: TraceRecord) => void;
  post: (m: FromWorker) => void;
}

/** Over the bridge a request is two tunnel hops each way: a little more patience than on loopback. */
const REQUEST_TIMEOUT_MS = 2000;

export const enodeOf = (n: Discv4Node): string => formatEnode({ publicKey: n.publicKey, nodeId: n.nodeId, ip: n.ip, tcp: n.tcp, udp: n.udp });

export class Discv4Host {
  readonly engine: Discv4Engine;
  private readonly driver: EngineDriver<Discv4Command, Discv4Event>;
  private readonly waiting = new Map<number, (e: Discv4Event) => void>();
  private nextRequest = 1;
  private nextLookup = 1;

  constructor(private readonly deps: Discv4HostDeps) {
    const local = deps.socket.local;
    const enr = createEnr({ privateKey: deps.privateKey, ...udpFields(local) });
    this.engine = new Discv4Engine({ privateKey: deps.privateKey, enr, endpoint: { ip: local.ip, udp: local.port, tcp: 0 }, random: secureRandom, requestTimeoutMs: REQUEST_TIMEOUT_MS, epochOffsetMs: deps.epochOffsetMs, packetSeq: deps.packetSeq });
    this.driver = new EngineDriver(this.engine, { datagram: deps.socket }, deps.clock);
    this.driver.listen({
      record: (r) => deps.record(r, r.direction === 'out' && deps.tagHeld(r.raw, r.seq)),
      trace: (t) => deps.trace(t),
      event: (e) => this.onEvent(e),
      error: (err) => (err as { code?: string }).code !== 'closed' && deps.post({ type: 'discv4-note', level: 'error', text: `discv4: the bridge did not send a datagram: ${err.message}`, at: deps.clock() }),
    });
    deps.post({ type: 'discv4-identity', local, enode: this.enode });
  }

  get enode(): string {
    const local = this.deps.socket.local;
    return formatEnode({ publicKey: this.engine.publicKey, nodeId: this.engine.nodeId, ip: local.ip, tcp: 0, udp: local.port });
  }

  command(id: number, action: Discv4Action, targetText: string, targetKey?: string): void {
    const reply = (outcome: CommandOutcome, nodes?: Discv4NodeInfo[]) => this.deps.post({ type: 'discv4-result', id, outcome, ...(nodes ? { nodes } : {}) });
    const t = parseDiscv4Target(targetText);
    if (!t.ok) return reply({ ok: false, reason: `invalid target: ${t.error.reason}` });
    const to = t.value;
    if (action === 'lookup') {
      const key = targetKey ? parseHex(targetKey) : secureRandom(64);
      if (!key || key.length !== 64) return reply({ ok: false, reason: 'a lookup target is a 64-byte public key: 128 hex digits' });
      const lookupId = this.nextLookup++;
      this.waitLookup(lookupId, (closest) => reply({ ok: true, summary: `lookup done: the ${closest.length} closest nodes to 0x${toHex(keccak256(key)).slice(0, 12)}… are in the Routing table tab`, detail: { found: String(closest.length) } }, closest.map((n) => this.info(n))));
      this.driver.command({ type: 'lookup', lookupId, target: key, seeds: [to] });
      return;
    }
    const requestId = this.nextRequest++;
    this.waiting.set(requestId, (e) => {
      if (e.type === 'failure') return reply({ ok: false, reason: e.reason });
      if (e.type !== 'response') return;
      const bonded = e.bonded ? ' (after bonding: PING, PONG, their PING, our PONG)' : '';
      if (e.kind === 'ping') return reply({ ok: true, rttMs: e.rttMs, summary: `PONG: it saw you at ${endpointKey({ ip: e.pong.to.ip, port: e.pong.to.udp })}${e.pong.enrSeq === undefined ? ', no enr-seq (a pre-EIP-868 node)' : `, its enr-seq is ${e.pong.enrSeq}`}`, detail: { 'ping-hash': toHex(e.pong.pingHash) } });
      if (e.kind === 'findnode') return reply({ ok: true, rttMs: e.rttMs, summary: `NEIGHBORS: ${e.nodes.length} node${e.nodes.length === 1 ? '' : 's'} in ${e.packets} packet${e.packets === 1 ? '' : 's'}${bonded}`, detail: { nodes: String(e.nodes.length) } }, e.nodes.map((n) => this.info(n)));
      return reply({ ok: true, rttMs: e.rttMs, summary: `ENRResponse: record seq ${e.enr.seq}, signed by the node you asked${bonded}`, detail: { enr: encodeEnrText(e.enr) } });
    });
    const key = targetKey ? parseHex(targetKey) : undefined;
    if (action === 'ping') this.driver.command({ type: 'ping', to, requestId });
    else if (action === 'requestenr') this.driver.command({ type: 'requestenr', to, requestId });
    else this.driver.command({ type: 'findnode', to, requestId, target: key && key.length === 64 ? key : secureRandom(64) });
  }

  close(): void {
    this.driver.close();
    for (const w of this.waiting.values()) w({ type: 'failure', requestId: 0, reason: 'the tunnel closed' });
    this.waiting.clear();
  }

  private readonly lookupWaiters = new Map<number, (closest: Discv4Node[]) => void>();
  private waitLookup(id: number, done: (closest: Discv4Node[]) => void): void {
    this.lookupWaiters.set(id, done);
  }

  private info(n: Discv4Node, verified = this.engine.table.isVerified(n.nodeId)): Discv4NodeInfo {
    return { nodeId: toHex(n.nodeId), enode: enodeOf(n), endpoint: endpointKey({ ip: n.ip, port: n.udp }), verified };
  }

  private postTable(): void {
    const verified = new Set([...this.engine.table.states()].filter((s) => s.verified).map((s) => toHex(s.entry.nodeId)));
    const buckets = this.engine.table.buckets().map((b) => ({ distance: b.distance, nodes: b.entries.map((n) => this.info(n, verified.has(toHex(n.nodeId)))) }));
    this.deps.post({ type: 'discv4-table', buckets });
  }

  private onEvent(e: Discv4Event): void {
    const at = this.deps.clock();
    switch (e.type) {
      case 'response':
      case 'failure': {
        const w = this.waiting.get(e.requestId);
        this.waiting.delete(e.requestId);
        w?.(e);
        this.postTable();
        break;
      }
      case 'bond':
        this.deps.post({ type: 'discv4-note', level: 'ok', text: e.direction === 'verified' ? `endpoint proof: {peer} answered your PING at ${endpointKey(e.endpoint)} — your node answers its FINDNODE for 12 h` : '{peer} pinged you and got your PONG — it may now ask you FINDNODE', at, lane: e.nodeId });
        this.postTable();
        break;
      case 'table':
        this.postTable();
        break;
      case 'lookup': {
        const ev = e.event;
        const target = keccak256(e.target);
        this.deps.post({
          type: 'discv4-lookup', lookupId: e.lookupId, target: toHex(target), event: ev.type,
          ...('node' in ev ? { node: toHex(ev.node.nodeId) } : {}),
          ...(ev.type === 'answered' ? { newNodes: ev.newNodes.length } : {}),
          ...(ev.type === 'done' ? { closest: ev.closest.map((n) => ({ nodeId: toHex(n.nodeId), distance: logDistance(target, n.nodeId) })) } : {}),
        });
        if (ev.type === 'done') {
          const w = this.lookupWaiters.get(e.lookupId);
          this.lookupWaiters.delete(e.lookupId);
          w?.(ev.closest);
        }
        break;
      }
    }
  }
}

// The browser's RLPx side, in the worker beside the discv5 node: one RlpxEngine per chain, with
// the page's own node key (one identity for discovery and RLPx, as execution clients have),
// driven over the tunnel's TCP through the step gate; its records and crypto trace go on the
// page's one timeline. The page asks for a connection; it gets every message and the outcome.
import { EngineDriver } from '../../shared/drive/driver.ts';
import { CHAINS, type ChainName } from '../../shared/eth/chains.ts';
import { summarizeStatus } from '../../shared/eth/status.ts';
import { RlpxEngine, type Goal, type RlpxEvent, type RlpxRecord } from '../../shared/rlpx/engine.ts';
import { disconnectReasonText } from '../../shared/rlpx/spec.ts';
import { parseRlpxTarget } from '../../shared/rlpx/target.ts';
import { secureRandom } from '../../shared/random.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import { endpointKey, type Endpoint, type StreamConnection, type StreamTransport } from '../../shared/transport.ts';
import type { HandshakeResult } from './bitcoin-host.ts';
import { installFastRecovery } from '../../shared/crypto/secp256k1-fast-recovery.ts';

// Recovery is hot here (every packet received): the faster implementation, same results.
installFastRecovery();

export interface RlpxHostDeps {
  privateKey: Uint8Array;
  streams: StreamTransport;
  clock: () => number;
  packetSeq: () => number;
  tagHeld: (bytes: Uint8Array, seq: number) => boolean;
  record: (r: RlpxRecord, held: boolean) => void;
  trace: (t: TraceRecord) => void;
  note: (level: 'info' | 'error' | 'ok', text: string, lane: string, afterSeq?: number) => void;
}

/** How long the page listens after Status (what a node sends next), before it hangs up. */
const LINGER_MS = 5000;
const TIMEOUT_MS = 10_000;

export class RlpxHost {
  private readonly engines = new Map<ChainName, { engine: RlpxEngine; driver: EngineDriver<unknown, RlpxEvent> }>();
  private readonly waiting = new Map<string, (r: HandshakeResult) => void>();
  private readonly peers = new Map<string, Endpoint>();
  private readonly firstSeq = new Map<string, number>();
  /** Our open connection to each endpoint (a node takes one connection per node key). */
  private readonly byEndpoint = new Map<string, { conn: string; chain: ChainName }>();
  private nextConn = 1;

  constructor(private readonly deps: RlpxHostDeps) {}

  /** Our node key (64 bytes, hex): what a lab node dialling us encrypts its auth to. */
  get nodeKeyHex(): string {
    return this.engineFor('mainnet').engine.nodeKeyHex;
  }

  private engineFor(chain: ChainName) {
    let e = this.engines.get(chain);
    if (e) return e;
    const engine = new RlpxEngine({ privateKey: this.deps.privateKey, random: secureRandom, chain: CHAINS[chain], timeoutMs: TIMEOUT_MS, afterHandshake: 'stay', lingerMs: LINGER_MS, accept: true, packetSeq: this.deps.packetSeq, clientId: 'handshake-lab/0.1.0 (browser)' });
    const driver = new EngineDriver(engine, { streams: this.deps.streams }, this.deps.clock) as EngineDriver<unknown, RlpxEvent>;
    driver.listen({
      record: (r) => {
        if (r.conn && !this.firstSeq.has(r.conn)) this.firstSeq.set(r.conn, r.seq);
        this.deps.record(r as RlpxRecord, r.direction === 'out' && this.deps.tagHeld(r.raw, r.seq));
      },
      trace: (t) => this.deps.trace(t),
      event: (ev) => this.onEvent(ev),
      error: (err) => this.deps.note('error', `RLPx: ${err.message}`, ''),
    });
    this.engines.set(chain, (e = { engine, driver }));
    return e;
  }

  handshake(targetText: string, goal: Goal, chain: ChainName): Promise<HandshakeResult> {
    const t = parseRlpxTarget(targetText);
    if (!t.ok) return Promise.resolve({ ok: false, reason: `invalid target: ${t.error.reason}` });
    const conn = `rlpx-${this.nextConn++}`;
    const to = { ip: t.value.ip, port: t.value.tcp };
    // A node refuses a second connection from the same key (Disconnect "already connected"):
    // the one still open from the last Connect says goodbye first.
    const before = this.byEndpoint.get(endpointKey(to));
    if (before) this.engines.get(before.chain)?.driver.command({ type: 'close', conn: before.conn });
    this.byEndpoint.set(endpointKey(to), { conn, chain });
    const { driver } = this.engineFor(chain);
    return new Promise((resolve) => {
      this.waiting.set(conn, resolve);
      driver.command({ type: 'connect', to, remoteKey: t.value.publicKey, conn, goal, timeoutMs: TIMEOUT_MS });
    });
  }

  /** A lab node dialled the page's TCP listener (the recipient role). */
  accept(conn: StreamConnection, chain: ChainName): void {
    this.engineFor(chain).driver.accept(conn);
  }

  close(): void {
    for (const { driver } of this.engines.values()) driver.close();
    this.engines.clear();
    for (const w of this.waiting.values()) w({ ok: false, reason: 'the tunnel closed' });
    this.waiting.clear();
  }

  private onEvent(e: RlpxEvent): void {
    if (e.type === 'started') this.peers.set(e.conn, e.peer);
    const peer = this.peers.get(e.conn);
    const lane = peer ? endpointKey(peer) : '';
    const first = this.firstSeq.get(e.conn);
    switch (e.type) {
      case 'started':
        this.deps.note('info', e.direction === 'outbound' ? `TCP: connecting to ${endpointKey(e.peer)} through the bridge (${e.conn}); the initiator’s auth goes first` : `TCP: ${endpointKey(e.peer)} connected to your listener (${e.conn}); it sends auth first`, lane, first === undefined ? undefined : first - 1);
        break;
      case 'outcome': {
        const h = e.hello;
        const who = h ? `${h.clientId} (${h.capabilities.map((c) => `${c.name}/${c.version}`).join(' ')})` : endpointKey(e.peer);
        const detail: Record<string, string> = {};
        if (h) detail.client = h.clientId;
        if (e.shared?.length) detail.shared = e.shared.map((c) => `${c.name}/${c.version}`).join(', ');
        if (e.status) detail.status = summarizeStatus(e.status);
        if (e.verdict) detail['fork id'] = e.verdict.words;
        if (e.disconnect !== undefined) detail.disconnect = disconnectReasonText(e.disconnect);
        if (e.peerKey) detail['node key'] = `${e.peerKey.slice(0, 16)}…`;
        const text = e.outcome === 'SUCCESS' ? `SUCCESS: ${e.goal === 'ping' ? 'Hello both ways, Ping → Pong' : 'Hello and Status both ways'} with ${who}` : `FAILED: ${e.reason ?? ''}`;
        this.deps.note(e.outcome === 'SUCCESS' ? 'ok' : 'error', text, lane, e.afterSeq);
        const w = this.waiting.get(e.conn);
        this.waiting.delete(e.conn);
        if (w) w(e.outcome === 'SUCCESS' ? { ok: true, summary: text, rttMs: e.elapsedMs, detail } : { ok: false, reason: text });
        break;
      }
      case 'closed':
        this.deps.note('info', `TCP connection ${e.conn} closed${e.reason === 'by-us' ? ' by your node' : ` (${e.reason})`}`, lane);
        this.peers.delete(e.conn);
        this.firstSeq.delete(e.conn);
        if (peer && this.byEndpoint.get(endpointKey(peer))?.conn === e.conn) this.byEndpoint.delete(endpointKey(peer));
        break;
    }
  }
}


// The browser's Bitcoin side, in the worker beside the discv5 node: one BitcoinEngine per
// network, driven over the tunnel's TCP (through the step gate), its records numbered on the
// page's one timeline. The page asks for a handshake; it gets every message and the outcome.
import { BitcoinEngine, type BitcoinEvent } from '../../shared/bitcoin/engine.ts';
import { NETWORKS, NODE_NETWORK, NODE_WITNESS, type NetworkName } from '../../shared/bitcoin/spec.ts';
import { EngineDriver } from '../../shared/drive/driver.ts';
import type { WireRecord } from '../../shared/engine.ts';
import { normalizeIp } from '../../shared/tunnel/ip.ts';
import { parseBitcoinTarget } from '../../shared/bitcoin/target.ts';
import { secureRandom } from '../../shared/random.ts';
import { endpointKey, type Endpoint, type StreamConnection, type StreamTransport } from '../../shared/transport.ts';

export interface BitcoinHostDeps {
  streams: StreamTransport;
  resolve: (name: string) => Promise<string[]>;
  clock: () => number;
  packetSeq: () => number;
  /** A held send is tagged with its record's seq; true when it is held. */
  tagHeld: (bytes: Uint8Array, seq: number) => boolean;
  record: (r: WireRecord, held: boolean) => void;
  /** afterSeq: the note belongs right after this record (not after later records of the same moment). */
  note: (level: 'info' | 'error' | 'ok', text: string, lane: string, afterSeq?: number) => void;
}

export type HandshakeResult = { ok: true; summary: string; rttMs: number; detail: Record<string, string> } | { ok: false; reason: string };

/** How long the page listens after a handshake (what a node sends next), before it hangs up. */
const LINGER_MS = 5000;

export class BitcoinHost {
  private readonly engines = new Map<NetworkName, { engine: BitcoinEngine; driver: EngineDriver<unknown, BitcoinEvent> }>();
  private readonly waiting = new Map<string, (r: HandshakeResult) => void>();
  /** Each connection's peer: notes are put on its lane (the page keys lanes by endpoint). */
  private readonly peers = new Map<string, Endpoint>();
  /** Each connection's first record: its "connecting" note goes right before it (records come before events). */
  private readonly firstSeq = new Map<string, number>();
  private nextConn = 1;

  constructor(private readonly deps: BitcoinHostDeps) {}

  private engineFor(network: NetworkName) {
    let e = this.engines.get(network);
    if (e) return e;
    // 'stay': after the handshake the page keeps listening, to show what a node sends next.
    const engine = new BitcoinEngine({ network: NETWORKS[network], random: secureRandom, timeoutMs: 10_000, afterHandshake: 'stay', lingerMs: LINGER_MS, accept: true, inboundServices: NODE_NETWORK | NODE_WITNESS, packetSeq: this.deps.packetSeq });
    const driver = new EngineDriver(engine, { streams: this.deps.streams }, this.deps.clock) as EngineDriver<unknown, BitcoinEvent>;
    driver.listen({
      record: (r) => {
        if (r.conn && !this.firstSeq.has(r.conn)) this.firstSeq.set(r.conn, r.seq);
        this.deps.record(r, r.direction === 'out' && this.deps.tagHeld(r.raw, r.seq));
      },
      event: (ev) => this.onEvent(ev),
      error: (err) => this.deps.note('error', `Bitcoin: ${err.message}`, ''),
    });
    this.engines.set(network, (e = { engine, driver }));
    return e;
  }

  /** Resolves the target through the bridge, then runs the handshake with its first address. */
  async handshake(targetText: string, network: NetworkName): Promise<HandshakeResult> {
    const t = parseBitcoinTarget(targetText, NETWORKS[network].defaultPort);
    if ('error' in t) return { ok: false, reason: t.error };
    let ip = normalizeIp(t.host);
    if (!ip) {
      const answers = await this.deps.resolve(t.host).catch((e: Error) => {
        throw new Error(`cannot resolve ${t.host}: ${e.message}`);
      });
      if (answers.length === 0) return { ok: false, reason: `cannot resolve ${t.host}: no addresses` };
      ip = answers[0];
    }
    const to: Endpoint = { ip, port: t.port };
    const conn = `tcp-${this.nextConn++}`;
    const { driver } = this.engineFor(network);
    return new Promise((resolve) => {
      this.waiting.set(conn, resolve);
      driver.command({ type: 'handshake', to, conn, timeoutMs: 10_000 });
    });
  }

  /** A peer dialled the page's TCP listener (the recipient role). */
  accept(conn: StreamConnection, network: NetworkName): void {
    this.engineFor(network).driver.accept(conn);
  }

  close(): void {
    for (const { driver } of this.engines.values()) driver.close();
    this.engines.clear();
    for (const w of this.waiting.values()) w({ ok: false, reason: 'the tunnel closed' });
    this.waiting.clear();
  }

  private onEvent(e: BitcoinEvent): void {
    if (e.type === 'started') this.peers.set(e.conn, e.peer);
    const peer = this.peers.get(e.conn);
    const lane = peer ? endpointKey(peer) : '';
    const first = this.firstSeq.get(e.conn);
    switch (e.type) {
      case 'started':
        this.deps.note('info', e.direction === 'outbound' ? `TCP: connecting to ${endpointKey(e.peer)} through the bridge (${e.conn}); the side that connects speaks first` : `TCP: ${endpointKey(e.peer)} connected to your listener (${e.conn}); it speaks first`, lane, first === undefined ? undefined : first - 1);
        break;
      case 'outcome': {
        const v = e.peerVersion;
        const who = v ? `${v.userAgent || '(no user agent)'} speaking protocol ${v.version}, height ${v.startHeight ?? '?'}` : endpointKey(e.peer);
        const text = e.outcome === 'SUCCESS' ? `SUCCESS: version and verack both ways with ${who}` : `${e.outcome}: ${e.reason ?? ''}`;
        this.deps.note(e.outcome === 'SUCCESS' ? 'ok' : 'error', text, lane, e.afterSeq);
        const w = this.waiting.get(e.conn);
        this.waiting.delete(e.conn);
        if (w) {
          if (e.outcome === 'SUCCESS') w({ ok: true, summary: text, rttMs: e.elapsedMs, detail: v ? { version: String(v.version), 'user agent': v.userAgent ?? '', height: String(v.startHeight ?? ''), services: String(v.services) } : {} });
          else w({ ok: false, reason: text });
        }
        break;
      }
      case 'closed':
        this.deps.note('info', `TCP connection ${e.conn} closed${e.reason === 'by-us' ? ' by your node' : ` (${e.reason})`}`, lane);
        this.peers.delete(e.conn);
        this.firstSeq.delete(e.conn);
        break;
    }
  }
}

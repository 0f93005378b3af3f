// The browser's libp2p side, in the worker beside the discv5 node: one Libp2pEngine with the
// page's own secp256k1 key as its identity, driven over the tunnel's TCP (through the step gate),
// its records and Noise steps numbered on the page's one timeline. The page asks for a dial; it
// gets every message, every token of the key schedule and the outcome.
import { EngineDriver } from '../../shared/drive/driver.ts';
import type { WireRecord } from '../../shared/engine.ts';
import { multiaddrText, parseDialTarget } from '../../shared/libp2p/address.ts';
import { Libp2pEngine, type Libp2pEvent } from '../../shared/libp2p/engine.ts';
import { secp256k1Identity } from '../../shared/libp2p/keys.ts';
import { secureRandom } from '../../shared/random.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import { endpointKey, type Endpoint, type StreamTransport } from '../../shared/transport.ts';

export interface Libp2pHostDeps {
  streams: StreamTransport;
  privateKey: Uint8Array;
  clock: () => number;
  packetSeq: () => number;
  tagHeld: (bytes: Uint8Array, seq: number) => boolean;
  record: (r: WireRecord, held: boolean) => void;
  trace: (t: TraceRecord) => void;
  note: (level: 'info' | 'error' | 'ok', text: string, lane: string, afterSeq?: number) => void;
}

export type DialResult = { ok: true; summary: string; rttMs: number; detail: Record<string, string> } | { ok: false; reason: string };

export class Libp2pHost {
  private readonly engine: Libp2pEngine;
  private readonly driver: EngineDriver<unknown, Libp2pEvent>;
  private readonly waiting = new Map<string, (r: DialResult) => void>();
  private readonly peers = new Map<string, Endpoint>();
  private readonly firstSeq = new Map<string, number>();
  /** Dial → ping echo, per connection (the benchmark's measure). */
  private readonly toPing = new Map<string, number>();
  private nextConn = 1;

  constructor(private readonly deps: Libp2pHostDeps) {
    this.engine = new Libp2pEngine({ identity: secp256k1Identity(deps.privateKey), random: secureRandom, timeoutMs: 15_000, afterPing: 'close', packetSeq: deps.packetSeq, agentVersion: 'handshake-lab/0.1.0 (browser)' });
    this.driver = new EngineDriver(this.engine, { streams: deps.streams }, deps.clock) as EngineDriver<unknown, Libp2pEvent>;
    this.driver.listen({
      record: (r) => {
        if (r.conn && !this.firstSeq.has(r.conn)) this.firstSeq.set(r.conn, r.seq);
        this.deps.record(r, r.direction === 'out' && this.deps.tagHeld(r.raw, r.seq));
      },
      trace: (t) => this.deps.trace(t),
      event: (e) => this.onEvent(e),
      error: (err) => this.deps.note('error', `libp2p: ${err.message}`, ''),
    });
  }

  get peerId(): string {
    return this.engine.peerId;
  }

  /** Dials a multiaddr or an ENR (its ip and tcp; its key names the peer id expected). */
  dial(targetText: string): Promise<DialResult> {
    const t = parseDialTarget(targetText);
    if ('error' in t) return Promise.resolve({ ok: false, reason: t.error });
    const conn = `p2p-${this.nextConn++}`;
    return new Promise((resolve) => {
      this.waiting.set(conn, resolve);
      this.driver.command({ type: 'dial', to: t.endpoint, conn, ...(t.peerId ? { peerId: t.peerId } : {}) });
    });
  }

  close(): void {
    this.driver.close();
    for (const w of this.waiting.values()) w({ ok: false, reason: 'the tunnel closed' });
    this.waiting.clear();
  }

  private onEvent(e: Libp2pEvent): void {
    if (e.type === 'started') this.peers.set(e.conn, e.peer);
    const peer = this.peers.get(e.conn);
    const lane = peer ? endpointKey(peer) : '';
    switch (e.type) {
      case 'started': {
        const first = this.firstSeq.get(e.conn);
        this.deps.note('info', `TCP: connecting to ${multiaddrText(e.peer)} through the bridge (${e.conn}); the dialer's multistream header and /noise go with the connect`, lane, first === undefined ? undefined : first - 1);
        break;
      }
      case 'secured':
        this.deps.note('ok', `Noise XX done: the peer proved it is ${e.peerId} (${e.keyType}); both sides split the transport keys`, lane, e.afterSeq);
        break;
      case 'muxer':
        this.deps.note('info', `muxer: ${e.muxer}, ${e.how === 'noise-extensions' ? 'agreed inside the Noise payloads (no extra round trip)' : 'agreed by multistream-select over the encrypted channel'}`, lane, e.afterSeq);
        break;
      case 'ping':
        this.toPing.set(e.conn, e.elapsedMs);
        break;
      case 'identify':
        this.deps.note('info', `identify: ${e.info.agentVersion ?? '?'} speaks ${e.info.protocols.join(', ')}`, lane, e.afterSeq);
        break;
      case 'outcome': {
        const text = e.outcome === 'SUCCESS' ? `SUCCESS: ${e.peerId} over Noise + ${e.muxer}; ping echoed in ${(e.rttMs ?? 0).toFixed(1)} ms` : `FAILED: ${e.reason ?? ''}`;
        this.deps.note(e.outcome === 'SUCCESS' ? 'ok' : 'error', text, lane, e.afterSeq);
        const w = this.waiting.get(e.conn);
        this.waiting.delete(e.conn);
        if (w) {
          if (e.outcome === 'SUCCESS') w({ ok: true, summary: text, rttMs: e.rttMs ?? 0, detail: { 'peer id': e.peerId ?? '', muxer: e.muxer ?? '', agent: e.identify?.agentVersion ?? '', 'dial to ping ms': String(this.toPing.get(e.conn) ?? e.elapsedMs) } });
          else w({ ok: false, reason: text });
        }
        break;
      }
      case 'closed':
        this.deps.note('info', `TCP connection ${e.conn} closed${e.reason === 'by-us' ? ' by your node' : ` (${e.reason})`}`, lane);
        this.peers.delete(e.conn);
        this.firstSeq.delete(e.conn);
        this.toPing.delete(e.conn);
        break;
    }
  }
}

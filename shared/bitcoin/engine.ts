// The Bitcoin version/verack handshake, sans-IO, both roles (net_processing.cpp order):
// the connecting side sends version; a side that receives version answers with its own
// (inbound), then wtxidrelay and sendaddrv2 (both at 70016+), then verack. With a verack
// each way the handshake is done. One engine serves many connections at once.
import { emptyOutput, type ConnectionId, type Engine, type EngineInput, type EngineOutput, type Transmit, type WireRecord } from '../engine.ts';
import { earliestDeadline, routeStreamInput, type StreamHandlers } from '../stream-engine.ts';
import { ByteQueue, feedFrames } from '../framing.ts';
import type { RandomSource } from '../random.ts';
import type { Endpoint, StreamEndReason } from '../transport.ts';
import { bitcoinFramer, STREAM_LIMIT } from './framer.ts';
import { encodeMessage, peekCommand, summarizeBitcoin, type BtcMessage, type Version } from './messages.ts';
import { MIN_PEER_PROTO_VERSION, PROTOCOL_VERSION, WTXID_RELAY_VERSION, type Network } from './spec.ts';

export const PROTOCOL = 'bitcoin';

export interface BitcoinConfig {
  network: Network;
  random: RandomSource;
  /** BIP 14 user agent we announce. */
  userAgent?: string;
  /** The protocol version we speak (default 70016). */
  version?: number;
  /** Service bits we announce (default none: we serve no blocks). */
  services?: bigint;
  /**
   * Service bits we announce to peers that dial us (default: `services`). Full nodes that dial
   * out require NODE_NETWORK (and NODE_WITNESS) of the peer they dial, so a listener says so.
   */
  inboundServices?: bigint;
  startHeight?: number;
  /** Ask the peer to announce transactions (default false: we are a handshake tool). */
  relay?: boolean;
  /** Time from connect (or accept) to a complete handshake, ms (default 5000). */
  timeoutMs?: number;
  /** After SUCCESS: close at once (CLI), or stay and list what the peer sends, answering pings (page). */
  afterHandshake?: 'close' | 'stay';
  /** With 'stay': hang up this long after SUCCESS (ms), as a crawler would; absent: stay until the peer leaves. */
  lingerMs?: number;
  /** Accept inbound connections (the recipient role). */
  accept?: boolean;
  /** Numbers wire records (WireRecord.seq). Engines that share one timeline share one counter. */
  packetSeq?: () => number;
}

export type Outcome = 'SUCCESS' | 'PARTIAL' | 'FAILED';

export type BitcoinCommand =
  | { type: 'handshake'; to: Endpoint; conn?: ConnectionId; timeoutMs?: number }
  | { type: 'close'; conn: ConnectionId };

export type BitcoinEvent =
  | { type: 'started'; conn: ConnectionId; peer: Endpoint; direction: 'outbound' | 'inbound' }
  | { type: 'connected'; conn: ConnectionId; peer: Endpoint; at: number }
  | { type: 'message'; conn: ConnectionId; record: WireRecord; message?: BtcMessage }
  | {
      type: 'outcome'; conn: ConnectionId; peer: Endpoint; direction: 'outbound' | 'inbound';
      outcome: Outcome; reason?: string; peerVersion?: Version; instead?: string[]; elapsedMs: number;
      /** The wire record the outcome follows (its seq): events come after all of a step's records. */
      afterSeq?: number;
    }
  | { type: 'closed'; conn: ConnectionId; reason: StreamEndReason | 'by-us'; detail?: string };

interface Connection {
  id: ConnectionId;
  peer: Endpoint;
  direction: 'outbound' | 'inbound';
  startedAt: number;
  deadline?: number;
  open: boolean;
  queue: ByteQueue;
  written: number;
  nonce?: Uint8Array;
  sentVersion: boolean;
  sentVerack: boolean;
  peerVersion?: Version;
  gotVerack: boolean;
  outcome?: Outcome;
  /** Messages that came where a verack was due. */
  instead: string[];
  /** Seq of this connection's latest wire record. */
  lastSeq?: number;
}

/** Messages that belong between version and verack (BIP 339, BIP 155, BIP 330). */
const BEFORE_VERACK = new Set(['wtxidrelay', 'sendaddrv2', 'sendtxrcncl']);

export class BitcoinEngine implements Engine<BitcoinCommand, BitcoinEvent> {
  readonly protocol = PROTOCOL;
  private readonly conns = new Map<ConnectionId, Connection>();
  private readonly nextSeq: () => number;
  private nextConn = 1;
  private out: EngineOutput<BitcoinEvent> = fresh();
  private readonly framer;

  constructor(readonly config: BitcoinConfig) {
    this.framer = bitcoinFramer(config.network);
    let seq = 0;
    this.nextSeq = config.packetSeq ?? (() => ++seq);
  }

  get network(): Network {
    return this.config.network;
  }

  private readonly handlers: StreamHandlers<BitcoinCommand> = {
    command: (cmd, now) => this.command(cmd, now),
    opened: (conn, remote, direction, now) => this.opened(conn, remote, direction, now),
    data: (conn, bytes, now) => this.data(conn, bytes, now),
    ended: (conn, why, now, reason, closeOurSide) => this.ended(conn, why, now, reason, closeOurSide),
  };

  handle(input: EngineInput<BitcoinCommand>, now: number): EngineOutput<BitcoinEvent> {
    routeStreamInput(input, now, this.handlers);
    return this.flush();
  }

  tick(now: number): EngineOutput<BitcoinEvent> {
    for (const c of [...this.conns.values()]) {
      if (c.deadline === undefined || now < c.deadline) continue;
      if (c.outcome) {
        // The linger after a SUCCESS is over.
        this.close(c, 'by-us', 'done listening after the handshake');
        continue;
      }
      const ms = this.timeoutOf(c);
      if (!c.open) this.finish(c, 'FAILED', `timeout: no connection within ${ms} ms`, now);
      else if (c.peerVersion) this.finish(c, 'PARTIAL', `no verack within ${ms} ms`, now);
      else this.finish(c, 'FAILED', `timeout: no version within ${ms} ms`, now);
    }
    return this.flush();
  }

  nextDeadline(): number | undefined {
    return earliestDeadline(this.conns.values());
  }


  /** Connections not yet closed (for tests and the UI). */
  get connections(): number {
    return this.conns.size;
  }

  private command(cmd: BitcoinCommand, now: number): void {
    if (cmd.type === 'close') {
      const c = this.conns.get(cmd.conn);
      if (c) this.close(c, 'by-us');
      return;
    }
    const id = cmd.conn ?? `btc-${this.nextConn++}`;
    if (this.conns.has(id)) return;
    const timeoutMs = cmd.timeoutMs ?? this.config.timeoutMs ?? 5000;
    const c = this.connection(id, cmd.to, 'outbound', now, timeoutMs);
    this.emit({ type: 'started', conn: id, peer: c.peer, direction: 'outbound' });
    // The connecting side speaks first: its version goes with the connect, sent as soon as the
    // connection is up (through a tunnel, one round trip sooner than waiting to hear it is).
    const version = this.sendVersion(c, now, true);
    this.transmit({ type: 'connect', conn: id, to: cmd.to, timeoutMs, ...(version ? { initialData: version } : {}) });
  }

  private connection(id: ConnectionId, peer: Endpoint, direction: Connection['direction'], now: number, timeoutMs: number): Connection {
    const c: Connection = {
      id, peer, direction, startedAt: now, deadline: now + timeoutMs, open: false, queue: new ByteQueue(STREAM_LIMIT),
      written: 0, sentVersion: false, sentVerack: false, gotVerack: false, instead: [],
    };
    this.conns.set(id, c);
    return c;
  }

  private timeoutOf(c: Connection): number {
    return Math.round((c.deadline ?? c.startedAt) - c.startedAt);
  }

  private opened(id: ConnectionId, remote: Endpoint, direction: 'outbound' | 'inbound', now: number): void {
    let c = this.conns.get(id);
    if (!c) {
      if (direction !== 'inbound' || !this.config.accept) {
        this.transmit({ type: 'stream-close', conn: id });
        return;
      }
      c = this.connection(id, remote, 'inbound', now, this.config.timeoutMs ?? 5000);
      this.emit({ type: 'started', conn: id, peer: remote, direction: 'inbound' });
    }
    c.open = true;
    this.emit({ type: 'connected', conn: id, peer: c.peer, at: now });
    // The connecting side speaks first (its version normally went with the connect).
    if (c.direction === 'outbound' && !c.sentVersion) this.sendVersion(c, now);
  }

  private data(id: ConnectionId, bytes: Uint8Array, now: number): void {
    const c = this.conns.get(id);
    if (!c || !c.open) return;
    for (const r of feedFrames(c.queue, bytes, this.framer)) {
      if (!this.conns.has(id)) return; // closed by an earlier message
      if (r.type === 'frame') {
        const message = r.frame.message;
        const record = this.record(c, 'in', r.raw, message.command, summarizeBitcoin(message, r.raw.length), now, r.offset);
        this.emit({ type: 'message', conn: id, record, message });
        this.receive(c, message, record, now);
      } else if (r.type === 'error') {
        const reason = r.error.reason;
        const record = this.record(c, 'in', r.raw, peekCommand(r.raw) ?? 'bytes', `refused: ${reason}`, now, r.offset, reason);
        this.emit({ type: 'message', conn: id, record });
        this.finish(c, 'FAILED', reason, now);
        // After a SUCCESS in "stay" mode too: the stream cannot go on past refused bytes.
        this.close(c, 'by-us', reason);
      }
    }
  }

  private receive(c: Connection, m: BtcMessage, record: WireRecord, now: number): void {
    if (m.command === 'version') {
      const v = m as Version;
      if (c.peerVersion) {
        record.note = 'a second version: ignored';
        return;
      }
      if (v.version < MIN_PEER_PROTO_VERSION) return this.finish(c, 'FAILED', `peer speaks protocol ${v.version}, below the minimum ${MIN_PEER_PROTO_VERSION}`, now);
      if (c.nonce && v.nonce && v.nonce.every((b, i) => b === c.nonce![i])) return this.finish(c, 'FAILED', 'connected to ourselves (the version carries our own nonce)', now);
      c.peerVersion = v;
      record.note = `peer accepts protocol ${v.version}${v.userAgent !== undefined ? `, ${v.userAgent || '(no user agent)'}` : ''}${v.startHeight !== undefined ? `, height ${v.startHeight}` : ''}`;
      if (!c.sentVersion) this.sendVersion(c, now);
      if (Math.min(v.version, this.ourVersion) >= WTXID_RELAY_VERSION) {
        this.send(c, { command: 'wtxidrelay' }, now);
        this.send(c, { command: 'sendaddrv2' }, now);
      }
      this.send(c, { command: 'verack' }, now);
      c.sentVerack = true;
      this.maybeDone(c, now);
      return;
    }
    if (!c.peerVersion) {
      record.note = `${m.command} before version: ignored (a node waits for version first)`;
      return;
    }
    if (c.outcome) {
      // After the handshake: listed, and a ping answered so the peer keeps us.
      record.note = 'after the handshake';
      if (m.command === 'ping' && 'nonce' in m && m.nonce) this.send(c, { command: 'pong', nonce: m.nonce }, now);
      return;
    }
    if (m.command === 'verack') {
      c.gotVerack = true;
      this.maybeDone(c, now);
      return;
    }
    if (BEFORE_VERACK.has(m.command)) {
      record.note = `${m.command}: feature negotiation, allowed between version and verack`;
      return;
    }
    c.instead.push(m.command);
    this.finish(c, 'PARTIAL', `peer skipped verack: sent ${m.command} instead`, now);
  }

  private get ourVersion(): number {
    return this.config.version ?? PROTOCOL_VERSION;
  }

  /** Sends our version; with `initial`, returns its bytes for the connect instead of writing them. */
  private sendVersion(c: Connection, now: number, initial = false): Uint8Array | undefined {
    c.nonce = this.config.random(8);
    c.sentVersion = true;
    const services = (c.direction === 'inbound' ? this.config.inboundServices : undefined) ?? this.config.services ?? 0n;
    return this.send(c, {
      command: 'version',
      version: this.ourVersion,
      services,
      timestamp: BigInt(Math.floor(now / 1000)),
      addrRecv: { services: 0n, ip: c.peer.ip, port: c.peer.port },
      addrFrom: { services, ip: '::', port: 0 },
      nonce: c.nonce,
      userAgent: this.config.userAgent ?? '/handshake-lab:0.1.0/',
      startHeight: this.config.startHeight ?? 0,
      relay: this.config.relay ?? false,
    }, now, initial);
  }

  private send(c: Connection, m: BtcMessage, now: number, initial = false): Uint8Array | undefined {
    const bytes = encodeMessage(this.config.network, m);
    const record = this.record(c, 'out', bytes, m.command, summarizeBitcoin(m, bytes.length), now, c.written);
    c.written += bytes.length;
    if (initial) record.note = 'sent as soon as the TCP connection is up: the side that connects speaks first';
    else this.transmit({ type: 'stream-write', conn: c.id, bytes });
    this.emit({ type: 'message', conn: c.id, record, message: m });
    return initial ? bytes : undefined;
  }

  private maybeDone(c: Connection, now: number): void {
    if (c.outcome || !c.peerVersion || !c.sentVerack || !c.gotVerack) return;
    this.finish(c, 'SUCCESS', undefined, now);
  }

  private finish(c: Connection, outcome: Outcome, reason: string | undefined, now: number): void {
    if (c.outcome) return;
    c.outcome = outcome;
    c.deadline = undefined;
    this.emit({
      type: 'outcome', conn: c.id, peer: c.peer, direction: c.direction, outcome, elapsedMs: now - c.startedAt,
      ...(reason ? { reason } : {}), ...(c.peerVersion ? { peerVersion: c.peerVersion } : {}), ...(c.instead.length ? { instead: [...c.instead] } : {}),
      ...(c.lastSeq !== undefined ? { afterSeq: c.lastSeq } : {}),
    });
    if (outcome !== 'SUCCESS' || this.config.afterHandshake !== 'stay') this.close(c, 'by-us');
    else if (this.config.lingerMs !== undefined) c.deadline = now + this.config.lingerMs;
  }

  /** The stream ended or failed under us. */
  private ended(id: ConnectionId, why: string, now: number, reason: StreamEndReason = 'closed', closeOurSide = false): void {
    const c = this.conns.get(id);
    if (!c) return;
    if (!c.outcome) {
      if (c.peerVersion) this.finish(c, 'PARTIAL', `${why} after its version, before verack`, now);
      else this.finish(c, 'FAILED', why, now);
    }
    // Still here: a SUCCESS that stayed open.
    if (!this.conns.delete(id)) return;
    if (closeOurSide) this.transmit({ type: 'stream-close', conn: id });
    this.emit({ type: 'closed', conn: id, reason });
  }

  private close(c: Connection, reason: 'by-us', detail?: string): void {
    if (!this.conns.delete(c.id)) return;
    if (c.open || c.direction === 'outbound') this.transmit({ type: 'stream-close', conn: c.id });
    this.emit({ type: 'closed', conn: c.id, reason, ...(detail ? { detail } : {}) });
  }

  private record(c: Connection, direction: 'in' | 'out', raw: Uint8Array, kind: string, summary: string, at: number, streamOffset: number, rejected?: string): WireRecord {
    const seq = this.nextSeq();
    c.lastSeq = seq;
    const r: WireRecord = { seq, protocol: PROTOCOL, direction, at, peer: c.peer, conn: c.id, streamOffset, raw, kind, summary, ...(rejected ? { rejected } : {}) };
    this.out.records.push(r);
    return r;
  }

  private transmit(t: Transmit): void {
    this.out.transmits.push(t);
  }

  private emit(e: BitcoinEvent): void {
    this.out.events.push(e);
  }

  private flush(): EngineOutput<BitcoinEvent> {
    const o = this.out;
    this.out = fresh();
    return o;
  }
}

const fresh = (): EngineOutput<BitcoinEvent> => emptyOutput<BitcoinEvent>();

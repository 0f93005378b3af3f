// A libp2p connection over TCP, sans-IO, both roles: multistream-select picks /noise, Noise XX
// authenticates both identities, yamux multiplexes (chosen inside the Noise payload when both
// offer it, else by multistream-select over the encrypted channel), and on top /ipfs/ping/1.0.0
// proves the channel end to end (identify read where the peer offers it, answered when asked).
// One engine serves many connections at once.
import { equalBytes, shortHex, toHex } from '../bytes.ts';
import { emptyOutput, type ConnectionId, type Engine, type EngineInput, type EngineOutput, type Transmit, type WireRecord } from '../engine.ts';
import { ByteQueue } from '../framing.ts';
import { earliestDeadline, routeStreamInput, type StreamHandlers } from '../stream-engine.ts';
import type { RandomSource } from '../random.ts';
import type { TraceRecord } from '../trace.ts';
import { endpointKey, type Endpoint, type StreamEndReason } from '../transport.ts';
import { multiaddrBytes } from './address.ts';
import { decodeIdentify, encodeIdentify, type IdentifyInfo } from './identify.ts';
import { peerIdText, type Identity } from './keys.ts';
import { decodeLine, encodeLine, encodeLines, multistreamFramer } from './multistream.ts';
import { HandshakeState, keyPairOf, type CipherState, type KeyPair, type NoiseStep, type X25519 } from './noise.ts';
import { decodePayload, encodePayload, signedData, verifyPayload, type VerifiedPeer } from './payload.ts';
import {
  IDENTIFY_PROTOCOL, MAX_IDENTIFY, MULTISTREAM, NOISE_MAX_MESSAGE, NOISE_PROTOCOL, NOISE_TAG, PING_PROTOCOL, PING_SIZE, SPEC,
  YAMUX_HEADER, YAMUX_INITIAL_WINDOW, YAMUX_PROTOCOL,
} from './spec.ts';
import { peekUvarint, uvarint } from './varint.ts';
import { describeYamux, encodeYamux, FLAG, GO_AWAY, readYamuxHeader, type YamuxFrame } from './yamux.ts';
import { Reader } from '../bitcoin/wire.ts';
import { noiseFramer, NOISE_STREAM_LIMIT } from './framer.ts';

export const PROTOCOL = 'libp2p';

export interface Libp2pConfig {
  identity: Identity;
  random: RandomSource;
  /** Numbers wire records; engines sharing one timeline share one counter. */
  packetSeq?: () => number;
  /** From connect (or accept) to the ping's echo (dialer) or a ready muxer (listener), ms (default 10000). */
  timeoutMs?: number;
  /** Take inbound connections (the listener role). */
  accept?: boolean;
  /** Offer yamux inside the Noise payload (default true); false: negotiate it with multistream-select. */
  earlyMuxer?: boolean;
  /** Dialer: read the peer's identify when it offers it (default true). */
  identify?: boolean;
  /** Dialer, after the ping (and identify): close (CLI) or stay, answering the peer (page). */
  afterPing?: 'close' | 'stay';
  /** With 'stay': hang up this long after SUCCESS (ms). */
  lingerMs?: number;
  agentVersion?: string;
  /** X25519 (default noble's). */
  x25519?: X25519;
}

export type Outcome = 'SUCCESS' | 'FAILED';

export type Libp2pCommand =
  | { type: 'dial'; to: Endpoint; conn?: ConnectionId; timeoutMs?: number; /** The peer id expected (multihash bytes). */ peerId?: Uint8Array }
  | { type: 'close'; conn: ConnectionId };

export type Libp2pEvent =
  | { type: 'started'; conn: ConnectionId; peer: Endpoint; direction: 'outbound' | 'inbound' }
  | { type: 'connected'; conn: ConnectionId; peer: Endpoint; at: number }
  | { type: 'secured'; conn: ConnectionId; peerId: string; keyType: string; handshakeHash: Uint8Array; afterSeq?: number }
  | { type: 'muxer'; conn: ConnectionId; muxer: string; how: 'noise-extensions' | 'multistream'; afterSeq?: number }
  /** elapsedMs: from the dial (or accept) to the echo: connect, multistream, Noise, muxer, ping. */
  | { type: 'ping'; conn: ConnectionId; rttMs: number; elapsedMs: number; afterSeq?: number }
  | { type: 'identify'; conn: ConnectionId; info: IdentifyInfo; afterSeq?: number }
  | {
      type: 'outcome'; conn: ConnectionId; peer: Endpoint; direction: 'outbound' | 'inbound'; outcome: Outcome; reason?: string;
      peerId?: string; muxer?: string; rttMs?: number; identify?: IdentifyInfo; elapsedMs: number; afterSeq?: number;
    }
  | { type: 'closed'; conn: ConnectionId; reason: StreamEndReason | 'by-us'; detail?: string };

/** A wire record with what the dissection needs beyond the bytes. */
export interface Libp2pRecord extends WireRecord {
  /** Decrypted bytes: the handshake payload (Noise messages) or the transport plaintext. */
  plaintext?: Uint8Array;
  /** Noise message 2/3: the sender's static key, decrypted. */
  noiseStatic?: Uint8Array;
  /** Transport: leading plaintext bytes that finish a yamux frame begun in an earlier Noise message. */
  continues?: number;
  /** Transport: the protocol on each yamux stream, as known when the record was made. */
  streams?: Record<number, string>;
}

export const KIND = {
  multistream: 'multistream',
  noise1: 'noise-e',
  noise2: 'noise-e-ee-s-es',
  noise3: 'noise-s-se',
  transport: 'noise-transport',
  refused: 'refused',
} as const;

const NOISE_KINDS = [KIND.noise1, KIND.noise2, KIND.noise3];

interface YStream {
  id: number;
  /** We opened it. */
  local: boolean;
  queue: ByteQueue;
  gotHeader: boolean;
  /** The protocol proposed (ours) or agreed. */
  protocol?: string;
  agreed: boolean;
  recvWindow: number;
  consumed: number;
  sendWindow: number;
  localFin: boolean;
  remoteFin: boolean;
}

interface Connection {
  id: ConnectionId;
  peer: Endpoint;
  direction: 'outbound' | 'inbound';
  startedAt: number;
  deadline?: number;
  open: boolean;
  written: number;
  expectedPeerId?: Uint8Array;
  /** Outer stream: multistream lines, then Noise frames. */
  outer: ByteQueue;
  outerPhase: 'multistream' | 'noise';
  gotMssHeader: boolean;
  noiseStatic: KeyPair;
  hs?: HandshakeState;
  send?: CipherState;
  recv?: CipherState;
  remote?: VerifiedPeer;
  remoteMuxers: string[];
  /** Decrypted stream: multistream for the muxer (when not agreed in Noise), then yamux. */
  inner: ByteQueue;
  innerPhase: 'none' | 'multistream' | 'yamux';
  gotInnerHeader: boolean;
  muxer?: string;
  streams: Map<number, YStream>;
  nextStreamId: number;
  pingStream?: number;
  pingPayload?: Uint8Array;
  pingSentAt?: number;
  rttMs?: number;
  identifyStream?: number;
  identify?: IdentifyInfo;
  identifyDone: boolean;
  outcome?: Outcome;
  closing: boolean;
  /** Inner bytes to send, encrypted as one Noise message at the end of the step. */
  pending: { bytes: Uint8Array; what: string }[];
  /** The transport record being read (inner frames add to its summary). */
  reading?: Libp2pRecord;
  lastSeq?: number;
}

/** After the ping's echo, how long identify may still take before the dial counts without it. */
const IDENTIFY_GRACE_MS = 2000;
/** Streams open at once on one connection (ours and the peer's). */
const MAX_STREAMS = 64;

/** Ping and identify: what we answer on streams the peer opens. */
const SERVED = [PING_PROTOCOL, IDENTIFY_PROTOCOL];

export class Libp2pEngine implements Engine<Libp2pCommand, Libp2pEvent> {
  readonly protocol = PROTOCOL;
  private readonly conns = new Map<ConnectionId, Connection>();
  private readonly nextSeq: () => number;
  private nextConn = 1;
  private out: EngineOutput<Libp2pEvent> = emptyOutput();

  constructor(readonly config: Libp2pConfig) {
    let seq = 0;
    this.nextSeq = config.packetSeq ?? (() => ++seq);
  }

  get peerId(): string {
    return this.config.identity.peerId;
  }

  get connections(): number {
    return this.conns.size;
  }

  private readonly handlers: StreamHandlers<Libp2pCommand> = {
    command: (cmd, now) => this.command(cmd, now),
    opened: (conn, remote, direction, now) => this.opened(conn, remote, direction, now),
    data: (conn, bytes, now) => {
      const c = this.conns.get(conn);
      if (!c?.open) return;
      this.data(c, bytes, now);
      this.flushPending(c, now);
    },
    ended: (conn, why, now, reason, closeOurSide) => this.ended(conn, why, now, reason, closeOurSide),
  };

  handle(input: EngineInput<Libp2pCommand>, now: number): EngineOutput<Libp2pEvent> {
    routeStreamInput(input, now, this.handlers);
    return this.flush();
  }

  tick(now: number): EngineOutput<Libp2pEvent> {
    for (const c of [...this.conns.values()]) {
      if (c.deadline === undefined || now < c.deadline) continue;
      if (c.outcome || c.closing) {
        this.close(c, 'done');
        continue;
      }
      if (c.rttMs !== undefined && c.direction === 'outbound') {
        // The ping proved the channel; identify is only read where the peer answers it.
        c.identifyDone = true;
        this.finish(c, 'SUCCESS', undefined, now);
        continue;
      }
      this.finish(c, 'FAILED', `timeout: ${this.stage(c)} within ${Math.round(c.deadline - c.startedAt)} ms`, now);
    }
    return this.flush();
  }

  nextDeadline(): number | undefined {
    return earliestDeadline(this.conns.values());
  }

  /** What a connection was waiting for (a timeout's reason). */
  private stage(c: Connection): string {
    if (!c.open) return 'no TCP connection';
    if (c.outerPhase === 'multistream') return 'no multistream-select answer for /noise';
    if (!c.hs?.done && !c.send) return `Noise message ${(c.hs?.message ?? 0) + 1} did not come`;
    if (!c.muxer) return 'no muxer agreed';
    if (c.direction === 'outbound' && c.rttMs === undefined) return 'no ping echo';
    return 'no identify';
  }

  // ------------------------------------------------------------------ connections

  private command(cmd: Libp2pCommand, now: number): void {
    if (cmd.type === 'close') {
      const c = this.conns.get(cmd.conn);
      if (c) this.close(c, 'by-us');
      return;
    }
    const id = cmd.conn ?? `p2p-${this.nextConn++}`;
    if (this.conns.has(id)) return;
    const c = this.connection(id, cmd.to, 'outbound', now, cmd.timeoutMs ?? this.config.timeoutMs ?? 10_000);
    if (cmd.peerId) c.expectedPeerId = cmd.peerId;
    this.emit({ type: 'started', conn: id, peer: c.peer, direction: 'outbound' });
    // The dialer's header and proposal go with the connect, in one write (multistream lets them
    // travel together): one record, as Step mode holds one write at a time.
    const initialData = this.sendPlain(c, encodeLines(MULTISTREAM, NOISE_PROTOCOL), KIND.multistream, `${MULTISTREAM} + ${NOISE_PROTOCOL}`, now, 'the dialer opens with the multistream-select header and proposes /noise, both in the first write');
    this.transmit({ type: 'connect', conn: id, to: cmd.to, timeoutMs: Math.max(1, Math.round((c.deadline ?? now) - now)), initialData });
  }

  private connection(id: ConnectionId, peer: Endpoint, direction: Connection['direction'], now: number, timeoutMs: number): Connection {
    const c: Connection = {
      id, peer, direction, startedAt: now, deadline: now + timeoutMs, open: false, written: 0,
      outer: new ByteQueue(NOISE_STREAM_LIMIT), outerPhase: 'multistream', gotMssHeader: false,
      noiseStatic: keyPairOf(this.config.random(32), this.config.x25519), remoteMuxers: [],
      inner: new ByteQueue(YAMUX_HEADER + YAMUX_INITIAL_WINDOW), innerPhase: 'none', gotInnerHeader: false,
      streams: new Map(), nextStreamId: direction === 'outbound' ? 1 : 2, identifyDone: false, closing: false, pending: [],
    };
    this.conns.set(id, c);
    return c;
  }

  private opened(id: ConnectionId, remote: Endpoint, direction: 'outbound' | 'inbound', now: number): void {
    let c = this.conns.get(id);
    if (!c) {
      if (direction !== 'inbound' || !this.config.accept) {
        this.transmit({ type: 'stream-close', conn: id });
        return;
      }
      c = this.connection(id, remote, 'inbound', now, this.config.timeoutMs ?? 10_000);
      this.emit({ type: 'started', conn: id, peer: remote, direction: 'inbound' });
    }
    c.open = true;
    this.emit({ type: 'connected', conn: id, peer: c.peer, at: now });
  }

  // ------------------------------------------------------------------ the outer stream

  private data(c: Connection, bytes: Uint8Array, now: number): void {
    for (let at = 0; at < bytes.length; ) {
      const room = c.outer.limit - c.outer.length;
      const piece = bytes.subarray(at, at + Math.max(room, 1));
      at += piece.length;
      try {
        c.outer.push(piece);
      } catch {
        return this.refuse(c, c.outer.drain(), c.outer.offset, `more than ${c.outer.limit} bytes without a complete message`, now);
      }
      for (;;) {
        if (!this.conns.has(c.id) || c.closing) return;
        const r = c.outerPhase === 'multistream' ? multistreamFramer(c.outer) : noiseFramer(c.outer);
        if (r.type === 'need-more') break;
        if (r.type === 'error') return this.refuse(c, r.raw, r.offset, r.error.reason, now);
        if (c.outerPhase === 'multistream') this.outerLine(c, r.frame as string, r.raw, r.offset, now);
        else this.noiseMessage(c, r.frame as Uint8Array, r.raw, r.offset, now);
      }
    }
  }

  /** Bytes that break the protocol: recorded as refused, the connection fails and closes. */
  private refuse(c: Connection, raw: Uint8Array, offset: number, reason: string, now: number): void {
    this.record(c, 'in', raw, KIND.refused, `refused: ${reason}`, now, offset, { rejected: reason });
    this.finish(c, 'FAILED', reason, now);
    this.close(c, 'by-us', reason);
  }

  private outerLine(c: Connection, line: string, raw: Uint8Array, offset: number, now: number): void {
    const rec = this.record(c, 'in', raw, KIND.multistream, line, now, offset);
    if (!c.gotMssHeader) {
      if (line !== MULTISTREAM) {
        rec.note = `expected ${MULTISTREAM} first`;
        return this.fail(c, `the peer does not speak multistream-select 1.0 (it sent “${line.slice(0, 40)}”)`, now);
      }
      c.gotMssHeader = true;
      rec.note = 'the peer speaks multistream-select 1.0';
      if (c.direction === 'inbound') this.writePlain(c, encodeLine(MULTISTREAM), MULTISTREAM, now, 'our multistream-select header');
      return;
    }
    if (c.direction === 'outbound') {
      if (line === NOISE_PROTOCOL) {
        rec.note = 'the listener echoes /noise: agreed, the Noise handshake starts';
        c.outerPhase = 'noise';
        this.startNoise(c, now);
      } else if (line === 'na') {
        rec.note = 'not available';
        this.fail(c, 'the peer does not offer /noise (it answered “na”)', now);
      } else {
        rec.note = 'not an answer to our proposal';
        this.fail(c, `unexpected multistream answer “${line.slice(0, 40)}”`, now);
      }
      return;
    }
    if (line === NOISE_PROTOCOL) {
      rec.note = 'the dialer proposes /noise: we agree';
      this.writePlain(c, encodeLine(NOISE_PROTOCOL), NOISE_PROTOCOL, now, 'the echo: /noise agreed');
      c.outerPhase = 'noise';
      this.startNoise(c, now);
    } else {
      rec.note = line === 'ls' ? 'ls: we answer na' : 'not a security protocol we speak: na';
      this.writePlain(c, encodeLine('na'), 'na', now, 'not available');
    }
  }

  private sendPlain(c: Connection, bytes: Uint8Array, kind: string, summary: string, now: number, note: string): Uint8Array {
    const rec = this.record(c, 'out', bytes, kind, summary, now, c.written);
    rec.note = note;
    c.written += bytes.length;
    return bytes;
  }

  private writePlain(c: Connection, bytes: Uint8Array, summary: string, now: number, note: string): void {
    this.sendPlain(c, bytes, KIND.multistream, summary, now, note);
    this.transmit({ type: 'stream-write', conn: c.id, bytes });
  }

  // ------------------------------------------------------------------ Noise

  private startNoise(c: Connection, now: number): void {
    c.hs = new HandshakeState(c.direction === 'outbound', c.noiseStatic, this.config.random(32), new Uint8Array(0), this.config.x25519);
    this.trace(c, {
      step: 'noise-init', title: 'Initialize: h = protocol name (32 bytes, so not hashed), ck = h, then MixHash(empty prologue)',
      inputs: [{ name: 'protocol name', hex: toHex(new TextEncoder().encode('Noise_XX_25519_ChaChaPoly_SHA256')) }, { name: 'prologue', hex: '', note: 'libp2p uses an empty prologue' }],
      outputs: [{ name: 'h', hex: toHex(c.hs.h) }, { name: 'ck', hex: toHex(c.hs.ck) }, { name: 's (our static X25519 public key)', hex: toHex(c.noiseStatic.pub) }],
      spec: SPEC.noiseHandshakeState,
    });
    // The initiator's first message: e, with an empty payload (libp2p sends nothing in message 1).
    if (c.direction === 'outbound') this.writeNoise(c, new Uint8Array(0), now);
  }

  private get muxersOffered(): string[] {
    return this.config.earlyMuxer === false ? [] : [YAMUX_PROTOCOL];
  }

  private writeNoise(c: Connection, payload: Uint8Array, now: number): void {
    const hs = c.hs!;
    const index = hs.message;
    const { message, steps } = hs.writeMessage(payload);
    const raw = frameNoise(message);
    const kind = NOISE_KINDS[index];
    const rec = this.record(c, 'out', raw, kind, noiseSummary(index, payload.length), now, c.written, {
      ...(payload.length ? { plaintext: payload } : {}), ...(index > 0 ? { noiseStatic: c.noiseStatic.pub } : {}),
    });
    rec.note = NOISE_NOTES[index];
    c.written += raw.length;
    this.transmit({ type: 'stream-write', conn: c.id, bytes: raw });
    if (payload.length) this.traceSign(c, rec.seq);
    this.traceSteps(c, steps, 'out', rec.seq);
  }

  /** Our payload: identity key, its signature over our Noise static key, the muxers we offer. */
  private ourPayload(c: Connection): Uint8Array {
    return encodePayload(this.config.identity, c.noiseStatic.pub, this.muxersOffered);
  }

  private traceSign(c: Connection, seq: number): void {
    this.trace(c, {
      step: 'identity-sign', title: 'Sign our Noise static key with our libp2p identity (secp256k1, ECDSA over SHA-256, DER)',
      inputs: [{ name: 'signed data', hex: toHex(signedData(c.noiseStatic.pub)), note: '"noise-libp2p-static-key:" ‖ our static key' }],
      outputs: [{ name: 'identity_key', hex: toHex(this.config.identity.publicKey.encoded) }, { name: 'peer id', hex: toHex(new TextEncoder().encode(this.config.identity.peerId)), note: this.config.identity.peerId }],
      spec: SPEC.noiseSignature, packet: seq,
    });
  }

  private noiseMessage(c: Connection, message: Uint8Array, raw: Uint8Array, offset: number, now: number): void {
    const hs = c.hs!;
    if (c.recv) return this.transportMessage(c, message, raw, offset, now);
    const index = hs.message;
    const r = hs.readMessage(message);
    const payload = r.ok ? r.value.payload : undefined;
    const rec = this.record(c, 'in', raw, r.ok ? NOISE_KINDS[index] : KIND.refused, r.ok ? noiseSummary(index, payload!.length) : `refused: ${r.error.reason}`, now, offset, {
      ...(payload?.length ? { plaintext: payload } : {}), ...(hs.rs && index > 0 ? { noiseStatic: hs.rs } : {}), ...(r.ok ? {} : { rejected: r.error.reason }),
    });
    this.traceSteps(c, r.steps, 'in', rec.seq);
    if (!r.ok) return this.fail(c, `Noise message ${index + 1}: ${r.error.reason}`, now);
    rec.note = NOISE_NOTES[index];
    if (index === 0) {
      // Responder: message 2 carries our identity and the muxers we offer.
      this.writeNoise(c, this.ourPayload(c), now);
      return;
    }
    // Messages 2 and 3 carry the sender's identity: verify it before anything else.
    const decoded = decodePayload(payload!);
    const verified = decoded.ok ? verifyPayload(decoded.value, hs.rs!) : decoded;
    this.trace(c, {
      step: 'identity-verify', title: 'Verify the peer’s identity: its signature over "noise-libp2p-static-key:" ‖ its Noise static key',
      inputs: [{ name: 'their static key', hex: toHex(hs.rs!) }, ...(decoded.ok && decoded.value.identityKey ? [{ name: 'identity_key', hex: toHex(decoded.value.identityKey) }] : []), ...(decoded.ok && decoded.value.identitySig ? [{ name: 'identity_sig (DER)', hex: toHex(decoded.value.identitySig) }] : [])],
      outputs: verified.ok ? [{ name: 'peer id', hex: toHex(new TextEncoder().encode(verified.value.peerId)), note: verified.value.peerId }] : [],
      ok: verified.ok, spec: SPEC.noiseSignature, packet: rec.seq,
    });
    if (!verified.ok) {
      rec.rejected = verified.error.reason;
      return this.fail(c, `the peer's handshake payload: ${verified.error.reason}`, now);
    }
    if (c.expectedPeerId && !equalBytes(c.expectedPeerId, peerIdBytesOf(verified.value))) {
      const reason = `wrong peer: dialled ${describeExpected(c.expectedPeerId)}, but the key that signed this Noise handshake is ${verified.value.peerId}`;
      rec.rejected = reason;
      return this.fail(c, reason, now);
    }
    c.remote = verified.value;
    c.remoteMuxers = decoded.ok ? decoded.value.streamMuxers : [];
    rec.note = `${NOISE_NOTES[index]} Identity verified: ${verified.value.peerId} (${verified.value.key.type}).`;
    if (index === 1) this.writeNoise(c, this.ourPayload(c), now);
    this.secured(c, now);
  }

  /** Both sides are authenticated: split the keys and pick the muxer. */
  private secured(c: Connection, now: number): void {
    const hs = c.hs!;
    const split = hs.split();
    c.send = split.send;
    c.recv = split.recv;
    this.trace(c, {
      step: 'split', title: 'Split(): HKDF(ck, empty) → k1 (initiator → responder), k2 (responder → initiator); nonces start at 0',
      inputs: [{ name: 'ck', hex: toHex(hs.ck), secret: true }],
      outputs: [{ name: 'k1', hex: toHex(split.k1), secret: true }, { name: 'k2', hex: toHex(split.k2), secret: true }, { name: 'handshake hash', hex: toHex(split.handshakeHash) }],
      spec: SPEC.noiseSplit,
    });
    this.emit({ type: 'secured', conn: c.id, peerId: c.remote!.peerId, keyType: c.remote!.key.type, handshakeHash: split.handshakeHash, ...this.after(c) });
    // Inlined muxer negotiation: the initiator's first muxer that the responder also lists.
    const [initiatorList, responderList] = c.direction === 'outbound' ? [this.muxersOffered, c.remoteMuxers] : [c.remoteMuxers, this.muxersOffered];
    const early = initiatorList.find((m) => responderList.includes(m));
    if (early === YAMUX_PROTOCOL) return this.muxerReady(c, early, 'noise-extensions', now);
    c.innerPhase = 'multistream';
    if (c.direction === 'outbound') this.queueInner(c, encodeLines(MULTISTREAM, YAMUX_PROTOCOL), `multistream ${MULTISTREAM} + ${YAMUX_PROTOCOL}`);
  }

  private muxerReady(c: Connection, muxer: string, how: 'noise-extensions' | 'multistream', now: number): void {
    c.muxer = muxer;
    c.innerPhase = 'yamux';
    this.emit({ type: 'muxer', conn: c.id, muxer, how, ...this.after(c) });
    if (c.direction === 'inbound') return this.finish(c, 'SUCCESS', undefined, now);
    c.pingStream = this.openStream(c, PING_PROTOCOL);
    if (this.config.identify !== false) c.identifyStream = this.openStream(c, IDENTIFY_PROTOCOL);
    else c.identifyDone = true;
  }

  // ------------------------------------------------------------------ the encrypted stream

  private transportMessage(c: Connection, message: Uint8Array, raw: Uint8Array, offset: number, now: number): void {
    const plain = c.recv!.decryptWithAd(new Uint8Array(0), message);
    if (!plain) {
      this.record(c, 'in', raw, KIND.refused, 'refused: does not authenticate', now, offset, { rejected: 'ChaChaPoly tag mismatch: not from the peer, or out of order' });
      return this.fail(c, 'a transport message does not authenticate (ChaChaPoly tag mismatch)', now);
    }
    const startOffset = c.inner.offset + c.inner.length;
    const pendingBefore = c.inner.length;
    const rec = this.record(c, 'in', raw, KIND.transport, '', now, offset, { plaintext: plain });
    rec.streams = this.streamNames(c);
    c.reading = rec;
    const parts: string[] = [];
    try {
      c.inner.push(plain);
    } catch {
      return this.fail(c, `yamux: more than ${c.inner.limit} bytes without a complete frame`, now);
    }
    let first = true;
    for (;;) {
      if (!this.conns.has(c.id) || c.closing) break;
      const frame = this.readInner(c, now);
      if (frame === undefined) break;
      if (first && pendingBefore > 0 && frame.offset < startOffset) rec.continues = frame.offset + frame.size - startOffset;
      first = false;
      parts.push(frame.what);
    }
    if (first && pendingBefore > 0) rec.continues = plain.length;
    if (c.inner.length > 0) parts.push(`(${c.inner.length} bytes of a frame continue in the next message)`);
    rec.summary = short(`${plain.length} bytes: ${parts.join('; ') || 'part of a frame'}`);
    c.reading = undefined;
  }

  /** One inner frame (multistream line or yamux frame), handled; undefined when more bytes are needed. */
  private readInner(c: Connection, now: number): { offset: number; size: number; what: string } | undefined {
    const q = c.inner;
    const offset = q.offset;
    if (c.innerPhase === 'multistream') {
      const r = multistreamFramer(q);
      if (r.type === 'need-more') return undefined;
      if (r.type === 'error') {
        this.fail(c, `muxer negotiation: ${r.error.reason}`, now);
        return undefined;
      }
      this.innerLine(c, r.frame, now);
      return { offset, size: r.raw.length, what: `multistream ${r.frame}` };
    }
    if (c.innerPhase !== 'yamux' || q.length < YAMUX_HEADER) {
      if (c.innerPhase === 'none' && q.length > 0) this.fail(c, 'data before the muxer was agreed', now);
      return undefined;
    }
    let frame: YamuxFrame;
    try {
      frame = readYamuxHeader(new Reader(q.peek(YAMUX_HEADER)!));
    } catch (e) {
      this.goAway(c, 1);
      this.fail(c, `yamux: ${(e as { reason?: string }).reason ?? String(e)}`, now);
      return undefined;
    }
    const dataLen = frame.type === 'Data' ? frame.length : 0;
    if (dataLen > YAMUX_INITIAL_WINDOW) {
      this.goAway(c, 1);
      this.fail(c, `yamux: a ${dataLen}-byte Data frame is larger than any window`, now);
      return undefined;
    }
    if (q.length < YAMUX_HEADER + dataLen) return undefined;
    const raw = q.take(YAMUX_HEADER + dataLen)!;
    if (dataLen) frame.data = raw.subarray(YAMUX_HEADER);
    const what = this.yamuxFrame(c, frame, now);
    return { offset, size: raw.length, what };
  }

  private innerLine(c: Connection, line: string, now: number): void {
    if (!c.gotInnerHeader) {
      if (line !== MULTISTREAM) return this.fail(c, `muxer negotiation: expected ${MULTISTREAM}, got “${line.slice(0, 40)}”`, now);
      c.gotInnerHeader = true;
      if (c.direction === 'inbound') this.queueInner(c, encodeLine(MULTISTREAM), `multistream ${MULTISTREAM}`);
      return;
    }
    if (c.direction === 'outbound') {
      if (line === YAMUX_PROTOCOL) return this.muxerReady(c, YAMUX_PROTOCOL, 'multistream', now);
      return this.fail(c, line === 'na' ? 'the peer does not offer yamux (it answered “na”)' : `unexpected muxer answer “${line.slice(0, 40)}”`, now);
    }
    if (line === YAMUX_PROTOCOL) {
      this.queueInner(c, encodeLine(YAMUX_PROTOCOL), `multistream ${YAMUX_PROTOCOL} (agreed)`);
      this.muxerReady(c, YAMUX_PROTOCOL, 'multistream', now);
    } else this.queueInner(c, encodeLine('na'), 'multistream na');
  }

  // ------------------------------------------------------------------ yamux

  private yamuxFrame(c: Connection, f: YamuxFrame, now: number): string {
    const what = f.data ? `${describeYamux(f)}: ${describeStreamData(f.data, c.streams.get(f.streamId)?.protocol)}` : describeYamux(f);
    if (f.type === 'Ping') {
      if (f.flags & FLAG.SYN) this.queueInner(c, encodeYamux('Ping', FLAG.ACK, 0, f.length), `yamux Ping ACK ${f.length}`);
      return what;
    }
    if (f.type === 'Go Away') {
      if (!c.outcome) this.fail(c, `the peer sent Go Away (${GO_AWAY[f.length] ?? f.length})`, now);
      else c.closing = true;
      return what;
    }
    let s = c.streams.get(f.streamId);
    if (f.flags & FLAG.SYN) {
      if (s || f.streamId === 0 || f.streamId % 2 === c.nextStreamId % 2) {
        this.goAway(c, 1);
        this.fail(c, `yamux: SYN for stream ${f.streamId}, ${s ? 'already open' : 'an id this side opens'}`, now);
        return what;
      }
      if (c.streams.size >= MAX_STREAMS) {
        // Refused, not buffered: a peer cannot make us hold state for stream after stream.
        this.queueInner(c, encodeYamux('Window Update', FLAG.RST, f.streamId, 0), `yamux RST stream ${f.streamId} (over ${MAX_STREAMS} open streams)`);
        return `${what} (refused: too many streams)`;
      }
      s = this.newStream(c, f.streamId, false);
      this.queueInner(c, encodeYamux('Window Update', FLAG.ACK, s.id, 0), `yamux Window Update ACK stream ${s.id}`);
    }
    if (!s) return `${what} (unknown stream: ignored)`;
    if (f.flags & FLAG.RST) {
      c.streams.delete(s.id);
      if (s.id === c.pingStream && c.rttMs === undefined) this.fail(c, 'the peer reset the ping stream', now);
      if (s.id === c.identifyStream && !c.identifyDone) this.identifyFailed(c, 'the peer reset the identify stream', now);
      return what;
    }
    if (f.type === 'Window Update') s.sendWindow += f.length;
    else if (f.data) {
      if (f.data.length > s.recvWindow) {
        this.goAway(c, 1);
        this.fail(c, `yamux: stream ${s.id} sent ${f.data.length} bytes into a ${s.recvWindow}-byte window`, now);
        return what;
      }
      s.recvWindow -= f.data.length;
      s.queue.push(f.data);
      this.streamData(c, s, now);
      // Window accounting: give back what was read once half the window is used.
      s.consumed += f.data.length;
      if (s.consumed >= YAMUX_INITIAL_WINDOW / 2 && c.streams.has(s.id)) {
        this.queueInner(c, encodeYamux('Window Update', 0, s.id, s.consumed), `yamux Window Update stream ${s.id} +${s.consumed}`);
        s.recvWindow += s.consumed;
        s.consumed = 0;
      }
    }
    if (f.flags & FLAG.FIN) {
      s.remoteFin = true;
      if (s.id === c.identifyStream && !c.identifyDone) this.identifyFailed(c, 'the identify stream closed before a whole message', now);
      if (s.localFin) c.streams.delete(s.id);
      else if (!s.local) this.finStream(c, s);
    }
    return what;
  }

  private newStream(c: Connection, id: number, local: boolean): YStream {
    const s: YStream = { id, local, queue: new ByteQueue(YAMUX_INITIAL_WINDOW), gotHeader: false, agreed: false, recvWindow: YAMUX_INITIAL_WINDOW, consumed: 0, sendWindow: YAMUX_INITIAL_WINDOW, localFin: false, remoteFin: false };
    c.streams.set(id, s);
    return s;
  }

  /** Opens a stream with SYN, carrying the multistream header and our proposal. */
  private openStream(c: Connection, protocol: string): number {
    const id = c.nextStreamId;
    c.nextStreamId += 2;
    const s = this.newStream(c, id, true);
    s.protocol = protocol;
    this.writeStream(c, s, encodeLines(MULTISTREAM, protocol), FLAG.SYN, `multistream ${MULTISTREAM} + ${protocol}`);
    return id;
  }

  private writeStream(c: Connection, s: YStream, data: Uint8Array, flags: number, what: string): void {
    s.sendWindow -= data.length;
    this.queueInner(c, encodeYamux('Data', flags, s.id, data), `yamux Data${flags ? ` ${flagText(flags)}` : ''} stream ${s.id}: ${what}`);
  }

  private finStream(c: Connection, s: YStream): void {
    if (s.localFin) return;
    s.localFin = true;
    this.queueInner(c, encodeYamux('Window Update', FLAG.FIN, s.id, 0), `yamux FIN stream ${s.id}`);
    if (s.remoteFin) c.streams.delete(s.id);
  }

  private goAway(c: Connection, code: number): void {
    this.queueInner(c, encodeYamux('Go Away', 0, 0, code), `yamux Go Away (${GO_AWAY[code]})`);
  }

  /** Bytes on a stream: its multistream lines, then its protocol. */
  private streamData(c: Connection, s: YStream, now: number): void {
    for (;;) {
      if (!c.streams.has(s.id) || !this.conns.has(c.id)) return;
      if (!s.agreed) {
        const r = multistreamFramer(s.queue);
        if (r.type === 'need-more') return;
        if (r.type === 'error') {
          this.resetStream(c, s);
          if (s.id === c.pingStream) this.fail(c, `ping stream: ${r.error.reason}`, now);
          return;
        }
        this.streamLine(c, s, r.frame, now);
        continue;
      }
      if (s.protocol === PING_PROTOCOL) {
        const payload = s.queue.take(PING_SIZE);
        if (!payload) return;
        if (s.local) this.pingEcho(c, payload, now);
        else this.writeStream(c, s, payload, 0, 'ping echo (the same 32 bytes back)');
        continue;
      }
      if (s.protocol === IDENTIFY_PROTOCOL && s.local) {
        const head = s.queue.peek(Math.min(s.queue.length, 3)) ?? new Uint8Array(0);
        const v = peekUvarint(head, 3);
        if (v === undefined) return;
        if (v === -1 || v.value > MAX_IDENTIFY) return this.identifyFailed(c, 'identify message over 8 KiB', now);
        if (s.queue.length < v.size + v.value) return;
        const msg = s.queue.take(v.size + v.value)!.subarray(v.size);
        const info = decodeIdentify(msg);
        if (!info.ok) return this.identifyFailed(c, `identify: ${info.error.reason}`, now);
        c.identify = info.value;
        c.identifyDone = true;
        this.emit({ type: 'identify', conn: c.id, info: info.value, ...this.after(c) });
        this.finStream(c, s);
        this.maybeDone(c, now);
        continue;
      }
      s.queue.drain(); // a protocol we do not read: its bytes are dropped
      return;
    }
  }

  private streamLine(c: Connection, s: YStream, line: string, now: number): void {
    if (!s.gotHeader) {
      if (line !== MULTISTREAM) {
        this.resetStream(c, s);
        return;
      }
      s.gotHeader = true;
      return;
    }
    if (s.local) {
      if (line === s.protocol) {
        s.agreed = true;
        if (s.protocol === PING_PROTOCOL) {
          c.pingPayload = this.config.random(PING_SIZE);
          c.pingSentAt = now;
          this.writeStream(c, s, c.pingPayload, 0, `ping: 32 random bytes (${shortHex(c.pingPayload)})`);
        }
      } else if (s.protocol === IDENTIFY_PROTOCOL) this.identifyFailed(c, 'the peer does not offer identify', now);
      else this.fail(c, `the peer does not offer ${s.protocol} (it answered “${line.slice(0, 40)}”)`, now);
      return;
    }
    // The peer proposes: we answer ping and identify, "na" to anything else.
    if (!SERVED.includes(line)) {
      this.writeStream(c, s, encodeLines(...(s.protocol === undefined ? [MULTISTREAM] : []), 'na'), 0, `multistream na (${line.slice(0, 40)})`);
      s.protocol = s.protocol ?? '';
      return;
    }
    s.protocol = line;
    s.agreed = true;
    const lines = encodeLines(MULTISTREAM, line);
    if (line === IDENTIFY_PROTOCOL) {
      const msg = encodeIdentify({ protocolVersion: 'ipfs/0.1.0', agentVersion: this.config.agentVersion ?? 'handshake-lab/0.1.0', publicKey: this.config.identity.publicKey.encoded, protocols: SERVED, observedAddr: multiaddrBytes(c.peer) });
      const body = new Uint8Array(lines.length + msg.length + 3);
      const len = uvarint(msg.length);
      body.set(lines);
      body.set(len, lines.length);
      body.set(msg, lines.length + len.length);
      this.writeStream(c, s, body.subarray(0, lines.length + len.length + msg.length), 0, `multistream ${line} (agreed) + our identify (${msg.length} bytes)`);
      this.finStream(c, s);
    } else this.writeStream(c, s, lines, 0, `multistream ${MULTISTREAM} + ${line} (agreed)`);
  }

  private resetStream(c: Connection, s: YStream): void {
    c.streams.delete(s.id);
    this.queueInner(c, encodeYamux('Window Update', FLAG.RST, s.id, 0), `yamux RST stream ${s.id}`);
  }

  private pingEcho(c: Connection, payload: Uint8Array, now: number): void {
    if (c.rttMs !== undefined) return;
    if (!c.pingPayload || !equalBytes(payload, c.pingPayload)) return this.fail(c, 'the ping echo differs from the 32 bytes sent', now);
    c.rttMs = now - (c.pingSentAt ?? now);
    if (c.reading) c.reading.note = `ping echoed: round trip ${c.rttMs.toFixed(2)} ms`;
    this.emit({ type: 'ping', conn: c.id, rttMs: c.rttMs, elapsedMs: now - c.startedAt, ...this.after(c) });
    const s = c.streams.get(c.pingStream!);
    if (s) this.finStream(c, s);
    // Identify gets a little longer, not the whole timeout: a peer may never answer it.
    if (!c.identifyDone) c.deadline = Math.min(c.deadline ?? Infinity, now + IDENTIFY_GRACE_MS);
    this.maybeDone(c, now);
  }

  private identifyFailed(c: Connection, why: string, now: number): void {
    if (c.identifyDone) return;
    c.identifyDone = true;
    if (c.reading) c.reading.note = why;
    this.maybeDone(c, now);
  }

  private maybeDone(c: Connection, now: number): void {
    if (c.outcome || c.direction !== 'outbound' || c.rttMs === undefined || !c.identifyDone) return;
    this.finish(c, 'SUCCESS', undefined, now);
  }

  // ------------------------------------------------------------------ writing encrypted

  private queueInner(c: Connection, bytes: Uint8Array, what: string): void {
    c.pending.push({ bytes, what });
  }

  /** Everything queued this step goes out as Noise transport messages (one, unless over 64 KiB). */
  private flushPending(c: Connection, now: number): void {
    if (!c.pending.length || !c.send || !this.conns.has(c.id)) {
      c.pending = [];
      return;
    }
    const items = c.pending;
    c.pending = [];
    const max = NOISE_MAX_MESSAGE - NOISE_TAG;
    let batch: typeof items = [];
    let size = 0;
    const send = () => {
      if (!batch.length) return;
      const plain = new Uint8Array(size);
      let at = 0;
      for (const b of batch) {
        plain.set(b.bytes, at);
        at += b.bytes.length;
      }
      const raw = frameNoise(c.send!.encryptWithAd(new Uint8Array(0), plain));
      const rec = this.record(c, 'out', raw, KIND.transport, `${plain.length} bytes: ${batch.map((b) => b.what).join('; ')}`, now, c.written, { plaintext: plain });
      rec.streams = this.streamNames(c);
      c.written += raw.length;
      this.transmit({ type: 'stream-write', conn: c.id, bytes: raw });
      batch = [];
      size = 0;
    };
    for (const it of items) {
      if (size + it.bytes.length > max) send();
      batch.push(it);
      size += it.bytes.length;
    }
    send();
  }

  private streamNames(c: Connection): Record<number, string> {
    const out: Record<number, string> = {};
    for (const s of c.streams.values()) if (s.protocol) out[s.id] = s.protocol;
    return out;
  }

  // ------------------------------------------------------------------ outcomes

  private fail(c: Connection, reason: string, now: number): void {
    this.finish(c, 'FAILED', reason, now);
    this.flushPending(c, now);
    this.close(c, 'by-us', reason);
  }

  private finish(c: Connection, outcome: Outcome, reason: string | undefined, now: number): void {
    if (c.outcome) return;
    c.outcome = outcome;
    c.deadline = undefined;
    this.emit({
      type: 'outcome', conn: c.id, peer: c.peer, direction: c.direction, outcome, elapsedMs: now - c.startedAt,
      ...(reason ? { reason } : {}), ...(c.remote ? { peerId: c.remote.peerId } : {}), ...(c.muxer ? { muxer: c.muxer } : {}),
      ...(c.rttMs !== undefined ? { rttMs: c.rttMs } : {}), ...(c.identify ? { identify: c.identify } : {}), ...this.after(c),
    });
    if (outcome === 'FAILED') {
      if (this.conns.has(c.id)) this.close(c, 'by-us', reason);
      return;
    }
    if (c.direction === 'outbound' && this.config.afterPing !== 'stay') {
      // Done: Go Away, then our half of the TCP connection; the rest closes shortly.
      this.goAway(c, 0);
      this.flushPending(c, now);
      this.transmit({ type: 'stream-end', conn: c.id });
      c.closing = true;
      c.deadline = now + 500;
    } else if (this.config.lingerMs !== undefined && c.direction === 'outbound') c.deadline = now + this.config.lingerMs;
  }

  private after(c: Connection): { afterSeq?: number } {
    return c.lastSeq !== undefined ? { afterSeq: c.lastSeq } : {};
  }

  private ended(id: ConnectionId, why: string, now: number, reason: StreamEndReason = 'closed', closeOurSide = false): void {
    const c = this.conns.get(id);
    if (!c) return;
    if (!c.outcome) this.finish(c, 'FAILED', `${why} (${this.stage(c).replace(/^no /, 'before ')})`, now);
    if (!this.conns.delete(id)) return;
    if (closeOurSide) this.transmit({ type: 'stream-close', conn: id });
    this.emit({ type: 'closed', conn: id, reason });
  }

  private close(c: Connection, reason: 'by-us' | 'done', detail?: string): void {
    if (!this.conns.delete(c.id)) return;
    if (c.open || c.direction === 'outbound') this.transmit({ type: 'stream-close', conn: c.id });
    this.emit({ type: 'closed', conn: c.id, reason: 'by-us', ...(detail ? { detail } : reason === 'done' ? { detail: 'done' } : {}) });
  }

  // ------------------------------------------------------------------ records and trace

  private record(c: Connection, direction: 'in' | 'out', raw: Uint8Array, kind: string, summary: string, at: number, streamOffset: number, extra: Partial<Libp2pRecord> = {}): Libp2pRecord {
    const seq = this.nextSeq();
    c.lastSeq = seq;
    const r: Libp2pRecord = { seq, protocol: PROTOCOL, direction, at, peer: c.peer, conn: c.id, streamOffset, raw, kind, summary: short(summary), ...(c.remote ? { peerId: c.remote.peerId } : {}), ...extra };
    this.out.records.push(r);
    return r;
  }

  private trace(c: Connection, t: Omit<TraceRecord, 'handshake' | 'peer'>): void {
    // The peer as its address: stable through the handshake (its id is known only after message 2 or 3).
    this.out.trace.push({ ...t, handshake: `${c.id}:noise`, peer: endpointKey(c.peer), ...(t.packet === undefined && c.lastSeq !== undefined ? { packet: c.lastSeq } : {}) });
  }

  private traceSteps(c: Connection, steps: NoiseStep[], dir: 'in' | 'out', seq: number): void {
    for (const s of steps) this.trace(c, { ...tokenTrace(s, dir, c.direction === 'outbound'), packet: seq });
  }

  private transmit(t: Transmit): void {
    this.out.transmits.push(t);
  }

  private emit(e: Libp2pEvent): void {
    this.out.events.push(e);
  }

  private flush(): EngineOutput<Libp2pEvent> {
    const o = this.out;
    this.out = emptyOutput();
    return o;
  }
}

/** What a Data frame carries, in a few words: its multistream lines, then its protocol's bytes. */
export function describeStreamData(data: Uint8Array, protocol: string | undefined): string {
  const parts: string[] = [];
  let at = 0;
  for (;;) {
    const v = peekUvarint(data.subarray(at), 2);
    if (!v || v === -1 || v.value === 0 || at + v.size + v.value > data.length) break;
    const line = decodeLine(data.subarray(at, at + v.size + v.value));
    if (!line.ok) break;
    parts.push(line.value);
    at += v.size + v.value;
  }
  const rest = data.length - at;
  const lines = parts.length ? [`multistream ${parts.join(' + ')}`] : [];
  if (rest > 0) lines.push(protocol === PING_PROTOCOL ? `ping payload (${rest} bytes)` : protocol === IDENTIFY_PROTOCOL ? `identify message (${rest} bytes)` : `${rest} bytes`);
  return lines.join(' + ');
}

/** One line, at most 300 characters (a session file keeps summaries up to 400). */
const short = (s: string): string => (s.length > 300 ? `${s.slice(0, 299)}…` : s);

const flagText = (flags: number) => Object.entries(FLAG).filter(([, b]) => flags & b).map(([n]) => n).join('|');

export function frameNoise(message: Uint8Array): Uint8Array {
  const raw = new Uint8Array(2 + message.length);
  raw[0] = message.length >> 8;
  raw[1] = message.length & 0xff;
  raw.set(message, 2);
  return raw;
}

const peerIdBytesOf = (v: VerifiedPeer): Uint8Array => {
  const k = v.key.encoded;
  return k.length <= 42 ? Uint8Array.from([0, k.length, ...k]) : new Uint8Array(0);
};

function describeExpected(id: Uint8Array): string {
  return id[0] === 0 ? peerIdText(id.subarray(2)) : `a peer id with multihash ${shortHex(id)}`;
}

export const NOISE_NOTES = [
  'Noise message 1 (→ e): the initiator’s ephemeral X25519 key, in clear; libp2p sends no payload here.',
  'Noise message 2 (← e, ee, s, es): the responder’s ephemeral key, then — encrypted — its static key and its libp2p identity.',
  'Noise message 3 (→ s, se): the initiator’s static key and identity, encrypted; after it both sides Split() into transport keys.',
];

function noiseSummary(index: number, payloadLen: number): string {
  return ['Noise → e', 'Noise ← e, ee, s, es', 'Noise → s, se'][index] + (payloadLen ? ` + ${payloadLen}-byte payload` : '');
}

const TOKEN_TITLES: Record<string, (dir: 'in' | 'out', initiator: boolean) => string> = {
  e: (d) => (d === 'out' ? 'e: our ephemeral public key goes in clear; MixHash(e)' : 'e: read the peer’s ephemeral public key; MixHash(re)'),
  ee: () => 'ee: MixKey(DH(e, re)) — ephemeral × ephemeral: the first cipher key',
  s: (d) => (d === 'out' ? 's: our static key, EncryptAndHash (48 bytes: key + tag)' : 's: DecryptAndHash the peer’s static key'),
  es: (_d, i) => `es: MixKey(DH(${i ? 'e, rs' : 's, re'})) — the initiator’s ephemeral × the responder’s static`,
  se: (_d, i) => `se: MixKey(DH(${i ? 's, re' : 'e, rs'})) — the initiator’s static × the responder’s ephemeral`,
  payload: (d) => (d === 'out' ? 'payload: EncryptAndHash our handshake payload' : 'payload: DecryptAndHash the peer’s handshake payload'),
};

function tokenTrace(s: NoiseStep, dir: 'in' | 'out', initiator: boolean): Omit<TraceRecord, 'handshake' | 'peer'> {
  const inputs = [];
  if (s.dh) inputs.push({ name: 'local public key', hex: toHex(s.dh.local) }, { name: 'remote public key', hex: toHex(s.dh.remote) }, { name: 'DH output', hex: toHex(s.dh.output), secret: true });
  if (s.plain && s.token !== 'payload') inputs.push({ name: s.token === 'e' ? 'ephemeral key' : 'static key', hex: toHex(s.plain) });
  if (s.bytes && s.token !== 'e') inputs.push({ name: s.token === 'payload' ? 'payload on the wire' : 'on the wire', hex: toHex(s.bytes) });
  return {
    step: `noise-${s.token}`,
    title: TOKEN_TITLES[s.token](dir, initiator),
    inputs,
    outputs: [
      { name: 'h', hex: toHex(s.h) },
      { name: 'ck', hex: toHex(s.ck), secret: true },
      ...(s.k ? [{ name: 'k', hex: toHex(s.k), secret: true }, { name: 'n', hex: String(s.n ?? 0), note: 'the next nonce under k' }] : []),
    ],
    spec: s.token === 'payload' ? SPEC.noiseSymmetric : SPEC.noiseTokens,
  };
}

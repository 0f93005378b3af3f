// RLPx with the eth Status, sans-IO, both roles: the initiator sends auth (ECIES to the
// recipient's static key), reads ack, derives the secrets; the recipient reads auth, recovers
// the initiator's ephemeral key from its signature and answers ack. Then both send Hello in a
// frame; with both Hellos the shared capabilities are known and snappy is on (p2p ≥ 5). Goal
// 'ping': Ping → Pong. Goal 'status': eth Status each way and the EIP-2124 fork-id verdict.
import { toHex } from '../bytes.ts';
import { keccak256 } from '../crypto/hashes.ts';
import { publicKey64, publicKeyFrom64, publicKeyOf, randomPrivateKey } from '../crypto/secp256k1.ts';
import { emptyOutput, type ConnectionId, type Engine, type EngineInput, type EngineOutput, type Transmit, type WireRecord } from '../engine.ts';
import { WireError } from '../errors.ts';
import { earliestDeadline, routeStreamInput, type StreamHandlers } from '../stream-engine.ts';
import { ByteQueue } from '../framing.ts';
import type { RandomSource } from '../random.ts';
import type { TraceRecord, TraceValue } from '../trace.ts';
import type { Endpoint, StreamEndReason } from '../transport.ts';
import { CHAINS, type Chain } from '../eth/chains.ts';
import { validateForkId, type ForkIdVerdict, type Head } from '../eth/forkid.ts';
import { encodeStatus, ethMessageCount, genesisStatus, summarizeStatus, type Status } from '../eth/status.ts';
import type { EciesKeys } from './ecies.ts';
import { FrameCodec, frameLength, type FrameCrypto } from './frame.ts';
import { handshakeFramer, makeAck, makeAuth, paddingLength, verifyAuth, type Ack, type Auth, type HandshakeFormat, type HandshakePacket } from './handshake.ts';
import { decodeFrameData, encodeFrameData, summarizeMessage, type FrameMessage, type MessageContext } from './messages.ts';
import { EMPTY_LIST, encodeDisconnect, encodeHello, negotiate, type Capability, type Hello, type SharedCapability } from './p2p.ts';
import { deriveSecrets, type Secrets } from './secrets.ts';
import { disconnectReasonText, MAX_FRAME_SIZE, P2P_IDS, P2P_VERSION, SPEC } from './spec.ts';

export const PROTOCOL = 'rlpx';

export type Goal = 'ping' | 'status';

export interface RlpxConfig {
  /** Our static (node) key. */
  privateKey: Uint8Array;
  random: RandomSource;
  clientId?: string;
  /** Capabilities our Hello offers (default eth/68 and eth/69). */
  capabilities?: Capability[];
  /** The chain our Status speaks of (default mainnet). */
  chain?: Chain;
  /** Where our chain is, for our fork id and for judging the peer's (default: genesis). */
  head?: Head;
  listenPort?: number;
  /** What makes a connection a SUCCESS (default 'status'; a connect command may say otherwise). */
  goal?: Goal;
  /** Time from connect (or accept) to the goal, ms (default 5000). */
  timeoutMs?: number;
  /** After SUCCESS: Disconnect and close (CLI), or stay, answer pings and list messages (page). */
  afterHandshake?: 'close' | 'stay';
  lingerMs?: number;
  /** Accept inbound connections (the recipient role). */
  accept?: boolean;
  packetSeq?: () => number;
  /** Trace each frame's MAC computation (default: only each direction's first frame). */
  traceAllFrames?: boolean;
}

export type Outcome = 'SUCCESS' | 'FAILED';

export type RlpxCommand =
  /** `remoteKey`: the recipient's static public key (33 or 65 bytes), from its enode or ENR. */
  | { type: 'connect'; to: Endpoint; remoteKey: Uint8Array; conn?: ConnectionId; goal?: Goal; timeoutMs?: number }
  | { type: 'close'; conn: ConnectionId };

/** What the inspector needs beyond the raw bytes: the decrypted layers. */
export type RlpxDetail =
  | { layer: 'handshake'; kind: 'auth' | 'ack'; format: HandshakeFormat; plaintext: Uint8Array; rlpLength?: number }
  | { layer: 'frame'; headerPlain: Uint8Array; framePlain: Uint8Array; ctx: MessageContext };

export interface RlpxRecord extends WireRecord {
  rlpx?: RlpxDetail;
}

export interface Peer {
  hello?: Hello;
  status?: Status;
  verdict?: ForkIdVerdict;
  disconnect?: number;
  shared?: SharedCapability[];
}

export type RlpxEvent =
  | { type: 'started'; conn: ConnectionId; peer: Endpoint; direction: 'outbound' | 'inbound' }
  | { type: 'connected'; conn: ConnectionId; peer: Endpoint; at: number }
  | { type: 'message'; conn: ConnectionId; record: RlpxRecord; message?: FrameMessage }
  | {
      type: 'outcome'; conn: ConnectionId; peer: Endpoint; direction: 'outbound' | 'inbound'; goal: Goal;
      outcome: Outcome; reason?: string; elapsedMs: number; afterSeq?: number;
      /** The peer's static key (64 bytes hex) once known. */
      peerKey?: string;
    } & Peer
  | { type: 'closed'; conn: ConnectionId; reason: StreamEndReason | 'by-us'; detail?: string };

type Phase = 'auth' | 'ack' | 'frames';

interface Connection {
  id: ConnectionId;
  peer: Endpoint;
  direction: 'outbound' | 'inbound';
  goal: Goal;
  startedAt: number;
  deadline?: number;
  open: boolean;
  phase: Phase;
  queue: ByteQueue;
  /** The header of the frame whose body is awaited, as it came. */
  headerWire?: Uint8Array;
  written: number;
  /** 65-byte static key of the peer (known up front when we dial; from auth when it dials). */
  remoteKey?: Uint8Array;
  ephemeralKey: Uint8Array;
  nonce: Uint8Array;
  authPacket?: Uint8Array;
  codec?: FrameCodec;
  ctx: MessageContext;
  sentHello: boolean;
  sentStatus: boolean;
  ethVersion?: number;
  pingSent: boolean;
  framesIn: number;
  framesOut: number;
  peerState: Peer;
  outcome?: Outcome;
  handshake: string;
  lastSeq?: number;
}

/** Bytes a stream may buffer: the largest frame, or the largest EIP-8 handshake message. */
const STREAM_LIMIT = frameLength(MAX_FRAME_SIZE);

const DEFAULT_CAPS: Capability[] = [
  { name: 'eth', version: 68 },
  { name: 'eth', version: 69 },
];

const hex = (name: string, b: Uint8Array, secret = false, note?: string): TraceValue => ({ name, hex: toHex(b), ...(secret ? { secret } : {}), ...(note ? { note } : {}) });

export class RlpxEngine implements Engine<RlpxCommand, RlpxEvent> {
  readonly protocol = PROTOCOL;
  private readonly conns = new Map<ConnectionId, Connection>();
  private readonly nextSeq: () => number;
  private nextConn = 1;
  private out: EngineOutput<RlpxEvent> = emptyOutput<RlpxEvent>();
  readonly publicKey: Uint8Array;
  private readonly authFramer;
  private readonly ackFramer;
  private readonly chain: Chain;

  constructor(readonly config: RlpxConfig) {
    let seq = 0;
    this.nextSeq = config.packetSeq ?? (() => ++seq);
    this.publicKey = publicKey64(publicKeyOf(config.privateKey, false));
    this.authFramer = handshakeFramer('auth', config.privateKey);
    this.ackFramer = handshakeFramer('ack', config.privateKey);
    this.chain = config.chain ?? CHAINS.mainnet;
  }

  /** Our enode key (64 bytes) as hex. */
  get nodeKeyHex(): string {
    return toHex(this.publicKey);
  }

  get connections(): number {
    return this.conns.size;
  }

  private readonly handlers: StreamHandlers<RlpxCommand> = {
    command: (cmd, now) => this.command(cmd, now),
    opened: (conn, remote, direction, now) => this.opened(conn, remote, direction, now),
    data: (conn, bytes, now) => this.data(conn, bytes, now),
    ended: (conn, why, now, reason, closeOurSide) => this.ended(conn, why, now, reason, closeOurSide),
  };

  handle(input: EngineInput<RlpxCommand>, now: number): EngineOutput<RlpxEvent> {
    routeStreamInput(input, now, this.handlers);
    return this.flush();
  }

  tick(now: number): EngineOutput<RlpxEvent> {
    for (const c of [...this.conns.values()]) {
      if (c.deadline === undefined || now < c.deadline) continue;
      if (c.outcome) {
        this.close(c, 'done listening after the handshake');
        continue;
      }
      const ms = Math.round(c.deadline - c.startedAt);
      const what = !c.open ? 'no connection' : c.phase !== 'frames' ? (c.direction === 'outbound' ? 'no ack' : 'no auth') : !c.peerState.hello ? 'no Hello' : c.goal === 'ping' ? 'no Pong' : 'no Status';
      this.finish(c, 'FAILED', `timeout: ${what} within ${ms} ms`, now);
    }
    return this.flush();
  }

  nextDeadline(): number | undefined {
    return earliestDeadline(this.conns.values());
  }


  // ---------------------------------------------------------------- connections

  private command(cmd: RlpxCommand, now: number): void {
    if (cmd.type === 'close') {
      const c = this.conns.get(cmd.conn);
      if (!c) return;
      // A polite goodbye when frames are up: "client quitting".
      if (c.phase === 'frames') this.disconnect(c, 0x08, now);
      this.close(c, 'closed by you');
      return;
    }
    const id = cmd.conn ?? `rlpx-${this.nextConn++}`;
    if (this.conns.has(id)) return;
    const remoteKey = publicKeyFrom64(cmd.remoteKey.length === 64 ? cmd.remoteKey : publicKey64(cmd.remoteKey));
    if (!remoteKey) throw new Error('rlpx connect: remoteKey is not a public key');
    const timeoutMs = cmd.timeoutMs ?? this.config.timeoutMs ?? 5000;
    const c = this.connection(id, cmd.to, 'outbound', now, timeoutMs, cmd.goal);
    c.remoteKey = remoteKey;
    c.handshake = `${toHex(keccak256(remoteKey.subarray(1)))}:${id}`;
    this.emit({ type: 'started', conn: id, peer: c.peer, direction: 'outbound' });
    // The initiator speaks first: auth goes with the connect.
    const auth = this.sendAuth(c, now);
    this.transmit({ type: 'connect', conn: id, to: cmd.to, timeoutMs, initialData: auth });
  }

  private connection(id: ConnectionId, peer: Endpoint, direction: Connection['direction'], now: number, timeoutMs: number, goal?: Goal): Connection {
    const r = this.config.random;
    const c: Connection = {
      id, peer, direction, goal: goal ?? this.config.goal ?? 'status', startedAt: now, deadline: now + timeoutMs, open: false,
      phase: direction === 'outbound' ? 'ack' : 'auth', queue: new ByteQueue(STREAM_LIMIT), written: 0,
      ephemeralKey: randomPrivateKey(r), nonce: r(32), ctx: { compressed: false, caps: [] },
      sentHello: false, sentStatus: false, pingSent: false, framesIn: 0, framesOut: 0, peerState: {}, handshake: id,
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
      c = this.connection(id, remote, 'inbound', now, this.config.timeoutMs ?? 5000);
      this.emit({ type: 'started', conn: id, peer: remote, direction: 'inbound' });
    }
    c.open = true;
    this.emit({ type: 'connected', conn: id, peer: c.peer, at: now });
  }

  private data(id: ConnectionId, bytes: Uint8Array, now: number): void {
    const c = this.conns.get(id);
    if (!c || !c.open) return;
    try {
      c.queue.push(bytes);
    } catch (e) {
      return this.refuse(c, c.queue.drain(), 'bytes', e instanceof WireError ? e.reason : String(e), now, c.queue.offset);
    }
    while (this.conns.has(id)) {
      if (c.phase !== 'frames') {
        if (!this.readHandshake(c, now)) return;
      } else if (!this.readFrame(c, now)) return;
    }
  }

  /** One auth or ack off the queue; false when more bytes are needed or the connection ended. */
  private readHandshake(c: Connection, now: number): boolean {
    const r = (c.phase === 'auth' ? this.authFramer : this.ackFramer)(c.queue);
    if (r.type === 'need-more') return false;
    if (r.type === 'error') {
      this.refuse(c, r.raw, c.phase, r.error.reason, now, r.offset);
      return false;
    }
    try {
      if (c.phase === 'auth') this.gotAuth(c, r.frame as HandshakePacket<Auth> & { ephemeralKeyHash?: Uint8Array }, r.offset, now);
      else this.gotAck(c, r.frame as HandshakePacket<Ack>, r.offset, now);
    } catch (e) {
      this.refuse(c, r.raw, c.phase, e instanceof WireError ? e.reason : String(e), now, r.offset);
      return false;
    }
    return true;
  }

  private readFrame(c: Connection, now: number): boolean {
    const codec = c.codec!;
    if (c.queue.length < codec.need) return false;
    if (codec.pendingFrameSize === undefined) {
      const offset = c.queue.offset;
      const header = c.queue.take(32)!;
      const h = codec.readHeader(header);
      if (!h.ok) {
        this.refuse(c, header, 'frame', h.error.reason, now, offset);
        return false;
      }
      c.headerWire = header.slice();
      return true;
    }
    const offset = c.queue.offset - 32;
    const body = c.queue.take(codec.need)!;
    const b = codec.readBody(body);
    if (!b.ok) {
      this.refuse(c, body, 'frame', b.error.reason, now, offset + 32);
      return false;
    }
    // The record shows the frame whole: the header as it came, then the body.
    const raw = new Uint8Array(32 + body.length);
    raw.set(c.headerWire!, 0);
    raw.set(body, 32);
    this.gotFrame(c, raw, b.value.frameData, b.value.crypto, offset, now);
    return true;
  }

  // ---------------------------------------------------------------- handshake

  private sendAuth(c: Connection, now: number): Uint8Array {
    const r = this.config.random;
    const padding = r(paddingLength(r(1)[0]));
    const { auth, staticShared, signed } = makeAuth({ staticKey: this.config.privateKey, remoteStaticKey: c.remoteKey!, ephemeralKey: c.ephemeralKey, nonce: c.nonce, eciesKey: randomPrivateKey(r), iv: r(16), padding });
    c.authPacket = auth.packet;
    const rec = this.record(c, 'out', auth.packet, 'auth', `auth (EIP-8, ${auth.packet.length} bytes) to ${toHex(c.remoteKey!.subarray(1, 9))}…`, now, 0, { layer: 'handshake', kind: 'auth', format: 'eip8', plaintext: auth.plaintext, rlpLength: auth.rlpLength! });
    rec.note = 'sent as soon as the TCP connection is up: the initiator speaks first';
    c.written += auth.packet.length;
    this.trace(c, rec.seq, { step: 'static-ecdh', title: 'static-shared-secret = ECDH(our static key, their static key), x coordinate', inputs: [hex('remote static public key', c.remoteKey!.subarray(1))], outputs: [hex('static-shared-secret', staticShared, true)], spec: SPEC.handshake });
    this.trace(c, rec.seq, { step: 'auth-sign', title: 'sig = sign(our ephemeral key, static-shared-secret ⊕ initiator-nonce)', inputs: [hex('initiator-nonce', c.nonce), hex('static-shared-secret ⊕ initiator-nonce', signed, true), hex('ephemeral public key', publicKey64(publicKeyOf(c.ephemeralKey, false)))], outputs: [hex('sig', auth.message.signature)], spec: SPEC.handshake });
    this.eciesTrace(c, rec.seq, 'encrypt', 'auth', auth.ecies, auth.packet.subarray(0, 2));
    this.emit({ type: 'message', conn: c.id, record: rec });
    return auth.packet;
  }

  private gotAuth(c: Connection, auth: HandshakePacket<Auth> & { ephemeralKeyHash?: Uint8Array }, offset: number, now: number): void {
    const v = verifyAuth(this.config.privateKey, auth.message, auth.ephemeralKeyHash);
    c.remoteKey = v.initiatorKey;
    c.handshake = `${toHex(keccak256(v.initiatorKey.subarray(1)))}:${c.id}`;
    c.authPacket = auth.packet;
    const rec = this.record(c, 'in', auth.packet, 'auth', `auth (${auth.format === 'eip8' ? `EIP-8 v${auth.message.version}` : 'pre-EIP-8'}, ${auth.packet.length} bytes) from ${toHex(auth.message.initiatorPublicKey.subarray(0, 8))}…`, now, offset, { layer: 'handshake', kind: 'auth', format: auth.format, plaintext: auth.plaintext, ...(auth.rlpLength !== undefined ? { rlpLength: auth.rlpLength } : {}) });
    rec.peerId = toHex(keccak256(auth.message.initiatorPublicKey));
    this.eciesTrace(c, rec.seq, 'decrypt', 'auth', auth.ecies, auth.format === 'eip8' ? auth.packet.subarray(0, 2) : new Uint8Array(0));
    this.trace(c, rec.seq, { step: 'static-ecdh', title: 'static-shared-secret = ECDH(our static key, initiator\'s static key), x coordinate', inputs: [hex('initiator-pubk', auth.message.initiatorPublicKey)], outputs: [hex('static-shared-secret', v.staticShared, true)], spec: SPEC.handshake });
    this.trace(c, rec.seq, { step: 'auth-recover', title: 'initiator\'s ephemeral key = recover(sig, static-shared-secret ⊕ initiator-nonce)', inputs: [hex('sig', auth.message.signature), hex('static-shared-secret ⊕ initiator-nonce', v.signed, true)], outputs: [hex('initiator ephemeral public key', v.remoteEphemeralKey)], ok: true, spec: SPEC.handshake });
    this.emit({ type: 'message', conn: c.id, record: rec });
    // The ack.
    const r = this.config.random;
    const ack = makeAck({ remoteStaticKey: v.initiatorKey, ephemeralKey: c.ephemeralKey, nonce: c.nonce, eciesKey: randomPrivateKey(r), iv: r(16), padding: r(paddingLength(r(1)[0])) });
    const out = this.record(c, 'out', ack.packet, 'ack', `ack (EIP-8, ${ack.packet.length} bytes)`, now, c.written, { layer: 'handshake', kind: 'ack', format: 'eip8', plaintext: ack.plaintext, rlpLength: ack.rlpLength! });
    c.written += ack.packet.length;
    this.transmit({ type: 'stream-write', conn: c.id, bytes: ack.packet });
    this.eciesTrace(c, out.seq, 'encrypt', 'ack', ack.ecies, ack.packet.subarray(0, 2));
    this.emit({ type: 'message', conn: c.id, record: out });
    const remoteEphemeral = publicKeyFrom64(v.remoteEphemeralKey)!;
    this.startFrames(c, deriveSecrets({ initiator: false, ephemeralPrivateKey: c.ephemeralKey, remoteEphemeralKey: remoteEphemeral, initiatorNonce: auth.message.initiatorNonce, recipientNonce: c.nonce, auth: auth.packet, ack: ack.packet }), auth.message.initiatorNonce, c.nonce, out.seq, now);
  }

  private gotAck(c: Connection, ack: HandshakePacket<Ack>, offset: number, now: number): void {
    const rec = this.record(c, 'in', ack.packet, 'ack', `ack (${ack.format === 'eip8' ? `EIP-8 v${ack.message.version}` : 'pre-EIP-8'}, ${ack.packet.length} bytes)`, now, offset, { layer: 'handshake', kind: 'ack', format: ack.format, plaintext: ack.plaintext, ...(ack.rlpLength !== undefined ? { rlpLength: ack.rlpLength } : {}) });
    this.eciesTrace(c, rec.seq, 'decrypt', 'ack', ack.ecies, ack.format === 'eip8' ? ack.packet.subarray(0, 2) : new Uint8Array(0));
    this.emit({ type: 'message', conn: c.id, record: rec });
    const remoteEphemeral = publicKeyFrom64(ack.message.recipientEphemeralKey)!;
    this.startFrames(c, deriveSecrets({ initiator: true, ephemeralPrivateKey: c.ephemeralKey, remoteEphemeralKey: remoteEphemeral, initiatorNonce: c.nonce, recipientNonce: ack.message.recipientNonce, auth: c.authPacket!, ack: ack.packet }), c.nonce, ack.message.recipientNonce, rec.seq, now);
  }

  private startFrames(c: Connection, s: Secrets, initiatorNonce: Uint8Array, recipientNonce: Uint8Array, seq: number, now: number): void {
    this.trace(c, seq, { step: 'ephemeral-ecdh', title: 'ephemeral-key = ECDH(our ephemeral key, their ephemeral key), x coordinate', inputs: [], outputs: [hex('ephemeral-key', s.ephemeralKey, true)], spec: SPEC.secrets });
    this.trace(c, seq, {
      step: 'secrets', title: 'shared-secret, aes-secret, mac-secret (keccak256 chain)',
      inputs: [hex('initiator-nonce', initiatorNonce), hex('recipient-nonce', recipientNonce)],
      outputs: [hex('shared-secret', s.sharedSecret, true, 'keccak256(ephemeral-key ‖ keccak256(recipient-nonce ‖ initiator-nonce))'), hex('aes-secret', s.aesSecret, true, 'keccak256(ephemeral-key ‖ shared-secret)'), hex('mac-secret', s.macSecret, true, 'keccak256(ephemeral-key ‖ aes-secret)')],
      spec: SPEC.secrets,
    });
    this.trace(c, seq, {
      step: 'mac-init', title: 'egress-mac and ingress-mac: keccak256 states seeded with (mac-secret ⊕ nonce) ‖ the handshake packet',
      inputs: [], outputs: [hex('egress-mac digest', s.egressMacDigest, true, `(mac-secret ⊕ ${c.direction === 'outbound' ? 'recipient' : 'initiator'}-nonce) ‖ ${c.direction === 'outbound' ? 'auth' : 'ack'} as sent`), hex('ingress-mac digest', s.ingressMacDigest, true, `(mac-secret ⊕ ${c.direction === 'outbound' ? 'initiator' : 'recipient'}-nonce) ‖ ${c.direction === 'outbound' ? 'ack' : 'auth'} as received`)],
      spec: SPEC.mac,
    });
    c.codec = new FrameCodec(s, true);
    c.phase = 'frames';
    this.sendMessage(c, P2P_IDS.hello, encodeHello({ protocolVersion: P2P_VERSION, clientId: this.config.clientId ?? 'handshake-lab/0.1.0', capabilities: this.config.capabilities ?? DEFAULT_CAPS, listenPort: this.config.listenPort ?? 0, nodeId: this.publicKey }), now, 'Hello');
    c.sentHello = true;
  }

  private eciesTrace(c: Connection, seq: number, way: 'encrypt' | 'decrypt', what: 'auth' | 'ack', k: EciesKeys, macData: Uint8Array): void {
    this.trace(c, seq, {
      step: `ecies-${way}`, title: `ECIES ${way === 'encrypt' ? 'encrypts' : 'decrypts'} the ${what}: S = ECDH(one-off key, static key) → concat-KDF → kE ‖ kM`,
      inputs: [hex('R (one-off public key)', k.ephemeralPublicKey), hex('iv', k.iv), ...(macData.length ? [hex('shared-mac-data (size prefix)', macData)] : [])],
      outputs: [hex('S (shared x)', k.shared, true), hex('kE (AES-128-CTR key)', k.encKey, true), hex('SHA256(kM) (HMAC key)', k.macKey, true), hex('d (HMAC-SHA256 tag)', k.tag)],
      ok: true, spec: SPEC.ecies,
    });
  }

  // ---------------------------------------------------------------- frames

  private sendMessage(c: Connection, id: number, payload: Uint8Array, now: number, kind: string, summary?: string): void {
    const frameData = encodeFrameData(id, payload, c.ctx.compressed);
    const traced = this.config.traceAllFrames || c.framesOut === 0;
    const w = c.codec!.write(frameData, true);
    c.framesOut++;
    const ctx = { compressed: c.ctx.compressed, caps: c.ctx.caps };
    const rec = this.record(c, 'out', w.bytes, kind, summary ?? kind, now, c.written, { layer: 'frame', headerPlain: w.crypto!.headerPlain, framePlain: w.crypto!.framePlain, ctx });
    c.written += w.bytes.length;
    this.transmit({ type: 'stream-write', conn: c.id, bytes: w.bytes });
    if (traced) this.frameTrace(c, rec.seq, 'egress', w.crypto!, w.bytes);
    this.emit({ type: 'message', conn: c.id, record: rec });
  }

  private frameTrace(c: Connection, seq: number, way: 'egress' | 'ingress', k: FrameCrypto, wire: Uint8Array): void {
    this.trace(c, seq, {
      step: 'frame-mac', title: `${way} frame: AES-256-CTR (one running keystream) and the keccak MAC (digest ⊕ AES-256-ECB(mac-secret, digest))`,
      inputs: [...(k.macBefore ? [hex(`${way}-mac digest before`, k.macBefore, true)] : []), hex('header (plaintext)', k.headerPlain)],
      outputs: [hex('header-ciphertext', wire.subarray(0, 16)), hex('header-mac', k.headerMac), hex('frame-mac', k.frameMac)],
      ok: true, spec: SPEC.mac,
    });
  }

  private gotFrame(c: Connection, raw: Uint8Array, frameData: Uint8Array, crypto: FrameCrypto, offset: number, now: number): void {
    const ctx = { compressed: c.ctx.compressed, caps: c.ctx.caps };
    const traced = this.config.traceAllFrames || c.framesIn === 0;
    c.framesIn++;
    const m = decodeFrameData(frameData, ctx);
    const detail: RlpxDetail = { layer: 'frame', headerPlain: crypto.headerPlain, framePlain: crypto.framePlain, ctx };
    if (!m.ok) {
      const rec = this.record(c, 'in', raw, 'frame', `refused: ${m.error.reason}`, now, offset, detail, m.error.reason);
      if (traced) this.frameTrace(c, rec.seq, 'ingress', crypto, raw);
      this.emit({ type: 'message', conn: c.id, record: rec });
      // A message we cannot read: a breach of protocol.
      this.disconnect(c, 0x02, now);
      this.finish(c, 'FAILED', m.error.reason, now);
      return;
    }
    const msg = m.value;
    const rec = this.record(c, 'in', raw, msg.name, summarizeMessage(msg), now, offset, detail);
    if (traced) this.frameTrace(c, rec.seq, 'ingress', crypto, raw);
    this.emit({ type: 'message', conn: c.id, record: rec, message: msg });
    this.receive(c, msg, rec, now);
  }

  private receive(c: Connection, m: FrameMessage, rec: RlpxRecord, now: number): void {
    const d = m.decoded;
    if ('hello' in d) {
      if (c.peerState.hello) {
        rec.note = 'a second Hello: ignored';
        return;
      }
      const key = c.remoteKey!.subarray(1);
      if (toHex(d.hello.nodeId) !== toHex(key)) {
        this.disconnect(c, 0x09, now);
        return this.finish(c, 'FAILED', 'the Hello names a node key other than the one the handshake proved', now);
      }
      c.peerState.hello = d.hello;
      c.ctx.compressed = d.hello.protocolVersion >= 5 && P2P_VERSION >= 5;
      c.ctx.caps = negotiate(this.config.capabilities ?? DEFAULT_CAPS, d.hello.capabilities, (x) => (x.name === 'eth' ? ethMessageCount(x.version) : undefined));
      c.peerState.shared = c.ctx.caps;
      const eth = c.ctx.caps.find((x) => x.name === 'eth');
      c.ethVersion = eth?.version;
      rec.note = `shared: ${c.ctx.caps.map((x) => `${x.name}/${x.version} ids 0x${x.offset.toString(16)}–0x${(x.offset + x.length - 1).toString(16)}`).join(', ') || 'none'}; snappy ${c.ctx.compressed ? 'on' : 'off'} from now on`;
      if (c.goal === 'ping') {
        this.sendMessage(c, P2P_IDS.ping, EMPTY_LIST, now, 'Ping');
        c.pingSent = true;
        return;
      }
      if (!eth) {
        this.disconnect(c, 0x03, now);
        return this.finish(c, 'FAILED', `no shared eth version (it offers ${d.hello.capabilities.map((x) => `${x.name}/${x.version}`).join(', ') || 'nothing'})`, now);
      }
      this.sendStatus(c, now);
      return;
    }
    if ('reason' in d) {
      c.peerState.disconnect = d.reason;
      rec.note = `the peer disconnects: ${disconnectReasonText(d.reason)}`;
      this.finish(c, 'FAILED', `Disconnect ${disconnectReasonText(d.reason)}`, now);
      this.close(c, 'the peer sent Disconnect');
      return;
    }
    if (m.name === 'Ping' && m.capability === 'p2p') {
      this.sendMessage(c, P2P_IDS.pong, EMPTY_LIST, now, 'Pong');
      return;
    }
    if (m.name === 'Pong' && m.capability === 'p2p') {
      if (c.goal === 'ping' && c.pingSent && !c.outcome) this.finish(c, 'SUCCESS', undefined, now);
      return;
    }
    if ('status' in d) {
      if (c.peerState.status) {
        rec.note = 'a second Status: ignored';
        return;
      }
      c.peerState.status = d.status;
      const s = d.status;
      if (s.networkId !== this.chain.networkId) return this.badStatus(c, rec, `network ${s.networkId}, ours is ${this.chain.networkId} (${this.chain.name})`, now);
      if (toHex(s.genesis) !== this.chain.genesisHash) return this.badStatus(c, rec, `genesis 0x${toHex(s.genesis)} is not ${this.chain.name}'s`, now);
      const verdict = validateForkId(this.chain, this.config.head ?? { number: 0, time: 0 }, s.forkId);
      c.peerState.verdict = verdict;
      rec.note = verdict.words;
      if (!verdict.accept) return this.badStatus(c, rec, `fork id refused — ${verdict.words}`, now);
      if (c.goal === 'status' && !c.sentStatus) this.sendStatus(c, now);
      if (c.goal === 'status' && c.sentStatus && !c.outcome) this.finish(c, 'SUCCESS', undefined, now);
      return;
    }
    rec.note = c.outcome ? 'after the handshake' : `${m.name}: not part of the handshake, listed`;
  }

  private badStatus(c: Connection, rec: RlpxRecord, why: string, now: number): void {
    rec.note = why;
    this.disconnect(c, 0x10, now);
    this.finish(c, 'FAILED', why, now);
  }

  private sendStatus(c: Connection, now: number): void {
    if (c.sentStatus || !c.ethVersion) return;
    const eth = c.ctx.caps.find((x) => x.name === 'eth')!;
    const status = genesisStatus(this.chain, c.ethVersion, this.config.head);
    this.sendMessage(c, eth.offset, encodeStatus(status), now, 'Status', summarizeStatus(status));
    c.sentStatus = true;
    if (c.peerState.status && c.peerState.verdict?.accept && !c.outcome) this.finish(c, 'SUCCESS', undefined, now);
  }

  private disconnect(c: Connection, reason: number, now: number): void {
    if (!c.codec || !this.conns.has(c.id)) return;
    this.sendMessage(c, P2P_IDS.disconnect, encodeDisconnect(reason), now, 'Disconnect', `Disconnect ${disconnectReasonText(reason)}`);
  }

  // ---------------------------------------------------------------- endings

  /** Refused bytes: recorded, then the connection ends (the session state is left as it was). */
  private refuse(c: Connection, raw: Uint8Array, kind: string, reason: string, now: number, offset: number): void {
    const rec = this.record(c, 'in', raw, kind, `refused: ${reason}`, now, offset, undefined, reason);
    this.emit({ type: 'message', conn: c.id, record: rec });
    this.finish(c, 'FAILED', reason, now);
    this.close(c, reason);
  }

  private finish(c: Connection, outcome: Outcome, reason: string | undefined, now: number): void {
    if (c.outcome) return;
    c.outcome = outcome;
    c.deadline = undefined;
    this.emit({
      type: 'outcome', conn: c.id, peer: c.peer, direction: c.direction, goal: c.goal, outcome, elapsedMs: now - c.startedAt,
      ...(reason ? { reason } : {}), ...c.peerState, ...(c.remoteKey ? { peerKey: toHex(c.remoteKey.subarray(1)) } : {}),
      ...(c.lastSeq !== undefined ? { afterSeq: c.lastSeq } : {}),
    });
    if (outcome !== 'SUCCESS') {
      this.close(c);
      return;
    }
    if (this.config.afterHandshake !== 'stay') {
      // A polite goodbye: "client quitting".
      this.disconnect(c, 0x08, now);
      this.close(c);
    } else if (this.config.lingerMs !== undefined) c.deadline = now + this.config.lingerMs;
  }

  private ended(id: ConnectionId, why: string, now: number, reason: StreamEndReason = 'closed', closeOurSide = false): void {
    const c = this.conns.get(id);
    if (!c) return;
    if (!c.outcome) this.finish(c, 'FAILED', `${why}${c.phase === 'frames' ? (c.peerState.hello ? ' after its Hello' : ' after the handshake, before Hello') : ''}`, now);
    if (!this.conns.delete(id)) return;
    if (closeOurSide) this.transmit({ type: 'stream-close', conn: id });
    this.emit({ type: 'closed', conn: id, reason });
  }

  private close(c: Connection, detail?: string): void {
    if (!this.conns.delete(c.id)) return;
    if (c.open || c.direction === 'outbound') this.transmit({ type: 'stream-close', conn: c.id });
    this.emit({ type: 'closed', conn: c.id, reason: 'by-us', ...(detail ? { detail } : {}) });
  }

  // ---------------------------------------------------------------- output

  private record(c: Connection, direction: 'in' | 'out', raw: Uint8Array, kind: string, summary: string, at: number, streamOffset: number, rlpx?: RlpxDetail, rejected?: string): RlpxRecord {
    const seq = this.nextSeq();
    c.lastSeq = seq;
    const r: RlpxRecord = { seq, protocol: PROTOCOL, direction, at, peer: c.peer, conn: c.id, streamOffset, raw, kind, summary, ...(c.remoteKey ? { peerId: toHex(keccak256(c.remoteKey.subarray(1))) } : {}), ...(rlpx ? { rlpx } : {}), ...(rejected ? { rejected } : {}) };
    this.out.records.push(r);
    return r;
  }

  private trace(c: Connection, packet: number, t: Omit<TraceRecord, 'handshake' | 'packet' | 'peer'>): void {
    this.out.trace.push({ ...t, handshake: c.handshake, packet, ...(c.remoteKey ? { peer: toHex(keccak256(c.remoteKey.subarray(1))) } : {}) });
  }

  private transmit(t: Transmit): void {
    this.out.transmits.push(t);
  }

  private emit(e: RlpxEvent): void {
    this.out.events.push(e);
  }

  private flush(): EngineOutput<RlpxEvent> {
    const o = this.out;
    this.out = emptyOutput<RlpxEvent>();
    return o;
  }
}


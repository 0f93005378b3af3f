// The discv5 session engine (discv5-theory.md "Sessions"), sans-IO: datagrams, the time and
// commands go in; datagrams to send, events and crypto trace records come out. No sockets,
// clocks or timers: the caller feeds `now` and calls tick() at nextDeadline().
import { equalBytes, shortHex, toHex } from '../bytes.ts';
import { logDistance } from '../kademlia/distance.ts';
import { aesGcmKey, aesGcmSeal, type AesGcmKey } from '../crypto/aes.ts';
import { ecdhCompressed, isValidPublicKey, publicKeyOf, randomPrivateKey } from '../crypto/secp256k1.ts';
import { decodeEnr, udpEndpoint, type Enr } from '../enr/index.ts';
import { Lru } from '../lru.ts';
import { secureRandom, type RandomSource } from '../random.ts';
import { DISCV5_STEPS, type Tracer, type TraceRecord } from '../trace.ts';
import { endpointKey, type Endpoint } from '../transport.ts';
import { deriveKeys, ecdh, signId, verifyId, type SessionKeys } from './handshake-crypto.ts';
import { decodeMessage, encodeMessage, isRequest, randomRequestId, nodesMessageSize, RESPONSE_TO, summarizeMessage, type Message } from './messages.ts';
import { decodePacket, encodeAuthdata, encodeHeader, encodePacket, messageAd, type Authdata, type Packet } from './packet.ts';
import {
  FLAG_HANDSHAKE, FLAG_MESSAGE, FLAG_WHOAREYOU, ID_NONCE_SIZE, MASKING_IV_SIZE, MAX_PACKET_SIZE, NONCE_SIZE, SPEC,
  STATIC_HEADER_SIZE, TAG_SIZE, type Flag,
} from './spec.ts';

/** Whom to talk to: a node id, the key to handshake with, and where it listens. */
export interface NodeContact {
  nodeId: Uint8Array;
  /** Compressed secp256k1 public key (33 bytes). */
  publicKey: Uint8Array;
  endpoint: Endpoint;
  enr?: Enr;
}

export function contactFromEnr(enr: Enr): NodeContact | undefined {
  const endpoint = udpEndpoint(enr);
  return endpoint && { nodeId: enr.nodeId, publicKey: enr.publicKey, endpoint, enr };
}

export interface EngineConfig {
  privateKey: Uint8Array;
  /** Our signed record; replace it with setLocalEnr() when it changes. */
  enr: Enr;
  random?: RandomSource;
  /** Wait for each answer before a retransmit (ms). A cold handshake over a bridge takes two round trips. */
  requestTimeoutMs?: number;
  /** Retransmits of the same packet before a request times out. */
  retries?: number;
  /** How long a sent WHOAREYOU waits for its handshake (ms). */
  challengeTtlMs?: number;
  sessionCacheSize?: number;
  /** Records we keep to verify handshakes and answer WHOAREYOU with the right enr-seq. */
  recordCacheSize?: number;
  /** NODES responses to one FINDNODE we accept at most (`total` above this is refused). */
  maxNodesPackets?: number;
  /** Records at the asked distances (d > 0) for a FINDNODE; the engine adds its own for d = 0. */
  nodesAtDistances?: (distances: number[]) => Enr[];
  /** Answer for a TALKREQ; undefined (unknown protocol) answers with an empty TALKRESP. */
  talkHandler?: (protocol: Uint8Array, request: Uint8Array, from: NodeContactLite) => Uint8Array | undefined;
  /** Numbers packets (PacketRecord.seq). Engines that share one timeline share one counter. */
  packetSeq?: () => number;
}

export interface NodeContactLite {
  nodeId: Uint8Array;
  endpoint: Endpoint;
}

export type Command =
  | { type: 'ping'; to: NodeContact; requestId?: Uint8Array }
  | { type: 'findnode'; to: NodeContact; distances: number[]; requestId?: Uint8Array }
  | { type: 'talkreq'; to: NodeContact; protocol: Uint8Array; request: Uint8Array; requestId?: Uint8Array }
  /** FINDNODE [0]: the peer's current record (the response carries it, verified). */
  | { type: 'request-enr'; to: NodeContact; requestId?: Uint8Array }
  | { type: 'drop-session'; nodeId: Uint8Array; endpoint?: Endpoint }
  /** The transport cannot reach this endpoint (e.g. a bridge refused it): its requests fail now, with the reason. */
  | { type: 'unreachable'; endpoint: Endpoint; reason: string };

export type PacketKind = 'random' | 'ordinary' | 'WHOAREYOU' | 'handshake';

/** One datagram in or out, with what is needed to dissect it later (keys stay in the trace). */
export interface PacketRecord {
  /** Sequence number of the packet in this engine, for linking trace records and UI selection. */
  seq: number;
  direction: 'out' | 'in';
  at: number;
  peer: Endpoint;
  peerId?: string;
  raw: Uint8Array;
  kind?: PacketKind;
  packet?: Packet;
  /** Decrypted message-pt (outgoing: what we encrypted). */
  plaintext?: Uint8Array;
  message?: Message;
  /** The AES-GCM key of the message part: shown in the key-schedule panel. */
  messageKey?: Uint8Array;
  retransmit?: boolean;
  /** Why an incoming packet was refused; nothing else changed state. */
  rejected?: string;
  /** What happened, in plain words (for logs and the timeline). */
  note?: string;
}

export type EngineEvent =
  | { type: 'packet'; packet: PacketRecord }
  | { type: 'session-established'; nodeId: Uint8Array; endpoint: Endpoint; direction: 'outgoing' | 'incoming' }
  | { type: 'response'; requestId: string; request: Message; response: Message; to: NodeContact; rttMs: number; records?: Enr[]; rejectedRecords?: string[]; partial?: boolean }
  | { type: 'request'; message: Message; from: NodeContactLite; enr?: Enr }
  | { type: 'failure'; requestId: string; request: Message; to: NodeContact; reason: string }
  | { type: 'timeout'; requestId: string; request: Message; to: NodeContact; attempts: number }
  | { type: 'record-learned'; enr: Enr };

export interface Output {
  send: { to: Endpoint; bytes: Uint8Array }[];
  events: EngineEvent[];
  trace: TraceRecord[];
}

interface Session {
  nodeId: Uint8Array;
  endpoint: Endpoint;
  keys: SessionKeys;
  writeKey: Uint8Array;
  readKey: Uint8Array;
  /** The two keys with their AES schedules and GHASH tables, made once per session. */
  write: AesGcmKey;
  read: AesGcmKey;
  role: 'initiator' | 'recipient';
  /** Initiator sessions are confirmed by the first message the peer encrypts with them (step 5). */
  confirmed: boolean;
  publicKey: Uint8Array;
  /**
   * The read key of our unanswered handshake this session replaced. When two nodes start
   * handshakes with each other at once, each ends with the session of the other's handshake,
   * while answers sealed a moment before under its own are still on the way: read with this key.
   */
  previous?: { read: AesGcmKey; readKey: Uint8Array };
}

type RequestState = 'queued' | 'random-sent' | 'handshake-sent' | 'sent';

interface PendingRequest {
  id: string;
  message: Message;
  to: NodeContact;
  state: RequestState;
  nonce?: string;
  packet?: Uint8Array;
  packetSeq?: number;
  firstSentAt?: number;
  createdAt: number;
  deadline: number;
  attempts: number;
  handshakes: number;
  nodes?: { records: Enr[]; rejected: string[]; received: number; total: number };
  /** Made by prepareHandshakes() while the WHOAREYOU is on its way; used once, by the next handshake. */
  prepared?: { ephemeralKey: Uint8Array; ephPubkey: Uint8Array; secret: Uint8Array };
}

interface Challenge {
  /** Our WHOAREYOU's packet seq: names the handshake it starts (trace records' `handshake`). */
  seq: number;
  endpoint: Endpoint;
  srcId: Uint8Array;
  requestNonce: Uint8Array;
  challengeData: Uint8Array;
  packet: Uint8Array;
  sentAt: number;
  expires: number;
}

const DEFAULTS = {
  requestTimeoutMs: 2000,
  retries: 2,
  challengeTtlMs: 8000,
  sessionCacheSize: 1000,
  recordCacheSize: 4000,
  maxNodesPackets: 16,
};
/**
 * A packet with another nonce gets the pending challenge repeated only this soon after it was sent
 * (go-ethereum's handshake timeout): a node that lost the first packet's request, or a challenge a
 * spoofed packet provoked, then gets a fresh one instead of being stuck until the challenge expires.
 */
const CHALLENGE_REPEAT_MS = 1000;
/** FINDNODE answers carry at most this many records (discv5-wire.md FINDNODE). */
export const FINDNODE_RESULT_LIMIT = 16;
const RANDOM_MESSAGE_SIZE = 44;
/** Bytes of a NODES packet that are not message-pt: masking-iv, static header, authdata, GCM tag. */
const ORDINARY_OVERHEAD = MASKING_IV_SIZE + STATIC_HEADER_SIZE + 32 + TAG_SIZE;

/**
 * What ties a handshake's trace records together: the peer, the packet the step belongs to, and
 * the handshake's id, named by its WHOAREYOU (the one we got as initiator, sent as recipient).
 */
const handshakeContext = (peerId: Uint8Array, whoareyouSeq: number, packet: number) => {
  const peer = toHex(peerId);
  return { peer, packet, handshake: `${peer}:${whoareyouSeq}` };
};

const sessionKey = (nodeId: Uint8Array, endpoint: Endpoint) => `${toHex(nodeId)}@${endpointKey(endpoint)}`;

/**
 * Step 1 without keys: an ordinary message packet whose message is sealed with a throw-away key —
 * random content to the recipient, which answers WHOAREYOU (its nonce names this packet).
 */
export function sealWithRandomKey(srcId: Uint8Array, destId: Uint8Array, message: Message, random: RandomSource): { bytes: Uint8Array; nonce: Uint8Array; plaintext: Uint8Array; key: Uint8Array } {
  const nonce = random(NONCE_SIZE);
  const maskingIv = random(MASKING_IV_SIZE);
  const key = random(16);
  const header = encodeHeader(FLAG_MESSAGE, nonce, encodeAuthdata({ flag: FLAG_MESSAGE, srcId }));
  const plaintext = encodeMessage(message);
  const sealed = aesGcmSeal(key, nonce, plaintext, messageAd(maskingIv, header));
  return { bytes: encodePacket(destId, maskingIv, header, sealed), nonce, plaintext, key };
}

export class Discv5Engine {
  readonly localId: Uint8Array;
  private localEnr: Enr;
  private readonly privateKey: Uint8Array;
  private readonly random: RandomSource;
  private readonly cfg: typeof DEFAULTS;
  private readonly sessions: Lru<string, Session>;
  private readonly records: Lru<string, Enr>;
  /** Records already decoded and verified, by their exact bytes: lookups hear the same ones again and again. */
  private readonly verified: Lru<string, Enr>;
  private readonly challenges: Lru<string, Challenge>;
  private readonly requests = new Map<string, PendingRequest>();
  private readonly requestsByNonce = new Map<string, PendingRequest>();
  private readonly nextSeq: () => number;
  /** The time of the call being handled (every entry point sets it). */
  private now = 0;
  private out: Output = { send: [], events: [], trace: [] };
  private readonly tracer: Tracer = (r) => this.out.trace.push(r);
  nodesAtDistances: (distances: number[]) => Enr[];
  talkHandler: EngineConfig['talkHandler'];

  constructor(config: EngineConfig) {
    this.privateKey = config.privateKey;
    this.localEnr = config.enr;
    this.localId = config.enr.nodeId;
    if (!equalBytes(publicKeyOf(config.privateKey), config.enr.publicKey)) throw new Error('the ENR was not made with this private key');
    this.random = config.random ?? secureRandom;
    this.cfg = {
      requestTimeoutMs: config.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      retries: config.retries ?? DEFAULTS.retries,
      challengeTtlMs: config.challengeTtlMs ?? DEFAULTS.challengeTtlMs,
      sessionCacheSize: config.sessionCacheSize ?? DEFAULTS.sessionCacheSize,
      recordCacheSize: config.recordCacheSize ?? DEFAULTS.recordCacheSize,
      maxNodesPackets: config.maxNodesPackets ?? DEFAULTS.maxNodesPackets,
    };
    this.sessions = new Lru(this.cfg.sessionCacheSize);
    this.records = new Lru(this.cfg.recordCacheSize);
    this.verified = new Lru(this.cfg.recordCacheSize);
    // One outstanding WHOAREYOU per source address; the cache bounds spoofed-source floods.
    this.challenges = new Lru(this.cfg.sessionCacheSize);
    this.nodesAtDistances = config.nodesAtDistances ?? (() => []);
    this.talkHandler = config.talkHandler;
    let seq = 0;
    this.nextSeq = config.packetSeq ?? (() => ++seq);
  }

  get enr(): Enr {
    return this.localEnr;
  }

  /** A new local record (new address, higher seq): sent in handshakes whose WHOAREYOU asks for it. */
  setLocalEnr(enr: Enr): void {
    if (!equalBytes(enr.nodeId, this.localId)) throw new Error('the new ENR has another node id');
    this.localEnr = enr;
  }

  /** Remember a record (e.g. from the routing table) so handshakes from that node can be verified. */
  addRecord(enr: Enr): void {
    const key = toHex(enr.nodeId);
    const known = this.records.peek(key);
    if (!known || known.seq <= enr.seq) this.records.set(key, enr);
  }

  knownRecord(nodeId: Uint8Array): Enr | undefined {
    return this.records.peek(toHex(nodeId));
  }

  hasSession(nodeId: Uint8Array, endpoint: Endpoint): boolean {
    return this.sessions.peek(sessionKey(nodeId, endpoint))?.confirmed ?? false;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  get pendingRequests(): number {
    return this.requests.size;
  }

  /** The earliest time tick() has work to do, if any. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const r of this.requests.values()) if (next === undefined || r.deadline < next) next = r.deadline;
    for (const c of this.challenges.values()) if (next === undefined || c.expires < next) next = c.expires;
    return next;
  }

  // ---------------------------------------------------------------- commands

  command(cmd: Command, now: number): Output {
    this.now = now;
    switch (cmd.type) {
      case 'ping':
        this.startRequest({ type: 'PING', requestId: cmd.requestId ?? this.newRequestId(), enrSeq: this.localEnr.seq }, cmd.to, now);
        break;
      case 'findnode':
        this.startRequest({ type: 'FINDNODE', requestId: cmd.requestId ?? this.newRequestId(), distances: cmd.distances }, cmd.to, now);
        break;
      case 'request-enr':
        this.startRequest({ type: 'FINDNODE', requestId: cmd.requestId ?? this.newRequestId(), distances: [0] }, cmd.to, now);
        break;
      case 'talkreq':
        this.startRequest({ type: 'TALKREQ', requestId: cmd.requestId ?? this.newRequestId(), protocol: cmd.protocol, request: cmd.request }, cmd.to, now);
        break;
      case 'drop-session':
        for (const [key, s] of [...this.sessions.entries()])
          if (equalBytes(s.nodeId, cmd.nodeId) && (!cmd.endpoint || endpointKey(cmd.endpoint) === endpointKey(s.endpoint))) this.sessions.delete(key);
        break;
      case 'unreachable': {
        // All of them, queued ones too: none is released to be sent to where nothing can go.
        const key = endpointKey(cmd.endpoint);
        for (const req of [...this.requests.values()]) if (endpointKey(req.to.endpoint) === key) this.fail(req, cmd.reason, now, false);
        break;
      }
    }
    return this.flush();
  }

  /** A request-id from the injected randomness: never a leading zero (it travels as an RLP string), none pending has it. */
  newRequestId(): Uint8Array {
    return randomRequestId(this.random, (id) => this.requests.has(id));
  }

  private startRequest(message: Message, to: NodeContact, now: number): void {
    const id = toHex(message.requestId);
    const req: PendingRequest = { id, message, to, state: 'queued', createdAt: now, deadline: now + this.overallBudget(), attempts: 0, handshakes: 0 };
    if (this.requests.has(id)) {
      this.emit({ type: 'failure', requestId: id, request: message, to, reason: 'a request with this request-id is already pending' });
      return;
    }
    if (to.enr) this.addRecord(to.enr);
    this.requests.set(id, req);
    this.dispatch(req, now);
  }

  /** A request waiting behind a handshake gets the whole retry budget, so it cannot hang. */
  private overallBudget(): number {
    return this.cfg.requestTimeoutMs * (this.cfg.retries + 1) * 2;
  }

  /** Sends a request in the session if there is a usable one, else starts or waits for a handshake. */
  private dispatch(req: PendingRequest, now: number): void {
    const key = sessionKey(req.to.nodeId, req.to.endpoint);
    const session = this.sessions.get(key);
    if (session?.confirmed) return this.sendInSession(req, session, now);
    if (this.handshakeInProgress(key, req)) {
      req.state = 'queued';
      return;
    }
    this.sendRandom(req, now);
  }

  private handshakeInProgress(key: string, except: PendingRequest): boolean {
    for (const r of this.requests.values())
      if (r !== except && (r.state === 'random-sent' || r.state === 'handshake-sent') && sessionKey(r.to.nodeId, r.to.endpoint) === key) return true;
    return false;
  }

  /**
   * Step 1 without keys: an ordinary message packet whose message is the request sealed
   * with a random key — random content to the recipient, which answers WHOAREYOU.
   */
  private sendRandom(req: PendingRequest, now: number): void {
    const { bytes, nonce, plaintext, key: randomKey } = sealWithRandomKey(this.localId, req.to.nodeId, req.message, this.random);
    this.track(req, nonce, bytes, 'random-sent', now);
    this.sendPacket(req.to, bytes, { kind: 'random', plaintext, message: req.message, messageKey: randomKey, note: `no session with this node yet: the ${req.message.type} goes sealed with a throw-away key, so the peer will answer WHOAREYOU` }, req);
  }

  private sendInSession(req: PendingRequest, session: Session, now: number): void {
    const { bytes, nonce, plaintext } = this.sealOrdinary(session, req.message);
    this.track(req, nonce, bytes, 'sent', now);
    this.sendPacket(req.to, bytes, { kind: 'ordinary', plaintext, message: req.message, messageKey: session.writeKey }, req);
  }

  private track(req: PendingRequest, nonce: Uint8Array, bytes: Uint8Array, state: RequestState, now: number): void {
    if (req.nonce) this.requestsByNonce.delete(req.nonce);
    req.nonce = toHex(nonce);
    this.requestsByNonce.set(req.nonce, req);
    req.packet = bytes;
    req.state = state;
    req.firstSentAt ??= now;
    req.attempts = 1;
    req.deadline = now + this.cfg.requestTimeoutMs;
  }

  private sealOrdinary(session: Session, message: Message): { bytes: Uint8Array; nonce: Uint8Array; plaintext: Uint8Array } {
    // Nonces are 96 random bits: unique with overwhelming probability, and replayable from the injected source.
    const nonce = this.random(NONCE_SIZE);
    const maskingIv = this.random(MASKING_IV_SIZE);
    const header = encodeHeader(FLAG_MESSAGE, nonce, encodeAuthdata({ flag: FLAG_MESSAGE, srcId: this.localId }));
    const plaintext = encodeMessage(message);
    const sealed = session.write.seal(nonce, plaintext, messageAd(maskingIv, header));
    return { bytes: encodePacket(session.nodeId, maskingIv, header, sealed), nonce, plaintext };
  }

  /**
   * Optional work ahead of time: the ephemeral key and its ECDH with the peer's static key do not
   * depend on the challenge, so a driver can make them while a random packet is in flight and take
   * the slowest step (a variable-base point multiplication) off the handshake's critical path.
   * Each prepared key serves one handshake only. Without this call they are made on arrival.
   */
  prepareHandshakes(): void {
    for (const r of this.requests.values()) {
      if (r.state !== 'random-sent' || r.prepared || r.handshakes > 0) continue;
      try {
        const ephemeralKey = randomPrivateKey(this.random);
        r.prepared = { ephemeralKey, ephPubkey: publicKeyOf(ephemeralKey), secret: ecdhCompressed(ephemeralKey, r.to.publicKey) };
      } catch {
        // An unusable key: the handshake reports it when the WHOAREYOU comes.
      }
    }
  }

  // ---------------------------------------------------------------- time

  tick(now: number): Output {
    this.now = now;
    for (const [key, c] of [...this.challenges.entries()]) if (c.expires <= now) this.challenges.delete(key);
    for (const req of [...this.requests.values()]) {
      if (req.deadline > now) continue;
      if (req.nodes && req.nodes.received > 0) {
        this.finishNodes(req, now, true);
      } else if (req.state !== 'queued' && req.packet && req.attempts <= this.cfg.retries) {
        // Retransmit the same bytes: the same nonce makes the peer re-send the same WHOAREYOU.
        req.attempts++;
        req.deadline = now + this.cfg.requestTimeoutMs;
        this.sendPacket(req.to, req.packet, { kind: req.state === 'random-sent' ? 'random' : req.state === 'handshake-sent' ? 'handshake' : 'ordinary', message: req.message, retransmit: true, note: `no answer within ${this.cfg.requestTimeoutMs} ms: retransmit ${req.attempts - 1} of ${this.cfg.retries}` }, req);
      } else {
        this.finish(req);
        this.emit({ type: 'timeout', requestId: req.id, request: req.message, to: req.to, attempts: req.attempts });
        if (req.state === 'random-sent' || req.state === 'handshake-sent') this.releaseQueued(req.to, now);
      }
    }
    return this.flush();
  }

  // ---------------------------------------------------------------- input

  /** One datagram from the network. Bad input is reported as a rejected packet and changes nothing. */
  receive(bytes: Uint8Array, from: Endpoint, now: number): Output {
    this.now = now;
    const record: PacketRecord = { seq: this.nextSeq(), direction: 'in', at: now, peer: from, raw: bytes };
    // Emitted first, filled in while handling: the packet precedes what it causes.
    this.emit({ type: 'packet', packet: record });
    try {
      this.handleDatagram(record, from, now);
    } catch (e) {
      // A bug must not take the node down: report it like a bad packet.
      record.rejected = `internal error: ${e instanceof Error ? e.message : String(e)}`;
    }
    return this.flush();
  }

  private handleDatagram(rec: PacketRecord, from: Endpoint, now: number): void {
    const decoded = decodePacket(this.localId, rec.raw);
    if (!decoded.ok) {
      rec.rejected = decoded.error.reason;
      return;
    }
    const p = decoded.value;
    rec.packet = p;
    switch (p.authdata.flag) {
      case FLAG_WHOAREYOU:
        rec.kind = 'WHOAREYOU';
        return this.onWhoareyou(rec, p, p.authdata, from, now);
      case FLAG_MESSAGE:
        rec.kind = 'ordinary';
        rec.peerId = toHex(p.authdata.srcId);
        return this.onOrdinary(rec, p, p.authdata.srcId, from, now);
      case FLAG_HANDSHAKE:
        rec.kind = 'handshake';
        rec.peerId = toHex(p.authdata.srcId);
        return this.onHandshake(rec, p, p.authdata, from, now);
    }
  }

  /** Step 3: the peer challenged a request of ours; re-send it as a handshake packet. */
  private onWhoareyou(rec: PacketRecord, p: Packet, a: Extract<Authdata, { flag: 1 }>, from: Endpoint, now: number): void {
    const req = this.requestsByNonce.get(toHex(p.nonce));
    if (!req) {
      rec.rejected = 'WHOAREYOU answers no pending request of ours (its nonce matches none); responses never start a handshake';
      return;
    }
    rec.peerId = toHex(req.to.nodeId);
    if (endpointKey(req.to.endpoint) !== endpointKey(from)) {
      rec.rejected = `WHOAREYOU came from ${endpointKey(from)}, the request went to ${endpointKey(req.to.endpoint)}`;
      return;
    }
    if (req.state === 'handshake-sent' || req.handshakes >= 2) {
      rec.rejected = 'a second WHOAREYOU for a handshake packet: the peer refused our handshake';
      this.fail(req, 'the peer answered our handshake with another WHOAREYOU (it could not verify it)', now);
      return;
    }
    const ctx = handshakeContext(req.to.nodeId, rec.seq, rec.seq);
    this.trace({ step: DISCV5_STEPS.unmask, title: 'WHOAREYOU unmasked with our own node id: its header becomes the challenge-data', inputs: [{ name: 'masking-key (our node-id[:16])', hex: toHex(this.localId.subarray(0, 16)) }, { name: 'masking-iv', hex: toHex(p.maskingIv) }], outputs: [{ name: 'challenge-data', hex: toHex(messageAd(p.maskingIv, p.header)), note: 'masking-iv ‖ static-header ‖ authdata' }, { name: 'id-nonce', hex: toHex(a.idNonce) }, { name: 'enr-seq', hex: a.enrSeq.toString(), note: 'the seq of our record the peer knows (0: none)' }], spec: SPEC.step3, ...ctx });
    rec.note = `challenge for our ${req.message.type}: prove who we are (id-nonce), peer knows our record at seq ${a.enrSeq}${a.enrSeq > this.localEnr.seq ? ` — more than our own seq ${this.localEnr.seq}, which cannot be: some peers (@chainsafe/discv5 11) write enr-seq left-aligned, so 1 arrives as 2^56` : ''}`;

    const challengeData = messageAd(p.maskingIv, p.header);
    const prepared = req.prepared;
    req.prepared = undefined;
    const ephemeralKey = prepared?.ephemeralKey ?? randomPrivateKey(this.random);
    const ephPubkey = prepared?.ephPubkey ?? publicKeyOf(ephemeralKey);
    this.trace({ step: DISCV5_STEPS.ephemeralKey, title: 'A fresh ephemeral key pair for this handshake only', inputs: [], outputs: [{ name: 'ephemeral-key', hex: toHex(ephemeralKey), secret: true }, { name: 'ephemeral-pubkey', hex: toHex(ephPubkey) }], spec: SPEC.step3, ...ctx });
    const secret = ecdh(ephemeralKey, req.to.publicKey, 'initiator', this.tracer, ctx, prepared?.secret);
    const keys = deriveKeys(secret, challengeData, this.localId, req.to.nodeId, this.tracer, ctx);
    const idSignature = signId(this.privateKey, challengeData, ephPubkey, req.to.nodeId, this.tracer, ctx);
    // The spec sends the record when the peer's enr-seq is older. A seq above ours cannot be right
    // (only we sign our record): some peers write enr-seq left-aligned (@chainsafe/discv5 11 sends
    // seq 1 as 2^56), so any mismatch gets the record, which costs nothing but bytes.
    const includeRecord = a.enrSeq !== this.localEnr.seq;
    const authdata = encodeAuthdata({ flag: FLAG_HANDSHAKE, srcId: this.localId, idSignature, ephPubkey, ...(includeRecord ? { record: this.localEnr.raw } : {}) });
    const nonce = this.random(NONCE_SIZE);
    const maskingIv = this.random(MASKING_IV_SIZE);
    const header = encodeHeader(FLAG_HANDSHAKE, nonce, authdata);
    const plaintext = encodeMessage(req.message);
    const write = aesGcmKey(keys.initiatorKey);
    const sealed = write.seal(nonce, plaintext, messageAd(maskingIv, header));
    const bytes = encodePacket(req.to.nodeId, maskingIv, header, sealed);

    const key = sessionKey(req.to.nodeId, req.to.endpoint);
    this.sessions.set(key, { nodeId: req.to.nodeId, endpoint: req.to.endpoint, keys, writeKey: keys.initiatorKey, readKey: keys.recipientKey, write, read: aesGcmKey(keys.recipientKey), role: 'initiator', confirmed: false, publicKey: req.to.publicKey });
    req.handshakes++;
    this.track(req, nonce, bytes, 'handshake-sent', now);
    // Requests sent under an old session cannot be read by the peer: they wait for the new one.
    for (const other of this.requests.values())
      if (other !== req && other.state === 'sent' && sessionKey(other.to.nodeId, other.to.endpoint) === key) {
        other.state = 'queued';
        other.deadline = now + this.overallBudget();
      }
    this.sendPacket(req.to, bytes, {
      kind: 'handshake', plaintext, message: req.message, messageKey: keys.initiatorKey,
      note: `handshake: ephemeral-pubkey + id-signature${includeRecord ? (a.enrSeq < this.localEnr.seq ? ' + our ENR (the peer had an older one)' : ` + our ENR (the peer claims seq ${a.enrSeq}, above ours: impossible, so we send it)`) : ''}; the ${req.message.type} is sealed with the new initiator-key`,
    }, req);
  }

  /** Ordinary message: decrypt in the session, or challenge the sender (step 2). */
  private onOrdinary(rec: PacketRecord, p: Packet, srcId: Uint8Array, from: Endpoint, now: number): void {
    if (equalBytes(srcId, this.localId)) {
      rec.rejected = 'src-id is our own node id';
      return;
    }
    const key = sessionKey(srcId, from);
    const session = this.sessions.get(key);
    if (session) {
      const ad = messageAd(p.maskingIv, p.header);
      let pt = session.read.open(p.nonce, p.message, ad);
      let readKey = session.readKey;
      if (!pt && session.previous) {
        pt = session.previous.read.open(p.nonce, p.message, ad);
        readKey = session.previous.readKey;
        if (pt) rec.note = 'sealed under the session before this one (both sides started a handshake at once): read with its key';
      }
      if (pt) {
        rec.plaintext = pt;
        rec.messageKey = readKey;
        this.trace({ step: DISCV5_STEPS.aesGcmOpen, title: 'Message decrypted with the session key', inputs: [{ name: 'key', hex: toHex(readKey), secret: true }, { name: 'nonce', hex: toHex(p.nonce) }, { name: 'message-ad', hex: toHex(ad), note: 'masking-iv ‖ header' }], outputs: [{ name: 'message-pt', hex: toHex(pt) }], ok: true, spec: SPEC.header, peer: toHex(srcId), packet: rec.seq });
        return this.onMessage(rec, pt, session, now);
      }
      rec.note = 'cannot decrypt with our session keys (the peer lost or renewed its session): challenge it again';
    } else {
      rec.note = 'we have no session with this node: answer WHOAREYOU';
    }
    this.sendWhoareyou(rec, p, srcId, from, now);
  }

  private sendWhoareyou(rec: PacketRecord, p: Packet, srcId: Uint8Array, from: Endpoint, now: number): void {
    const addr = endpointKey(from);
    const pending = this.challenges.peek(addr);
    const same = !!pending && equalBytes(pending.requestNonce, p.nonce);
    if (pending && pending.expires > now && equalBytes(pending.srcId, srcId) && (same || now - pending.sentAt < CHALLENGE_REPEAT_MS)) {
      // While a challenge waits for its handshake, a further packet from the same node and address
      // gets that challenge again, byte for byte (the first packet's nonce, the same id-nonce and
      // masking-iv): a handshake the node may already have signed against it still verifies.
      // go-ethereum's v5test HandshakeResend checks this; a fresh challenge would void that handshake.
      if (same) pending.expires = now + this.cfg.challengeTtlMs;
      this.sendPacket({ nodeId: srcId, endpoint: from }, pending.packet, {
        kind: 'WHOAREYOU', retransmit: true,
        note: same ? 'the same request again: re-send the same WHOAREYOU' : 'another packet before the handshake: repeat the pending WHOAREYOU (the first packet’s nonce, the same challenge)',
      });
      return;
    }
    const idNonce = this.random(ID_NONCE_SIZE);
    const maskingIv = this.random(MASKING_IV_SIZE);
    const enrSeq = this.records.peek(toHex(srcId))?.seq ?? 0n;
    // The header nonce of WHOAREYOU is the nonce of the packet it answers (the request-nonce).
    const header = encodeHeader(FLAG_WHOAREYOU, p.nonce, encodeAuthdata({ flag: FLAG_WHOAREYOU, idNonce, enrSeq }));
    const bytes = encodePacket(srcId, maskingIv, header, new Uint8Array(0));
    const seq = this.sendPacket({ nodeId: srcId, endpoint: from }, bytes, { kind: 'WHOAREYOU', note: `challenge: sign id-nonce with your key${enrSeq === 0n ? '; we have no record of yours, send it' : `; we know your record at seq ${enrSeq}`}` });
    // Replaces any older challenge for this address: at most one is outstanding (anti-amplification).
    this.challenges.set(addr, { seq, endpoint: from, srcId: srcId.slice(), requestNonce: p.nonce.slice(), challengeData: messageAd(maskingIv, header), packet: bytes, sentAt: now, expires: now + this.cfg.challengeTtlMs });
  }

  /** Step 4: verify the handshake against the challenge we sent, derive keys, read the message. */
  private onHandshake(rec: PacketRecord, p: Packet, a: Extract<Authdata, { flag: 2 }>, from: Endpoint, now: number): void {
    const addr = endpointKey(from);
    const challenge = this.challenges.peek(addr);
    if (!challenge) {
      rec.rejected = 'handshake without a WHOAREYOU of ours pending for this address';
      return;
    }
    if (!equalBytes(challenge.srcId, a.srcId)) {
      rec.rejected = 'handshake src-id differs from the node we challenged';
      return;
    }
    const ctx = handshakeContext(a.srcId, challenge.seq, rec.seq);
    let enr: Enr | undefined;
    if (a.record) {
      const decoded = this.decodeRecord(a.record);
      if (!decoded.ok) {
        rec.rejected = `record: ${decoded.error.reason}`;
        return;
      }
      if (!equalBytes(decoded.value.nodeId, a.srcId)) {
        rec.rejected = 'record belongs to another node id than src-id';
        return;
      }
      enr = decoded.value;
    } else {
      enr = this.records.peek(toHex(a.srcId));
      if (!enr) {
        rec.rejected = 'handshake carries no record and we know none for this node';
        return;
      }
    }
    if (!isValidPublicKey(a.ephPubkey)) {
      rec.rejected = 'eph-pubkey is not a point on secp256k1';
      return;
    }
    if (!verifyId(enr.publicKey, a.idSignature, challenge.challengeData, a.ephPubkey, this.localId, this.tracer, ctx)) {
      rec.rejected = 'id-signature does not verify with the public key of the sender’s record';
      return;
    }
    const secret = ecdh(this.privateKey, a.ephPubkey, 'recipient', this.tracer, ctx);
    const keys = deriveKeys(secret, challenge.challengeData, a.srcId, this.localId, this.tracer, ctx);
    const read = aesGcmKey(keys.initiatorKey);
    const pt = read.open(p.nonce, p.message, messageAd(p.maskingIv, p.header));
    this.trace({ step: DISCV5_STEPS.aesGcmOpen, title: pt ? 'Handshake message decrypted with the new initiator-key' : 'Handshake message does NOT decrypt', inputs: [{ name: 'initiator-key', hex: toHex(keys.initiatorKey), secret: true }, { name: 'nonce', hex: toHex(p.nonce) }, { name: 'message-ad', hex: toHex(messageAd(p.maskingIv, p.header)) }], outputs: pt ? [{ name: 'message-pt', hex: toHex(pt) }] : [], ok: !!pt, spec: SPEC.step4, ...ctx });
    if (!pt) {
      rec.rejected = 'message does not decrypt with the keys this handshake derives';
      return;
    }
    const msg = decodeMessage(pt);
    if (msg.ok && !isRequest(msg.value.type)) {
      rec.rejected = `a handshake must carry a request, this one carries ${msg.value.type}`;
      return;
    }
    this.challenges.delete(addr);
    if (a.record && enr) {
      this.addRecord(enr);
      this.emit({ type: 'record-learned', enr });
    }
    const skey = sessionKey(a.srcId, from);
    const session: Session = { nodeId: a.srcId.slice(), endpoint: from, keys, writeKey: keys.recipientKey, readKey: keys.initiatorKey, write: aesGcmKey(keys.recipientKey), read, role: 'recipient', confirmed: true, publicKey: enr.publicKey, ...previousOf(this.sessions.peek(skey)) };
    this.sessions.set(skey, session);
    rec.plaintext = pt;
    rec.messageKey = keys.initiatorKey;
    rec.note = 'handshake verified: session established (we are the recipient)';
    this.emit({ type: 'session-established', nodeId: session.nodeId, endpoint: from, direction: 'incoming' });
    this.onMessage(rec, pt, session, now);
  }

  private onMessage(rec: PacketRecord, pt: Uint8Array, session: Session, now: number): void {
    const decoded = decodeMessage(pt);
    if (!decoded.ok) {
      rec.rejected = `message: ${decoded.error.reason}`;
      return;
    }
    const m = decoded.value;
    rec.message = m;
    if (isRequest(m.type)) return this.answer(m, session, now);
    const req = this.requests.get(toHex(m.requestId));
    if (!req || !equalBytes(req.to.nodeId, session.nodeId) || RESPONSE_TO[req.message.type] !== m.type) {
      rec.rejected = `${m.type} answers no pending request of ours (request-id 0x${toHex(m.requestId)})`;
      return;
    }
    if (!session.confirmed) {
      session.confirmed = true;
      this.emit({ type: 'session-established', nodeId: session.nodeId, endpoint: session.endpoint, direction: 'outgoing' });
      this.releaseQueued(req.to, now, req);
    }
    if (m.type === 'NODES') return this.onNodes(rec, req, m, now);
    this.finish(req);
    this.emit({ type: 'response', requestId: req.id, request: req.message, response: m, to: req.to, rttMs: now - (req.firstSentAt ?? now) });
  }

  private onNodes(rec: PacketRecord, req: PendingRequest, m: Extract<Message, { type: 'NODES' }>, now: number): void {
    if (m.total < 1 || m.total > this.cfg.maxNodesPackets) {
      rec.rejected = `NODES total=${m.total}; we accept 1 to ${this.cfg.maxNodesPackets}`;
      if (!req.nodes) this.fail(req, `peer announced ${m.total} NODES packets`, now);
      return;
    }
    const nodes = (req.nodes ??= { records: [], rejected: [], received: 0, total: m.total });
    nodes.received++;
    const asked = (req.message as Extract<Message, { type: 'FINDNODE' }>).distances;
    for (const raw of m.records) {
      const r = this.decodeRecord(raw);
      if (!r.ok) {
        nodes.rejected.push(r.error.reason);
        continue;
      }
      const d = logDistance(r.value.nodeId, req.to.nodeId);
      if (!asked.includes(d)) {
        nodes.rejected.push(`record ${shortHex(r.value.nodeId)} is at distance ${d}, not one asked for`);
        continue;
      }
      if (nodes.records.length < FINDNODE_RESULT_LIMIT * this.cfg.maxNodesPackets && !nodes.records.some((x) => equalBytes(x.nodeId, r.value.nodeId))) {
        nodes.records.push(r.value);
        this.addRecord(r.value);
      }
    }
    req.deadline = now + this.cfg.requestTimeoutMs;
    if (nodes.received >= nodes.total) this.finishNodes(req, now, false);
  }

  private finishNodes(req: PendingRequest, now: number, partial: boolean): void {
    const nodes = req.nodes!;
    this.finish(req);
    const response: Message = { type: 'NODES', requestId: req.message.requestId, total: nodes.total, records: nodes.records.map((r) => r.raw) };
    this.emit({ type: 'response', requestId: req.id, request: req.message, response, to: req.to, rttMs: now - (req.firstSentAt ?? now), records: nodes.records, rejectedRecords: nodes.rejected, ...(partial ? { partial } : {}) });
  }

  /** Answers a request in its session. */
  private answer(m: Message, session: Session, now: number): void {
    const from = { nodeId: session.nodeId, endpoint: session.endpoint };
    const known = this.records.peek(toHex(session.nodeId));
    this.emit({ type: 'request', message: m, from, ...(known ? { enr: known } : {}) });
    const reply = (response: Message) => {
      const { bytes, plaintext } = this.sealOrdinary(session, response);
      this.sendPacket(from, bytes, { kind: 'ordinary', plaintext, message: response, messageKey: session.writeKey });
    };
    switch (m.type) {
      case 'PING':
        return reply({ type: 'PONG', requestId: m.requestId, enrSeq: this.localEnr.seq, recipientIp: session.endpoint.ip, recipientPort: session.endpoint.port });
      case 'FINDNODE': {
        for (const response of this.nodesResponses(m.requestId, m.distances)) reply(response);
        return;
      }
      case 'TALKREQ': {
        let response: Uint8Array | undefined;
        try {
          response = this.talkHandler?.(m.protocol, m.request, from);
        } catch {
          response = undefined;
        }
        return reply({ type: 'TALKRESP', requestId: m.requestId, response: response ?? new Uint8Array(0) });
      }
      default:
        void now;
    }
  }

  /** NODES answers: records at the asked distances, at most 16, split to fit 1280-byte packets. */
  nodesResponses(requestId: Uint8Array, distances: number[]): Message[] {
    const seen = new Set<string>();
    const records: Uint8Array[] = [];
    for (const d of distances) {
      const found = d === 0 ? [this.localEnr] : this.nodesAtDistances([d]);
      for (const enr of found) {
        const id = toHex(enr.nodeId);
        if (records.length >= FINDNODE_RESULT_LIMIT || seen.has(id)) continue;
        if (d !== 0 && logDistance(enr.nodeId, this.localId) !== d) continue;
        seen.add(id);
        records.push(enr.raw);
      }
    }
    const budget = MAX_PACKET_SIZE - ORDINARY_OVERHEAD;
    const groups: Uint8Array[][] = [[]];
    for (const r of records) {
      const current = groups[groups.length - 1];
      if (current.length > 0 && nodesMessageSize(requestId, 255, [...current, r]) > budget) groups.push([r]);
      else current.push(r);
    }
    return groups.map((g) => ({ type: 'NODES' as const, requestId, total: groups.length, records: g }));
  }

  // ---------------------------------------------------------------- helpers

  /** decodeEnr, skipping the signature check for bytes that already passed it (same bytes, same result). */
  private decodeRecord(raw: Uint8Array): ReturnType<typeof decodeEnr> {
    const key = toHex(raw);
    const hit = this.verified.get(key);
    if (hit) return { ok: true, value: hit };
    const r = decodeEnr(raw);
    if (r.ok) this.verified.set(key, r.value);
    return r;
  }

  private releaseQueued(to: NodeContactLite, now: number, except?: PendingRequest): void {
    const key = sessionKey(to.nodeId, to.endpoint);
    for (const r of [...this.requests.values()])
      if (r !== except && r.state === 'queued' && sessionKey(r.to.nodeId, r.to.endpoint) === key) this.dispatch(r, now);
  }

  private finish(req: PendingRequest): void {
    this.requests.delete(req.id);
    if (req.nonce) this.requestsByNonce.delete(req.nonce);
  }

  private fail(req: PendingRequest, reason: string, now: number, releaseQueued = true): void {
    this.finish(req);
    this.emit({ type: 'failure', requestId: req.id, request: req.message, to: req.to, reason });
    if (releaseQueued) this.releaseQueued(req.to, now);
  }

  /** Returns the packet's seq. */
  private sendPacket(to: NodeContactLite, bytes: Uint8Array, info: Partial<PacketRecord>, req?: PendingRequest): number {
    const seq = this.nextSeq();
    if (req && !info.retransmit) req.packetSeq = seq;
    const record: PacketRecord = { seq, direction: 'out', at: this.now, peer: to.endpoint, peerId: toHex(to.nodeId), raw: bytes, ...info };
    this.out.send.push({ to: to.endpoint, bytes });
    this.emit({ type: 'packet', packet: record });
    return seq;
  }

  private emit(e: EngineEvent): void {
    this.out.events.push(e);
  }

  private trace(r: TraceRecord): void {
    this.out.trace.push(r);
  }

  private flush(): Output {
    const o = this.out;
    this.out = { send: [], events: [], trace: [] };
    return o;
  }
}

export type { Flag };

/**
 * What a session made from the peer's handshake keeps of the one it replaces: the read key of our
 * own handshake to that peer, still unanswered (the handshakes crossed). Any other session's
 * packets stay unreadable once it is replaced.
 */
const previousOf = (old: Session | undefined): Pick<Session, 'previous'> =>
  old && old.role === 'initiator' && !old.confirmed ? { previous: { read: old.read, readKey: old.readKey } } : {};

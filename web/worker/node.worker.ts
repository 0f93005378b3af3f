// The browser's discv5 node, off the main thread: tunnel client → gated socket → driver →
// Discv5Node. The page sends commands and step/play controls; it gets packets, trace records
// and events (structured clones) and renders them. Handshakes and lookups never block the UI.
import { toHex, utf8 } from '../../shared/bytes.ts';
import { parseTarget } from '../../shared/discv5/contact.ts';
import { driveConformance } from '../../shared/discv5/conformance/drive.ts';
import { ConformanceRun, type TesterSocket } from '../../shared/discv5/conformance/runner.ts';
import { DISCV5_SCENARIOS } from '../../shared/discv5/conformance/scenarios.ts';
import { Discv5Driver, type RequestOutcome } from '../../shared/discv5/driver.ts';
import type { PacketRecord } from '../../shared/discv5/engine.ts';
import { summarizeMessage } from '../../shared/discv5/messages.ts';
import { Discv5Node, type NodeEvent } from '../../shared/discv5/node.ts';
import { replaySpecHandshake, replaySpecPingMessage, replaySpecWhoareyou } from '../../shared/discv5/replay.ts';
import { SPEC_VECTORS } from '../../shared/discv5/spec-vectors.ts';
import { createEnr, encodeEnrText, getPair, tcpEndpoint, udpFields, type Enr } from '../../shared/enr/index.ts';
import { openTunnel, type TunnelClient } from '../../shared/tunnel/client.ts';
import { endpointKey, parseEndpointKey, type DatagramSocket, type Endpoint } from '../../shared/transport.ts';
import type { CommandOutcome, ConformanceUpdate, ConsensusPeer, FromWorker, HeldItem, PacketInfo, ReplayInfo, ToWorker } from '../lib/protocol.ts';
import { GatedSocket, GatedStreams, gateStream, StepGate, VirtualClock, type HeldStep } from '../../shared/drive/gate.ts';
import { isNetworkName, type NetworkName } from '../../shared/bitcoin/spec.ts';
import type { WireRecord } from '../../shared/engine.ts';
import type { StreamListener } from '../../shared/transport.ts';
import type { BitcoinHost } from './bitcoin-host.ts';
import type { Libp2pHost } from './libp2p-host.ts';
import type { Libp2pRecord } from '../../shared/libp2p/engine.ts';
import type { RlpxHost } from './rlpx-host.ts';
import type { RlpxRecord } from '../../shared/rlpx/engine.ts';
import { isChainName, type ChainName } from '../../shared/eth/chains.ts';
import type { Discv4Host } from './discv4-host.ts';

interface WorkerScope {
  postMessage(m: FromWorker | { type: 'batch'; items: FromWorker[] }): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;
// Everything one datagram or command causes goes to the page as one message, after the sends.
const outbox: FromWorker[] = [];
const post = (m: FromWorker) => {
  if (outbox.push(m) === 1) queueMicrotask(() => scope.postMessage({ type: 'batch', items: outbox.splice(0) }));
};

/** Wait for each answer before a retransmit; a cold handshake over the bridge is two round trips. */
const REQUEST_TIMEOUT_MS = 2000;
const HELLO_TIMEOUT_MS = 8000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];

let privateKey: Uint8Array | undefined;
let enrSeq = 1n;
let tunnelUrl = '';
let node: Discv5Node | undefined;
let driver: Discv5Driver | undefined;
/** Step mode's one queue, for the node's UDP socket and every Bitcoin TCP connection. */
const gate = new StepGate(() => onGateChanged());
let udp: GatedSocket | undefined;
let btc: BitcoinHost | undefined;
let btcListener: StreamListener | undefined;
let p2p: Libp2pHost | undefined;
let v4: Discv4Host | undefined;
let v4Opening: Promise<Discv4Host | undefined> | undefined;
/** The network an accepted peer is greeted on (the page's choice when it opened the listener). */
let listenNetwork: NetworkName = 'regtest';
let rlpx: RlpxHost | undefined;
/** Which protocol the page's one TCP listener hands connections to (the last to ask for it), and RLPx's chain. */
let listenFor: 'bitcoin' | 'rlpx' = 'bitcoin';
let listenChain: ChainName = 'mainnet';
let tunnel: TunnelClient | undefined;
const clock = new VirtualClock();
/** One numbering for the packets of your node and of the conformance tester: one timeline. */
let packetCount = 0;
const nextPacketSeq = () => ++packetCount;
/** The conformance run in progress: stop(reason) ends it and closes its sockets. */
let conformance: { stop(reason: string): void } | undefined;

let stepMode = false;
let playing = false;
let playDelayMs = 1500;
let playTimer: ReturnType<typeof setTimeout> | undefined;

let generation = 0;
let attempt = 0;
let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
let heldPostQueued = false;

// ---------------------------------------------------------------- step mode

function heldItems(): HeldItem[] {
  // A stream's end waits behind its data but is no step of its own.
  return gate.queue
    .filter((q) => q.transport !== 'tcp-end')
    .map((q) =>
      q.direction === 'out'
        ? { direction: 'out', size: q.bytes.length, peer: q.to, transport: q.transport === 'udp' ? 'udp' : 'tcp', ...(q.protocol ? { protocol: q.protocol } : {}), ...(q.seq !== undefined ? { seq: q.seq } : {}) }
        : { direction: 'in', size: q.bytes.length, peer: q.from, transport: q.transport === 'udp' ? 'udp' : 'tcp', ...(q.protocol ? { protocol: q.protocol } : {}) },
    );
}

/** The clock stands still while anything waits for the user; the page hears about it once per turn. */
function onGateChanged(): void {
  const paused = gate.isHolding && gate.queue.length > 0;
  if (paused) clock.pause();
  else clock.resume();
  if (!heldPostQueued) {
    heldPostQueued = true;
    queueMicrotask(() => {
      heldPostQueued = false;
      post({ type: 'held', items: heldItems(), clockPaused: !clock.running });
      schedulePlay();
    });
  }
}

function released(items: (HeldStep | undefined)[]): void {
  for (const item of items) if (item?.direction === 'out' && item.seq !== undefined) post({ type: 'released', seq: item.seq });
}

function step(): void {
  released([gate.release()]);
}

function schedulePlay(): void {
  if (!playing || !stepMode || playTimer !== undefined || gate.queue.length === 0) return;
  playTimer = setTimeout(() => {
    playTimer = undefined;
    if (playing && stepMode) step();
  }, playDelayMs);
}

function setStepMode(on: boolean): void {
  // Step mode stops the clock; the tester's waits need it running.
  if (on) conformance?.stop('Step mode was turned on: it stops the clock the scenarios wait with');
  stepMode = on;
  playing = false;
  clearTimeout(playTimer);
  playTimer = undefined;
  released(gate.setHolding(on));
  onGateChanged();
}

// ---------------------------------------------------------------- the node

function endpointChanges(local: Endpoint) {
  return { ip: undefined, udp: undefined, ip6: undefined, udp6: undefined, ...udpFields(local) };
}

function info(p: PacketRecord, destId: string, held = false): PacketInfo {
  const { packet: _decoded, ...rest } = p;
  return { ...rest, destId, ...(held ? { held } : {}) };
}

/** The last datagram sent to each endpoint, so a refusal from the bridge can mark it. */
const lastSent = new Map<string, PacketInfo>();

/**
 * The bridge refused a datagram ("<ip:port>: <why>"): the packet is marked as not sent, the
 * requests to that endpoint fail at once with the reason and how to allow it (no retransmits,
 * no timeout later). False when the message names no endpoint.
 */
function refused(message: string): boolean {
  // "UDP_SEND: policy: 127.0.0.77:30399: loopback address: … (--allow opens a port)"
  const m = /(?:^|: )(\[[0-9a-fA-F:.]+\]:\d+|[0-9.]+:\d+): (.+)$/.exec(message);
  const endpoint = m ? parseEndpointKey(m[1]) : undefined;
  if (!m || !endpoint || !driver) return false;
  const hint = /--allow/.test(m[2]) ? '' : ` — to reach it, restart the bridge with: npm start -- --allow ${endpoint.ip}`;
  const reason = `the bridge refused to send to ${m[1]}: ${m[2]}${hint}`;
  const sent = lastSent.get(m[1]);
  if (sent) post({ type: 'packet', packet: { ...sent, held: false, rejected: `not sent: ${reason}` } });
  driver.command({ type: 'unreachable', endpoint, reason });
  return true;
}

function onEvent(e: NodeEvent): void {
  if (e.type === 'packet') {
    const p = e.packet;
    const destId = p.direction === 'out' ? (p.peerId ?? '') : toHex(node!.localId);
    const held = p.direction === 'out' && gate.isHolding && gate.tag(p.raw, p.seq);
    const record = info(p, destId, held);
    if (p.direction === 'out') lastSent.set(endpointKey(p.peer), record);
    post({ type: 'packet', packet: record });
    if (held) onGateChanged();
    return;
  }
  post({ type: 'event', event: e, at: clock.now() });
  if (e.type === 'enr-updated') announce(e.enr);
}

function announce(enr: Enr): void {
  if (!udp) return;
  post({ type: 'identity', enrText: encodeEnrText(enr), nodeId: toHex(enr.nodeId), seq: enr.seq, local: udp.local });
}

function attach(sock: DatagramSocket): void {
  udp = new GatedSocket(sock, gate, 'discv5');
  const local = sock.local;
  if (!node) {
    const enr = createEnr({ privateKey: privateKey!, seq: enrSeq, ...udpFields(local) });
    node = new Discv5Node({ privateKey: privateKey!, enr, requestTimeoutMs: REQUEST_TIMEOUT_MS, packetSeq: nextPacketSeq });
  } else {
    const current = node.enr;
    const same = local.ip.includes(':') ? current.ip6 === local.ip && current.udp6 === local.port : current.ip === local.ip && current.udp === local.port;
    if (!same) onEvent(node.updateLocalEnr(endpointChanges(local), `the bridge gave us a new UDP socket at ${endpointKey(local)}`));
  }
  driver = new Discv5Driver(node, udp, clock.now);
  driver.listen({
    event: onEvent,
    trace: (record) => post({ type: 'trace', record }),
    // A closed tunnel shows in the status bar; anything else (a refused target…) goes on the timeline.
    error: (e) => {
      const code = (e as { code?: string }).code;
      if (code === 'closed') return;
      if (code === 'policy' && refused(e.message)) return;
      post({ type: 'notice', level: 'error', text: `The bridge did not send a datagram: ${e.message}`, at: clock.now() });
    },
  });
  announce(node.enr);
  onGateChanged();
}

function detach(): void {
  conformance?.stop('the connection to the bridge was lost');
  driver?.close();
  driver = undefined;
  udp = undefined;
  btc?.close();
  btc = undefined;
  p2p?.close();
  p2p = undefined;
  rlpx?.close();
  rlpx = undefined;
  btcListener?.close();
  btcListener = undefined;
  v4?.close();
  v4 = undefined;
  v4Opening = undefined;
  // What was held belongs to sockets that are gone.
  gate.queue.length = 0;
  onGateChanged();
}

// ---------------------------------------------------------------- Bitcoin

/** A stream host's notes on the timeline: on its connection's lane, naming its protocol (the room counts outcomes by it). */
function streamNote(protocol: string) {
  return (level: 'error' | 'info' | 'ok', text: string, lane?: string, afterSeq?: number) =>
    post({ type: 'notice', level, text, at: clock.now(), protocol, ...(lane ? { lane: `tcp:${lane}` } : {}), ...(afterSeq !== undefined ? { afterSeq } : {}) });
}

/** A Bitcoin record as the page keeps it: the generic wire record, on the page's one timeline. */
function btcInfo(r: WireRecord, held: boolean): PacketInfo {
  return {
    seq: r.seq, protocol: r.protocol, direction: r.direction, at: r.at, peer: r.peer, raw: r.raw, kind: r.kind, summary: r.summary, destId: '',
    ...(r.conn ? { conn: r.conn } : {}), ...(r.streamOffset !== undefined ? { streamOffset: r.streamOffset } : {}),
    ...(r.rejected ? { rejected: r.rejected } : {}), ...(r.note ? { note: r.note } : {}), ...(held ? { held } : {}),
  };
}

/** The Bitcoin side, loaded on first use (most visits never speak Bitcoin) and made once per tunnel. */
async function bitcoinHost(): Promise<BitcoinHost | undefined> {
  const t = tunnel;
  if (!t) return undefined;
  if (btc) return btc;
  const { BitcoinHost } = await import('./bitcoin-host.ts');
  if (tunnel !== t) return undefined;
  btc ??= new BitcoinHost({
    streams: new GatedStreams(t, gate, 'bitcoin'),
    resolve: (name) => t.resolve(name),
    clock: clock.now,
    packetSeq: nextPacketSeq,
    tagHeld: (bytes, seq) => gate.isHolding && gate.tag(bytes, seq),
    record: (r, held) => {
      post({ type: 'packet', packet: btcInfo(r, held) });
      if (held) onGateChanged();
    },
    note: streamNote('bitcoin'),
  });
  return btc;
}

async function btcHandshake(msg: Extract<ToWorker, { type: 'btc-handshake' }>): Promise<void> {
  const reply = (outcome: CommandOutcome) => post({ type: 'result', id: msg.id, outcome });
  if (!isNetworkName(msg.network)) return reply({ ok: false, reason: `unknown network ${msg.network}` });
  const host = await bitcoinHost();
  if (!host) return reply({ ok: false, reason: 'not connected to the bridge: nothing was sent' });
  host.handshake(msg.target, msg.network).then(reply, (e: Error) => reply({ ok: false, reason: e.message }));
}

/** The page's TCP listener on the bridge: lab nodes asked through /lab/connect dial it. */
async function btcListen(msg: Extract<ToWorker, { type: 'btc-listen' }>): Promise<void> {
  if (!isNetworkName(msg.network)) return post({ type: 'btc-listening', id: msg.id, error: `unknown network ${msg.network}` });
  const network = msg.network;
  await openListener(msg.id, bitcoinHost, () => {
    listenNetwork = network;
    listenFor = 'bitcoin';
  });
}

/**
 * Opens the page's one TCP listener on the bridge (once), with the asking protocol's host loaded,
 * then aims it at that protocol; the answer is 'btc-listening' (the listener is shared).
 */
async function openListener(id: number, host: () => Promise<unknown>, aim: () => void): Promise<void> {
  const t = tunnel;
  if (!t || !(await host())) return post({ type: 'btc-listening', id, error: 'not connected to the bridge' });
  try {
    if (!btcListener) {
      const l = await t.listen();
      if (tunnel !== t) return l.close();
      btcListener = l;
      routeListener(l);
    }
    aim();
    post({ type: 'btc-listening', id, ip: btcListener.local.ip, port: btcListener.local.port });
  } catch (e) {
    post({ type: 'btc-listening', id, error: (e as Error).message });
  }
}

/** The page's one TCP listener: each connection goes to the protocol that last asked for it. */
function routeListener(l: StreamListener): void {
  l.onConnection((conn) => {
    if (listenFor === 'rlpx' && rlpx) rlpx.accept(gateStream(conn, gate, 'rlpx'), listenChain);
    else if (btc) btc.accept(gateStream(conn, gate, 'bitcoin'), listenNetwork);
    else conn.close();
  });
}

// ---------------------------------------------------------------- RLPx

/** The RLPx side, loaded on first use and made once per tunnel, with the page's node key. */
async function rlpxHost(): Promise<RlpxHost | undefined> {
  const t = tunnel;
  if (!t || !privateKey) return undefined;
  if (rlpx) return rlpx;
  const { RlpxHost } = await import('./rlpx-host.ts');
  if (tunnel !== t) return undefined;
  rlpx ??= new RlpxHost({
    privateKey,
    streams: new GatedStreams(t, gate, 'rlpx'),
    clock: clock.now,
    packetSeq: nextPacketSeq,
    tagHeld: (bytes, seq) => gate.isHolding && gate.tag(bytes, seq),
    record: (r, held) => {
      post({ type: 'packet', packet: rlpxInfo(r, held) });
      if (held) onGateChanged();
    },
    trace: (record) => post({ type: 'trace', record }),
    note: streamNote('rlpx'),
  });
  return rlpx;
}

/** An RLPx record as the page keeps it: the generic record, its peer's node id and the decrypted layers. */
function rlpxInfo(r: RlpxRecord, held: boolean): PacketInfo {
  return { ...btcInfo(r, held), ...(r.peerId ? { peerId: r.peerId } : {}), ...(r.rlpx ? { rlpx: r.rlpx } : {}) };
}

async function rlpxHandshake(msg: Extract<ToWorker, { type: 'rlpx-handshake' }>): Promise<void> {
  const reply = (outcome: CommandOutcome) => post({ type: 'result', id: msg.id, outcome });
  if (!isChainName(msg.network)) return reply({ ok: false, reason: `unknown network ${msg.network}` });
  const host = await rlpxHost();
  if (!host) return reply({ ok: false, reason: 'not connected to the bridge: nothing was sent' });
  host.handshake(msg.target, msg.goal, msg.network).then(reply, (e: Error) => reply({ ok: false, reason: e.message }));
}

/** Opens the page's TCP listener (if not yet open) and aims it at RLPx: lab execution nodes dial it. */
async function rlpxListen(msg: Extract<ToWorker, { type: 'rlpx-listen' }>): Promise<void> {
  if (!isChainName(msg.network)) return post({ type: 'btc-listening', id: msg.id, error: `unknown network ${msg.network}` });
  const chain = msg.network;
  await openListener(msg.id, rlpxHost, () => {
    listenChain = chain;
    listenFor = 'rlpx';
  });
}

// ---------------------------------------------------------------- libp2p

/** The records a consensus client would dial: an eth2 entry and a TCP address. */
function consensusPeers(records: Enr[]): ConsensusPeer[] {
  const out: ConsensusPeer[] = [];
  for (const r of records) {
    const eth2 = getPair(r, 'eth2')?.value;
    const tcp = tcpEndpoint(r);
    if (eth2 && tcp) out.push({ enr: encodeEnrText(r), nodeId: toHex(r.nodeId), address: endpointKey(tcp), eth2: toHex(eth2) });
  }
  return out;
}

/** A libp2p record: the generic one, with the decrypted bytes its dissection reads. */
function p2pInfo(r: Libp2pRecord, held: boolean): PacketInfo {
  return {
    ...btcInfo(r, held), ...(r.peerId ? { peerId: r.peerId } : {}), ...(r.plaintext ? { plaintext: r.plaintext } : {}),
    ...(r.continues ? { continues: r.continues } : {}), ...(r.streams ? { streams: r.streams } : {}), ...(r.noiseStatic ? { noiseStatic: r.noiseStatic } : {}),
  };
}

/** The libp2p side, loaded on first use, made once per tunnel with the page's key as its identity. */
async function libp2pHost(): Promise<Libp2pHost | undefined> {
  const t = tunnel;
  if (!t || !privateKey) return undefined;
  if (p2p) return p2p;
  const { Libp2pHost } = await import('./libp2p-host.ts');
  if (tunnel !== t || !privateKey) return undefined;
  p2p ??= new Libp2pHost({
    streams: new GatedStreams(t, gate, 'libp2p'),
    privateKey,
    clock: clock.now,
    packetSeq: nextPacketSeq,
    tagHeld: (bytes, seq) => gate.isHolding && gate.tag(bytes, seq),
    record: (r, held) => {
      post({ type: 'packet', packet: p2pInfo(r as Libp2pRecord, held) });
      if (held) onGateChanged();
    },
    trace: (record) => post({ type: 'trace', record }),
    note: streamNote('libp2p'),
  });
  return p2p;
}

async function p2pDial(msg: Extract<ToWorker, { type: 'p2p-dial' }>): Promise<void> {
  const reply = (outcome: CommandOutcome) => post({ type: 'result', id: msg.id, outcome });
  const host = await libp2pHost();
  if (!host) return reply({ ok: false, reason: 'not connected to the bridge: nothing was sent' });
  host.dial(msg.target).then(reply, (e: Error) => reply({ ok: false, reason: e.message }));
}

// ---------------------------------------------------------------- discv4

/** The discv4 side: its own UDP socket on the bridge, loaded and opened on first use. */
function discv4Host(): Promise<Discv4Host | undefined> {
  const t = tunnel;
  if (!t || !privateKey) return Promise.resolve(undefined);
  if (v4) return Promise.resolve(v4);
  const key = privateKey;
  v4Opening ??= (async () => {
    try {
      const { Discv4Host } = await import('./discv4-host.ts');
      const sock = await t.openDatagram();
      if (tunnel !== t) {
        sock.close();
        return undefined;
      }
      v4 = new Discv4Host({
        privateKey: key,
        socket: new GatedSocket(sock, gate, 'discv4'),
        clock: clock.now,
        epochOffsetMs: Date.now() - clock.now(),
        packetSeq: nextPacketSeq,
        tagHeld: (bytes, seq) => gate.isHolding && gate.tag(bytes, seq),
        record: (r, held) => {
          post({ type: 'packet', packet: { ...btcInfo(r, held), ...(r.peerId ? { peerId: r.peerId } : {}), destId: r.peerId ?? '' } });
          if (held) onGateChanged();
        },
        trace: (record) => post({ type: 'trace', record }),
        post,
      });
      return v4;
    } catch (e) {
      post({ type: 'discv4-identity', error: (e as Error).message });
      return undefined;
    } finally {
      v4Opening = undefined;
    }
  })();
  return v4Opening;
}

async function discv4Command(msg: Extract<ToWorker, { type: 'discv4' }>): Promise<void> {
  const host = await discv4Host();
  if (!host) return post({ type: 'discv4-result', id: msg.id, outcome: { ok: false, reason: 'not connected to the bridge: nothing was sent' } });
  host.command(msg.id, msg.action, msg.target, msg.targetKey);
}

async function connect(): Promise<void> {
  if (!privateKey || !tunnelUrl) return;
  clearTimeout(reconnectTimer);
  reconnectTimer = undefined;
  const gen = ++generation;
  attempt++;
  post({ type: 'status', status: { state: 'connecting', detail: attempt > 1 ? `reconnecting to the bridge (attempt ${attempt})…` : 'connecting to the bridge…', attempt } });
  let ws: WebSocket | undefined;
  try {
    ws = new WebSocket(tunnelUrl);
    const socketRef = ws;
    const hello = openTunnel(ws);
    const timer = setTimeout(() => socketRef.close(), HELLO_TIMEOUT_MS);
    const t = await hello.finally(() => clearTimeout(timer));
    if (gen !== generation) return t.close();
    const sock = await t.openDatagram();
    if (gen !== generation) return t.close();
    tunnel = t;
    attempt = 0;
    attach(sock);
    post({ type: 'status', status: { state: 'open', detail: `your node's UDP socket is ${endpointKey(sock.local)} on the bridge` } });
    t.onClose((code, reason) => {
      if (tunnel !== t) return;
      tunnel = undefined;
      detach();
      scheduleReconnect(code === 1001 ? 'the bridge shut down' : `the tunnel closed (${code}${reason ? ` ${reason}` : ''})`);
    });
  } catch (e) {
    if (gen !== generation) return;
    ws?.close();
    const why = e instanceof Error ? e.message : String(e);
    // A refused upgrade (wrong token, foreign origin) and a stopped bridge look alike to a page: 1006 before HELLO.
    scheduleReconnect(/before HELLO/.test(why) ? 'cannot open the tunnel: the bridge is not running, or this page’s token is not the one npm start printed' : why);
  }
}

function scheduleReconnect(why: string): void {
  const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  post({ type: 'status', status: { state: 'closed', detail: `${why}; retrying`, retryInMs: delay, attempt } });
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(() => void connect(), delay);
}

/** A new key: a new node on a new socket (the old sessions belong to the old identity). */
function restart(): void {
  const t = tunnel;
  tunnel = undefined;
  detach();
  node = undefined;
  t?.close();
  attempt = 0;
  void connect();
}

// ---------------------------------------------------------------- commands

function describe(outcome: RequestOutcome): CommandOutcome {
  if (!outcome.ok) return { ok: false, reason: outcome.reason };
  const m = outcome.response;
  const detail: Record<string, string> = {};
  if (m.type === 'PONG') Object.assign(detail, { 'enr-seq': String(m.enrSeq), 'recipient-ip': m.recipientIp, 'recipient-port': String(m.recipientPort) });
  if (m.type === 'NODES') detail.records = String(outcome.records?.length ?? m.records.length);
  if (outcome.rejectedRecords?.length) detail.rejected = outcome.rejectedRecords.join('; ');
  // NODES' numbers in words: total counts packets, not records (an answer is split so each fits a datagram).
  const words = m.type === 'NODES' ? ` — ${m.total} NODES packet${m.total === 1 ? '' : 's'} (total=${m.total}) carrying ${detail.records} node record${detail.records === '1' ? '' : 's'}` : '';
  return { ok: true, summary: `${summarizeMessage(m)}${words}`, rttMs: outcome.rttMs, detail };
}

function command(msg: Extract<ToWorker, { type: 'command' }>): void {
  const reply = (outcome: CommandOutcome) => post({ type: 'result', id: msg.id, outcome });
  if (!driver || !node) return reply({ ok: false, reason: 'not connected to the bridge: nothing was sent' });
  const target = parseTarget(msg.target);
  if (!target.ok) return reply({ ok: false, reason: `invalid target: ${target.error.reason}` });
  const to = target.value;
  const d = driver;
  switch (msg.action) {
    case 'ping':
      d.ping(to).then((o) => reply(describe(o)));
      return;
    case 'findnode':
      d.findnode(to, msg.distances).then((o) => reply(describe(o)));
      return;
    case 'talkreq':
      d.talkreq(to, utf8(msg.protocol), msg.request).then((o) => reply(describe(o)));
      return;
    case 'drop':
      d.command({ type: 'drop-session', nodeId: to.nodeId, endpoint: to.endpoint });
      return reply({ ok: true, summary: 'session keys forgotten: the next request starts a new handshake' });
    case 'lookup':
      if (!to.enr) return reply({ ok: false, reason: 'a lookup starts from a node record: paste an ENR, an enode URL has none' });
      d.lookup(msg.targetId, [to.enr]).then((closest) => {
        const consensus = consensusPeers(closest);
        reply({ ok: true, summary: `lookup done: ${closest.length} closest nodes found${consensus.length ? `, ${consensus.length} with eth2 and tcp (consensus clients: dial them with libp2p)` : ''}`, detail: { found: String(closest.length) }, ...(consensus.length ? { consensus } : {}) });
      });
      return;
  }
}

// ---------------------------------------------------------------- conformance

const updateConformance = (update: ConformanceUpdate) => post({ type: 'conformance', update, at: clock.now() });

/**
 * go-ethereum's seven scenarios against a node, from sockets of their own on the bridge (not your
 * node's): one from the default address, one from 127.0.0.2 for PingMultiIP when the target is on
 * loopback. Their packets go on the timeline with your node's, numbered from the same counter.
 */
async function runConformance(targetText: string): Promise<void> {
  if (conformance) return;
  const t = tunnel;
  if (!t) return updateConformance({ type: 'stopped', reason: 'not connected to the bridge: nothing was sent' });
  const target = parseTarget(targetText);
  if (!target.ok) return updateConformance({ type: 'stopped', reason: `invalid target: ${target.error.reason}` });
  const to = target.value;
  let stopped: string | undefined;
  let drive: ReturnType<typeof driveConformance> | undefined;
  const self = {
    stop(reason: string) {
      stopped ??= reason;
      drive?.stop();
    },
  };
  conformance = self;
  const sockets = new Map<number, DatagramSocket>();
  try {
    const primary = await t.openDatagram();
    sockets.set(1, primary);
    const tester: TesterSocket[] = [{ id: 1, role: 'primary', local: primary.local }];
    let noSecondary: string | undefined;
    if (!to.endpoint.ip.startsWith('127.')) noSecondary = 'the target is not on loopback: the bridge has one source address for it';
    else {
      try {
        const second = await t.openDatagram({ ip: '127.0.0.2' });
        sockets.set(2, second);
        tester.push({ id: 2, role: 'secondary', local: second.local });
      } catch (e) {
        noSecondary = `the bridge could not open a socket on 127.0.0.2 (${(e as Error).message})`;
      }
    }
    if (stopped) return updateConformance({ type: 'stopped', reason: stopped });
    updateConformance({ type: 'started', sources: tester.map((s) => endpointKey(s.local)).join(' and '), ...(noSecondary ? { noSecondary } : {}) });
    const run = new ConformanceRun(DISCV5_SCENARIOS, { target: to, sockets: tester, packetSeq: nextPacketSeq, waitMs: REQUEST_TIMEOUT_MS / 2, ...(noSecondary ? { noSecondaryReason: noSecondary } : {}) });
    drive = driveConformance(run, sockets, clock.now, {
      event: (e) => {
        if (e.type === 'packet') {
          const p = e.packet;
          post({ type: 'packet', packet: { ...info(p, p.direction === 'out' ? (p.peerId ?? '') : toHex(e.localId)), tester: { conn: e.conn, scenario: e.scenario } } });
        } else if (e.type === 'scenario-start') updateConformance({ type: 'scenario-start', name: e.name });
        else if (e.type === 'step') updateConformance({ type: 'step', scenario: e.scenario, text: e.text });
        else if (e.type === 'scenario-end') updateConformance({ type: 'scenario-end', result: e.result });
        else if (e.type === 'done') updateConformance({ type: 'done', results: e.results });
      },
      trace: (record) => post({ type: 'trace', record }),
      error: (e) => post({ type: 'notice', level: 'error', text: `The bridge did not send a tester datagram: ${e.message}`, at: clock.now() }),
    });
    if (stopped) drive.stop();
    await drive.results;
    if (stopped) updateConformance({ type: 'stopped', reason: stopped });
  } catch (e) {
    updateConformance({ type: 'stopped', reason: `could not open the tester's sockets on the bridge: ${(e as Error).message}` });
  } finally {
    for (const s of sockets.values()) s.close();
    if (conformance === self) conformance = undefined;
  }
}

function replay(): void {
  const run = replaySpecHandshake();
  const idA = toHex(run.nodeA.enr.nodeId);
  const idB = toHex(run.nodeB.enr.nodeId);
  const known = replaySpecHandshake({ bKnowsA: true });
  const ping = replaySpecPingMessage();
  const whoareyou = replaySpecWhoareyou();
  const knownHandshake = known.packets.find((p) => p.vector?.part === 'packet');
  const result: ReplayInfo = {
    packets: run.packets.map((p) => ({
      sender: p.sender,
      record: info(p.record, p.sender === 'A' ? idB : idA),
      ...(p.vector ? { vector: { name: p.vector.name, part: p.vector.part, hex: toHex(p.vector.bytes), matches: p.vector.matches } } : {}),
      trace: p.trace,
    })),
    nodeA: { enrText: encodeEnrText(run.nodeA.enr), nodeId: idA, privateKey: toHex(run.nodeA.privateKey) },
    nodeB: { enrText: encodeEnrText(run.nodeB.enr), nodeId: idB, privateKey: toHex(run.nodeB.privateKey) },
    checks: [
      { name: 'ping-message (random packet, zero key)', matches: ping.matches, size: ping.vector.length },
      { name: 'whoareyou (A challenges B)', matches: whoareyou.matches, size: whoareyou.vector.length },
      { name: 'ping-handshake (B already knows A)', matches: !!knownHandshake?.vector?.matches, size: knownHandshake?.record.raw.length ?? 0 },
    ],
    allMatch: run.allMatch && ping.matches && whoareyou.matches && !!knownHandshake?.vector?.matches,
    source: SPEC_VECTORS.source,
  };
  post({ type: 'replay', replay: result });
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'init':
      post({ type: 'scenarios', list: DISCV5_SCENARIOS.map((s) => ({ name: s.name, checks: s.checks })) });
      privateKey = msg.privateKey;
      enrSeq = msg.enrSeq;
      tunnelUrl = msg.tunnelUrl;
      void connect();
      return;
    case 'set-key':
      privateKey = msg.privateKey;
      enrSeq = msg.enrSeq;
      restart();
      return;
    case 'reconnect':
      if (!tunnel) void connect();
      return;
    case 'command':
      return command(msg);
    case 'step-mode':
      return setStepMode(msg.on);
    case 'step':
      return step();
    case 'play':
      playing = msg.playing && stepMode;
      playDelayMs = Math.max(100, Math.min(10_000, msg.delayMs));
      if (!playing) {
        clearTimeout(playTimer);
        playTimer = undefined;
      }
      schedulePlay();
      return;
    case 'replay':
      return replay();
    case 'conformance':
      if (stepMode) return updateConformance({ type: 'stopped', reason: 'turn Step off first: the scenarios wait on a running clock' });
      void runConformance(msg.target);
      return;
    case 'conformance-stop':
      conformance?.stop('stopped by you');
      return;
    case 'btc-handshake':
      void btcHandshake(msg);
      return;
    case 'btc-listen':
      void btcListen(msg);
      return;
    case 'p2p-dial':
      void p2pDial(msg);
      return;
    case 'rlpx-handshake':
      void rlpxHandshake(msg);
      return;
    case 'rlpx-listen':
      void rlpxListen(msg);
      return;
    case 'discv4':
      void discv4Command(msg);
      return;
    case 'discv4-open':
      void discv4Host();
      return;
  }
};

// Messages between the page and the node worker (web/worker/node.worker.ts). Everything here
// survives structured clone: Uint8Array, bigint and plain objects, no classes or functions.
import type { ScenarioResult } from '../../shared/discv5/conformance/runner.ts';
import type { PacketRecord } from '../../shared/discv5/engine.ts';
import type { NodeEvent } from '../../shared/discv5/node.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import type { Endpoint } from '../../shared/transport.ts';
import type { RlpxDetail } from '../../shared/rlpx/engine.ts';

/**
 * A wire record as the page keeps it, for any protocol: discv5's engine record minus the decoded
 * Packet (re-derived on demand), or a stream protocol's message with its connection.
 */
export interface PacketInfo extends Omit<PacketRecord, 'packet' | 'kind'> {
  /** The protocol registry's id (web/protocols); absent in sessions from before there were several: discv5. */
  protocol?: string;
  /** discv5: random, ordinary, WHOAREYOU, handshake; Bitcoin: the command. */
  kind?: string;
  /** One line: "version 70016 /Satoshi:27.0.0/ height 870000". */
  summary?: string;
  /** RLPx: the decrypted layers the engine kept (auth/ack body, frame header and data). */
  rlpx?: RlpxDetail;
  /** The TCP connection a stream protocol's message travelled on, and where in it. */
  conn?: string;
  streamOffset?: number;
  /** discv5: the id the header was masked with (the peer's for packets out, ours for packets in); '' otherwise. */
  destId: string;
  /** Step mode: computed but not sent yet (out), shown dashed until released. */
  held?: boolean;
  /** libp2p: plaintext bytes that finish a frame of an earlier Noise message; each yamux stream's protocol; a Noise message's decrypted static key. */
  continues?: number;
  streams?: Record<number, string>;
  noiseStatic?: Uint8Array;
  /** A packet of the conformance tester (one of its throw-away identities), not of your node. */
  tester?: { conn: string; scenario: string };
}

export type TunnelState = 'connecting' | 'open' | 'closed';

export interface StatusInfo {
  state: TunnelState;
  /** Plain words: why it is closed, what happens next. */
  detail: string;
  /** When closed: the next reconnection attempt, in ms from now. */
  retryInMs?: number;
  attempt?: number;
}

export type Action =
  | { action: 'ping' }
  | { action: 'findnode'; distances: number[] }
  | { action: 'talkreq'; protocol: string; request: Uint8Array }
  | { action: 'drop' }
  | { action: 'lookup'; targetId: Uint8Array };

export type ToWorker =
  /** enrSeq: the seq of the first record; above any this key used before, so peers take the new one. */
  | { type: 'init'; privateKey: Uint8Array; enrSeq: bigint; tunnelUrl: string }
  | { type: 'set-key'; privateKey: Uint8Array; enrSeq: bigint }
  | ({ type: 'command'; id: number; target: string } & Action)
  | { type: 'step-mode'; on: boolean }
  | { type: 'step' }
  | { type: 'play'; playing: boolean; delayMs: number }
  | { type: 'reconnect' }
  | { type: 'replay' }
  /** Run go-ethereum's conformance scenarios against a node (enr: or enode:// text). */
  | { type: 'conformance'; target: string }
  | { type: 'conformance-stop' }
  /** Bitcoin's version/verack with a host (name or IP, optional :port) on a network. */
  | { type: 'btc-handshake'; id: number; target: string; network: string }
  /** Open the page's TCP listener (the recipient role); the answer is 'btc-listening'. */
  | { type: 'btc-listen'; id: number; network: string }
  /** libp2p: dial a multiaddr or an ENR (multistream → Noise XX → yamux → ping). */
  | { type: 'p2p-dial'; id: number; target: string }
  /** RLPx with an execution node (enode or ENR text): Hello then Status (or Ping). */
  | { type: 'rlpx-handshake'; id: number; target: string; goal: 'ping' | 'status'; network: string }
  /** Open (or re-aim) the page's one TCP listener for RLPx; the answer is 'btc-listening' (the same listener). */
  | { type: 'rlpx-listen'; id: number; network: string }
  /** discv4 with a node (enode:// or enr: text); lookup's targetKey: 128 hex digits, random when absent. */
  | { type: 'discv4'; id: number; action: Discv4Action; target: string; targetKey?: string }
  /** Open the page's discv4 socket on the bridge (once): the answer is 'discv4-identity'. */
  | { type: 'discv4-open' };

export type Discv4Action = 'ping' | 'findnode' | 'requestenr' | 'lookup';

/** A discv4 node as the page lists it (routing table, NEIGHBORS answers). */
export interface Discv4NodeInfo {
  nodeId: string;
  enode: string;
  endpoint: string;
  verified: boolean;
}

/** How a conformance run is going, as the worker tells it. */
export type ConformanceUpdate =
  | { type: 'started'; sources: string; noSecondary?: string }
  | { type: 'scenario-start'; name: string }
  | { type: 'step'; scenario: string; text: string }
  | { type: 'scenario-end'; result: ScenarioResult }
  | { type: 'done'; results: ScenarioResult[] }
  | { type: 'stopped'; reason: string };

/** What is waiting for the user in step mode, oldest first. */
export interface HeldItem {
  direction: 'out' | 'in';
  size: number;
  peer: Endpoint;
  /** For packets out: the packet's seq (its record is already on the page). */
  seq?: number;
  /** A datagram, or bytes of a TCP connection (which may hold part of a message, or several). */
  transport?: 'udp' | 'tcp';
  /** Whose bytes they are (the registry's id), for the explanation. */
  protocol?: string;
}

export type CommandOutcome =
  | { ok: true; summary: string; rttMs?: number; detail?: Record<string, string>; consensus?: ConsensusPeer[] }
  | { ok: false; reason: string };

/** A lookup's find that a consensus client would dial: its ENR has an eth2 entry and a tcp port. */
export interface ConsensusPeer {
  enr: string;
  nodeId: string;
  /** ip:tcp */
  address: string;
  eth2: string;
}

export interface ReplayPacketInfo {
  sender: 'A' | 'B';
  record: PacketInfo;
  vector?: { name: string; part: 'packet' | 'challenge-data'; hex: string; matches: boolean };
  trace: TraceRecord[];
}

export interface ReplayInfo {
  packets: ReplayPacketInfo[];
  nodeA: { enrText: string; nodeId: string; privateKey: string };
  nodeB: { enrText: string; nodeId: string; privateKey: string };
  /** The extra single-packet vectors of the spec, each made by a real engine. */
  checks: { name: string; matches: boolean; size: number }[];
  allMatch: boolean;
  source: string;
}

/** Node events other than packets (those come as 'packet'). */
export type OtherEvent = Exclude<NodeEvent, { type: 'packet' }>;

/** What the worker posts: its messages of one turn, in order. */
export interface WorkerBatch {
  type: 'batch';
  items: FromWorker[];
}

export type FromWorker =
  | { type: 'status'; status: StatusInfo }
  | { type: 'identity'; enrText: string; nodeId: string; seq: bigint; local: Endpoint }
  | { type: 'packet'; packet: PacketInfo }
  | { type: 'released'; seq: number }
  | { type: 'held'; items: HeldItem[]; clockPaused: boolean }
  | { type: 'trace'; record: TraceRecord }
  | { type: 'event'; event: OtherEvent; at: number }
  | { type: 'notice'; level: 'error' | 'info' | 'ok'; text: string; at: number; lane?: string; afterSeq?: number; protocol?: string }
  | { type: 'btc-listening'; id: number; ip?: string; port?: number; error?: string }
  /** The conformance scenarios the worker can run (the page lists them before a run). */
  | { type: 'scenarios'; list: { name: string; checks: string }[] }
  | { type: 'result'; id: number; outcome: CommandOutcome }
  | { type: 'conformance'; update: ConformanceUpdate; at: number }
  | { type: 'replay'; replay: ReplayInfo }
  /** The page's discv4 socket on the bridge and the enode it answers as. */
  | { type: 'discv4-identity'; local?: Endpoint; enode?: string; error?: string }
  | { type: 'discv4-result'; id: number; outcome: CommandOutcome; nodes?: Discv4NodeInfo[] }
  /** The discv4 routing table after a change, bucket by bucket (nearest first). */
  | { type: 'discv4-table'; buckets: { distance: number; nodes: Discv4NodeInfo[] }[] }
  | { type: 'discv4-lookup'; lookupId: number; target: string; event: 'queried' | 'answered' | 'failed' | 'done'; node?: string; newNodes?: number; closest?: { nodeId: string; distance: number }[] }
  /** `{peer}` in the text stands for the node `lane` names (the page knows its name). */
  | { type: 'discv4-note'; level: 'error' | 'info' | 'ok'; text: string; at: number; lane?: string };

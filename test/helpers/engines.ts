// In-memory discv5 peers for deterministic engine tests: engines exchange datagrams through a
// wire the test controls (deliver, drop, replay), with a clock the test advances.
import { createEnr, type Enr } from '../../shared/enr/index.ts';
import { randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { Discv5Engine, contactFromEnr, type EngineConfig, type EngineEvent, type NodeContact, type Output, type PacketRecord } from '../../shared/discv5/engine.ts';
import type { Endpoint } from '../../shared/transport.ts';
import { endpointKey } from '../../shared/transport.ts';
import { prng } from './prng.ts';

export interface Peer {
  engine: Discv5Engine;
  key: Uint8Array;
  enr: Enr;
  endpoint: Endpoint;
  contact: NodeContact;
  events: EngineEvent[];
}

let port = 40000;

export function makePeer(seed: number, config: Partial<EngineConfig> = {}, endpoint?: Endpoint): Peer {
  const gen = prng(seed);
  const random = (n: number) => gen.bytes(n);
  const key = config.privateKey ?? randomPrivateKey(random);
  const ep = endpoint ?? { ip: '127.0.0.1', port: port++ };
  const enr = config.enr ?? createEnr({ privateKey: key, ip: ep.ip, udp: ep.port });
  const engine = new Discv5Engine({ random, ...config, privateKey: key, enr });
  return { engine, key, enr, endpoint: ep, contact: contactFromEnr(enr)!, events: [] };
}

/** A datagram in flight. */
export interface Flight {
  from: Peer;
  to: Endpoint;
  bytes: Uint8Array;
}

export class Wire {
  now = 1000;
  readonly inFlight: Flight[] = [];
  readonly log: { from: string; to: string; record?: PacketRecord }[] = [];
  constructor(readonly peers: Peer[]) {}

  /** Records an engine's output: its datagrams go in flight, its events to the peer. */
  take(from: Peer, out: Output): Output {
    from.events.push(...out.events);
    for (const s of out.send) this.inFlight.push({ from, to: s.to, bytes: s.bytes });
    return out;
  }

  command(from: Peer, cmd: Parameters<Discv5Engine['command']>[0]): Output {
    return this.take(from, from.engine.command(cmd, this.now));
  }

  /** Delivers the oldest datagram in flight (optionally dropping it instead). */
  step(drop = false): Flight | undefined {
    const f = this.inFlight.shift();
    if (!f || drop) return f;
    this.deliver(f);
    return f;
  }

  deliver(f: Flight): Output | undefined {
    const to = this.peers.find((p) => endpointKey(p.endpoint) === endpointKey(f.to));
    if (!to) return undefined;
    this.now += 1;
    return this.take(to, to.engine.receive(f.bytes, f.from.endpoint, this.now));
  }

  /** Delivers until nothing is in flight (bounded). */
  run(limit = 100): void {
    for (let i = 0; i < limit && this.inFlight.length > 0; i++) this.step();
  }

  advance(ms: number): void {
    this.now += ms;
    for (const p of this.peers) this.take(p, p.engine.tick(this.now));
  }
}

export const eventsOf = <T extends EngineEvent['type']>(p: Peer, type: T) => p.events.filter((e): e is Extract<EngineEvent, { type: T }> => e.type === type);
export const packetsOf = (p: Peer, direction?: 'in' | 'out') => eventsOf(p, 'packet').map((e) => e.packet).filter((r) => !direction || r.direction === direction);

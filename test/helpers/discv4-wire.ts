// In-memory discv4 peers for deterministic engine tests: engines exchange datagrams through a
// wire the test controls (deliver, drop), with a clock the test advances.
import { createEnr } from '../../shared/enr/index.ts';
import { randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { Discv4Engine, type Discv4Command, type Discv4Config, type Discv4Event } from '../../shared/discv4/engine.ts';
import type { Discv4Node } from '../../shared/discv4/node.ts';
import type { EngineOutput, WireRecord } from '../../shared/engine.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import { endpointKey, type Endpoint } from '../../shared/transport.ts';
import { prng } from './prng.ts';

export interface V4Peer {
  engine: Discv4Engine;
  key: Uint8Array;
  endpoint: Endpoint;
  node: Discv4Node;
  events: Discv4Event[];
  records: WireRecord[];
  trace: TraceRecord[];
}

export function makeV4Peer(seed: number, port: number, config: Partial<Discv4Config> = {}, ip = '127.0.0.1'): V4Peer {
  const gen = prng(seed);
  const random = (n: number) => gen.bytes(n);
  const key = config.privateKey ?? randomPrivateKey(random);
  const enr = createEnr({ privateKey: key, ...(ip.includes(':') ? { ip6: ip, udp6: port, tcp6: port } : { ip, udp: port, tcp: port }) });
  const engine = new Discv4Engine({ random, enr, endpoint: { ip, udp: port, tcp: port }, ...config, privateKey: key });
  return { engine, key, endpoint: { ip, port }, node: { nodeId: engine.nodeId, publicKey: engine.publicKey, ip, udp: port, tcp: port }, events: [], records: [], trace: [] };
}

export interface Flight {
  from: V4Peer;
  to: Endpoint;
  bytes: Uint8Array;
}

export class V4Wire {
  /** Wall-clock-like ms: expiration is checked against it. */
  now = 1_800_000_000_000;
  readonly inFlight: Flight[] = [];
  constructor(readonly peers: V4Peer[]) {}

  take(from: V4Peer, out: EngineOutput<Discv4Event>): EngineOutput<Discv4Event> {
    from.events.push(...out.events);
    from.records.push(...out.records);
    from.trace.push(...out.trace);
    for (const t of out.transmits) if (t.type === 'datagram') this.inFlight.push({ from, to: t.to, bytes: t.bytes });
    return out;
  }

  command(from: V4Peer, command: Discv4Command): EngineOutput<Discv4Event> {
    return this.take(from, from.engine.handle({ type: 'command', command }, this.now));
  }

  deliver(f: Flight, fromEndpoint = f.from.endpoint): EngineOutput<Discv4Event> | undefined {
    const to = this.peers.find((p) => endpointKey(p.endpoint) === endpointKey(f.to));
    if (!to) return undefined;
    this.now += 1;
    return this.take(to, to.engine.handle({ type: 'datagram', from: fromEndpoint, bytes: f.bytes }, this.now));
  }

  step(drop = false): Flight | undefined {
    const f = this.inFlight.shift();
    if (f && !drop) this.deliver(f);
    return f;
  }

  /** Delivers until nothing is in flight, running timers as they fall due (bounded). */
  run(limit = 500): void {
    for (let i = 0; i < limit; i++) {
      if (this.inFlight.length > 0) {
        this.step();
        continue;
      }
      const next = Math.min(...this.peers.map((p) => p.engine.nextDeadline() ?? Infinity));
      if (next === Infinity) return;
      this.advanceTo(next);
    }
  }

  advanceTo(t: number): void {
    this.now = Math.max(this.now, t);
    for (const p of this.peers) this.take(p, p.engine.tick(this.now));
  }
}

export const v4Events = <T extends Discv4Event['type']>(p: V4Peer, type: T) => p.events.filter((e): e is Extract<Discv4Event, { type: T }> => e.type === type);

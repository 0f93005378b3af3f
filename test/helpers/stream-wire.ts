// Two sans-IO stream engines joined in memory: connects become linked connection pairs,
// writes arrive as data on the other side (optionally cut into chunks the test chooses),
// closes arrive as "remote ended" then "closed". A clock the test advances.
import type { ConnectionId, Engine, EngineOutput, WireRecord } from '../../shared/engine.ts';
import type { Endpoint } from '../../shared/transport.ts';

export interface Side<C, E> {
  name: string;
  engine: Engine<C, E>;
  endpoint: Endpoint;
  events: E[];
  records: WireRecord[];
  /** Bytes this side wrote, per connection, in order. */
  written: Map<ConnectionId, Uint8Array[]>;
}

export const side = <C, E>(name: string, engine: Engine<C, E>, endpoint: Endpoint): Side<C, E> => ({ name, engine, endpoint, events: [], records: [], written: new Map() });

type Link = { side: Side<any, any>; conn: ConnectionId };

export class StreamWire {
  now = 1_000_000;
  private readonly links = new Map<string, Link>();
  private nextInbound = 1;
  /** Pending deliveries, in order. */
  private readonly queue: (() => void)[] = [];
  /** How writes are cut before delivery (default: as written). */
  split: (bytes: Uint8Array) => Uint8Array[] = (b) => [b];
  /** Connects to these endpoints fail with this reason. */
  refuse = new Set<string>();

  constructor(readonly sides: Side<any, any>[]) {}

  command<C, E>(s: Side<C, E>, command: C): void {
    this.take(s, s.engine.handle({ type: 'command', command }, this.now));
  }

  tick<C, E>(s: Side<C, E>): void {
    this.take(s, s.engine.tick(this.now));
  }

  /** Runs deliveries until nothing is in flight (bounded). */
  run(max = 10_000): void {
    for (let i = 0; i < max && this.queue.length > 0; i++) this.queue.shift()!();
  }

  /** Delivers raw bytes to a side's connection as if its peer had written them. */
  inject<C, E>(s: Side<C, E>, conn: ConnectionId, bytes: Uint8Array): void {
    for (const chunk of this.split(bytes)) this.take(s, s.engine.handle({ type: 'stream-data', conn, bytes: chunk }, this.now));
  }

  /** The other end of a connection, for tests that play the peer by hand. */
  peerOf(s: Side<any, any>, conn: ConnectionId): Link | undefined {
    return this.links.get(`${s.name}/${conn}`);
  }

  take<C, E>(s: Side<C, E>, out: EngineOutput<E>): void {
    s.events.push(...out.events);
    s.records.push(...out.records);
    for (const t of out.transmits) {
      if (t.type === 'connect') {
        const target = this.sides.find((o) => o !== s && o.endpoint.ip === t.to.ip && o.endpoint.port === t.to.port);
        if (!target || this.refuse.has(`${t.to.ip}:${t.to.port}`)) {
          this.queue.push(() => this.take(s, s.engine.handle({ type: 'stream-failed', conn: t.conn, reason: 'refused' }, this.now)));
          continue;
        }
        const inbound = `in-${this.nextInbound++}`;
        this.links.set(`${s.name}/${t.conn}`, { side: target, conn: inbound });
        this.links.set(`${target.name}/${inbound}`, { side: s, conn: t.conn });
        this.queue.push(() => this.take(target, target.engine.handle({ type: 'stream-opened', conn: inbound, remote: s.endpoint, direction: 'inbound' }, this.now)));
        this.queue.push(() => this.take(s, s.engine.handle({ type: 'stream-opened', conn: t.conn, remote: t.to, direction: 'outbound' }, this.now)));
        // Bytes sent with the connect arrive first, once both ends are open.
        if (t.initialData) {
          const bytes = t.initialData;
          const list = s.written.get(t.conn) ?? [];
          list.push(bytes);
          s.written.set(t.conn, list);
          for (const chunk of this.split(bytes)) this.queue.push(() => this.take(target, target.engine.handle({ type: 'stream-data', conn: inbound, bytes: chunk }, this.now)));
        }
      } else if (t.type === 'stream-write') {
        const list = s.written.get(t.conn) ?? [];
        list.push(t.bytes);
        s.written.set(t.conn, list);
        const peer = this.links.get(`${s.name}/${t.conn}`);
        if (!peer) continue;
        for (const chunk of this.split(t.bytes)) this.queue.push(() => this.take(peer.side, peer.side.engine.handle({ type: 'stream-data', conn: peer.conn, bytes: chunk }, this.now)));
      } else if (t.type === 'stream-close' || t.type === 'stream-end') {
        const peer = this.links.get(`${s.name}/${t.conn}`);
        if (t.type === 'stream-close') this.links.delete(`${s.name}/${t.conn}`);
        if (!peer) continue;
        this.queue.push(() => this.take(peer.side, peer.side.engine.handle({ type: 'stream-remote-ended', conn: peer.conn }, this.now)));
        if (t.type === 'stream-close') {
          this.links.delete(`${peer.side.name}/${peer.conn}`);
          this.queue.push(() => this.take(peer.side, peer.side.engine.handle({ type: 'stream-closed', conn: peer.conn, reason: 'closed' }, this.now)));
        }
      }
    }
  }
}

// What a capture needs to know about each TCP connection that the wire records do not say:
// who dialled, when, and how it ended. Read off the stream events going into an engine and the
// transmits coming out, so it works for every stream protocol alike.
import type { ConnectionId, EngineInput, Transmit } from '../engine.ts';
import type { ConnectionInfo } from '../pcapng.ts';

export class ConnectionLog {
  readonly connections = new Map<ConnectionId, ConnectionInfo>();
  /** Connects sent and not yet answered: the SYN left then. */
  private readonly dialling = new Map<ConnectionId, number>();

  input(input: EngineInput<unknown>, now: number): void {
    switch (input.type) {
      case 'stream-opened':
        this.connections.set(input.conn, {
          remote: input.remote,
          opener: input.direction === 'outbound' ? 'local' : 'remote',
          openedAt: this.dialling.get(input.conn) ?? now,
        });
        this.dialling.delete(input.conn);
        break;
      case 'stream-failed':
        this.dialling.delete(input.conn);
        break;
      case 'stream-remote-ended':
        this.end(input.conn, { by: 'remote', at: now });
        break;
      case 'stream-closed':
        this.end(input.conn, { by: 'remote', at: now, ...(input.reason === 'reset' ? { reset: true } : {}) });
        break;
    }
  }

  transmits(transmits: readonly Transmit[], now: number): void {
    for (const t of transmits) {
      if (t.type === 'connect') this.dialling.set(t.conn, now);
      else if (t.type === 'stream-close' || t.type === 'stream-end') this.end(t.conn, { by: 'local', at: now });
    }
  }

  /** The first side to end a connection is the one that closed it. */
  private end(conn: ConnectionId, closed: NonNullable<ConnectionInfo['closed']>): void {
    const c = this.connections.get(conn);
    if (c && !c.closed) c.closed = closed;
  }
}

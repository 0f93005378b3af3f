// What every TCP protocol's engine does the same way: route the driver's stream inputs to its
// handlers (saying in words why a stream ended), and find the earliest connection deadline.
import type { ConnectionId, EngineInput } from './engine.ts';
import type { Endpoint, StreamEndReason } from './transport.ts';

export interface StreamHandlers<Command> {
  command(cmd: Command, now: number): void;
  opened(conn: ConnectionId, remote: Endpoint, direction: 'outbound' | 'inbound', now: number): void;
  data(conn: ConnectionId, bytes: Uint8Array, now: number): void;
  /** `closeOurSide`: the peer half-closed and our side is still open. */
  ended(conn: ConnectionId, why: string, now: number, reason: StreamEndReason, closeOurSide?: boolean): void;
}

export function routeStreamInput<Command>(input: EngineInput<Command>, now: number, h: StreamHandlers<Command>): void {
  switch (input.type) {
    case 'command':
      return h.command(input.command, now);
    case 'stream-opened':
      return h.opened(input.conn, input.remote, input.direction, now);
    case 'stream-data':
      return h.data(input.conn, input.bytes, now);
    case 'stream-remote-ended':
      // Our side is still open (half-close): close it too, or the socket outlives the connection.
      return h.ended(input.conn, 'the peer closed the connection', now, 'closed', true);
    case 'stream-closed':
      return h.ended(input.conn, `connection ${input.reason}${input.detail ? ` (${input.detail})` : ''}`, now, input.reason);
    case 'stream-failed':
      // "refused" and "timed-out" say it all; other reasons carry their detail.
      return h.ended(input.conn, `connect: ${input.reason}${input.detail && (input.reason === 'error' || input.reason === 'policy') ? ` (${input.detail})` : ''}`, now, input.reason);
    case 'datagram':
      return; // stream protocols take no datagrams
  }
}

export function earliestDeadline(conns: Iterable<{ deadline?: number }>): number | undefined {
  let next: number | undefined;
  for (const c of conns) if (c.deadline !== undefined && (next === undefined || c.deadline < next)) next = c.deadline;
  return next;
}

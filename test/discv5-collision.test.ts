// Two nodes that start a handshake with each other at the same moment (two pages looking each
// other up in a room): each answers the other's random packet with WHOAREYOU, each sends a
// handshake, and each ends with the session the other's handshake made. The answers each side
// sealed under the session it had a moment before must still be read: both requests complete,
// nothing times out. Found by bench:room (lookups timing out on FINDNODE between participants).
import { describe, expect, it } from 'vitest';
import { Wire, eventsOf, makePeer } from './helpers/engines.ts';

describe('discv5 crossing handshakes', () => {
  for (const [name, a, b] of [
    ['PING × PING', { type: 'ping' }, { type: 'ping' }],
    ['FINDNODE × PING', { type: 'findnode', distances: [256] }, { type: 'ping' }],
  ] as const) {
    it(`${name}: both requests answered, no timeout`, () => {
      const A = makePeer(101);
      const B = makePeer(202);
      const wire = new Wire([A, B]);
      wire.command(A, { ...a, to: B.contact } as Parameters<typeof wire.command>[1]);
      wire.command(B, { ...b, to: A.contact } as Parameters<typeof wire.command>[1]);
      // Packets cross: each side's next packet is in flight before the other's arrives.
      for (let i = 0; i < 40; i++) {
        wire.run(40);
        if (eventsOf(A, 'response').length && eventsOf(B, 'response').length) break;
        wire.advance(500);
      }
      expect(eventsOf(A, 'timeout')).toEqual([]);
      expect(eventsOf(B, 'timeout')).toEqual([]);
      expect(eventsOf(A, 'response').map((e) => e.request.type)).toEqual([a.type.toUpperCase()]);
      expect(eventsOf(B, 'response').map((e) => e.request.type)).toEqual([b.type.toUpperCase()]);
    });
  }
});

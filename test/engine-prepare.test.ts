// Discv5Engine.prepareHandshakes(): the ephemeral key and its ECDH made while the random packet
// is in flight, used by the one handshake that follows, and never again.
import { describe, expect, it } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { contactFromEnr, Discv5Engine, type EngineEvent, type Output } from '../shared/discv5/engine.ts';
import { createEnr } from '../shared/enr/index.ts';
import { secureRandom, type RandomSource } from '../shared/random.ts';

const A = { ip: '127.0.0.1', port: 30401 };
const B = { ip: '127.0.0.1', port: 30402 };

/** The platform CSPRNG, with a log of the 32-byte draws (ephemeral keys). */
function loggedRandom(): { random: RandomSource; keys: string[] } {
  const keys: string[] = [];
  return {
    keys,
    random: (n) => {
      const b = secureRandom(n);
      if (n === 32) keys.push(toHex(b));
      return b;
    },
  };
}

function engine(port: number, random?: RandomSource) {
  const privateKey = randomPrivateKey(secureRandom);
  return new Discv5Engine({ privateKey, enr: createEnr({ privateKey, ip: '127.0.0.1', udp: port }), ...(random ? { random } : {}) });
}

const ephemeralOf = (o: Output) => o.trace.find((t) => t.step === 'ephemeral-key')?.outputs.find((v) => v.name === 'ephemeral-key')?.hex;
const secretOf = (o: Output) => o.trace.find((t) => t.step === 'ecdh')?.outputs[0]?.hex;
const responses = (o: Output) => o.events.filter((e): e is Extract<EngineEvent, { type: 'response' }> => e.type === 'response');

describe('prepareHandshakes', () => {
  it('the handshake uses the key made ahead, and both sides agree', () => {
    const log = loggedRandom();
    const a = engine(A.port, log.random);
    const b = engine(B.port);
    const first = a.command({ type: 'ping', to: contactFromEnr(b.enr)! }, 0);
    const drawsBefore = log.keys.length;
    a.prepareHandshakes();
    expect(log.keys.length).toBe(drawsBefore + 1);
    const prepared = log.keys.at(-1);
    a.prepareHandshakes(); // idempotent: one key per pending handshake
    expect(log.keys.length).toBe(drawsBefore + 1);

    const challenge = b.receive(first.send[0].bytes, A, 1);
    const handshake = a.receive(challenge.send[0].bytes, B, 2);
    expect(log.keys.length).toBe(drawsBefore + 1); // nothing drawn on arrival
    expect(ephemeralOf(handshake)).toBe(prepared);
    const bSide = b.receive(handshake.send[0].bytes, A, 3);
    // Both ECDH computations give the same shared secret.
    expect(secretOf(bSide)).toBe(secretOf(handshake));
    const pong = a.receive(bSide.send[0].bytes, B, 4);
    expect(responses(pong).map((r) => r.response.type)).toEqual(['PONG']);
  });

  it('a prepared key serves one handshake only; without preparing, a fresh key is made on arrival', () => {
    const log = loggedRandom();
    const a = engine(A.port, log.random);
    const b = engine(B.port);
    const run = (prepare: boolean) => {
      a.command({ type: 'drop-session', nodeId: b.localId }, 10);
      const first = a.command({ type: 'ping', to: contactFromEnr(b.enr)! }, 10);
      if (prepare) a.prepareHandshakes();
      const challenge = b.receive(first.send[0].bytes, A, 11);
      const handshake = a.receive(challenge.send[0].bytes, B, 12);
      const pong = a.receive(b.receive(handshake.send[0].bytes, A, 13).send[0].bytes, B, 14);
      expect(responses(pong)).toHaveLength(1);
      return ephemeralOf(handshake);
    };
    const k1 = run(true);
    const k2 = run(false);
    const k3 = run(true);
    expect(new Set([k1, k2, k3]).size).toBe(3);
    expect(log.keys).toContain(k2);
  });

  it('does nothing for requests already in a session', () => {
    const log = loggedRandom();
    const a = engine(A.port, log.random);
    const b = engine(B.port);
    const first = a.command({ type: 'ping', to: contactFromEnr(b.enr)! }, 0);
    const hs = a.receive(b.receive(first.send[0].bytes, A, 1).send[0].bytes, B, 2);
    a.receive(b.receive(hs.send[0].bytes, A, 3).send[0].bytes, B, 4);
    a.command({ type: 'ping', to: contactFromEnr(b.enr)! }, 5); // in the session: an ordinary packet
    const draws = log.keys.length;
    a.prepareHandshakes();
    expect(log.keys.length).toBe(draws);
  });
});

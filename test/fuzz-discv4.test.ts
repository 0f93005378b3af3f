// Fuzzing discv4 with hostile datagrams: random bytes and mutations of real packets of all six
// types (truncated, bit-flipped, bytes inserted, trailing data, type changed, RLP replaced),
// a quarter of them with the outer hash recomputed so they get past the first check. Every datagram
// is either refused with a reason — changing no state and sending nothing — or is a valid packet
// the engine treats as such. Nothing may throw, from the decoder, the dissector or the engine.
import { describe, expect, it } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { keccak256 } from '../shared/crypto/hashes.ts';
import { encodePacket, type Discv4Message } from '../shared/discv4/packet.ts';
import { dissectDiscv4 } from '../shared/discv4/dissect-packet.ts';
import { wireKey } from '../shared/discv4/node.ts';
import type { Discv4Engine } from '../shared/discv4/engine.ts';
import { makeV4Peer, V4Wire } from './helpers/discv4-wire.ts';
import { prng, type Prng } from './helpers/prng.ts';

const PACKETS = Number(process.env.FUZZ_PACKETS ?? 100_000);

/** The state a refused packet must not touch (private fields, read for the test). */
function digest(engine: Discv4Engine): string {
  const e = engine as unknown as { proofs: { entries(): Iterable<[string, { ip: string; pongAt?: number; pingAt?: number; enrSeq?: bigint }]> }; jobs: Map<number, { phase: string; deadline: number; packets: number; nodes: unknown[] }>; lookups: Map<number, unknown> };
  const proofs = [...e.proofs.entries()].map(([k, p]) => `${k}=${p.ip}/${p.pongAt}/${p.pingAt}/${p.enrSeq}`).join('|');
  const jobs = [...e.jobs.entries()].map(([k, j]) => `${k}=${j.phase}/${j.deadline}/${j.packets}/${j.nodes.length}`).join('|');
  return `${proofs}#${jobs}#${e.lookups.size}#${engine.table.version}`;
}

function mutate(rng: Prng, base: Uint8Array): Uint8Array {
  let b = base.slice();
  switch (rng.int(7)) {
    case 0:
      b = b.subarray(0, rng.int(b.length));
      break;
    case 1:
      for (let i = 0, n = 1 + rng.int(4); i < n; i++) b[rng.int(b.length)] ^= 1 << rng.int(8);
      break;
    case 2: {
      const at = rng.int(b.length);
      b = Uint8Array.from([...b.subarray(0, at), ...rng.bytes(1 + rng.int(8)), ...b.subarray(at)]);
      break;
    }
    case 3:
      b = Uint8Array.from([...b, ...rng.bytes(1 + rng.int(1400))]); // trailing data, sometimes past 1280
      break;
    case 4:
      b[97] = rng.int(256);
      break;
    case 5: {
      // Replace part of packet-data with random bytes (RLP headers included).
      const at = 98 + rng.int(Math.max(1, b.length - 98));
      b.set(rng.bytes(Math.min(b.length - at, 1 + rng.int(16))), at);
      break;
    }
    case 6:
      b[98 + rng.int(Math.max(1, b.length - 98))] = 0xb8 + rng.int(8); // a long-form length prefix
      break;
  }
  if (rng.int(4) === 0 && b.length >= 32) b.set(keccak256(b.subarray(32)), 0);
  return b;
}

describe('discv4 fuzz', () => {
  it(`${PACKETS} hostile datagrams: refused without a state change, or handled as valid packets; nothing throws`, () => {
    const rng = prng(404);
    const b = makeV4Peer(2, 30302);
    // A fresh target every CHUNK packets keeps its state (and the digest) small; each has a PING
    // in flight to B, so PONGs may match.
    const CHUNK = 500;
    let a = makeV4Peer(1, 30301, { requestTimeoutMs: 10_000_000, retries: 0 });
    let wire = new V4Wire([a, b]);
    const target = () => {
      a = makeV4Peer(1, 30301, { requestTimeoutMs: 10_000_000, retries: 0 });
      wire = new V4Wire([a, b]);
      wire.command(a, { type: 'ping', to: b.node, requestId: 1 });
      wire.inFlight.length = 0;
    };
    target();
    const pingHash = a.records[0].raw.subarray(0, 32);
    const exp = Math.floor(wire.now / 1000) + 3600;
    const messages: Discv4Message[] = [
      { type: 'PING', version: 4, from: { ip: '127.0.0.1', udp: 30302, tcp: 30302 }, to: { ip: '127.0.0.1', udp: 30301, tcp: 0 }, expiration: exp, enrSeq: 3n },
      { type: 'PONG', to: { ip: '127.0.0.1', udp: 30301, tcp: 0 }, pingHash, expiration: exp, enrSeq: 1n },
      { type: 'FINDNODE', target: wireKey(a.node.publicKey), expiration: exp },
      { type: 'NEIGHBORS', nodes: [{ ip: '127.0.0.1', udp: 30303, tcp: 30303, publicKey: wireKey(b.node.publicKey) }, { ip: '::1', udp: 1, tcp: 2, publicKey: rng.bytes(64) }], expiration: exp },
      { type: 'ENRRequest', expiration: exp },
      { type: 'ENRResponse', requestHash: rng.bytes(32), record: b.engine.enr!.raw },
    ];
    const real = messages.map((m) => encodePacket(m, b.key).raw);
    let refused = 0;
    let accepted = 0;
    let escapes = 0;
    for (let i = 0; i < PACKETS; i++) {
      if (i > 0 && i % CHUNK === 0) target();
      const bytes = i % 10 === 0 ? rng.bytes(rng.int(1400)) : mutate(rng, real[rng.int(real.length)]);
      const before = digest(a.engine);
      let out;
      try {
        out = a.engine.handle({ type: 'datagram', from: b.endpoint, bytes }, wire.now);
        if (i % 100 === 1) dissectDiscv4(bytes);
      } catch {
        escapes++;
        continue;
      }
      const rec = out.records.find((r) => r.direction === 'in')!;
      if (rec.rejected) {
        refused++;
        if (digest(a.engine) !== before || out.transmits.length > 0 || out.events.length > 0) throw new Error(`refused packet changed state: ${rec.rejected} ${toHex(bytes)}`);
      } else accepted++;
    }
    expect(escapes).toBe(0);
    expect(refused + accepted).toBe(PACKETS);
    expect(refused).toBeGreaterThan(PACKETS * 0.9);
    console.log(`discv4 fuzz: ${PACKETS} datagrams, ${refused} refused, ${accepted} accepted as valid, 0 escapes`);
  }, 300_000);
});

// Fuzzing the session engine with hostile datagrams: random bytes and mutations of real packets
// (truncated, bit-flipped, oversize, wrong flag, wrong authdata-size, malformed RLP sealed with
// the real session key, replayed handshakes). A second engine makes the real packets. Every
// datagram must be either refused with a reason, changing nothing, or answered the one way the
// spec allows: an ordinary packet we cannot decrypt gets a WHOAREYOU. No input may throw.
import { describe, expect, it } from 'vitest';
import { toHex, uintBytes } from '../shared/bytes.ts';
import { aesGcmSeal } from '../shared/crypto/aes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { Discv5Engine, contactFromEnr, type EngineEvent, type Output, type PacketRecord } from '../shared/discv5/engine.ts';
import { decodeMessage, encodeMessage, MESSAGE_CODES } from '../shared/discv5/messages.ts';
import { decodePacket, encodeAuthdata, encodeHeader, encodePacket, messageAd, type Packet } from '../shared/discv5/packet.ts';
import { FLAG_MESSAGE, MAX_PACKET_SIZE } from '../shared/discv5/spec.ts';
import { createEnr } from '../shared/enr/index.ts';
import { encodeListHeader, encodeRlp } from '../shared/rlp.ts';
import { endpointKey, type Endpoint } from '../shared/transport.ts';
import { prng, type Prng } from './helpers/prng.ts';

const EP_A: Endpoint = { ip: '10.0.0.1', port: 30303 };
const EP_B: Endpoint = { ip: '10.0.0.2', port: 30304 };

function makeEngine(rng: Prng, ep: Endpoint): Discv5Engine {
  const random = (n: number) => rng.bytes(n);
  const privateKey = randomPrivateKey(random);
  return new Discv5Engine({ privateKey, enr: createEnr({ privateKey, ip: ep.ip, udp: ep.port }), random, requestTimeoutMs: 1000, retries: 1 });
}

/** Delivers datagrams between the two engines until nothing is left (bounded). */
function run(engines: Map<string, Discv5Engine>, first: { from: Endpoint; out: Output }, now: number, seen: PacketRecord[] = []): EngineEvent[] {
  const events: EngineEvent[] = [];
  const queue = [first];
  for (let i = 0; i < queue.length && i < 100; i++) {
    const { from, out } = queue[i];
    events.push(...out.events);
    for (const e of out.events) if (e.type === 'packet') seen.push(e.packet);
    for (const s of out.send) {
      const to = engines.get(`${s.to.ip}:${s.to.port}`);
      if (to) queue.push({ from: s.to, out: to.receive(s.bytes, from, now) });
    }
  }
  return events;
}

/** The engine's state that a refused packet must not touch (private fields, read for the test). */
function digest(engine: Discv5Engine): { sessions: string; challenges: string; requests: string; records: string } {
  const e = engine as unknown as {
    sessions: { entries(): Iterable<[string, { readKey: Uint8Array; writeKey: Uint8Array; confirmed: boolean }]> };
    challenges: { entries(): Iterable<[string, { challengeData: Uint8Array; requestNonce: Uint8Array }]> };
    requests: Map<string, { state: string; nonce?: string }>;
    records: { entries(): Iterable<[string, { seq: bigint }]> };
  };
  const sorted = (xs: string[]) => xs.sort().join('|');
  return {
    sessions: sorted([...e.sessions.entries()].map(([k, s]) => `${k}=${toHex(s.readKey)}/${toHex(s.writeKey)}/${s.confirmed}`)),
    challenges: sorted([...e.challenges.entries()].map(([k, c]) => `${k}=${toHex(c.challengeData)}`)),
    requests: sorted([...e.requests.entries()].map(([k, r]) => `${k}=${r.state}/${r.nonce}`)),
    records: sorted([...e.records.entries()].map(([k, r]) => `${k}=${r.seq}`)),
  };
}

type Outcome = { kind: 'rejected'; reason: string } | { kind: 'whoareyou' };

describe('engine fuzz: ≥ 10,000 hostile datagrams', () => {
  it('refuses each with a reason and no state change, or answers WHOAREYOU; a ping still works afterwards', () => {
    const rng = prng(0xf022);
    const a = makeEngine(rng, EP_A);
    const b = makeEngine(rng, EP_B);
    const engines = new Map([[`${EP_A.ip}:${EP_A.port}`, a], [`${EP_B.ip}:${EP_B.port}`, b]]);
    const toA = contactFromEnr(a.enr)!;
    const toB = contactFromEnr(b.enr)!;
    let now = 1_000_000;

    // ---- real packets addressed to A, one of each kind, to mutate.
    const fromB: PacketRecord[] = [];
    const capture = (events: EngineEvent[]) => {
      for (const e of events) if (e.type === 'packet' && e.packet.direction === 'in' && e.packet.peer.ip === EP_B.ip) fromB.push(e.packet);
    };
    // A pings B cold (B's WHOAREYOU reaches A), then B asks A things in the session.
    const aPackets: PacketRecord[] = [];
    let ev = run(engines, { from: EP_A, out: a.command({ type: 'ping', to: toB }, now) }, now, aPackets);
    expect(ev.some((e) => e.type === 'response')).toBe(true);
    capture(ev);
    const sessionWrites: Uint8Array[] = [];
    const bPackets: PacketRecord[] = [];
    for (const cmd of [
      { type: 'ping' as const, to: toA },
      { type: 'findnode' as const, to: toA, distances: [0, 256] },
      { type: 'talkreq' as const, to: toA, protocol: Uint8Array.of(1), request: Uint8Array.of(2) },
    ]) {
      ev = run(engines, { from: EP_B, out: b.command(cmd, ++now) }, now, bPackets);
      expect(ev.some((e) => e.type === 'response')).toBe(true);
      capture(ev);
    }
    for (const p of bPackets) if (p.direction === 'out' && p.kind === 'ordinary' && p.messageKey) sessionWrites.push(p.messageKey);
    // B forgets the session and pings again: a random packet and a handshake reach A.
    b.command({ type: 'drop-session', nodeId: a.localId }, ++now);
    // The last challenge the attack provoked for B's address is repeated for a second (the
    // HandshakeResend rule); B, which never sent that packet, gets a fresh one after that.
    now += 1000;
    ev = run(engines, { from: EP_B, out: b.command({ type: 'ping', to: toA }, ++now) }, now, bPackets);
    expect(ev.some((e) => e.type === 'response')).toBe(true);
    capture(ev);
    const newest = bPackets.filter((p) => p.direction === 'out' && p.kind === 'handshake').at(-1)!;
    const sessionKey = newest.messageKey!; // B's initiator-key = B's write key in the current session
    const kinds = new Set(fromB.map((p) => p.kind));
    expect([...kinds].sort()).toEqual(['WHOAREYOU', 'handshake', 'ordinary']);
    const corpus = fromB.map((p) => p.raw);
    const handshakes = fromB.filter((p) => p.kind === 'handshake').map((p) => p.raw);
    expect(handshakes.length).toBeGreaterThan(0);
    expect(sessionWrites.length).toBeGreaterThan(0);
    const parsed = (raw: Uint8Array): Packet => {
      const d = decodePacket(a.localId, raw);
      if (!d.ok) throw new Error(d.error.reason);
      return d.value;
    };

    // ---- the datagrams.
    const pick = <T>(xs: T[]): T => xs[rng.int(xs.length)];
    const remask = (p: Packet, header: Uint8Array, message = p.message) => encodePacket(a.localId, p.maskingIv, header, message);
    const sealInSession = (pt: Uint8Array): Uint8Array => {
      const nonce = rng.bytes(12);
      const iv = rng.bytes(16);
      const header = encodeHeader(FLAG_MESSAGE, nonce, encodeAuthdata({ flag: FLAG_MESSAGE, srcId: b.localId }));
      return encodePacket(a.localId, iv, header, aesGcmSeal(sessionKey, nonce, pt, messageAd(iv, header)));
    };
    const reqId = () => rng.bytes(1 + rng.int(8));
    /** message-pt that decrypts fine but is not a valid message (or answers nothing of ours). */
    const badPlaintexts: (() => Uint8Array)[] = [
      // Huge RLP lengths: long-list and long-string headers claiming up to 2^64 bytes.
      () => Uint8Array.of(pick([1, 2, 3, 4, 5, 6]), 0xff, ...rng.bytes(8)),
      () => Uint8Array.of(pick([1, 3, 5]), 0xf8 + rng.int(8), ...rng.bytes(8), 0x01),
      () => Uint8Array.of(1, 0xc9, 0xbf, ...rng.bytes(8)),
      () => Uint8Array.of(4, ...encodeListHeader(0xffffff), ...encodeRlp(reqId()), 1),
      () => Uint8Array.of(4, 0xf9, 0xff, 0xff, 0x88, ...rng.bytes(8), 0x01, 0xf9, 0xff, 0xf0),
      // Unknown message types, empty message, type only, not a list.
      () => Uint8Array.of(7 + rng.int(249), ...encodeRlp([reqId(), Uint8Array.of(1)])),
      () => new Uint8Array(0),
      () => Uint8Array.of(pick([1, 2, 3, 4, 5, 6])),
      () => Uint8Array.of(pick([1, 2, 3, 4, 5, 6]), ...encodeRlp(rng.bytes(rng.int(40)))),
      // Well-formed RLP with wrong contents: request-id over 8 bytes, distances over 256, bad seq.
      () => Uint8Array.of(MESSAGE_CODES.PING, ...encodeRlp([rng.bytes(9 + rng.int(20)), Uint8Array.of(1)])),
      () => Uint8Array.of(MESSAGE_CODES.FINDNODE, ...encodeRlp([reqId(), [uintBytes(257 + rng.int(60000), 2)]])),
      () => Uint8Array.of(MESSAGE_CODES.PING, ...encodeRlp([reqId(), rng.bytes(9 + rng.int(8))])),
      () => Uint8Array.of(MESSAGE_CODES.TALKREQ, ...encodeRlp([reqId()])),
      // Trailing bytes after a valid message.
      () => Uint8Array.of(...encodeMessage({ type: 'PING', requestId: reqId(), enrSeq: 1n }), ...rng.bytes(1 + rng.int(8))),
      // Valid responses that answer nothing of A's.
      () => encodeMessage({ type: 'PONG', requestId: reqId(), enrSeq: 1n, recipientIp: '10.0.0.1', recipientPort: 1 }),
      () => encodeMessage({ type: 'NODES', requestId: reqId(), total: rng.int(300), records: [] }),
      () => encodeMessage({ type: 'TALKRESP', requestId: reqId(), response: rng.bytes(rng.int(50)) }),
    ];

    type Gen = { name: string; count: number; make: () => { bytes: Uint8Array; from: Endpoint } };
    const randomFrom = (): Endpoint => ({ ip: `10.9.${rng.int(256)}.${rng.int(256)}`, port: 1 + rng.int(65535) });
    const fromEither = (): Endpoint => (rng.int(4) === 0 ? randomFrom() : EP_B);
    const gens: Gen[] = [
      { name: 'random bytes', count: 1500, make: () => ({ bytes: rng.bytes(rng.int(1600)), from: fromEither() }) },
      { name: 'truncated', count: 1500, make: () => ({ bytes: pick(corpus).slice(0, rng.int(pick(corpus).length)), from: fromEither() }) },
      {
        name: 'bit-flipped', count: 2500, make: () => {
          const bytes = pick(corpus).slice();
          for (let f = 1 + rng.int(3); f > 0; f--) bytes[rng.int(bytes.length)] ^= 1 << rng.int(8);
          return { bytes, from: fromEither() };
        },
      },
      {
        name: 'oversize', count: 500, make: () => {
          const base = pick(corpus);
          const extra = MAX_PACKET_SIZE + 1 - base.length + rng.int(800);
          return { bytes: Uint8Array.of(...base, ...rng.bytes(extra)), from: fromEither() };
        },
      },
      { name: 'appended (≤ 1280)', count: 300, make: () => { const base = pick(corpus); return { bytes: Uint8Array.of(...base, ...rng.bytes(1 + rng.int(Math.max(1, MAX_PACKET_SIZE - base.length)))).slice(0, MAX_PACKET_SIZE), from: fromEither() }; } },
      {
        name: 'wrong flag', count: 1000, make: () => {
          const p = parsed(pick(corpus));
          const header = p.header.slice();
          header[8] = rng.int(2) ? 3 + rng.int(253) : (header[8] + 1 + rng.int(2)) % 3;
          return { bytes: remask(p, header), from: fromEither() };
        },
      },
      {
        name: 'wrong authdata-size', count: 1000, make: () => {
          const p = parsed(pick(corpus));
          const header = p.header.slice();
          const real = (header[21] << 8) | header[22];
          let size = rng.int(2) ? rng.int(65536) : Math.max(0, real + rng.int(65) - 32);
          if (size === real) size = real + 1;
          header[21] = size >> 8;
          header[22] = size & 0xff;
          return { bytes: remask(p, header), from: fromEither() };
        },
      },
      {
        name: 'garbage authdata', count: 500, make: () => {
          const p = parsed(pick(corpus));
          const header = p.header.slice();
          for (let i = 23; i < header.length; i++) if (rng.int(3) === 0) header[i] = rng.u32() & 0xff;
          return { bytes: remask(p, header), from: fromEither() };
        },
      },
      { name: 'malformed message, sealed with the session key', count: 1500, make: () => ({ bytes: sealInSession(pick(badPlaintexts)()), from: EP_B }) },
      { name: 'replayed handshake (no challenge pending)', count: 300, make: () => ({ bytes: pick(handshakes), from: pick([EP_B, randomFrom()]) }) },
    ];

    const tally = new Map<string, Map<string, number>>();
    const count = (gen: string, what: string) => {
      const m = tally.get(gen) ?? new Map<string, number>();
      m.set(what, (m.get(what) ?? 0) + 1);
      tally.set(gen, m);
    };
    let fed = 0;
    /** The WHOAREYOU last sent per address and src-id (the engine repeats a pending one). */
    const challenges = new Map<string, string>();

    /** Feeds one datagram to A and checks the outcome precisely. */
    const feed = (gen: string, bytes: Uint8Array, from: Endpoint): Outcome => {
      const before = digest(a);
      let out: Output;
      try {
        out = a.receive(bytes, from, ++now);
      } catch (e) {
        throw new Error(`${gen}: receive threw ${String(e)} on ${toHex(bytes)}`);
      }
      fed++;
      const inbound = out.events[0];
      if (inbound?.type !== 'packet' || inbound.packet.direction !== 'in') throw new Error(`${gen}: no inbound packet event first`);
      const rec = inbound.packet;
      const after = digest(a);
      if (rec.rejected !== undefined) {
        expect(rec.rejected, gen).toMatch(/\S/);
        expect(rec.rejected, `${gen}: ${toHex(bytes)}`).not.toMatch(/internal error/);
        expect(out.send, `${gen}: refused but sent something (${rec.rejected})`).toEqual([]);
        expect(out.events.length, `${gen}: refused but reported more (${rec.rejected})`).toBe(1);
        expect(after, `${gen}: refused (${rec.rejected}) but the state changed`).toEqual(before);
        count(gen, `rejected: ${rec.rejected.replace(/0x[0-9a-f]+|\d+/g, 'N')}`);
        return { kind: 'rejected', reason: rec.rejected };
      }
      // Not refused: the one legitimate answer is WHOAREYOU to an ordinary packet we cannot read,
      // carrying its nonce, sent back to where it came from; sessions, requests and records intact.
      expect(rec.kind, `${gen}: accepted a ${rec.kind} packet: ${toHex(bytes)}`).toBe('ordinary');
      expect(rec.message, `${gen}: a message got through`).toBeUndefined();
      expect(out.send).toHaveLength(1);
      expect(out.send[0].to).toEqual(from);
      const reply = decodePacket(rec.packet!.authdata.flag === 0 ? rec.packet!.authdata.srcId : a.localId, out.send[0].bytes);
      expect(reply.ok && reply.value.flag).toBe(1);
      // Either a challenge for this packet's nonce, or (HandshakeResend) the very bytes of the
      // challenge still pending for this node and address.
      const challengeKey = `${endpointKey(from)}/${toHex(rec.packet!.authdata.flag === 0 ? rec.packet!.authdata.srcId : new Uint8Array(0))}`;
      const pending = challenges.get(challengeKey);
      if (reply.ok && toHex(reply.value.nonce) !== toHex(rec.packet!.nonce)) expect(toHex(out.send[0].bytes), `${gen}: WHOAREYOU names another packet`).toBe(pending);
      challenges.set(challengeKey, toHex(out.send[0].bytes));
      expect(out.events.map((e) => e.type)).toEqual(['packet', 'packet']);
      expect({ ...after, challenges: '' }).toEqual({ ...before, challenges: '' });
      count(gen, 'answered WHOAREYOU');
      return { kind: 'whoareyou' };
    };

    for (const g of gens) for (let i = 0; i < g.count; i++) {
      const { bytes, from } = g.make();
      feed(g.name, bytes, from);
    }
    // Replayed handshakes while a fresh challenge is pending for B's address: the old
    // id-signature does not cover the new challenge-data.
    for (let i = 0; i < 300; i++) {
      const undecryptable = sealInSession(rng.bytes(20));
      undecryptable[undecryptable.length - 1] ^= 1; // a broken tag: B's src-id, but not our session key
      expect(feed('undecryptable (sets a challenge)', undecryptable, EP_B).kind).toBe('whoareyou');
      const r = feed('replayed handshake (challenge pending)', pick(handshakes), EP_B);
      expect(r.kind).toBe('rejected');
    }

    expect(fed).toBeGreaterThanOrEqual(10_000);
    // Every category was mostly refused; only ordinary packets we could not read were answered.
    for (const [gen, m] of tally) {
      const answered = m.get('answered WHOAREYOU') ?? 0;
      const total = [...m.values()].reduce((x, y) => x + y, 0);
      if (gen.startsWith('malformed') || gen.startsWith('replayed') || gen === 'random bytes' || gen === 'oversize') expect(answered, gen).toBe(0);
      expect(total).toBeGreaterThan(0);
    }
    const reasons = (gen: string) => [...(tally.get(gen)?.keys() ?? [])].join('\n');
    expect(reasons('oversize')).toMatch(/packet: N bytes; at most N allowed/);
    expect(reasons('wrong flag')).toMatch(/flag|authdata-size|must be/);
    expect(reasons('malformed message, sealed with the session key')).toMatch(/message:/);
    expect(reasons('malformed message, sealed with the session key')).toMatch(/answers no pending request/);
    expect(reasons('replayed handshake (no challenge pending)')).toMatch(/without a WHOAREYOU/);
    expect(reasons('replayed handshake (challenge pending)')).toMatch(/id-signature does not verify/);

    // ---- afterwards: the session still works both ways, and so does a fresh handshake.
    ev = run(engines, { from: EP_A, out: a.command({ type: 'ping', to: toB }, ++now) }, now);
    const pong = ev.find((e) => e.type === 'response');
    expect(pong?.type === 'response' && pong.response.type).toBe('PONG');
    const inSession = ev.filter((e) => e.type === 'packet').map((e) => (e.type === 'packet' ? e.packet.kind : ''));
    expect(inSession).toEqual(['ordinary', 'ordinary', 'ordinary', 'ordinary']);
    ev = run(engines, { from: EP_B, out: b.command({ type: 'ping', to: toA }, ++now) }, now);
    expect(ev.some((e) => e.type === 'response' && e.response.type === 'PONG')).toBe(true);
    b.command({ type: 'drop-session', nodeId: a.localId }, ++now);
    // The last challenge the attack provoked for B's address is repeated for a second (the
    // HandshakeResend rule); B, which never sent that packet, gets a fresh one after that.
    now += 1000;
    ev = run(engines, { from: EP_B, out: b.command({ type: 'findnode', to: toA, distances: [0] }, ++now) }, now);
    const nodes = ev.find((e) => e.type === 'response');
    expect(nodes?.type === 'response' && nodes.records?.map((r) => toHex(r.nodeId))).toEqual([toHex(a.localId)]);
    expect(ev.some((e) => e.type === 'session-established')).toBe(true);

    // For the record: what the refusals were.
    const summary = [...tally].map(([g, m]) => `${g}: ${[...m].map(([k, v]) => `${v}× ${k}`).join('; ')}`).join('\n');
    expect(summary).toContain('rejected');
    if (process.env.FUZZ_SUMMARY) console.log(`${fed} datagrams\n${summary}`);
    void decodeMessage;
    void aPackets;
  }, 120_000);
});

// Offline replay of the spec's handshake: two real engines (node A and node B of the test
// vectors) talk through an in-memory wire, with the spec's keys, nonces and ephemeral key
// injected as their randomness. The packets they produce are compared with the spec's bytes.
import { equalBytes, fromHex } from '../bytes.ts';
import { createEnr, type Enr } from '../enr/index.ts';
import { scriptedRandom, type RandomSource } from '../random.ts';
import type { TraceRecord } from '../trace.ts';
import type { Endpoint } from '../transport.ts';
import { Discv5Engine, type EngineEvent, type NodeContact, type PacketRecord } from './engine.ts';
import { decodePacket, messageAd } from './packet.ts';
import { SPEC_VECTORS as V } from './spec-vectors.ts';

export interface ReplayPacket {
  /** Who sent it: node A (initiator) or node B (recipient). */
  sender: 'A' | 'B';
  record: PacketRecord;
  /**
   * The spec vector this packet must equal, if the spec lists it. For WHOAREYOU the spec's
   * packet is masked for node B, so the B → A challenge is compared unmasked (challenge-data).
   */
  vector?: { name: string; part: 'packet' | 'challenge-data'; bytes: Uint8Array; matches: boolean };
  /** Crypto steps of the sender while making it and of the receiver while reading it. */
  trace: TraceRecord[];
  events: EngineEvent[];
}

export interface Replay {
  packets: ReplayPacket[];
  nodeA: { enr: Enr; privateKey: Uint8Array };
  nodeB: { enr: Enr; privateKey: Uint8Array };
  allMatch: boolean;
}

const ENDPOINT_A: Endpoint = { ip: '127.0.0.1', port: 30301 };
const ENDPOINT_B: Endpoint = { ip: '127.0.0.1', port: 30302 };
/** Bytes for draws the spec does not fix (they never reach a vector packet). */
const filler: RandomSource = (n) => new Uint8Array(n).fill(0x5a);

const contactOf = (enr: Enr, endpoint: Endpoint): NodeContact => ({ nodeId: enr.nodeId, publicKey: enr.publicKey, endpoint, enr });

/**
 * The cold handshake of the spec: A → B random packet, B → A WHOAREYOU (the "whoareyou"
 * vector), A → B handshake with A's record ("ping-handshake-enr"), B → A PONG.
 * With `bKnowsA`, B already holds A's record, so the handshake omits it ("ping-handshake").
 */
export function replaySpecHandshake(options: { bKnowsA?: boolean } = {}): Replay {
  const keyA = fromHex(V.nodeAKey);
  const keyB = fromHex(V.nodeBKey);
  // Node A's record in the vectors: seq 1, id v4, ip 127.0.0.1, its key (RFC 6979 signing is deterministic).
  const enrA = createEnr({ privateKey: keyA, seq: 1n, ip: '127.0.0.1' });
  const enrB = createEnr({ privateKey: keyB, seq: 1n, ip: ENDPOINT_B.ip, udp: ENDPOINT_B.port });
  const randomA = scriptedRandom(
    [
      fromHex(V.requestNonce), // nonce of the first (random) packet: WHOAREYOU echoes it
      fromHex(V.ephemeralKey), // ephemeral-key of the handshake
      fromHex(V.nonce), // nonce of the handshake packet
      fromHex(V.maskingIv), // masking-iv of the handshake packet
    ],
    filler,
  );
  const randomB = scriptedRandom([fromHex(V.idNonce), fromHex(V.maskingIv)], filler);
  // A's first packet draws a 16-byte masking-iv and key before the handshake's masking-iv: give them fillers in order.
  const a = new Discv5Engine({ privateKey: keyA, enr: enrA, random: orderedA(randomA) });
  const b = new Discv5Engine({ privateKey: keyB, enr: enrB, random: randomB });
  if (options.bKnowsA) b.addRecord(enrA);

  const packets: ReplayPacket[] = [];
  const expected: Record<string, { name: string; hex: string; part: 'packet' | 'challenge-data' }> = {
    'B:WHOAREYOU': { name: options.bKnowsA ? 'ping-handshake' : 'ping-handshake-enr', hex: options.bKnowsA ? V.challengeData1 : V.challengeData0, part: 'challenge-data' },
    'A:handshake': options.bKnowsA ? { name: 'ping-handshake', hex: V.pingHandshake, part: 'packet' } : { name: 'ping-handshake-enr', hex: V.pingHandshakeEnr, part: 'packet' },
  };
  let now = 0;
  let out = a.command({ type: 'ping', to: contactOf(enrB, ENDPOINT_B), requestId: fromHex(V.requestId) }, now);
  let sender: 'A' | 'B' = 'A';
  // Bounded: a cold handshake is four packets.
  for (let hop = 0; hop < 6 && out.send.length > 0; hop++) {
    const sent = out.events.filter((e): e is Extract<EngineEvent, { type: 'packet' }> => e.type === 'packet' && e.packet.direction === 'out');
    const receiver = sender === 'A' ? b : a;
    const from = sender === 'A' ? ENDPOINT_A : ENDPOINT_B;
    for (const [i, s] of out.send.entries()) {
      now += 1;
      const back = receiver.receive(s.bytes, from, now);
      const record = sent[i].packet;
      const want = expected[`${sender}:${record.kind}`];
      const actual = want?.part === 'challenge-data' ? challengeDataOf(record, sender === 'A' ? enrB.nodeId : enrA.nodeId) : record.raw;
      const vector = want ? { name: want.name, part: want.part, bytes: fromHex(want.hex), matches: !!actual && equalBytes(fromHex(want.hex), actual) } : undefined;
      packets.push({ sender, record, ...(vector ? { vector } : {}), trace: [...out.trace, ...back.trace], events: [...out.events.filter((e) => e.type !== 'packet'), ...back.events.filter((e) => e.type !== 'packet')] });
      out = back;
    }
    sender = sender === 'A' ? 'B' : 'A';
  }
  return { packets, nodeA: { enr: enrA, privateKey: keyA }, nodeB: { enr: enrB, privateKey: keyB }, allMatch: packets.every((p) => !p.vector || p.vector.matches) };
}

/**
 * The spec's "ping-message" vector: an ordinary message packet whose PING (enr-seq 2) is
 * sealed with an all-zero key, nonce ff…ff and masking-iv 0 — exactly the random packet our
 * engine sends when it has no session, given those draws.
 */
export function replaySpecPingMessage(): { record: PacketRecord; vector: Uint8Array; matches: boolean } {
  const keyA = fromHex(V.nodeAKey);
  const enrA = createEnr({ privateKey: keyA, seq: 2n, ip: '127.0.0.1' });
  const enrB = createEnr({ privateKey: fromHex(V.nodeBKey), seq: 1n, ip: ENDPOINT_B.ip, udp: ENDPOINT_B.port });
  const random = scriptedRandom([fromHex(V.nonce), fromHex(V.maskingIv), new Uint8Array(16)], filler);
  const a = new Discv5Engine({ privateKey: keyA, enr: enrA, random });
  const out = a.command({ type: 'ping', to: contactOf(enrB, ENDPOINT_B), requestId: fromHex(V.requestId) }, 0);
  const record = out.events.find((e): e is Extract<EngineEvent, { type: 'packet' }> => e.type === 'packet')!.packet;
  const vector = fromHex(V.pingMessage);
  return { record, vector, matches: equalBytes(record.raw, vector) };
}

/** The spec's "whoareyou" vector: node A challenging node B (masked with B's id). */
export function replaySpecWhoareyou(): { record: PacketRecord; vector: Uint8Array; matches: boolean } {
  const keyA = fromHex(V.nodeAKey);
  const keyB = fromHex(V.nodeBKey);
  const enrA = createEnr({ privateKey: keyA, seq: 1n, ip: ENDPOINT_A.ip, udp: ENDPOINT_A.port });
  const enrB = createEnr({ privateKey: keyB, seq: 1n, ip: ENDPOINT_B.ip, udp: ENDPOINT_B.port });
  const b = new Discv5Engine({ privateKey: keyB, enr: enrB, random: scriptedRandom([fromHex(V.requestNonce)], filler) });
  const a = new Discv5Engine({ privateKey: keyA, enr: enrA, random: scriptedRandom([fromHex(V.idNonce), fromHex(V.maskingIv)], filler) });
  const first = b.command({ type: 'ping', to: contactOf(enrA, ENDPOINT_A) }, 0);
  const out = a.receive(first.send[0].bytes, ENDPOINT_B, 1);
  const record = out.events.find((e): e is Extract<EngineEvent, { type: 'packet' }> => e.type === 'packet' && e.packet.direction === 'out')!.packet;
  const vector = fromHex(V.whoareyou);
  return { record, vector, matches: equalBytes(record.raw, vector) };
}

function challengeDataOf(record: PacketRecord, destId: Uint8Array): Uint8Array | undefined {
  const p = decodePacket(destId, record.raw);
  return p.ok ? messageAd(p.value.maskingIv, p.value.header) : undefined;
}

/** A's draws in order: 12 nonce, 16 iv, 16 key (first packet), 32 ephemeral, 12 nonce, 16 iv (handshake). */
function orderedA(script: RandomSource): RandomSource {
  let sixteen = 0;
  return (n) => {
    // The first packet's masking-iv and throw-away key are not in any vector.
    if (n === 16 && sixteen++ < 2) return filler(16);
    return script(n);
  };
}

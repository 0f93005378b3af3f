// The seven scenarios of go-ethereum's discv5 conformance suite (cmd/devp2p/internal/v5test,
// which hive runs), in its order, with the same checks — written anew over our engine. Each one
// starts from fresh identities (a new key per connection), as the suite does.
import { equalBytes, toHex } from '../../bytes.ts';
import { logDistance } from '../../kademlia/distance.ts';
import { summarizeMessage, type Message } from '../messages.ts';
import type { PacketRecord } from '../engine.ts';
import { isWildcard, type Answer, type Conn, type Scenario, type ScenarioRun, type Tester, type TesterEvent, type TesterSocket, type Verdict } from './runner.ts';

const pass = (reason: string): Verdict => ({ status: 'pass', reason });
const fail = (reason: string): Verdict => ({ status: 'fail', reason });
const skipped = (reason: string): Verdict => ({ status: 'skipped', reason });


/** Why a request failed: "no PONG: …", or what came instead (a response with another request-id). */
const absent = (what: string, a: Extract<Answer, { ok: false }>) => (a.response ? a.reason : `no ${what}: ${a.reason}`);

/** A packet in words: "WHOAREYOU", "PONG", "a message we cannot read". */
function what(p: PacketRecord): string {
  if (p.rejected && !p.kind) return `an undecodable packet (${p.rejected})`;
  if (p.message) return p.message.type;
  if (p.kind === 'WHOAREYOU') return 'WHOAREYOU';
  return `a ${p.kind ?? 'bad'} packet we cannot read${p.rejected ? ` (${p.rejected})` : ''}`;
}

/** The PONG says where the node saw the PING come from: it must be the socket we sent it from. */
function checkPong(m: Message, requestId: string, socket: TesterSocket): string | undefined {
  if (m.type !== 'PONG') return `expected PONG, got ${summarizeMessage(m)}`;
  if (toHex(m.requestId) !== requestId) return `PONG carries request-id 0x${toHex(m.requestId)}, the PING had 0x${requestId}`;
  const ipOk = isWildcard(socket.local.ip) || m.recipientIp === socket.local.ip;
  if (!ipOk || m.recipientPort !== socket.local.port) return `PONG says it saw us at ${m.recipientIp}:${m.recipientPort}, we sent from ${socket.local.ip}:${socket.local.port}`;
  return undefined;
}

const ping: Scenario = {
  name: 'Ping',
  checks: 'answers a PING from a new node with a PONG that carries its request-id and the address the PING came from',
  *run(t): ScenarioRun {
    const c = t.conn('tester');
    const id = t.request(c, { type: 'ping', to: t.target });
    const a = yield* t.answer(c, id);
    if (!a.ok) return fail(absent('PONG', a));
    const wrong = checkPong(a.response, id, c.socket);
    if (wrong) return fail(wrong);
    const pong = a.response as Extract<Message, { type: 'PONG' }>;
    return pass(`PONG after the handshake, request-id echoed, it sees us at ${pong.recipientIp}:${pong.recipientPort}`);
  },
};

const pingLargeRequestId: Scenario = {
  name: 'PingLargeRequestID',
  checks: 'ignores a PING whose request-id is 9 bytes long (the spec allows at most 8)',
  *run(t): ScenarioRun {
    const c = t.conn('tester');
    const id = t.request(c, { type: 'ping', to: t.target, requestId: new Uint8Array(9) });
    const a = yield* t.answer(c, id);
    if (a.ok || a.response) return fail(`answered the 9-byte request-id with ${summarizeMessage(a.response!)}`);
    if (a.timeout) return pass(`the handshake went through and the PING got no answer within ${t.waitMs} ms, as it should`);
    return pass(`no PONG (${a.reason})`);
  },
};

const pingMultiIp: Scenario = {
  name: 'PingMultiIP',
  checks: 'ties a session to the IP it was made from: the same session used from another IP gets a WHOAREYOU, not a PONG',
  *run(t): ScenarioRun {
    const why = t.noSecondary;
    if (why) return skipped(`needs a second source IP address: ${why}`);
    const c = t.conn('tester');
    const first = c.socket;
    const second = t.socket('secondary')!;
    // 1. A session from the first address.
    const id1 = t.request(c, { type: 'ping', to: t.target });
    const a1 = yield* t.answer(c, id1);
    if (!a1.ok) return fail(absent('PONG on the first address', a1));
    const wrong1 = checkPong(a1.response, id1, first);
    if (wrong1) return fail(wrong1);
    // 2. The same session keys, sent from the second address: the node must not decrypt it.
    t.log(`the same session, now from ${second.local.ip}`);
    c.socket = second;
    const id2 = t.request(c, { type: 'ping', to: t.target });
    const reply = yield* t.packetTo(c);
    if (!reply) return fail(`no answer to a PING from ${second.local.ip} (expected WHOAREYOU)`);
    if (reply.packet.message?.type === 'PONG') return fail(`answered PONG to a PING from ${second.local.ip} in the session made from ${first.local.ip}`);
    if (reply.packet.kind !== 'WHOAREYOU') return fail(`expected WHOAREYOU for the PING from ${second.local.ip}, got ${what(reply.packet)}`);
    // Our engine answers the WHOAREYOU with a handshake: a new session for the second address.
    const a2 = yield* t.answer(c, id2);
    if (!a2.ok) return fail(`the handshake from ${second.local.ip} did not complete: ${a2.reason}`);
    const wrong2 = checkPong(a2.response, id2, second);
    if (wrong2) return fail(wrong2);
    // 3. Back to the first address with the new session's keys: that one is not valid there either.
    t.log(`the new session, now from ${first.local.ip} again`);
    c.socket = first;
    t.request(c, { type: 'ping', to: t.target });
    const back = yield* t.packetTo(c);
    if (!back) return fail(`no answer to a PING from ${first.local.ip} (expected WHOAREYOU)`);
    if (back.packet.message?.type === 'PONG') return fail(`answered PONG to a PING from ${first.local.ip} in the session made from ${second.local.ip}`);
    if (back.packet.kind !== 'WHOAREYOU') return fail(`expected WHOAREYOU for the PING from ${first.local.ip}, got ${what(back.packet)}`);
    return pass(`WHOAREYOU each time the session moved between ${first.local.ip} and ${second.local.ip}; PONG to the right address after each handshake`);
  },
};

const handshakeResend: Scenario = {
  name: 'HandshakeResend',
  checks: 'while its WHOAREYOU waits for a handshake, answers a second packet with the same challenge (same nonce, same challenge-data); the handshake signed against it then completes',
  *run(t): ScenarioRun {
    const c = t.conn('tester');
    const id = t.request(c, { type: 'ping', to: t.target });
    // Our engine answers the first WHOAREYOU at once; its handshake is held back until the end.
    c.hold();
    const w1 = yield* t.packetTo(c);
    if (!w1) return fail('no answer to a PING from a new node (expected WHOAREYOU)');
    if (w1.packet.kind !== 'WHOAREYOU' || !w1.packet.packet) return fail(`expected WHOAREYOU, got ${what(w1.packet)}`);
    const first = w1.packet.packet;
    t.log('the handshake is signed and held back; a second PING goes out first, as a new random packet');
    const nonce2 = t.sendRandom(c, { type: 'PING', requestId: new Uint8Array([0, 0, 0, 2]), enrSeq: c.enr.seq }, 'a second PING before the handshake (another nonce): the node should repeat its challenge');
    const w2 = yield* t.packetTo(c);
    if (!w2) return fail('no answer to the second packet (expected the same WHOAREYOU again)');
    const second = w2.packet.packet;
    if (w2.packet.kind !== 'WHOAREYOU' || !second) return fail(`expected WHOAREYOU for the second packet, got ${what(w2.packet)}`);
    // Our engine refuses it (it names no request still waiting for a challenge): expected here.
    w2.packet.rejected = undefined;
    w2.packet.note = 'the challenge for the second packet: it must repeat the first one';
    if (equalBytes(second.nonce, nonce2)) return fail('a fresh WHOAREYOU for the second packet (its own nonce): a handshake already signed against the first challenge is void');
    if (!equalBytes(second.nonce, first.nonce)) return fail(`WHOAREYOU nonce 0x${toHex(second.nonce)}, expected the first packet's 0x${toHex(first.nonce)}`);
    if (!equalBytes(second.maskingIv, first.maskingIv) || !equalBytes(second.header, first.header)) return fail('same nonce, but other challenge-data (masking-iv or id-nonce changed)');
    t.log('the same challenge: now the held handshake goes out');
    t.release(c);
    const a = yield* t.answer(c, id);
    if (!a.ok) return fail(`the challenge was repeated, but the handshake signed against it did not complete: ${a.reason}`);
    return pass('the same WHOAREYOU (nonce and challenge-data) for the second packet; the handshake signed against it got the PONG');
  },
};

const talkRequest: Scenario = {
  name: 'TalkRequest',
  checks: 'answers TALKREQ for a protocol it does not know with an empty TALKRESP, also when the request-id is empty',
  *run(t): ScenarioRun {
    const c = t.conn('tester');
    const protocol = new TextEncoder().encode('test-protocol');
    const request = new Uint8Array(0);
    const id = t.request(c, { type: 'talkreq', to: t.target, protocol, request, requestId: new Uint8Array([0, 0, 0, 1]) });
    const a = yield* t.answer(c, id);
    if (!a.ok) return fail(absent('TALKRESP', a));
    if (a.response.type !== 'TALKRESP') return fail(`expected TALKRESP, got ${summarizeMessage(a.response)}`);
    if (a.response.response.length > 0) return fail(`TALKRESP for an unknown protocol is not empty: 0x${toHex(a.response.response)}`);
    t.log('again with an empty request-id');
    const empty = t.request(c, { type: 'talkreq', to: t.target, protocol, request, requestId: new Uint8Array(0) });
    const b = yield* t.answer(c, empty);
    if (!b.ok) return fail(absent('TALKRESP to the request with an empty request-id', b));
    if (b.response.type !== 'TALKRESP') return fail(`expected TALKRESP, got ${summarizeMessage(b.response)}`);
    if (b.response.response.length > 0) return fail(`TALKRESP for an unknown protocol is not empty: 0x${toHex(b.response.response)}`);
    return pass('empty TALKRESP both times, the request-id (4 bytes, then empty) echoed');
  },
};

const findnodeZeroDistance: Scenario = {
  name: 'FindnodeZeroDistance',
  checks: 'answers FINDNODE for distance 0 with exactly one record: its own',
  *run(t): ScenarioRun {
    const c = t.conn('tester');
    const id = t.request(c, { type: 'findnode', to: t.target, distances: [0] });
    const a = yield* t.answer(c, id);
    if (!a.ok) return fail(absent('NODES', a));
    const count = a.records.length + a.rejected.length;
    if (count !== 1) return fail(`${count} records for distance 0, expected exactly 1${a.rejected.length ? ` (${a.rejected.join('; ')})` : ''}`);
    if (!a.records[0] || !equalBytes(a.records[0].nodeId, t.target.nodeId)) return fail(`the record is not the node's own: ${a.rejected[0] ?? toHex(a.records[0]?.nodeId ?? new Uint8Array(0))}`);
    return pass(`its own record (seq ${a.records[0].seq})`);
  },
};

const BYSTANDERS = 5;
/** A bystander that was not pinged pings the node again this often (as go-ethereum's). */
const BYSTANDER_REPING_MS = 10_000;

const findnodeResults: Scenario = {
  name: 'FindnodeResults',
  checks: `lets ${BYSTANDERS} nodes that contact it into its table, checks they are alive (PING), then returns them for FINDNODE`,
  *run(t): ScenarioRun {
    if (!t.reachable) return skipped('the bystanders need an address the node can reach them at; the tester socket is bound to a wildcard address');
    const bystanders = Array.from({ length: BYSTANDERS }, (_, i) => t.conn(`bystander ${i + 1}`, 'primary', true));
    const pinged = new Set<Conn>();
    const lastPing = new Map<Conn, number>();
    // Bystanders ping the node one after another: where they share a socket (the browser has few),
    // concurrent handshakes from one address would replace each other's challenge (one per address).
    const waiting = [...bystanders];
    let current: { b: Conn; id: string } | undefined;
    const pingNext = () => {
      const b = waiting.shift();
      current = b && { b, id: t.request(b, { type: 'ping', to: t.target }) };
      if (b) lastPing.set(b, t.now);
    };
    t.log(`${BYSTANDERS} bystanders ping the node, one after another; it has up to ${Math.round(t.bystanderWaitMs / 1000)} s to ping (or FINDNODE) each of them`);
    pingNext();
    const deadline = t.now + t.bystanderWaitMs;
    const checkOfBystander = (x: TesterEvent) => x.type === 'engine' && x.event.type === 'request' && (x.event.message.type === 'PING' || x.event.message.type === 'FINDNODE') && bystanders.includes(x.conn);
    const endOfPing = (x: TesterEvent) => !!current && x.type === 'engine' && x.conn === current.b && (x.event.type === 'response' || x.event.type === 'timeout' || x.event.type === 'failure') && x.event.requestId === current.id;
    // The node checks a bystander is alive by sending it a request; our engines answer it.
    while (pinged.size < BYSTANDERS && t.now < deadline) {
      const reping = Math.min(...bystanders.filter((b) => !pinged.has(b) && lastPing.has(b)).map((b) => lastPing.get(b)! + BYSTANDER_REPING_MS));
      const e = yield* t.next((x) => checkOfBystander(x) || endOfPing(x), Math.max(1, Math.min(deadline, reping) - t.now));
      if (e && checkOfBystander(e)) pinged.add(e.conn);
      else if (e) pingNext();
      for (const b of bystanders) if (!pinged.has(b) && !waiting.includes(b) && current?.b !== b && t.now - (lastPing.get(b) ?? -Infinity) >= BYSTANDER_REPING_MS) waiting.push(b);
      if (!current) pingNext();
    }
    if (pinged.size < BYSTANDERS) return fail(`the node checked ${pinged.size} of ${BYSTANDERS} bystanders in ${Math.round(t.bystanderWaitMs / 1000)} s: nodes that contacted it are not checked for liveness (or never enter its table)`);
    const distances = [...new Set(bystanders.map((b) => logDistance(b.localId, t.target.nodeId)))];
    t.log(`all ${BYSTANDERS} were checked; FINDNODE for distances ${distances.join(', ')}`);
    const c = t.conn('tester');
    const id = t.request(c, { type: 'findnode', to: t.target, distances });
    const a = yield* t.answer(c, id);
    if (!a.ok) return fail(absent('NODES', a));
    const returned = new Set(a.records.map((r) => toHex(r.nodeId)));
    const missing = bystanders.filter((b) => !returned.has(toHex(b.localId)));
    if (missing.length) return fail(`${missing.length} of ${BYSTANDERS} bystanders missing from NODES (${a.records.length} records returned)`);
    return pass(`all ${BYSTANDERS} bystanders were pinged and then returned (${a.records.length} records for ${distances.length} distance${distances.length === 1 ? '' : 's'})`);
  },
};

/** go-ethereum's suite, in its order. */
export const DISCV5_SCENARIOS: Scenario[] = [ping, pingLargeRequestId, pingMultiIp, handshakeResend, talkRequest, findnodeZeroDistance, findnodeResults];

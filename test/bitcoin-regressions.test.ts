// Bugs the Bitcoin fuzzer (test/fuzz-bitcoin.test.ts) found, each pinned by the smallest input
// that showed it.
import { describe, expect, it } from 'vitest';
import { BitcoinEngine, type BitcoinEvent } from '../shared/bitcoin/engine.ts';
import { dissectBitcoin, encodeMessage, type Version } from '../shared/bitcoin/messages.ts';
import { MAX_MESSAGE_LENGTH, NETWORKS } from '../shared/bitcoin/spec.ts';
import { coverageProblems } from '../shared/dissect.ts';
import type { EngineOutput } from '../shared/engine.ts';
import { ByteQueue, feedFrames, type Framer } from '../shared/framing.ts';
import { bitcoinFramer } from '../shared/bitcoin/framer.ts';

const net = NETWORKS.regtest;
const peer = { ip: '127.0.0.1', port: 18444 };

const version = (userAgent: string): Version => ({
  command: 'version', version: 70016, services: 0n, timestamp: 0n, addrRecv: { services: 0n, ip: '::', port: 0 },
  nonce: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), userAgent, startHeight: 0, relay: false,
});

describe('dissection: a zero-length value is not an empty field', () => {
  // Fuzz case 1925 (seed 0xb17c0): an alert whose signature has length 0.
  it('an alert with an empty signature, a version with an empty user agent: every layer tiled', () => {
    for (const raw of [encodeMessage(net, { command: 'alert', payload: Uint8Array.of(1), signature: new Uint8Array(0) }), encodeMessage(net, version(''))]) {
      const d = dissectBitcoin(raw, net);
      expect(d.error).toBeUndefined();
      for (const layer of d.layers) expect(coverageProblems(layer), layer.name).toEqual([]);
    }
    const fields = dissectBitcoin(encodeMessage(net, version('')), net).layers[1].fields;
    expect(fields.find((f) => f.name === 'user_agent bytes')?.value).toBe('0');
  });
});

/** An engine that stays after the handshake, with one inbound connection already at SUCCESS. */
function afterHandshake() {
  const e = new BitcoinEngine({ network: net, random: (n) => new Uint8Array(n).fill(9), accept: true, afterHandshake: 'stay' });
  e.handle({ type: 'stream-opened', conn: 'c', remote: peer, direction: 'inbound' }, 0);
  const o = e.handle({ type: 'stream-data', conn: 'c', bytes: new Uint8Array([...encodeMessage(net, version('/x/')), ...encodeMessage(net, { command: 'verack' })]) }, 1);
  expect(o.events.find((ev) => ev.type === 'outcome')).toMatchObject({ outcome: 'SUCCESS' });
  return e;
}
const closes = (o: EngineOutput<BitcoinEvent>) => o.transmits.some((t) => t.type === 'stream-close' && t.conn === 'c');

describe('engine: a refused input after the handshake ends the connection', () => {
  // Fuzz case 3 (seed 0xb17c0): in "stay" mode a refused message was recorded and the connection
  // kept reading: after a wrong magic the framer had dropped the queue, so it read on from the
  // middle of a message.
  it('a wrong magic, a wrong checksum: refused, closed, and the SUCCESS outcome stands', () => {
    for (const mangle of [(b: Uint8Array) => b.fill(0x41, 0, 4), (b: Uint8Array) => (b[20] ^= 1)]) {
      const e = afterHandshake();
      const bad = encodeMessage(net, { command: 'ping', nonce: new Uint8Array(8) });
      mangle(bad);
      const o = e.handle({ type: 'stream-data', conn: 'c', bytes: bad }, 2);
      expect(o.records[0].rejected).toBeDefined();
      expect(closes(o)).toBe(true);
      expect(o.events.filter((ev) => ev.type === 'outcome')).toEqual([]);
      expect(o.events.find((ev) => ev.type === 'closed')).toMatchObject({ conn: 'c', reason: 'by-us', detail: o.records[0].rejected });
      expect(e.connections).toBe(0);
    }
  });
});

describe('engine: a largest message followed by more bytes in the same chunk', () => {
  // The queue refused a chunk that completed a 4 MB message and began the next one: the limit was
  // checked before the complete message could be taken off.
  it('is read, and so is the message after it', () => {
    const e = afterHandshake();
    const big = encodeMessage(net, { command: 'block', unknown: true, payload: new Uint8Array(MAX_MESSAGE_LENGTH) });
    const ping = encodeMessage(net, { command: 'ping', nonce: Uint8Array.of(1, 1, 1, 1, 1, 1, 1, 1) });
    const first = e.handle({ type: 'stream-data', conn: 'c', bytes: big.subarray(0, MAX_MESSAGE_LENGTH) }, 2);
    expect(first.records).toEqual([]);
    const rest = new Uint8Array([...big.subarray(MAX_MESSAGE_LENGTH), ...ping]);
    const o = e.handle({ type: 'stream-data', conn: 'c', bytes: rest }, 3);
    expect(o.records.map((r) => [r.direction, r.kind, r.rejected])).toEqual([['in', 'block', undefined], ['in', 'ping', undefined], ['out', 'pong', undefined]]);
    expect(closes(o)).toBe(false);
  });
});

describe('feedFrames: a chunk larger than the room left', () => {
  it('goes in piece by piece: two messages in a chunk over the queue limit are both read', () => {
    const q = new ByteQueue(32); // one ping fits, a verack and a ping together do not
    const chunk = new Uint8Array([...encodeMessage(net, { command: 'verack' }), ...encodeMessage(net, { command: 'ping', nonce: new Uint8Array(8) })]);
    expect(() => new ByteQueue(32).push(chunk)).toThrow(/more than 32 bytes/);
    const rs = feedFrames(q, chunk, bitcoinFramer(net));
    expect(rs.map((r) => (r.type === 'frame' ? `${r.frame.header.command}@${r.offset}` : r.type))).toEqual(['verack@0', 'ping@24']);
  });
  it('bytes that never complete a frame within the limit are refused, with their offset, never thrown', () => {
    const q = new ByteQueue(4);
    const never: Framer<never> = () => ({ type: 'need-more' });
    const rs = feedFrames(q, Uint8Array.of(1, 2, 3, 4, 5, 6), never);
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ type: 'error', offset: 0, raw: Uint8Array.of(1, 2, 3, 4) });
    expect(rs[0].type === 'error' && rs[0].error.reason).toMatch(/^stream: more than 4 bytes/);
  });
});

describe('engine: the peer half-closes after a SUCCESS in "stay" mode', () => {
  // Found reading the engine beside the fuzzer: the engine forgot the connection without closing
  // its side, so with allowHalfOpen sockets (bridge/node-transport.ts) `btc listen` kept one
  // socket in CLOSE_WAIT per peer that hung up first.
  it('closes our side too, once', () => {
    const e = afterHandshake();
    const o = e.handle({ type: 'stream-remote-ended', conn: 'c' }, 2);
    expect(o.transmits).toEqual([{ type: 'stream-close', conn: 'c' }]);
    expect(o.events).toEqual([{ type: 'closed', conn: 'c', reason: 'closed' }]);
    expect(e.connections).toBe(0);
    // The socket's own close that follows changes nothing.
    expect(e.handle({ type: 'stream-closed', conn: 'c', reason: 'closed' }, 3)).toMatchObject({ transmits: [], events: [] });
  });
});

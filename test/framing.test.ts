// The stream byte queue and the Bitcoin framer, fed the way TCP delivers: split at every
// byte boundary, several messages in one chunk (the model is ws's receiver tests).
import { describe, expect, it } from 'vitest';
import { concat } from '../shared/bytes.ts';
import { ByteQueue, readFrames } from '../shared/framing.ts';
import { bitcoinFramer } from '../shared/bitcoin/framer.ts';
import { encodeMessage, type BtcMessage } from '../shared/bitcoin/messages.ts';
import { NETWORKS } from '../shared/bitcoin/spec.ts';

describe('ByteQueue', () => {
  it('peeks and takes across chunk boundaries, counting the stream offset', () => {
    const q = new ByteQueue(100);
    q.push(Uint8Array.of(1, 2));
    q.push(Uint8Array.of(3));
    q.push(Uint8Array.of(4, 5, 6));
    expect(q.peek(4)).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(q.take(3)).toEqual(Uint8Array.of(1, 2, 3));
    expect(q.offset).toBe(3);
    expect(q.take(4)).toBeUndefined();
    expect(q.take(2)).toEqual(Uint8Array.of(4, 5));
    expect(q.drain()).toEqual(Uint8Array.of(6));
    expect(q.length).toBe(0);
    expect(q.offset).toBe(6);
  });
  it('refuses to buffer past its limit', () => {
    const q = new ByteQueue(4);
    q.push(new Uint8Array(4));
    expect(() => q.push(new Uint8Array(1))).toThrow(/more than 4 bytes/);
  });
});

const net = NETWORKS.main;
const messages: BtcMessage[] = [
  { command: 'version', version: 70016, services: 9n, timestamp: 1n, addrRecv: { services: 0n, ip: '1.2.3.4', port: 8333 }, nonce: new Uint8Array(8), userAgent: '/x:1/', startHeight: 5, relay: false },
  { command: 'wtxidrelay' },
  { command: 'verack' },
  { command: 'ping', nonce: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) },
];
const stream = concat(...messages.map((m) => encodeMessage(net, m)));

function feed(chunks: Uint8Array[]): string[] {
  const q = new ByteQueue(1 << 20);
  const framer = bitcoinFramer(net);
  const got: string[] = [];
  for (const c of chunks) {
    q.push(c);
    for (const r of readFrames(q, framer)) {
      if (r.type !== 'frame') throw new Error(`unexpected ${r.type}`);
      got.push(`${r.frame.message.command}@${r.offset}`);
    }
  }
  expect(q.length).toBe(0);
  return got;
}

const expected = (() => {
  let at = 0;
  return messages.map((m) => {
    const s = `${m.command}@${at}`;
    at += encodeMessage(net, m).length;
    return s;
  });
})();

describe('bitcoin framer', () => {
  it('all messages in one chunk', () => {
    expect(feed([stream])).toEqual(expected);
  });
  it('split into two at every byte boundary', () => {
    for (let i = 1; i < stream.length; i++) expect(feed([stream.subarray(0, i), stream.subarray(i)]), `split at ${i}`).toEqual(expected);
  });
  it('one byte at a time', () => {
    expect(feed(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(expected);
  });
  it('three pieces at every pair of boundaries (sampled)', () => {
    for (let i = 1; i < stream.length; i += 7) for (let j = i + 1; j < stream.length; j += 11) expect(feed([stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)])).toEqual(expected);
  });
  it('an error stops the stream and hands back the refused bytes with their offset', () => {
    const bad = stream.slice();
    const second = encodeMessage(net, messages[0]).length;
    bad[second + 20] ^= 1; // the checksum of wtxidrelay
    const q = new ByteQueue(1 << 20);
    q.push(bad);
    const rs = readFrames(q, bitcoinFramer(net));
    expect(rs.map((r) => r.type)).toEqual(['frame', 'error']);
    const err = rs[1];
    if (err.type !== 'error') throw new Error();
    expect(err.offset).toBe(second);
    expect(err.raw.length).toBe(24);
    expect(err.error.field).toBe('checksum');
  });
  it('a partial header waits; a wrong magic does not', () => {
    const q = new ByteQueue(100);
    q.push(stream.subarray(0, 3));
    expect(readFrames(q, bitcoinFramer(net))).toEqual([]);
    const q2 = new ByteQueue(100);
    q2.push(Uint8Array.of(0x16, 0x03, 0x01, 0x00)); // a TLS ClientHello is no Bitcoin peer
    expect(readFrames(q2, bitcoinFramer(net))[0].type).toBe('error');
  });
});

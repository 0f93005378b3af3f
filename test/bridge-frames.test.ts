// The tunnel frame codec (docs/tunnel.md): byte layouts, round trips, and typed errors for
// every kind of bad input — never a throw, never an allocation sized by an unchecked length.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../shared/bytes.ts';
import {
  type Frame,
  FRAME_OVERHEAD,
  MAX_DNS_ANSWERS,
  TunnelErrorCode,
  decodeFrame,
  encodeFrame,
  frameTypeName,
  peekHeader,
} from '../shared/tunnel/frames.ts';
import { prng } from './helpers/prng.ts';

const enc = (f: Frame): Uint8Array => {
  const r = encodeFrame(f);
  if (!r.ok) throw r.error;
  return r.value;
};
const dec = (hex: string) => decodeFrame(fromHex(hex));
const errOf = (hex: string) => {
  const r = dec(hex);
  if (r.ok) throw new Error(`decoded: ${JSON.stringify(r.value)}`);
  return { code: r.error.code, field: r.error.field };
};

const SAMPLES: Frame[] = [
  { type: 'hello', maxDatagram: 1280, maxUdpSockets: 4, maxTcpConnections: 8, window: 262144, maxFrame: 16411 },
  { type: 'error', id: 7, refType: 0x12, code: TunnelErrorCode.policy, message: '10.0.0.1:30303: private address' },
  { type: 'udp-open', id: 1, ip: '', port: 0 },
  { type: 'udp-open', id: 2, ip: '::1', port: 30303 },
  { type: 'udp-opened', id: 1, ip: '127.0.0.1', port: 40000 },
  { type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: 9000 }, payload: fromHex('deadbeef') },
  { type: 'udp-send', id: 1, peer: { ip: '2001:db8::1', port: 9000 }, payload: new Uint8Array(0) },
  { type: 'udp-recv', id: 65535, peer: { ip: '1.2.3.4', port: 1 }, payload: new Uint8Array(1280).fill(7) },
  { type: 'udp-close', id: 3, code: 0 },
  { type: 'tcp-connect', id: 1, peer: { ip: '127.0.0.1', port: 8333 }, timeoutMs: 5000 },
  { type: 'tcp-connected', id: 1, window: 262144 },
  { type: 'tcp-data', id: 1, payload: fromHex('00') },
  { type: 'tcp-ack', id: 1, bytes: 0xffffffff },
  { type: 'tcp-end', id: 1 },
  { type: 'tcp-close', id: 1, reason: 'refused', detail: 'ECONNREFUSED' },
  { type: 'tcp-close', id: 1, reason: 'timed-out', detail: '' },
  { type: 'tcp-listen', id: 4, ip: '', port: 0 },
  { type: 'tcp-listen', id: 4, ip: '127.0.0.1', port: 18444 },
  { type: 'tcp-listening', id: 4, ip: '127.0.0.1', port: 40001 },
  { type: 'tcp-accepted', id: 0x8000, listener: 4, peer: { ip: '127.0.0.1', port: 51234 }, window: 262144 },
  { type: 'tcp-accepted', id: 0xffff, listener: 4, peer: { ip: '::1', port: 1 }, window: 1 },
  { type: 'dns-resolve', id: 9, name: 'seed.bitcoin.sipa.be' },
  { type: 'dns-result', id: 9, addresses: ['127.0.0.1', '::1'] },
  { type: 'dns-result', id: 9, addresses: [] },
];

describe('tunnel frames: layout', () => {
  it('documents TCP_ACCEPTED byte for byte', () => {
    const b = enc({ type: 'tcp-accepted', id: 0x8001, listener: 3, peer: { ip: '127.0.0.1', port: 8333 }, window: 0x40000 });
    // version 01 · type 28 · id 8001 · listener 0003 · port 208d · ip-length 04 · ip 7f000001 · window 00040000
    expect(toHex(b)).toBe('01288001' + '0003' + '208d' + '04' + '7f000001' + '00040000');
  });
  it('TCP_LISTENING may not leave the port to chance, TCP_LISTEN may', () => {
    expect(encodeFrame({ type: 'tcp-listening', id: 1, ip: '127.0.0.1', port: 0 }).ok).toBe(false);
    expect(encodeFrame({ type: 'tcp-listening', id: 1, ip: '', port: 1 }).ok).toBe(false);
    expect(decodeFrame(fromHex('01270001' + '0000' + '04' + '7f000001')).ok).toBe(false);
    expect(decodeFrame(fromHex('01280001' + '0000' + '0001' + '04' + '7f000001' + '00000001')).ok).toBe(false); // listener 0
  });

  it('documents the header and the UDP_SEND body byte for byte', () => {
    const b = enc({ type: 'udp-send', id: 0x0102, peer: { ip: '127.0.0.1', port: 30303 }, payload: fromHex('c0ffee') });
    // version 01 · type 12 · id 0102 · port 765f · ip-length 04 · ip 7f000001 · payload
    expect(toHex(b)).toBe('011201027' + '65f047f000001c0ffee');
  });

  it('encodes IPv6 as 16 bytes and ::ffff:-mapped IPv4 as plain IPv4', () => {
    expect(toHex(enc({ type: 'udp-opened', id: 1, ip: '::1', port: 1 }))).toBe('01110001' + '0001' + '10' + '00'.repeat(15) + '01');
    const mapped = enc({ type: 'udp-send', id: 1, peer: { ip: '::ffff:10.1.2.3', port: 1 }, payload: new Uint8Array(0) });
    expect(toHex(mapped)).toBe('01120001' + '0001' + '04' + '0a010203');
    // A mapped address that arrives as 16 bytes is unmapped by the decoder too.
    const r = dec('01120001' + '0001' + '10' + '00'.repeat(10) + 'ffff' + '0a010203');
    expect(r.ok && r.value.type === 'udp-send' && r.value.peer.ip).toBe('10.1.2.3');
  });

  it('round-trips every frame type', () => {
    for (const f of SAMPLES) {
      const r = decodeFrame(enc(f));
      expect(r.ok, `${f.type}: ${!r.ok && r.error.reason}`).toBe(true);
      if (r.ok) expect(r.value).toEqual(f);
    }
  });

  it('names frame types and peeks headers', () => {
    expect(frameTypeName(0x22)).toBe('TCP_DATA');
    expect(frameTypeName(0x99)).toBe('0x99');
    expect(peekHeader(fromHex('01250007ff'))).toEqual({ version: 1, type: 0x25, id: 7 });
    expect(peekHeader(fromHex('0125'))).toBeUndefined();
  });

  it('FRAME_OVERHEAD covers the largest fixed part (TCP_CONNECT to IPv6)', () => {
    const b = enc({ type: 'tcp-connect', id: 1, peer: { ip: 'ffff::1', port: 1 }, timeoutMs: 1 });
    expect(b.length).toBe(FRAME_OVERHEAD);
  });
});

describe('tunnel frames: typed errors', () => {
  it('refuses short headers, other versions and unknown types', () => {
    expect(errOf('')).toEqual({ code: 'truncated', field: 'header' });
    expect(errOf('011200')).toEqual({ code: 'truncated', field: 'header' });
    expect(errOf('02120001')).toEqual({ code: 'bad-version', field: 'version' });
    expect(errOf('01770001')).toEqual({ code: 'bad-type', field: 'type' });
  });

  it('refuses id 0, port 0 and bad ip lengths', () => {
    expect(errOf('01120000' + '0001047f000001')).toEqual({ code: 'bad-value', field: 'id' });
    expect(errOf('01120001' + '0000047f000001')).toEqual({ code: 'bad-value', field: 'port' });
    expect(errOf('01120001' + '0001057f00000100')).toEqual({ code: 'bad-length', field: 'ip-length' });
    expect(errOf('01120001' + '0001007f000001')).toEqual({ code: 'bad-length', field: 'ip-length' });
    // UDP_OPEN is the one place where ip-length 0 (the bridge's default) and port 0 are fine.
    expect(dec('01100001' + '0000' + '00').ok).toBe(true);
  });

  it('refuses truncated bodies and trailing bytes', () => {
    expect(errOf('01120001' + '0001' + '04' + '7f00')).toEqual({ code: 'truncated', field: 'ip' });
    expect(errOf('01200001' + '0001047f000001' + '0000')).toEqual({ code: 'truncated', field: 'timeout-ms' });
    expect(errOf('01230001' + '00000001' + '00')).toEqual({ code: 'trailing-bytes', field: 'body' });
    expect(errOf('01240001' + '00')).toEqual({ code: 'trailing-bytes', field: 'body' });
    expect(errOf('01000000' + '0500')).toEqual({ code: 'truncated', field: 'max-udp-sockets' });
  });

  it('refuses empty TCP data, zero ACKs and windows, unknown close reasons', () => {
    expect(errOf('01220001')).toEqual({ code: 'too-small', field: 'payload' });
    expect(errOf('01230001' + '00000000')).toEqual({ code: 'bad-value', field: 'bytes' });
    expect(errOf('01210001' + '00000000')).toEqual({ code: 'bad-value', field: 'window' });
    expect(errOf('01250001' + '09')).toEqual({ code: 'bad-value', field: 'reason' });
  });

  it('refuses oversize datagrams and oversize frames against the limits given', () => {
    const big = enc({ type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: 1 }, payload: new Uint8Array(1281) });
    const limits = { maxDatagram: 1280, maxFrame: 4096 };
    const r = decodeFrame(big, limits);
    expect(!r.ok && [r.error.code, r.error.field]).toEqual(['too-large', 'payload']);
    const huge = enc({ type: 'tcp-data', id: 1, payload: new Uint8Array(5000) });
    const r2 = decodeFrame(huge, limits);
    expect(!r2.ok && [r2.error.code, r2.error.field]).toEqual(['too-large', 'frame']);
  });

  it('checks DNS names and answer counts before growing anything', () => {
    expect(errOf('01300001')).toEqual({ code: 'bad-length', field: 'name' });
    expect(errOf('01300001' + toHex(new TextEncoder().encode('a b')))).toEqual({ code: 'bad-value', field: 'name' });
    expect(errOf('01300001' + toHex(new TextEncoder().encode('x..y')))).toEqual({ code: 'bad-value', field: 'name' });
    expect(errOf('01300001' + 'c3a9')).toEqual({ code: 'bad-value', field: 'name' }); // non-ASCII
    // count 255 with 5 bytes of body: refused up front (no 255-entry loop, no allocation).
    expect(errOf('01310001' + 'ff' + '047f000001')).toEqual({ code: 'too-large', field: 'count' });
    expect(errOf('01310001' + '10' + '047f000001')).toEqual({ code: 'truncated', field: 'addresses' });
    expect(errOf('01310001' + '02' + '047f000001' + '05')).toEqual({ code: 'truncated', field: 'addresses' });
  });

  it('encodeFrame returns typed errors for values that cannot go on the wire', () => {
    const bad: Frame[] = [
      { type: 'udp-send', id: 0, peer: { ip: '127.0.0.1', port: 1 }, payload: new Uint8Array(0) },
      { type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: 70000 }, payload: new Uint8Array(0) },
      { type: 'udp-send', id: 1, peer: { ip: 'localhost', port: 1 }, payload: new Uint8Array(0) },
      { type: 'udp-opened', id: 1, ip: '', port: 1 },
      { type: 'tcp-data', id: 1, payload: new Uint8Array(0) },
      { type: 'tcp-ack', id: 1, bytes: -1 },
      { type: 'dns-resolve', id: 1, name: 'not a name' },
      { type: 'dns-result', id: 1, addresses: Array(MAX_DNS_ANSWERS + 1).fill('127.0.0.1') },
      { type: 'tcp-close', id: 1, reason: 'nope' as never, detail: '' },
      { type: 'bogus' } as unknown as Frame,
    ];
    for (const f of bad) {
      const r = encodeFrame(f);
      expect(r.ok, JSON.stringify(f).slice(0, 80)).toBe(false);
      if (!r.ok) expect(r.error.name).toBe('WireError');
    }
  });

  it('cuts long messages to 256 bytes on a character boundary', () => {
    const b = enc({ type: 'error', id: 1, refType: 0, code: 1, message: 'é'.repeat(300) });
    expect(b.length).toBe(4 + 2 + 256);
    const r = decodeFrame(b);
    expect(r.ok && r.value.type === 'error' && r.value.message).toBe('é'.repeat(128));
  });
});

describe('tunnel frames: fuzz', () => {
  it('never throws on 30,000 random and mutated frames', () => {
    const g = prng(3);
    const valid = SAMPLES.map(enc);
    let decoded = 0;
    const problems: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      let b: Uint8Array;
      const kind = i % 4;
      if (kind === 0) b = g.bytes(g.int(40));
      else if (kind === 1) {
        // A valid header with a random body.
        b = g.bytes(4 + g.int(40));
        b[0] = 1;
        b[1] = [0x00, 0x01, 0x10, 0x11, 0x12, 0x13, 0x14, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x30, 0x31][g.int(15)];
      } else {
        // A valid frame with flipped bytes, truncated or extended.
        const src = valid[g.int(valid.length)];
        b = src.slice(0, kind === 2 ? src.length : g.int(src.length + 1));
        for (let k = 0, n = 1 + g.int(3); k < n && b.length > 0; k++) b[g.int(b.length)] ^= 1 << g.int(8);
        if (g.int(4) === 0) b = Uint8Array.from([...b, ...g.bytes(1 + g.int(8))]);
      }
      const r = decodeFrame(b, { maxDatagram: 1280, maxFrame: 2048 });
      if (r.ok) {
        decoded++;
        // Whatever decodes re-encodes to the same bytes, but for a 16-byte mapped IPv4 address,
        // which comes back in its 4-byte form (unmapped on the way in).
        const again = encodeFrame(r.value);
        const same = again.ok && (toHex(again.value) === toHex(b) || JSON.stringify(decodeFrame(again.value)) === JSON.stringify(r));
        if (!same) problems.push(`re-encode ${toHex(b)}`);
      } else if (r.error.name !== 'WireError' || r.error.code === 'internal') problems.push(`${r.error.code} ${toHex(b)}`);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(decoded).toBeGreaterThan(1000); // the fuzz reaches the decoders' insides
  });
});

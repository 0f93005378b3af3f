// The pcapng export: block structure read back by hand (draft-ietf-opsawg-pcapng), the IP, UDP
// and TCP checksums against known values, and the real check: Debian's tshark reads an exported
// Bitcoin session (two real engines) and a discv5 session, and decodes what we show.
import { describe, expect, it } from 'vitest';
import { BitcoinEngine, type BitcoinEvent } from '../shared/bitcoin/engine.ts';
import { decodeMessage, encodeMessage, type Version } from '../shared/bitcoin/messages.ts';
import { NETWORKS, NODE_NETWORK, NODE_WITNESS } from '../shared/bitcoin/spec.ts';
import { fromHex, fromUtf8 } from '../shared/bytes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { createEnr, udpFields } from '../shared/enr/index.ts';
import { internetChecksum, ipPacket, ipv4Header, IPPROTO_TCP, IPPROTO_UDP, pseudoHeader, tcpHeader, TCP, udpHeader } from '../shared/capture/ip-packets.ts';
import type { PacketRecord } from '../shared/discv5/engine.ts';
import type { Engine, WireRecord } from '../shared/engine.ts';
import { ConnectionLog } from '../shared/capture/connections.ts';
import { BLOCK, BYTE_ORDER_MAGIC, LINKTYPE_RAW, microseconds, OPTION, toPcapng, type CaptureRecord, type ConnectionInfo } from '../shared/pcapng.ts';
import type { Endpoint } from '../shared/transport.ts';
import { makePeer, Wire } from './helpers/engines.ts';
import { readBlocks, readEnhancedPacket, readOptions } from './helpers/pcapng-reader.ts';
import { prng } from './helpers/prng.ts';
import { side, StreamWire, type Side } from './helpers/stream-wire.ts';
import { requireTshark, tsharkFields } from './helpers/tshark.ts';

const main = NETWORKS.main;
const EPOCH = 1_764_000_000_000.25;
const ascii = (b: Uint8Array) => String.fromCharCode(...b);
const le64 = (b: Uint8Array) => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);

function exported(records: readonly CaptureRecord[], local: Endpoint, connections?: Map<string, ConnectionInfo>): Uint8Array {
  const r = toPcapng(records, { local, ...(connections ? { connections } : {}) });
  if (!r.ok) throw r.error;
  return r.value;
}

// ---- by hand ----

describe('pcapng blocks, read back by hand', () => {
  it('an empty session: a Section Header and an Interface Description, each framed and ending its options', () => {
    const file = exported([], { ip: '127.0.0.1', port: 1 });
    const blocks = readBlocks(file);
    expect(blocks.map((b) => b.type)).toEqual([BLOCK.SHB, BLOCK.IDB]);
    for (const b of blocks) {
      expect(b.totalLength % 4).toBe(0);
      expect(b.trailingLength).toBe(b.totalLength);
    }
    const shb = blocks[0];
    // The byte-order magic as written on disk: little-endian.
    expect(Array.from(shb.body.subarray(0, 4))).toEqual([0x4d, 0x3c, 0x2b, 0x1a]);
    const v = new DataView(shb.body.buffer, shb.body.byteOffset);
    expect(v.getUint32(0, true)).toBe(BYTE_ORDER_MAGIC);
    expect([v.getUint16(4, true), v.getUint16(6, true)]).toEqual([1, 0]);
    expect(v.getBigInt64(8, true)).toBe(-1n); // section length unknown
    const shbOpts = readOptions(shb.body, 16);
    expect(shbOpts.ended).toBe(true);
    expect(shbOpts.end).toBe(shb.body.length);
    expect(shbOpts.options.map((o) => [o.code, ascii(o.value)])).toEqual([[OPTION.shb_userappl, 'Handshake Lab']]);
    const idb = blocks[1];
    const iv = new DataView(idb.body.buffer, idb.body.byteOffset);
    expect(iv.getUint16(0, true)).toBe(LINKTYPE_RAW);
    const idbOpts = readOptions(idb.body, 8);
    expect(idbOpts.ended && idbOpts.end === idb.body.length).toBe(true);
    expect(idbOpts.options.find((o) => o.code === OPTION.if_tsresol)?.value).toEqual(Uint8Array.of(6));
  });

  it('each record is an Enhanced Packet Block: microsecond timestamp, lengths, padded data, comment option', () => {
    const peer = { ip: '10.1.2.3', port: 30303 };
    const records: CaptureRecord[] = [
      { direction: 'out', at: EPOCH, peer, raw: Uint8Array.of(1, 2, 3), summary: 'three bytes' },
      { direction: 'in', at: EPOCH + 0.123, peer, raw: new Uint8Array(0) },
    ];
    const blocks = readBlocks(exported(records, { ip: '10.0.0.1', port: 9000 }));
    expect(blocks.map((b) => b.type)).toEqual([BLOCK.SHB, BLOCK.IDB, BLOCK.EPB, BLOCK.EPB]);
    const [a, b] = blocks.slice(2).map(readEnhancedPacket);
    expect(a.timestamp).toBe(1_764_000_000_000_250n);
    expect(b.timestamp - a.timestamp).toBe(123n);
    expect(a.capturedLength).toBe(20 + 8 + 3);
    expect(a.originalLength).toBe(a.capturedLength);
    expect(a.options.map((o) => [o.code, ascii(o.value)])).toEqual([[OPTION.comment, 'three bytes']]);
    expect(b.options).toEqual([]); // no summary, no comment (and no options at all)
    expect(a.data.subarray(28)).toEqual(Uint8Array.of(1, 2, 3));
    // IPv4, UDP, our port to theirs; the reply the other way.
    expect(a.data[0] >> 4).toBe(4);
    expect([a.data[9], (a.data[20] << 8) | a.data[21], (a.data[22] << 8) | a.data[23]]).toEqual([IPPROTO_UDP, 9000, 30303]);
    expect([(b.data[20] << 8) | b.data[21], (b.data[22] << 8) | b.data[23]]).toEqual([30303, 9000]);
  });

  it('a refused record says why in its comment; a long summary is cut', () => {
    const peer = { ip: '10.1.2.3', port: 30303 };
    const file = exported([
      { direction: 'in', at: EPOCH, peer, raw: Uint8Array.of(1), summary: 'version', rejected: 'checksum: 0x00000000 does not match' },
      { direction: 'in', at: EPOCH, peer, raw: Uint8Array.of(1), kind: 'x'.repeat(5000) },
    ], { ip: '10.0.0.1', port: 9000 });
    const comments = readBlocks(file).slice(2).map((b) => fromUtf8(readEnhancedPacket(b).options[0].value));
    expect(comments[0]).toBe('version — refused: checksum: 0x00000000 does not match');
    expect(comments[1]).toBe(`${'x'.repeat(1000)}…`);
  });

  it('timestamps keep sub-millisecond precision at today\'s epoch, rounded to the microsecond', () => {
    expect(microseconds(1_764_000_000_000.000_1)).toBe(1_764_000_000_000_000n);
    expect(microseconds(1_764_000_000_123.456)).toBe(1_764_000_000_123_456n);
    expect(microseconds(1_764_000_000_123.4996)).toBe(1_764_000_000_123_500n);
    expect(microseconds(5.9996)).toBe(6000n); // rounds up into the next millisecond
    expect(microseconds(0)).toBe(0n);
  });
});

describe('checksums', () => {
  it('RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d', () => {
    expect(internetChecksum(fromHex('0001f203f4f5f6f7'))).toBe(0x220d);
    // An odd length is padded with a zero byte.
    expect(internetChecksum(fromHex('0001f203f4f5f6'))).toBe(~(0x0001 + 0xf203 + 0xf4f5 + 0xf600 - 0x20000 + 2) & 0xffff);
  });

  it('IPv4 header checksum of a known header (192.168.0.1 → 192.168.0.199, UDP, 115 bytes): b861', () => {
    const h = ipv4Header({ src: Uint8Array.of(192, 168, 0, 1), dst: Uint8Array.of(192, 168, 0, 199) }, IPPROTO_UDP, 0x73 - 20, 0);
    expect(h).toEqual(fromHex('450000730000400040 11b861c0a80001c0a800c7'.replace(/ /g, '')));
    expect(internetChecksum(h)).toBe(0); // a header with its checksum sums to all ones
  });

  it('UDP and TCP checksums cover the pseudo-header: a received segment verifies to zero (IPv4 and IPv6)', () => {
    const v4 = { src: Uint8Array.of(127, 0, 0, 1), dst: Uint8Array.of(127, 0, 0, 2) };
    const v6 = { src: fromHex('20010db8000000000000000000000001'), dst: fromHex('20010db8000000000000000000000002') };
    const payload = fromHex('f9beb4d976657261636b000000000000000000005df6e0e2ab'); // odd length
    for (const a of [v4, v6]) {
      const ipLen = a.src.length === 4 ? 20 : 40;
      const udp = ipPacket(a, IPPROTO_UDP, udpHeader(1, 2, payload.length), payload);
      expect(internetChecksum(pseudoHeader(a, IPPROTO_UDP, udp.length - ipLen), udp.subarray(ipLen))).toBe(0);
      const tcp = ipPacket(a, IPPROTO_TCP, tcpHeader({ srcPort: 1, dstPort: 2, seq: 0xfffffff0, ack: 7, flags: TCP.PSH | TCP.ACK }), payload);
      expect(internetChecksum(pseudoHeader(a, IPPROTO_TCP, tcp.length - ipLen), tcp.subarray(ipLen))).toBe(0);
      // Flip one payload bit: the checksum no longer verifies.
      tcp[tcp.length - 1] ^= 1;
      expect(internetChecksum(pseudoHeader(a, IPPROTO_TCP, tcp.length - ipLen), tcp.subarray(ipLen))).not.toBe(0);
    }
  });

  it('a UDP checksum that computes to zero is sent as ffff (RFC 768)', () => {
    const a = { src: Uint8Array.of(10, 0, 0, 1), dst: Uint8Array.of(10, 0, 0, 2) };
    const c = (p: Uint8Array) => new DataView(p.buffer).getUint16(26);
    // With a zero payload word the checksum is c; a payload word equal to c makes the sum all ones.
    const first = c(ipPacket(a, IPPROTO_UDP, udpHeader(5, 6, 2), new Uint8Array(2)));
    const zero = ipPacket(a, IPPROTO_UDP, udpHeader(5, 6, 2), Uint8Array.of(first >> 8, first & 0xff));
    expect(c(zero)).toBe(0xffff);
  });
});

// ---- TCP rebuilt from stream records ----

interface TcpSeen { flags: number; seq: number; ack: number; srcPort: number; payload: number }
function tcpOf(file: Uint8Array): TcpSeen[] {
  return readBlocks(file).filter((b) => b.type === BLOCK.EPB).map((b) => {
    const d = readEnhancedPacket(b).data;
    const ip = d[0] >> 4 === 4 ? 20 : 40;
    const v = new DataView(d.buffer, d.byteOffset);
    return { srcPort: v.getUint16(ip), seq: v.getUint32(ip + 4), ack: v.getUint32(ip + 8), flags: d[ip + 13], payload: d.length - ip - (d[ip + 12] >> 4) * 4 };
  });
}

describe('TCP around stream records', () => {
  const peer = { ip: '127.0.0.9', port: 8333 };
  const rec = (direction: 'in' | 'out', n: number, at: number, streamOffset?: number): CaptureRecord => ({ direction, at, peer, conn: 'c1', raw: new Uint8Array(n).fill(7), ...(streamOffset !== undefined ? { streamOffset } : {}) });

  it('handshake first, data by stream offset with acks of the other side, large records cut at the MSS, FIN exchange', () => {
    const records = [rec('out', 100, EPOCH, 0), rec('in', 3000, EPOCH + 1, 0), rec('out', 50, EPOCH + 2)];
    const file = toPcapng(records, { local: { ip: '127.0.0.1', port: 0 }, mss: 1400, connections: new Map([['c1', { closed: { by: 'remote' } }]]) });
    if (!file.ok) throw file.error;
    const s = tcpOf(file.value);
    const { SYN, ACK, PSH, FIN } = TCP;
    expect(s.map((x) => x.flags)).toEqual([SYN, SYN | ACK, ACK, PSH | ACK, ACK, ACK, PSH | ACK, PSH | ACK, FIN | ACK, FIN | ACK, ACK]);
    expect(s.map((x) => x.payload)).toEqual([0, 0, 0, 100, 1400, 1400, 200, 50, 0, 0, 0]);
    const isnL = s[0].seq;
    const isnR = s[1].seq;
    expect(s[1].ack).toBe((isnL + 1) >>> 0);
    expect(s[3]).toMatchObject({ seq: (isnL + 1) >>> 0, ack: (isnR + 1) >>> 0 });
    expect(s.slice(4, 7).map((x) => x.seq)).toEqual([0, 1400, 2800].map((o) => (isnR + 1 + o) >>> 0));
    expect(s[4].ack).toBe((isnL + 101) >>> 0); // the peer has our 100 bytes
    expect(s[7]).toMatchObject({ seq: (isnL + 101) >>> 0, ack: (isnR + 3001) >>> 0 }); // no streamOffset: counted on
    // The remote closes: its FIN, ours, its last ACK; each FIN takes one sequence number.
    expect(s[8]).toMatchObject({ srcPort: 8333, seq: (isnR + 3001) >>> 0 });
    expect(s[9]).toMatchObject({ seq: (isnL + 151) >>> 0, ack: (isnR + 3002) >>> 0 });
    expect(s[10]).toMatchObject({ seq: (isnR + 3002) >>> 0, ack: (isnL + 152) >>> 0 });
    // We dialled: an ephemeral port of ours.
    expect(s[0].srcPort).toBeGreaterThanOrEqual(49152);
  });

  it('the peer dialled: its SYN, to our listening port; a reset ends it with one RST', () => {
    const file = exported([rec('in', 10, EPOCH)], { ip: '127.0.0.1', port: 18444 }, new Map([['c1', { closed: { by: 'local', reset: true } }]]));
    const s = tcpOf(file);
    expect(s[0]).toMatchObject({ flags: TCP.SYN, srcPort: 8333 });
    expect(s.at(-1)!.flags).toBe(TCP.RST | TCP.ACK);
    expect(s.at(-1)!.srcPort).toBe(18444);
  });
});

describe('refusals: a Result, never a throw', () => {
  const peer = { ip: '127.0.0.2', port: 1 };
  const good: CaptureRecord = { direction: 'out', at: EPOCH, peer, raw: new Uint8Array(4) };
  const cases: [string, unknown, unknown, RegExp][] = [
    ['negative time', [{ ...good, at: -1 }], undefined, /records\[0\]\.at/],
    ['NaN time', [{ ...good, at: NaN }], undefined, /records\[0\]\.at/],
    ['time past the end of Date', [{ ...good, at: 9e15 }], undefined, /records\[0\]\.at/],
    ['negative stream offset', [{ ...good, conn: 'x', streamOffset: -5 }], undefined, /streamOffset/],
    ['fractional stream offset', [{ ...good, conn: 'x', streamOffset: 1.5 }], undefined, /streamOffset/],
    ['not an IP', [{ ...good, peer: { ip: 'example.org', port: 1 } }], undefined, /records\[0\]\.peer\.ip/],
    ['port out of range', [{ ...good, peer: { ip: '::1', port: 70000 } }], undefined, /peer\.port/],
    ['raw not bytes', [{ ...good, raw: [1, 2] }], undefined, /raw/],
    ['direction', [{ ...good, direction: 'up' }], undefined, /direction/],
    ['a record that is null', [null], undefined, /records\[0\]/],
    ['not a list', 'nope', undefined, /records/],
    ['no options', [good], null, /options/],
    ['our address', [good], { local: { ip: '1.2.3', port: 1 } }, /local\.ip/],
    ['a datagram over 64 KiB', [{ ...good, raw: new Uint8Array(70_000) }], undefined, /UDP datagram/],
    ['over the size limit', [good, good], { local: peer, maxBytes: 100 }, /exceed/],
    ['opener', [{ ...good, conn: 'x' }], { local: peer, connections: new Map([['x', { opener: 'both' }]]) }, /opener/],
  ];
  for (const [name, records, options, reason] of cases) {
    it(name, () => {
      const r = toPcapng(records as CaptureRecord[], (options === undefined ? { local: { ip: '127.0.0.1', port: 2 } } : options) as never);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.reason).toMatch(reason);
        expect(r.error.code).not.toBe('internal');
      }
    });
  }

  it('a 4 MB stream record is cut into segments; our IPv4 side talking to an IPv6 peer gets a documentation address', () => {
    const big = toPcapng([{ ...good, conn: 'x', raw: new Uint8Array(4_000_024) }], { local: peer });
    expect(big.ok && readBlocks(big.value).length).toBe(2 + 3 + Math.ceil(4_000_024 / 1400));
    const mixed = toPcapng([{ ...good, peer: { ip: '::1', port: 5 } }], { local: peer });
    if (!mixed.ok) throw mixed.error;
    const d = readEnhancedPacket(readBlocks(mixed.value)[2]).data;
    expect(d[0] >> 4).toBe(6);
    expect(d.subarray(8, 24)).toEqual(fromHex('20010db8000000000000000000000001'));
  });
});

// ---- tshark ----

type BtcSide = Side<unknown, BitcoinEvent>;

/** An engine whose stream inputs and transmits are also written to a connection log. */
function logged<C, E>(engine: Engine<C, E>, log: ConnectionLog): Engine<C, E> {
  return {
    protocol: engine.protocol,
    handle(input, now) {
      log.input(input, now);
      const out = engine.handle(input, now);
      log.transmits(out.transmits, now);
      return out;
    },
    tick(now) {
      const out = engine.tick(now);
      log.transmits(out.transmits, now);
      return out;
    },
    nextDeadline: () => engine.nextDeadline(),
  };
}

/** Two real Bitcoin engines on main, the dialler at `a`, the listener at `b`, messages 1.5 ms apart. */
function bitcoinSession(a: Endpoint, b: Endpoint) {
  const engine = (seed: number, accept: boolean, startHeight: number) => {
    const g = prng(seed);
    return new BitcoinEngine({ network: main, random: (n) => g.bytes(n), accept, startHeight, services: seed === 1 ? 0n : NODE_NETWORK | NODE_WITNESS, relay: seed !== 1 });
  };
  const wire = new StreamWire([]);
  wire.now = EPOCH;
  const logs = { dialer: new ConnectionLog(), listener: new ConnectionLog() };
  const dialer = side('dialer', logged(engine(1, false, 0), logs.dialer), a) as BtcSide;
  const listener = side('listener', logged(engine(2, true, 870_000), logs.listener), b) as BtcSide;
  wire.sides.push(dialer, listener);
  wire.command(dialer, { type: 'handshake', to: b });
  for (let i = 0; i < 200; i++) {
    wire.now += 1.5;
    wire.run(1);
  }
  return { dialer, listener, logs };
}

const BTC_FIELDS = ['ip.src', 'ipv6.src', 'tcp.srcport', 'bitcoin.command', 'bitcoin.version.version', 'bitcoin.version.services', 'bitcoin.version.nonce', 'bitcoin.string.value', 'bitcoin.version.start_height', 'bitcoin.version.relay'];

/** Our records, shown the way the tshark row is: "src command [version fields]". */
function ourView(records: WireRecord[], self: Endpoint): string[] {
  return records.map((r) => {
    const src = r.direction === 'out' ? self.ip : r.peer.ip;
    if (r.kind !== 'version') return `${src} ${r.kind}`;
    const v = decodeVersion(r.raw);
    return `${src} version ${v.version} 0x${v.services.toString(16).padStart(16, '0')} 0x${le64(v.nonce!).toString(16).padStart(16, '0')} ${v.userAgent} ${v.startHeight} ${v.relay ? 1 : 0}`;
  });
}

/** Read back through our decoder: it is what the page shows. */
function decodeVersion(raw: Uint8Array): Version {
  const d = decodeMessage(raw, main);
  if (!d.ok) throw d.error;
  return d.value.message as Version;
}

function theirView(rows: string[][]): string[] {
  return rows.map(([src4, src6, , command, version, services, nonce, ua, height, relay]) => {
    const src = src4 || src6;
    return command === 'version' ? `${src} version ${version} ${services} ${nonce} ${ua} ${height} ${relay}` : `${src} ${command}`;
  });
}

/** A discv5 peer whose record carries its IPv4 or IPv6 endpoint. */
function discv5Peer(seed: number, ep: Endpoint) {
  const g = prng(seed + 1000);
  const privateKey = randomPrivateKey((n) => g.bytes(n));
  const enr = createEnr({ privateKey, ...udpFields(ep) });
  return makePeer(seed, { privateKey, enr }, ep);
}

describe('the connection log: what the records do not say, from stream events and transmits', () => {
  it('who dialled, when the SYN left, who closed first, for both ends of a session', () => {
    const a = { ip: '127.0.0.1', port: 40009 };
    const b = { ip: '127.0.0.2', port: 8333 };
    const { dialer, listener, logs } = bitcoinSession(a, b);
    const [dconn, dinfo] = [...logs.dialer.connections][0];
    const [lconn, linfo] = [...logs.listener.connections][0];
    expect(dconn).toBe(dialer.records[0].conn);
    expect(lconn).toBe(listener.records[0].conn);
    // The dialler sent connect at the start: the SYN is stamped then, no later than its first
    // message (its version goes with the connect, so both carry the same time).
    expect(dinfo).toMatchObject({ opener: 'local', remote: b, openedAt: EPOCH });
    expect(dinfo.openedAt!).toBeLessThanOrEqual(dialer.records[0].at);
    expect(linfo).toMatchObject({ opener: 'remote', remote: a });
    // Each log says who closed as its engine tells it (here both closed on their own SUCCESS).
    for (const [s, info] of [[dialer, dinfo], [listener, linfo]] as const) {
      const closed = s.events.find((e) => e.type === 'closed');
      expect(closed).toBeDefined();
      expect(info.closed?.by).toBe(closed!.type === 'closed' && closed!.reason === 'by-us' ? 'local' : 'remote');
      expect(info.closed!.at!).toBeGreaterThanOrEqual(s.records.at(-1)!.at);
    }
  });

  it('a refused connect leaves no connection; a reset is a reset', () => {
    const log = new ConnectionLog();
    log.transmits([{ type: 'connect', conn: 'x', to: { ip: '127.0.0.1', port: 1 } }], 1);
    log.input({ type: 'stream-failed', conn: 'x', reason: 'refused' }, 2);
    log.input({ type: 'stream-opened', conn: 'y', remote: { ip: '127.0.0.1', port: 2 }, direction: 'inbound' }, 3);
    log.input({ type: 'stream-closed', conn: 'y', reason: 'reset' }, 4);
    log.transmits([{ type: 'stream-close', conn: 'y' }], 4);
    expect([...log.connections]).toEqual([['y', { remote: { ip: '127.0.0.1', port: 2 }, opener: 'remote', openedAt: 3, closed: { by: 'remote', at: 4, reset: true } }]]);
  });
});

describe('tshark reads our export', () => {
  it('tshark is installed (CI installs it in .ci/run)', () => {
    expect(requireTshark()).toMatch(/^TShark/);
  });

  it('a Bitcoin session over IPv4, from the dialler: the same messages, both directions, and the same version fields', () => {
    requireTshark();
    const a = { ip: '127.0.0.1', port: 40001 };
    const b = { ip: '127.0.0.2', port: 18555 };
    const { dialer, logs } = bitcoinSession(a, b);
    expect(dialer.records.map((r) => r.kind)).toEqual(['version', 'version', 'wtxidrelay', 'sendaddrv2', 'verack', 'wtxidrelay', 'sendaddrv2', 'verack']);
    const file = exported(dialer.records, { ip: a.ip, port: 0 }, logs.dialer.connections);
    const rows = tsharkFields(file, BTC_FIELDS, ['-d', 'tcp.port==18555,bitcoin', '-Y', 'bitcoin']);
    const theirs = theirView(rows);
    expect(theirs).toEqual(ourView(dialer.records, a));
    // Spot-check the listener's version as tshark prints it, so the comparison above is not vacuous.
    expect(theirs[1]).toBe('127.0.0.2 version 70016 0x0000000000000009 ' + theirs[1].split(' ')[4] + ' /handshake-lab:0.1.0/ 870000 1');
  });

  it('the same session from the listener, over IPv6 (the peer dialled us): the same decode', () => {
    requireTshark();
    const a = { ip: '::1', port: 40002 };
    const b = { ip: '::2', port: 8333 };
    const { listener, logs } = bitcoinSession(a, b);
    const file = exported(listener.records, b, logs.listener.connections);
    const rows = tsharkFields(file, BTC_FIELDS, ['-d', 'tcp.port==8333,bitcoin', '-Y', 'bitcoin']);
    expect(theirView(rows)).toEqual(ourView(listener.records, b));
    expect(rows.every((r) => r[2] === '8333' || r[2] === '40002')).toBe(true);
  });

  it('TCP is clean over IPv4 and IPv6: checksums good, no analysis warnings, handshake and FIN; a message larger than the MSS is reassembled', () => {
    requireTshark();
    for (const [ipA, ipB] of [['127.0.0.1', '127.0.0.2'], ['::1', '::2']]) {
      const a = { ip: ipA, port: 40003 };
      const b = { ip: ipB, port: 8333 };
      const { dialer, logs } = bitcoinSession(a, b);
      // One more message after the handshake: 5000 bytes of an unknown command, cut into 4 segments.
      const last = dialer.records.filter((r) => r.direction === 'in').at(-1)!;
      const big = encodeMessage(main, { command: 'lab', unknown: true, payload: new Uint8Array(5000).fill(0x61) });
      const extra: WireRecord = { ...last, seq: 99, at: last.at + 1, raw: big, kind: 'lab', summary: 'lab', streamOffset: last.streamOffset! + last.raw.length };
      const file = exported([...dialer.records, extra], { ip: a.ip, port: 0 }, logs.dialer.connections);
      const rows = tsharkFields(file, ['tcp.flags.str', 'ip.checksum.status', 'tcp.checksum.status', 'tcp.analysis.flags', 'bitcoin.command', 'bitcoin.length']);
      const v4 = !ipA.includes(':');
      expect(rows.map((r) => r[1])).toEqual(rows.map(() => (v4 ? '1' : ''))); // IPv4 header checksum: good (IPv6 has none)
      expect(rows.map((r) => r[2])).toEqual(rows.map(() => '1')); // TCP checksum: good
      expect(rows.filter((r) => r[3] !== '')).toEqual([]); // no lost segments, retransmissions, ...
      const flags = rows.map((r) => r[0].replace(/·/g, '').trim());
      expect(flags.slice(0, 3)).toEqual(['S', 'AS', 'A']);
      expect(flags.slice(-3)).toEqual(['AF', 'AF', 'A']);
      expect(rows.map((r) => r[4]).filter(Boolean)).toEqual([...dialer.records.map((r) => r.kind), 'lab']);
      expect(rows.find((r) => r[4] === 'lab')![5]).toBe('5000');
      expect(rows.length).toBe(3 + dialer.records.length + 4 + 3);
    }
  });

  it('a discv5 session over UDP: every datagram with our ports, its length and a good checksum, IPv4 and IPv6', () => {
    requireTshark();
    for (const [ipA, ipB] of [['127.0.0.1', '127.0.0.2'], ['::1', '::2']]) {
      const alice = discv5Peer(11, { ip: ipA, port: 30301 });
      const bob = discv5Peer(12, { ip: ipB, port: 30302 });
      const wire = new Wire([alice, bob]);
      wire.now = EPOCH;
      wire.command(alice, { type: 'ping', to: bob.contact });
      wire.run();
      const records: PacketRecord[] = alice.events.flatMap((e) => (e.type === 'packet' ? [e.packet] : []));
      expect(records.length).toBeGreaterThanOrEqual(4); // ordinary, WHOAREYOU, handshake, PONG
      const rows = tsharkFields(exported(records, alice.endpoint), ['ip.src', 'ipv6.src', 'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum.status', 'frame.time_epoch']);
      expect(rows.map((r) => [r[0] || r[1], r[2], r[3], r[4], r[5]])).toEqual(
        records.map((r) => [r.direction === 'out' ? ipA : ipB, ...(r.direction === 'out' ? ['30301', '30302'] : ['30302', '30301']), String(8 + r.raw.length), '1']),
      );
      const epochText = (us: bigint) => `${us / 1_000_000n}.${String(us % 1_000_000n).padStart(6, '0')}000`;
      expect(rows.map((r) => r[6])).toEqual(records.map((r) => epochText(microseconds(r.at))));
    }
  });
});

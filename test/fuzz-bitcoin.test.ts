// Fuzzing the Bitcoin decoders with a seeded PRNG (a failure prints its case number; the same
// seed replays it): at least 100,000 inputs each for decodeMessage, dissectBitcoin, the framer
// fed random chunkings, and the handshake engine fed hostile streams after a valid start; and
// toPcapng fed random records. Inputs are mutations of valid messages (bit flips, truncation,
// length and command edits, huge compactSizes, payloads re-sealed with a valid checksum so the
// payload decoders are reached) and random bytes. Zero escapes: nothing may throw, no error may
// be an internal one (a bug caught at a boundary), every dissection layer tiles its bytes.
import { describe, expect, it } from 'vitest';
import { BitcoinEngine, type BitcoinEvent } from '../shared/bitcoin/engine.ts';
import { bitcoinFramer, STREAM_LIMIT } from '../shared/bitcoin/framer.ts';
import { checksumOf, decodeMessage, dissectBitcoin, encodeMessage, type BtcMessage, type Version } from '../shared/bitcoin/messages.ts';
import { NETWORKS } from '../shared/bitcoin/spec.ts';
import { coverageProblems } from '../shared/dissect.ts';
import type { EngineOutput } from '../shared/engine.ts';
import { ByteQueue, feedFrames, readFrames } from '../shared/framing.ts';
import { concat, equalBytes } from '../shared/bytes.ts';
import { toPcapng, type CaptureRecord, type ConnectionInfo } from '../shared/pcapng.ts';
import { readBlocks } from './helpers/pcapng-reader.ts';
import { prng, type Prng } from './helpers/prng.ts';

const net = NETWORKS.regtest;
const CASES = 100_000;
const SEED = 0xb17c0;

const peerVersion = (g: Prng): Version => ({
  command: 'version', version: [70016, 70015, 70001, 60002, 31800, 106, 105][g.int(7)], services: BigInt(g.u32()), timestamp: BigInt(g.u32()),
  addrRecv: { services: 1n, ip: g.int(2) ? '127.0.0.1' : '::1', port: g.int(65536) }, addrFrom: { services: 0n, ip: '::', port: 0 },
  nonce: g.bytes(8), userAgent: '/Satoshi:27.0.0/'.slice(0, g.int(17)), startHeight: g.int(1_000_000), relay: g.int(2) === 1,
});

/** One valid message of every kind the codec knows, and an unknown one. */
function corpus(g: Prng): Uint8Array[] {
  const messages: BtcMessage[] = [
    peerVersion(g), peerVersion(g), { ...peerVersion(g), version: 70016 },
    { command: 'verack' }, { command: 'wtxidrelay' }, { command: 'sendaddrv2' }, { command: 'sendheaders' }, { command: 'getaddr' }, { command: 'mempool' },
    { command: 'ping', nonce: g.bytes(8) }, { command: 'ping' }, { command: 'pong', nonce: g.bytes(8) },
    { command: 'sendcmpct', highBandwidth: true, version: 2n }, { command: 'feefilter', feerate: 1000n },
    { command: 'sendtxrcncl', version: 1, salt: 0x0123456789abcdefn },
    { command: 'alert', payload: g.bytes(40), signature: g.bytes(71) },
    { command: 'inv', unknown: true, payload: g.bytes(37) },
  ];
  return messages.map((m) => encodeMessage(net, m));
}

const COMMANDS = ['version', 'verack', 'wtxidrelay', 'sendaddrv2', 'sendheaders', 'ping', 'pong', 'sendcmpct', 'feefilter', 'sendtxrcncl', 'alert', 'getaddr', 'mempool', 'inv', '__proto__', 'constructor'];
const LENGTHS = [0, 1, 23, 24, 3_999_999, 4_000_000, 4_000_001, 0x7fffffff, 0xffffffff];
/** compactSize prefixes that claim far more than any message holds, and non-canonical ones. */
const HUGE_COMPACT = [
  Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0xff, 0, 0, 0, 0, 1, 0, 0, 0), Uint8Array.of(0xfe, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0xfe, 0, 0, 0, 2), Uint8Array.of(0xfd, 0xff, 0xff), Uint8Array.of(0xfd, 0x01, 0x01), Uint8Array.of(0xfd, 0x10, 0x00), Uint8Array.of(0xfe, 0x10, 0, 0, 0),
];

const setU32le = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);

/** Header with the right length and checksum for `payload`, so the payload decoder is reached. */
function sealed(head: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(24 + payload.length);
  out.set(head.subarray(0, 20));
  out.set(payload, 24);
  setU32le(out, 16, payload.length);
  out.set(checksumOf(payload), 20);
  return out;
}

function withCommand(m: Uint8Array, command: string): Uint8Array {
  const out = m.slice();
  out.fill(0, 4, 16);
  for (let i = 0; i < command.length && i < 12; i++) out[4 + i] = command.charCodeAt(i);
  return out;
}

/** One hostile variant of a valid message. */
function mutate(g: Prng, m: Uint8Array, pool: Uint8Array[]): Uint8Array {
  const payload = m.subarray(24);
  switch (g.int(12)) {
    case 0: { // bit flips anywhere
      const out = m.slice();
      for (let i = 1 + g.int(8); i > 0; i--) out[g.int(out.length)] ^= 1 << g.int(8);
      return out;
    }
    case 1: // truncation
      return m.subarray(0, g.int(m.length));
    case 2: { // the length field
      const out = m.slice();
      setU32le(out, 16, g.int(3) === 0 ? g.u32() : g.int(2) ? LENGTHS[g.int(LENGTHS.length)] : payload.length + g.int(9) - 4);
      return out;
    }
    case 3: { // the command: a bad byte, or another command over this payload (re-sealed)
      if (g.int(2)) {
        const out = m.slice();
        out[4 + g.int(12)] = [0, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, g.int(256)][g.int(8)];
        return out;
      }
      return sealed(withCommand(m, COMMANDS[g.int(COMMANDS.length)]), payload);
    }
    case 4: { // payload bit flips, re-sealed
      const p = payload.slice();
      for (let i = 1 + g.int(4); i > 0 && p.length > 0; i--) p[g.int(p.length)] ^= 1 << g.int(8);
      return sealed(m, p);
    }
    case 5: { // a huge or non-canonical compactSize where one is read, re-sealed
      const at = m[4] === 0x76 /* version */ ? 80 : 0;
      const cs = HUGE_COMPACT[g.int(HUGE_COMPACT.length)];
      const p = new Uint8Array(Math.min(payload.length, at) + cs.length + g.int(16));
      p.set(payload.subarray(0, at));
      p.set(cs, Math.min(payload.length, at));
      return sealed(withCommand(m, g.int(3) ? String.fromCharCode(...m.subarray(4, 16)).replace(/\0+$/, '') : 'alert'), p);
    }
    case 6: // payload cut or extended, re-sealed
      return sealed(m, g.int(2) ? payload.subarray(0, g.int(payload.length + 1)) : new Uint8Array([...payload, ...g.bytes(1 + g.int(20))]));
    case 7: { // another network's magic, or noise
      const out = m.slice();
      out.set(g.int(2) ? NETWORKS.main.magic : g.bytes(4), 0);
      return out;
    }
    case 8: // two messages glued, the second mutated
      return new Uint8Array([...m, ...mutate(g, pool[g.int(pool.length)], pool)]);
    case 9: // random payload under a known command, sealed
      return sealed(withCommand(m, COMMANDS[g.int(COMMANDS.length)]), g.bytes(g.int(140)));
    case 10: // random bytes
      return g.bytes(g.int(200));
    default: // valid as it is
      return m;
  }
}

/** A cheap assertion for hot loops: the message is built only on failure. */
function check(ok: boolean, message: () => string): void {
  if (!ok) throw new Error(message());
}

function timed<T>(name: string, fn: () => T): T {
  const t = performance.now();
  const r = fn();
  console.log(`${name}: ${((performance.now() - t) / 1000).toFixed(2)} s`);
  return r;
}

describe(`bitcoin fuzz: ${CASES.toLocaleString('en')} inputs per decoder, seed ${SEED}`, () => {
  const g = prng(SEED);
  const pool = corpus(g);
  const input = () => mutate(g, pool[g.int(pool.length)], pool);

  it('decodeMessage and dissectBitcoin: no throw, typed errors, every layer tiled, both agree', () => {
    const counts = { decoded: 0, refused: 0 };
    const reasons = new Map<string, number>();
    timed('decodeMessage + dissectBitcoin', () => {
      for (let i = 0; i < CASES; i++) {
        const raw = input();
        const ctx = () => `case ${i} (seed ${SEED}), first bytes ${Array.from(raw.subarray(0, 48), (b) => b.toString(16).padStart(2, '0')).join('')}`;
        const d = decodeMessage(raw, net);
        check(d.ok || d.error.code !== 'internal', () => `${ctx()}: internal error ${!d.ok && d.error.message}`);
        const diss = dissectBitcoin(raw, net);
        for (const layer of diss.layers) {
          const problems = coverageProblems(layer);
          check(problems.length === 0, () => `${ctx()}: layer ${layer.name}: ${problems.join('; ')}`);
        }
        // The dissector is the decoder's view: it refuses exactly what the decoder refuses.
        check((diss.error === undefined) === d.ok, () => `${ctx()}: decode ${d.ok ? 'ok' : d.error.reason}, dissect ${diss.error}`);
        if (d.ok) {
          counts.decoded++;
          check(diss.kind === d.value.header.command, () => `${ctx()}: kind ${diss.kind}`);
        } else {
          counts.refused++;
          const code = `${d.error.field}:${d.error.code}`;
          reasons.set(code, (reasons.get(code) ?? 0) + 1);
        }
      }
    });
    console.log(`decodeMessage/dissectBitcoin: ${counts.decoded} decoded, ${counts.refused} refused; by field: ${[...reasons].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, n]) => `${k} ${n}`).join(', ')}`);
    // The mutations reach the payload decoders, not only the header checks.
    expect(counts.decoded).toBeGreaterThan(CASES / 10);
    const fields = new Set([...reasons.keys()].map((k) => k.split(':')[0]));
    for (const field of ['magic', 'command', 'length', 'checksum', 'payload', 'user_agent bytes', 'nonce']) expect(fields, field).toContain(field);
  });

  it('the framer, fed random chunkings: the same frames as in one piece, contiguous offsets, nothing read past an error', () => {
    const framer = bitcoinFramer(net);
    type Seen = string;
    const readAll = (stream: Uint8Array, cuts: number[]): { seen: Seen[]; frames: Uint8Array[] } => {
      const q = new ByteQueue(STREAM_LIMIT);
      const seen: Seen[] = [];
      const frames: Uint8Array[] = [];
      let at = 0;
      for (const end of [...cuts, stream.length]) {
        const chunk = stream.subarray(at, end);
        at = end;
        // In one piece: push and read; in chunks: the engine's way, feedFrames.
        if (cuts.length === 0) q.push(chunk);
        for (const r of cuts.length === 0 ? readFrames(q, framer) : feedFrames(q, chunk, framer)) {
          if (r.type === 'frame') {
            seen.push(`frame@${r.offset}:${r.frame.header.command}:${r.raw.length}`);
            frames.push(r.raw);
          } else if (r.type === 'error') {
            seen.push(`error@${r.offset}:${r.error.reason}`);
            return { seen, frames };
          }
        }
      }
      return { seen, frames };
    };
    let frames = 0;
    let errors = 0;
    timed('framer', () => {
      for (let i = 0; i < CASES; i++) {
        const parts: Uint8Array[] = [];
        for (let n = 1 + g.int(3); n > 0; n--) parts.push(g.int(3) ? pool[g.int(pool.length)] : input());
        const stream = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
        parts.reduce((at, p) => (stream.set(p, at), at + p.length), 0);
        const cuts = Array.from({ length: g.int(6) }, () => g.int(stream.length + 1)).sort((a, b) => a - b);
        const whole = readAll(stream, []);
        const byteByByte = g.int(64) === 0;
        const chunked = readAll(stream, byteByByte ? Array.from({ length: stream.length }, (_, k) => k) : cuts);
        check(chunked.seen.join() === whole.seen.join(), () => `case ${i}: cuts ${byteByByte ? 'every byte' : cuts}: ${chunked.seen} vs ${whole.seen} in one piece`);
        // Frames are the stream's bytes in order, from offset 0.
        let at = 0;
        for (const f of chunked.frames) {
          check(equalBytes(f, stream.subarray(at, at + f.length)), () => `case ${i}: frame at ${at} is not the stream's bytes`);
          at += f.length;
        }
        frames += chunked.frames.length;
        if (chunked.seen.at(-1)?.startsWith('error')) errors++;
      }
    });
    console.log(`framer: ${CASES} streams, ${frames} frames, ${errors} streams refused`);
    expect(errors).toBeGreaterThan(CASES / 10);
  });

  it('the engine, fed hostile streams after a valid start: no throw; a refused input ends only its connection', () => {
    const engine = new BitcoinEngine({ network: net, random: (n) => g.bytes(n), accept: true, afterHandshake: 'stay', timeoutMs: 10_000 });
    let now = 1_000_000;
    const peer = { ip: '127.0.0.1', port: 18444 };
    const feed = (input: Parameters<BitcoinEngine['handle']>[0]): EngineOutput<BitcoinEvent> => engine.handle(input, (now += g.int(3)));
    // A bystander connection, handshake done, that must not notice anything.
    feed({ type: 'stream-opened', conn: 'bystander', remote: peer, direction: 'inbound' });
    const done = feed({ type: 'stream-data', conn: 'bystander', bytes: new Uint8Array([...encodeMessage(net, peerVersion(g)), ...encodeMessage(net, { command: 'verack' })]) });
    expect(done.events.find((e) => e.type === 'outcome')).toMatchObject({ conn: 'bystander', outcome: 'SUCCESS' });
    // Valid starts, made once: a version (70016, so wtxidrelay and sendaddrv2 belong before verack), then any of the three.
    const versions = Array.from({ length: 64 }, () => encodeMessage(net, { ...peerVersion(g), version: 70016 }));
    const [WTXIDRELAY, SENDADDRV2, VERACK] = (['wtxidrelay', 'sendaddrv2', 'verack'] as const).map((command) => encodeMessage(net, { command }));
    const tally = { cases: 0, refused: 0, success: 0, partial: 0, failed: 0, inputs: 0 };
    timed('engine', () => {
      for (let i = 0; i < CASES; i++) {
        const conn = `f${i}`;
        const outs: EngineOutput<BitcoinEvent>[] = [feed({ type: 'stream-opened', conn, remote: peer, direction: 'inbound' })];
        const parts = [versions[g.int(versions.length)]];
        for (const m of [WTXIDRELAY, SENDADDRV2, VERACK]) if (g.int(2)) parts.push(m);
        for (let n = 1 + g.int(3); n > 0; n--) parts.push(input());
        const stream = concat(...parts);
        let closedAt = -1;
        for (let at = 0; at < stream.length; ) {
          const end = Math.min(stream.length, at + 1 + g.int(g.int(4) === 0 ? 8 : 200));
          const o = feed({ type: 'stream-data', conn, bytes: stream.subarray(at, end) });
          tally.inputs++;
          check(closedAt < 0 || o.records.length === 0, () => `case ${i}: records after the connection was closed`);
          outs.push(o);
          if (closedAt < 0 && o.transmits.some((t) => t.type === 'stream-close' && t.conn === conn)) closedAt = at;
          at = end;
          if (g.int(16) === 0) outs.push(engine.tick((now += 1 + g.int(4000))));
        }
        const records = outs.flatMap((o) => o.records).filter((r) => r.conn === conn);
        const events = outs.flatMap((o) => o.events);
        const refused = records.find((r) => r.rejected);
        const closed = events.some((e) => e.type === 'closed' && e.conn === conn);
        if (refused) {
          tally.refused++;
          check(closed, () => `case ${i}: "${refused.rejected}" did not end the connection`);
          check(records.at(-1) === refused, () => `case ${i}: something was read after the refused input`);
        }
        for (const e of events) {
          if (e.type === 'outcome' && e.conn === conn) tally[e.outcome === 'SUCCESS' ? 'success' : e.outcome === 'PARTIAL' ? 'partial' : 'failed']++;
          check(e.conn === conn, () => `case ${i}: an event for connection ${e.conn}`);
        }
        if (!closed) {
          // The peer hangs up: a half-close must make the engine close its side too; a full close just ends it.
          const halfClose = g.int(2) === 0;
          const o = feed(halfClose ? { type: 'stream-remote-ended', conn } : { type: 'stream-closed', conn, reason: 'closed' });
          check(!halfClose || o.transmits.some((t) => t.type === 'stream-close' && t.conn === conn), () => `case ${i}: a half-close left our side open`);
          check(o.events.some((e) => e.type === 'closed' && e.conn === conn), () => `case ${i}: no closed event`);
        }
        check(engine.connections === 1, () => `case ${i}: ${engine.connections - 1} connections left behind`);
        tally.cases++;
      }
    });
    // The bystander is still there and still answered.
    const out = feed({ type: 'stream-data', conn: 'bystander', bytes: encodeMessage(net, { command: 'ping', nonce: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) }) });
    expect(out.records.map((r) => [r.direction, r.kind])).toEqual([['in', 'ping'], ['out', 'pong']]);
    console.log(`engine: ${tally.cases} hostile streams in ${tally.inputs} chunks; ${tally.refused} refused, outcomes ${tally.success} SUCCESS / ${tally.partial} PARTIAL / ${tally.failed} FAILED`);
    expect(tally.refused).toBeGreaterThan(CASES / 10);
  });

  it('toPcapng, fed random records: a file tshark-shaped blocks or a typed refusal, never a throw', () => {
    const PCAP_CASES = 20_000;
    const ips = ['127.0.0.1', '::1', '10.0.0.256', 'x', '', '::ffff:1.2.3.4', 'fe80::1', '1.2.3.4.5', '2001:db8::1'];
    const num = () => [0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 1e300, g.u32(), g.int(70_000), 1_764_000_000_000 + g.int(10_000) / 7][g.int(11)];
    const tally = { ok: 0, refused: 0 };
    timed('toPcapng', () => {
      for (let i = 0; i < PCAP_CASES; i++) {
        const records: CaptureRecord[] = [];
        for (let n = g.int(6); n > 0; n--) {
          const sane = g.int(3) > 0;
          records.push({
            direction: sane || g.int(2) ? (g.int(2) ? 'in' : 'out') : ('sideways' as 'in'),
            at: sane ? 1_764_000_000_000 + g.int(1000) : num(),
            peer: { ip: sane ? ips[g.int(2)] : ips[g.int(ips.length)], port: sane ? g.int(65536) : num() },
            raw: g.int(400) === 0 ? new Uint8Array(g.int(2) ? 65_600 : 200_000) : g.bytes(g.int(300)),
            ...(g.int(2) ? { conn: `c${g.int(3)}` } : {}),
            ...(g.int(3) === 0 ? { streamOffset: sane ? g.int(10_000) : num() } : {}),
            ...(g.int(2) ? { summary: g.int(50) ? 'version 70016 /Satoshi:27.0.0/' : 'x'.repeat(g.int(2000)) } : {}),
          });
        }
        const connections = new Map<string, ConnectionInfo>();
        if (g.int(2)) connections.set('c0', { opener: g.int(2) ? 'local' : 'remote', closed: { by: g.int(2) ? 'local' : 'remote', at: num(), reset: g.int(2) === 0 } });
        if (g.int(4) === 0) connections.set('c1', { local: { ip: ips[g.int(ips.length)], port: num() }, opener: 'nobody' as 'local' });
        const r = toPcapng(records, { local: { ip: ips[g.int(3)], port: g.int(65536) }, connections, mss: num() });
        if (r.ok) {
          tally.ok++;
          const blocks = readBlocks(r.value);
          check(blocks.every((b) => b.totalLength === b.trailingLength && b.totalLength % 4 === 0), () => `case ${i}: a malformed block`);
        } else {
          tally.refused++;
          check(r.error.code !== 'internal', () => `case ${i}: internal error ${r.error.message}`);
        }
      }
    });
    console.log(`toPcapng: ${PCAP_CASES} random sessions, ${tally.ok} written, ${tally.refused} refused`);
    expect(tally.ok).toBeGreaterThan(PCAP_CASES / 10);
  });
});

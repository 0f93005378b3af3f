// A session file keeps what the bytes alone cannot give back: an RLPx record's decrypted layers
// (auth/ack body, frame header and frame-data with the capabilities in force) and libp2p's Noise
// plaintext, stream names and static key. Imported, every packet dissects exactly as it did live;
// malformed detail is refused with a reason, never thrown.
import { beforeAll, describe, expect, it } from 'vitest';
import { publicKeyOf, randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { RlpxEngine, type RlpxRecord } from '../shared/rlpx/engine.ts';
import { secureRandom } from '../shared/random.ts';
import type { Dissection } from '../shared/dissect.ts';
import type { PacketInfo } from '../web/lib/protocol.ts';
import { exportSession, importSession } from '../web/lib/session-file.ts';
import { dissectPacket } from '../web/state/playground.svelte.ts';
import { loadDissectors } from '../web/protocols/registry.ts';
import { side, StreamWire } from './helpers/stream-wire.ts';

const A = { ip: '127.0.0.1', port: 1000 };
const B = { ip: '127.0.0.2', port: 30303 };

/** The shape the page keeps (web/worker/node.worker.ts rlpxInfo). */
const info = (r: RlpxRecord): PacketInfo => ({
  seq: r.seq, protocol: 'rlpx', direction: r.direction, at: r.at, peer: r.peer, raw: r.raw, kind: r.kind, summary: r.summary, destId: '',
  ...(r.conn ? { conn: r.conn } : {}), ...(r.streamOffset !== undefined ? { streamOffset: r.streamOffset } : {}), ...(r.peerId ? { peerId: r.peerId } : {}), ...(r.rlpx ? { rlpx: r.rlpx } : {}),
});
const shape = (d: Dissection) => ({ kind: d.kind, error: d.error, layers: d.layers.map((l) => [l.name, l.fields.map((f) => `${f.name}=${f.value}`)]) });

function rlpxSession(): PacketInfo[] {
  const keyB = randomPrivateKey(secureRandom);
  const a = side('a', new RlpxEngine({ privateKey: randomPrivateKey(secureRandom), random: secureRandom }), A);
  const b = side('b', new RlpxEngine({ privateKey: keyB, random: secureRandom, accept: true, afterHandshake: 'stay' }), B);
  const wire = new StreamWire([a, b]);
  wire.command(a, { type: 'connect', to: B, remoteKey: publicKeyOf(keyB), conn: 'c1' });
  wire.run();
  return (a.records as RlpxRecord[]).map(info);
}

describe('session files with stream protocols', () => {
  beforeAll(loadDissectors); // as the page does before an export

  it('RLPx: every packet, with its decrypted layers, dissects the same after export and import', () => {
    const packets = rlpxSession();
    expect(packets.map((p) => p.kind)).toEqual(expect.arrayContaining(['auth', 'ack', 'Hello', 'Status']));
    const text = exportSession({ local: { nodeId: '00'.repeat(32) }, names: {}, packets, trace: [], notes: [] }, dissectPacket);
    const back = importSession(text);
    if (!back.ok) throw new Error(back.reason);
    const live = packets.map((p) => shape(dissectPacket(p)));
    const imported = back.session.packets.map((p) => shape(dissectPacket(p)));
    expect(imported).toEqual(live);
    // The decrypted layers are there, not just the envelope.
    expect(imported.find((d) => d.kind === 'Status')?.layers.map((l) => l[0])).toContain('message (RLP)');
    expect(imported.find((d) => d.kind === 'auth')?.layers.map((l) => l[0])).toContain('auth body (decrypted)');
  });

  it('libp2p: plaintext, stream names and the Noise static key come back', () => {
    const p: PacketInfo = {
      seq: 1, protocol: 'libp2p', direction: 'in', at: 1, peer: B, raw: Uint8Array.of(0, 2, 9, 9), kind: 'noise-transport', destId: '',
      peerId: '16Uiu2HAmExample', plaintext: Uint8Array.of(0, 0, 0, 1), continues: 3, streams: { 1: '/ipfs/ping/1.0.0', 3: '/ipfs/id/1.0.0' }, noiseStatic: new Uint8Array(32).fill(7),
    };
    const back = importSession(exportSession({ local: { nodeId: '00'.repeat(32) }, names: {}, packets: [p], trace: [], notes: [] }, dissectPacket));
    if (!back.ok) throw new Error(back.reason);
    expect(back.session.packets[0]).toMatchObject({ peerId: p.peerId, plaintext: p.plaintext, continues: 3, streams: p.streams, noiseStatic: p.noiseStatic });
  });

  it('malformed detail is refused with the field at fault', () => {
    const packets = rlpxSession();
    const doc = JSON.parse(exportSession({ local: { nodeId: '00'.repeat(32) }, names: {}, packets, trace: [], notes: [] }, dissectPacket));
    const frame = doc.packets.findIndex((p: { rlpx?: { layer: string } }) => p.rlpx?.layer === 'frame');
    const hs = doc.packets.findIndex((p: { rlpx?: { layer: string } }) => p.rlpx?.layer === 'handshake');
    const withCaps = doc.packets.findIndex((p: { rlpx?: { ctx?: { caps: unknown[] } } }) => (p.rlpx?.ctx?.caps.length ?? 0) > 0);
    const cases: [number, (p: Record<string, any>) => void, string][] = [
      [frame, (p) => (p.rlpx.headerPlain = '00'), `packets[${frame}].rlpx.headerPlain must be 16 bytes`],
      [frame, (p) => (p.rlpx.ctx.caps = Array(33).fill({ name: 'eth', version: 68, offset: 16, length: 17 })), `packets[${frame}].rlpx.ctx.caps must be a list of at most 32 capabilities`],
      [withCaps, (p) => (p.rlpx.ctx.caps[0].offset = -1), `packets[${withCaps}].rlpx.ctx.caps[0].offset must be a whole number from 0 to 65535`],
      [frame, (p) => (p.rlpx.ctx.compressed = 'yes'), `packets[${frame}].rlpx.ctx.compressed must be true or false`],
      [hs, (p) => (p.rlpx.format = 'eip9'), `packets[${hs}].rlpx.format must be "eip8" or "pre-eip8"`],
      [hs, (p) => (p.rlpx.layer = 'body'), `packets[${hs}].rlpx.layer must be "handshake" or "frame"`],
      [hs, (p) => (p.streams = { x: 'y' }), `packets[${hs}].streams keys must be stream ids`],
      [hs, (p) => (p.noiseStatic = 'abcd'), `packets[${hs}].noiseStatic must be 32 bytes`],
      [hs, (p) => (p.peerId = 'a\u0000b'), `packets[${hs}].peerId must be printable text`],
    ];
    for (const [i, spoil, reason] of cases) {
      const d = JSON.parse(JSON.stringify(doc));
      spoil(d.packets[i]);
      expect(importSession(JSON.stringify(d))).toEqual({ ok: false, reason });
    }
  });

  it('an imported frame whose detail lies about its size is shown with an error, not a throw', () => {
    const packets = rlpxSession();
    const doc = JSON.parse(exportSession({ local: { nodeId: '00'.repeat(32) }, names: {}, packets, trace: [], notes: [] }, dissectPacket));
    const frame = doc.packets.find((p: { rlpx?: { layer: string } }) => p.rlpx?.layer === 'frame');
    frame.rlpx.headerPlain = 'ffffff' + frame.rlpx.headerPlain.slice(6);
    const back = importSession(JSON.stringify(doc));
    if (!back.ok) throw new Error(back.reason);
    const d = dissectPacket(back.session.packets.find((p) => p.rlpx?.layer === 'frame')!);
    expect(d.error).toMatch(/larger than/);
  });
});

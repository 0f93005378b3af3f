// The discv4 packets of EIP-8 (test/vectors/discv4.json, from ethereum/EIPs EIPS/eip-8.md):
// every vector decodes (extra list elements and trailing bytes ignored), its sender is
// recovered from the signature, its fields match, and every byte is dissected once.
import { describe, expect, it } from 'vitest';
import vectors from './vectors/discv4.json' with { type: 'json' };
import { fromHex, toHex } from '../shared/bytes.ts';
import { coverageProblems } from '../shared/dissect.ts';
import { decodePacket, encodePacket, type Discv4Message } from '../shared/discv4/packet.ts';
import { dissectDiscv4 } from '../shared/discv4/dissect-packet.ts';
import { publicKeyOf } from '../shared/crypto/secp256k1.ts';
import { keccak256 } from '../shared/crypto/hashes.ts';

const key = fromHex(vectors.signingKey);
const replay = { checkExpiration: false } as const;
type Ep = { ip: string; udpPort: number; tcpPort: number };
const ep = (e: Ep) => ({ ip: e.ip, udp: e.udpPort, tcp: e.tcpPort });

describe('discv4 EIP-8 vectors', () => {
  it('the signing key gives the derived public key and node id', () => {
    const pub = publicKeyOf(key, false);
    expect(toHex(pub.subarray(1))).toBe(vectors.derivedSigningKey.pubkey);
    expect(toHex(keccak256(pub.subarray(1)))).toBe(vectors.derivedSigningKey.nodeId);
  });

  for (const v of vectors.packets) {
    it(`${v.name}: decodes, recovers the signer, matches the spec's fields`, () => {
      const raw = fromHex(v.packet);
      expect(raw.length).toBe(v.packetLength);
      const r = decodePacket(raw, replay);
      if (!r.ok) throw new Error(r.error.reason);
      const p = r.value;
      expect(p.type).toBe(v.packetType);
      expect(toHex(p.hash)).toBe(v.derived.hash);
      expect(toHex(p.signature)).toBe(v.derived.signature);
      expect(toHex(p.nodeId)).toBe(vectors.derivedSigningKey.nodeId);
      expect(p.trailing).toBe(v.derived.trailingData.length / 2);
      expect(toHex(raw.subarray(98, 98 + p.data.length))).toBe(v.derived.packetData);
      const d = v.derived.decoded as Record<string, unknown>;
      const m = p.message;
      expect(m.type === 'ENRResponse' ? undefined : m.expiration).toBe(d.expiration);
      if (m.type === 'PING') {
        expect(m.version).toBe(d.version);
        expect(m.from).toEqual(ep(d.from as Ep));
        expect(m.to).toEqual(ep(d.to as Ep));
        // ping-v4's first extra element is a byte string: read as EIP-868's enr-seq. ping-v555's is a list: no enr-seq.
        expect(m.enrSeq).toBe(v.name === 'ping-v4' ? 1n : undefined);
      } else if (m.type === 'PONG') {
        expect(m.to).toEqual(ep(d.to as Ep));
        expect(toHex(m.pingHash)).toBe(d.pingHash);
        expect(m.enrSeq).toBeUndefined();
      } else if (m.type === 'FINDNODE') {
        expect(toHex(m.target)).toBe(d.target);
      } else if (m.type === 'NEIGHBORS') {
        const nodes = d.nodes as (Ep & { nodeId: string })[];
        expect(m.nodes.map((n) => ({ ...n, publicKey: toHex(n.publicKey) }))).toEqual(nodes.map((n) => ({ ...ep(n), publicKey: n.nodeId })));
      } else throw new Error(`unexpected ${m.type}`);
    });

    it(`${v.name}: every byte dissected exactly once, with a meaning and a spec link`, () => {
      const raw = fromHex(v.packet);
      const d = dissectDiscv4(raw);
      expect(d.error).toBeUndefined();
      expect(d.kind).toBe(['PING', 'PONG', 'FINDNODE', 'NEIGHBORS'][v.packetType - 1]);
      for (const layer of d.layers) expect(coverageProblems(layer)).toEqual([]);
      const walk = (fs: typeof d.layers[0]['fields']): void => fs.forEach((f) => {
        expect(f.meaning.length).toBeGreaterThan(0);
        expect(f.spec).toMatch(/^https:\/\//);
        walk(f.children ?? []);
      });
      for (const layer of d.layers) walk(layer.fields);
      const names = JSON.stringify(d.layers.map((l) => l.fields));
      if (v.derived.trailingData) expect(names).toContain('trailing data');
      expect(names).toContain('extra[');
    });

    it(`${v.name}: refused once expiration is checked (it expired in 2006)`, () => {
      const r = decodePacket(fromHex(v.packet), { nowSeconds: 1_700_000_000 });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.field).toBe('expiration');
    });
  }

  it('re-encoding a decoded message signs deterministically and decodes back to the same message', () => {
    for (const v of vectors.packets) {
      const m = decodePacket(fromHex(v.packet), replay);
      if (!m.ok) throw new Error(m.error.reason);
      const a = encodePacket(m.value.message as Discv4Message, key);
      const b = encodePacket(m.value.message as Discv4Message, key);
      expect(toHex(a.raw)).toBe(toHex(b.raw)); // RFC 6979
      const back = decodePacket(a.raw, replay);
      if (!back.ok) throw new Error(back.error.reason);
      expect(back.value.message).toEqual(m.value.message);
      expect(toHex(back.value.nodeId)).toBe(vectors.derivedSigningKey.nodeId);
      expect(toHex(back.value.hash)).toBe(toHex(a.hash));
    }
  });

  it('a packet whose hash does not match, or whose type is unknown, is refused with the field named', () => {
    const raw = fromHex(vectors.packets[0].packet);
    const bad = raw.slice();
    bad[0] ^= 1;
    const r = decodePacket(bad, replay);
    expect(!r.ok && r.error.field).toBe('hash');
    const typed = raw.slice();
    typed[97] = 9;
    typed.set(keccak256(typed.subarray(32)), 0);
    const t = decodePacket(typed, replay);
    expect(!t.ok && t.error.field).toBe('packet-type');
  });
});

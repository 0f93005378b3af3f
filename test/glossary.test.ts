// The glossary covers every name the inspector shows: every field of every discv5 packet kind
// and message (the spec handshake, FINDNODE/NODES/TALK from real engines), the ENR's fields and
// every Bitcoin message of the vectors. And the terms a first-timer asked about are there.
import { describe, expect, it } from 'vitest';
import bitcoinVectors from './vectors/bitcoin.json' with { type: 'json' };
import { fromHex } from '../shared/bytes.ts';
import type { Dissection, Field } from '../shared/dissect.ts';
import { dissectBitcoin } from '../shared/bitcoin/messages.ts';
import { dissectDiscv5 } from '../shared/discv5/dissect-packet.ts';
import { replaySpecHandshake } from '../shared/discv5/replay.ts';
import { dissectEnr } from '../shared/enr/index.ts';
import { indexTerms, termOf, TERMS } from '../web/glossary/terms.ts';
import { makePeer, packetsOf, Wire } from './helpers/engines.ts';

const names = (d: Dissection): string[] => {
  const walk = (fs: Field[]): string[] => fs.flatMap((f) => [f.name, ...walk(f.children ?? [])]);
  return d.layers.flatMap((l) => [l.name, ...walk(l.fields)]);
};
/** Positions in a list ("[0]", "[3]") are not terms. */
const isIndex = (n: string) => /^\[\d+\]$/.test(n);

function discv5Names(): string[] {
  const out: string[] = [];
  const r = replaySpecHandshake();
  for (const p of r.packets) {
    const dest = p.sender === 'A' ? r.nodeB.enr.nodeId : r.nodeA.enr.nodeId;
    out.push(...names(dissectDiscv5(p.record.raw, dest, { ...(p.record.plaintext ? { plaintext: p.record.plaintext } : {}), random: p.record.kind === 'random' })));
  }
  // FINDNODE → NODES and TALKREQ → TALKRESP between two real engines, in a session.
  const a = makePeer(11);
  const b = makePeer(12);
  const wire = new Wire([a, b]);
  b.engine.addRecord(a.enr);
  wire.command(a, { type: 'ping', to: b.contact });
  wire.run();
  wire.command(a, { type: 'findnode', to: b.contact, distances: [0] });
  wire.run();
  wire.command(a, { type: 'talkreq', to: b.contact, protocol: new TextEncoder().encode('echo'), request: new Uint8Array([1, 2]) });
  wire.run();
  for (const peer of [a, b])
    for (const rec of [...packetsOf(peer, 'out'), ...packetsOf(peer, 'in')]) {
      const dest = rec.direction === 'out' ? (peer === a ? b : a).enr.nodeId : peer.enr.nodeId;
      out.push(...names(dissectDiscv5(rec.raw, dest, { ...(rec.plaintext ? { plaintext: rec.plaintext } : {}), random: rec.kind === 'random' })));
    }
  out.push(...names(dissectEnr(a.enr.raw)));
  return out;
}

function bitcoinNames(): string[] {
  const out: string[] = [];
  for (const m of bitcoinVectors.derivedHandshakeMessages) out.push(...names(dissectBitcoin(fromHex(m.message))));
  for (const m of bitcoinVectors.messages as { message?: string; derivedMessage?: string }[]) out.push(...names(dissectBitcoin(fromHex((m.message ?? m.derivedMessage)!))));
  return out;
}

describe('glossary', () => {
  const index = indexTerms();

  it('has a one-line definition for every field name the inspector shows (discv5, ENR, Bitcoin)', () => {
    const all = [...new Set([...discv5Names(), ...bitcoinNames()])].filter((n) => !isIndex(n));
    expect(all).toEqual(expect.arrayContaining(['id-nonce', 'enr-seq', 'request-id', 'recipient-ip', 'total', 'protocol', 'user_agent', 'checksum', 'secp256k1']));
    const missing = all.filter((n) => !termOf(index, n));
    expect(missing).toEqual([]);
  });

  it('defines the terms a first-time user met undefined', () => {
    for (const t of ['ENR', 'node id', 'nonce', 'masking', 'RLP', 'HKDF', 'log-distance', 'enr-seq', 'v4', 'PRK', 'AES-GCM', 'WHOAREYOU', 'challenge-data'])
      expect(termOf(index, t), t).toBeDefined();
  });

  it('keeps every definition to one line', () => {
    for (const t of TERMS) {
      expect(t.def, t.term).not.toMatch(/\n/);
      expect(t.def.length, t.term).toBeLessThanOrEqual(200);
    }
    // No spelling is claimed by two terms.
    const seen = new Map<string, string>();
    for (const t of TERMS)
      for (const s of [t.term, ...(t.also ?? [])]) {
        expect(seen.get(s.toLowerCase()), `${s} in ${t.term} and ${seen.get(s.toLowerCase())}`).toBeUndefined();
        seen.set(s.toLowerCase(), t.term);
      }
  });
});

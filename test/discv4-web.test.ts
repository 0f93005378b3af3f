// discv4's protocol view in Node: its signature groups over a real exchange's trace, and its
// narration of a refusal. (The panel's state class uses runes: the browser e2e covers it.)
import { describe, expect, it } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { encodePacket } from '../shared/discv4/packet.ts';
import { wireKey } from '../shared/discv4/node.ts';
import { discv4View } from '../web/protocols/discv4.ts';
import { makeV4Peer, V4Wire } from './helpers/discv4-wire.ts';

describe('discv4 protocol view', () => {
  it('groups a real exchange’s signature steps by peer: each packet signed, each sender recovered', () => {
    const a = makeV4Peer(3, 30505);
    const b = makeV4Peer(4, 30506);
    const wire = new V4Wire([a, b]);
    wire.command(a, { type: 'ping', to: b.node, requestId: 1 });
    wire.run();
    const groups = discv4View.keySchedule!.handshakesOf(a.trace);
    expect(groups).toHaveLength(1);
    expect(groups[0].peer).toBe(toHex(b.node.nodeId));
    expect(groups[0].steps.map((t) => t.step)).toEqual(['packet-sign', 'signature-recover', 'signature-recover', 'packet-sign']);
    expect(groups[0].steps.filter((t) => t.step === 'signature-recover').every((t) => t.outputs.find((o) => o.name === 'node-id')?.hex === toHex(b.node.nodeId))).toBe(true);
  });

  it('dissects a record and narrates a refusal by the endpoint-proof rule', async () => {
    const a = makeV4Peer(5, 30507);
    const raw = encodePacket({ type: 'FINDNODE', target: wireKey(a.node.publicKey), expiration: 2_000_000_000 }, a.key).raw;
    const r = { seq: 1, direction: 'in' as const, at: 0, peer: { ip: '127.0.0.1', port: 1 }, raw, kind: 'FINDNODE', rejected: 'no endpoint proof: it has not answered a PING of ours from this address within 12 h' };
    expect(discv4View.dissect(r).summary).toMatch(/^loading/); // the dissector loads on first use
    await discv4View.loadDissector?.();
    expect(discv4View.dissect(r).kind).toBe('FINDNODE');
    const n = (await discv4View.narration())({ phase: 'after-receive', record: r, peer: 'el-01' });
    expect(n.title).toMatch(/^Refused: no endpoint proof/);
    expect(n.link).toContain('#endpoint-proof');
    expect(discv4View.color(r)).toBe('var(--k-rejected)');
  });
});

// The seed's flow offline: the lab's js-libp2p nodes also sit in the discv5 lab (same key, an
// ENR with tcp and eth2); a discv5 lookup finds them and the ENR it returns is dialled with libp2p.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab, type Lab } from '../bridge/lab.ts';
import { LAB_ETH2, startLibp2pLab, type Libp2pLab } from '../bridge/lab-libp2p.ts';
import { toHex } from '../shared/bytes.ts';
import { getPair, parseEnrText } from '../shared/enr/index.ts';
import { parseDialTarget } from '../shared/libp2p/address.ts';
import { runCli } from './helpers/cli-process.ts';

let p2p: Libp2pLab;
let lab: Lab;
beforeAll(async () => {
  p2p = await startLibp2pLab({ size: 2 });
  lab = await startLab({ size: 3, libp2p: p2p.peers.map((p, i) => ({ name: p.name, privateKey: p2p.identities[i].privateKey, tcp: p.tcp, eth2: LAB_ETH2, multiaddr: p.multiaddr })) });
}, 30_000);
afterAll(async () => {
  await Promise.allSettled([lab?.close(), p2p?.close()]);
});

describe('discovery → dial, in the lab', () => {
  it('each libp2p node has a discv5 identity with the same key, tcp and eth2', () => {
    for (const p of p2p.peers) {
      const d = lab.peers.find((x) => x.name === p.name)!;
      expect(d.libp2p).toBe(p.multiaddr);
      const enr = parseEnrText(d.enr);
      if (!enr.ok) throw enr.error;
      expect(enr.value.tcp).toBe(p.tcp);
      expect(toHex(getPair(enr.value, 'eth2')!.value!)).toBe(toHex(LAB_ETH2));
      const t = parseDialTarget(d.enr);
      expect('error' in t ? t.error : t.peerIdText).toBe(p.peerId);
    }
  });

  it('a discv5 lookup from a plain lab node returns ENRs with eth2 + tcp, and libp2p dial <enr> pings the node', async () => {
    const boot = lab.peers.find((p) => !p.libp2p)!;
    const found = await runCli(['discv5', 'lookup', boot.enr, '--json'], 30_000);
    expect(found.code).toBe(0);
    const result = found.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'result') as { closest: { enr: string }[] };
    const consensus = result.closest.map((c) => c.enr).filter((text) => {
      const e = parseEnrText(text);
      return e.ok && getPair(e.value, 'eth2') !== undefined && e.value.tcp !== undefined;
    });
    expect(consensus.length).toBe(2);
    const r = await runCli(['libp2p', 'dial', consensus[0], '--json']);
    expect(r.code).toBe(0);
    const res = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'result');
    expect(p2p.peers.map((p) => p.peerId)).toContain(res.peerId);
    expect(res.pingRttMs).toBeGreaterThan(0);
  }, 60_000);
});

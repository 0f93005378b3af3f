// The lab's execution-layer nodes are real ethereumjs devp2p nodes: they answer discv4 and RLPx
// on the port their enode names, know each other through discv4, and answer Status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecutionLab, MAINNET_GENESIS_HASH, type ExecutionLab } from '../bridge/lab-execution.ts';
import { parseEnode } from '../shared/enr/index.ts';
import { toHex } from '../shared/bytes.ts';
import { convertPublicKey } from '../shared/crypto/secp256k1.ts';

describe('execution lab', () => {
  let lab: ExecutionLab;
  beforeAll(async () => {
    lab = await startExecutionLab({ size: 3 });
  });
  afterAll(() => lab?.close());

  it('lists each node by an enode that parses to its port and key', () => {
    expect(lab.peers.map((p) => p.name)).toEqual(['el-01', 'el-02', 'el-03']);
    for (const p of lab.peers) {
      const e = parseEnode(p.enode);
      expect(e.ok).toBe(true);
      if (!e.ok) continue;
      expect(e.value).toMatchObject({ ip: '127.0.0.1', tcp: p.tcp, udp: p.udp });
      expect(toHex(e.value.nodeId)).toBe(p.nodeId);
      expect(p.tcp).toBe(p.udp);
    }
  });

  it('the bootnode knows every other node through discv4', async () => {
    const boot = lab.nodes[0];
    for (let i = 0; i < 50 && boot.dpt.getPeers().length < lab.nodes.length - 1; i++) await new Promise((r) => setTimeout(r, 50));
    const known = boot.dpt.getPeers().map((p) => toHex(p.id!));
    const others = lab.peers.slice(1).map((p) => toHex(convertPublicKey(parseEnodeOk(p.enode), false).subarray(1)));
    expect(known.sort()).toEqual(others.sort());
  });

  it('forgets an address on request: the bootnode drops it from its table (a page that left)', async () => {
    const boot = lab.nodes[0];
    const gone = lab.peers[2];
    for (let i = 0; i < 50 && !boot.dpt.getPeers().some((p) => p.udpPort === gone.udp); i++) await new Promise((r) => setTimeout(r, 50));
    expect(boot.dpt.getPeers().some((p) => p.udpPort === gone.udp)).toBe(true);
    lab.forget({ ip: gone.ip, port: gone.udp });
    expect(boot.dpt.getPeers().some((p) => p.udpPort === gone.udp)).toBe(false);
    expect(boot.dpt.getPeers().length).toBeGreaterThan(0);
  });

  it('answers an RLPx dial with Hello and a mainnet Status', async () => {
    const [a] = lab.nodes;
    const target = lab.peers[1];
    const status = new Promise<{ genesisHash: Uint8Array; clientId: string }>((resolve) => {
      a.rlpx.events.once('peer:added', (peer) => {
        for (const p of peer.getProtocols()) p.events.once('status', (s) => resolve({ genesisHash: s.genesisHash, clientId: String(peer.getHelloMessage()?.clientId) }));
      });
    });
    await a.rlpx.connect({ id: convertPublicKey(parseEnodeOk(target.enode), false).subarray(1), address: target.ip, tcpPort: target.tcp });
    const s = await status;
    expect(toHex(s.genesisHash)).toBe(MAINNET_GENESIS_HASH);
    expect(s.clientId).toBe(target.clientId);
  });
});

function parseEnodeOk(text: string): Uint8Array {
  const e = parseEnode(text);
  if (!e.ok) throw e.error;
  return e.value.publicKey;
}

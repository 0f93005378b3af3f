// The engine from shared/ over the tunnel, exactly as the browser runs it: a TunnelClient on a
// real WebSocket, a UDP socket bound by the bridge, and real @chainsafe/discv5 lab nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENR } from '@chainsafe/enr';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { createEnr, encodeEnrText, parseEnrText } from '../shared/enr/index.ts';
import { contactFromEnr, type PacketRecord } from '../shared/discv5/engine.ts';
import { Discv5Driver } from '../shared/discv5/driver.ts';
import { Discv5Node } from '../shared/discv5/node.ts';
import { secureRandom } from '../shared/random.ts';
import { startBridgeHarness, type BridgeHarness } from './helpers/bridge-harness.ts';

let h: BridgeHarness;

beforeAll(async () => {
  h = await startBridgeHarness({ lab: 16 });
});
afterAll(async () => {
  await h?.close();
});

/** A browser-like node: its own WebSocket session, its UDP socket bound by the bridge. */
async function tunnelledNode() {
  const tunnel = await h.openClient();
  const socket = await tunnel.openDatagram();
  const privateKey = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey, ip: socket.local.ip, udp: socket.local.port });
  const driver = new Discv5Driver(new Discv5Node({ privateKey, enr }), socket);
  const packets: PacketRecord[] = [];
  driver.listen({ event: (e) => e.type === 'packet' && packets.push(e.packet) });
  return { driver, enr, packets, close: () => (driver.close(), tunnel.close()) };
}

describe('discv5 through the tunnel with lab nodes', () => {
  it('cold handshake + PING with a lab node', async () => {
    const n = await tunnelledNode();
    const lab = parseEnrText(h.labEnrs[0]);
    expect(lab.ok).toBe(true);
    if (!lab.ok) return;
    const outcome = await n.driver.ping(contactFromEnr(lab.value)!);
    expect(outcome.ok).toBe(true);
    if (outcome.ok && outcome.response.type === 'PONG') {
      // The lab node saw us at the bridge's socket: the address in our ENR.
      expect(outcome.response.recipientIp).toBe(n.enr.ip);
      expect(outcome.response.recipientPort).toBe(n.enr.udp);
    }
    expect(n.packets.map((p) => `${p.direction} ${p.kind}`)).toEqual(['out random', 'in WHOAREYOU', 'out handshake', 'in ordinary']);
    // And the session now carries FINDNODE: the lab node knows the other 15.
    const found = await n.driver.findnode(contactFromEnr(lab.value)!, [256, 255, 254, 253]);
    expect(found.ok && (found.records?.length ?? 0)).toBeGreaterThan(0);
    n.close();
  });

  it('a lab node pings the tunnelled node cold (inbound path) and gets PONG', async () => {
    const n = await tunnelledNode();
    const labNode = h.lab!.nodes[1];
    const pong = await labNode.sendPing(ENR.decodeTxt(encodeEnrText(n.enr)));
    expect(pong.enrSeq).toBe(n.enr.seq);
    // Our side answered as the recipient: WHOAREYOU out, handshake in, PONG out.
    const seen = n.packets.map((p) => `${p.direction} ${p.kind}${p.message ? ` ${p.message.type}` : ''}`);
    expect(seen).toEqual(['in ordinary', 'out WHOAREYOU', 'in handshake PING', 'out ordinary PONG']);
    n.close();
  });
});

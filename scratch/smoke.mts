import { nodeDatagramTransport } from '/work/main/bridge/node-transport.ts';
import { createEnr } from '/work/main/shared/enr/index.ts';
import { randomPrivateKey } from '/work/main/shared/crypto.ts';
import { secureRandom } from '/work/main/shared/random.ts';
import { Discv5Node } from '/work/main/shared/discv5/node.ts';
import { Discv5Driver } from '/work/main/shared/discv5/driver.ts';
import { contactFromEnr } from '/work/main/shared/discv5/engine.ts';
async function mk() {
  const sock = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: 0 });
  const key = randomPrivateKey(secureRandom);
  const enr = createEnr({ privateKey: key, ip: '127.0.0.1', udp: sock.local.port });
  return new Discv5Driver(new Discv5Node({ privateKey: key, enr }), sock);
}
const a = await mk(), b = await mk();
a.listen({ event: (e) => e.type === 'packet' && console.log('A', e.packet.direction, e.packet.kind, e.packet.message?.type ?? '', e.packet.rejected ?? '', e.packet.note ?? '') });
console.log(await a.ping(contactFromEnr(b.node.enr)!));
console.log(await a.ping(contactFromEnr(b.node.enr)!));
console.log(await b.ping(contactFromEnr(a.node.enr)!));
console.log(await a.findnode(contactFromEnr(b.node.enr)!, [0]));
console.log(await a.talkreq(contactFromEnr(b.node.enr)!, new TextEncoder().encode('x'), new Uint8Array([1])));
console.log(a.node.table.size, b.node.table.size);
a.close(); b.close();

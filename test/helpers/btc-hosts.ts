// A "DNS seed's worth" of Bitcoin hosts on loopback: N addresses (127.0.0.11, .12, …) on one
// port, some running our listener engine, some accepting TCP and never saying a word.
import net from 'node:net';
import { listenTcp } from '../../bridge/node-transport.ts';
import { BitcoinEngine } from '../../shared/bitcoin/engine.ts';
import { NETWORKS } from '../../shared/bitcoin/spec.ts';
import { EngineDriver } from '../../shared/drive/driver.ts';
import { secureRandom } from '../../shared/random.ts';
import type { Endpoint } from '../../shared/transport.ts';

export interface Hosts {
  addresses: Endpoint[];
  close(): void;
}

export async function startHosts(count: number, isSilent: (i: number) => boolean): Promise<Hosts> {
  const closers: (() => void)[] = [];
  const addresses: Endpoint[] = [];
  try {
    // The first host picks a free port; every other address uses the same one, as a seed's nodes do.
    let port = 0;
    for (let i = 0; i < count; i++) {
      const ip = `127.0.0.${i + 11}`;
      if (isSilent(i)) {
        const s = net.createServer(() => undefined);
        await new Promise<void>((res, rej) => (s.once('error', rej), s.listen(port, ip, () => res())));
        port ||= (s.address() as net.AddressInfo).port;
        closers.push(() => s.close());
      } else {
        const l = await listenTcp(ip, port);
        port ||= l.local.port;
        const d = new EngineDriver(new BitcoinEngine({ network: NETWORKS.regtest, random: secureRandom, accept: true, afterHandshake: 'stay' }), {});
        l.onConnection((c) => d.accept(c));
        closers.push(() => (d.close(), l.close()));
      }
      addresses.push({ ip, port });
    }
  } catch (e) {
    closers.forEach((c) => c());
    throw e;
  }
  return { addresses, close: () => closers.forEach((c) => c()) };
}

// The lab's Bitcoin peers: real bcoin 1.0.2 full nodes (regtest, in memory) on loopback, so
// the playground and the tests have a Bitcoin node to handshake with on a machine with no
// internet. They run in this process: stopping the bridge stops them.
import type { BitcoinLabPeer } from '../shared/lab.ts';
import { bcoinDial, startBcoinNode, type BcoinNode } from './bcoin.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

export interface BitcoinLab {
  readonly peers: BitcoinLabPeer[];
  readonly nodes: BcoinNode[];
  /** The named lab node dials ip:port and completes its handshake (the page is the recipient). */
  dial(name: string, ip: string, port: number): Promise<{ version: number; agent: string }>;
  close(): Promise<void>;
}

/** Inbound connections a lab node takes at once (bcoin's own default, 8, is one table of a room). */
const LAB_MAX_INBOUND = 512;

export async function startBitcoinLab(options: { size?: number; host?: string; log?: Logger } = {}): Promise<BitcoinLab> {
  const size = options.size ?? 2;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentLogger;
  const nodes: BcoinNode[] = [];
  const peers: BitcoinLabPeer[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const node = await startBcoinNode({ host, maxInbound: LAB_MAX_INBOUND });
      nodes.push(node);
      peers.push({ name: `btc-${String(i + 1).padStart(2, '0')}`, protocol: 'bitcoin', network: 'regtest', ip: host, tcp: node.pool.server.address().port, userAgent: '/bcoin:v1.0.2/' });
    }
  } catch (e) {
    await Promise.allSettled(nodes.map((n) => n.close()));
    throw e;
  }
  log.info('bitcoin-lab-started', { nodes: size, host, ports: peers.map((p) => p.tcp).join(',') });
  let closing: Promise<void> | undefined;
  return {
    peers,
    nodes,
    async dial(name, ip, port) {
      const i = peers.findIndex((p) => p.name === name);
      if (i < 0) throw new Error(`no Bitcoin lab node named "${name.slice(0, 20)}"`);
      const peer = await bcoinDial(nodes[i], ip, port);
      // The lab node's part is done once the handshake is: it hangs up a little later, as a
      // crawler would, so the page sees what a node sends right after verack.
      setTimeout(() => peer.destroy(), 3000).unref?.();
      return { version: peer.version, agent: peer.agent };
    },
    close: () => (closing ??= Promise.allSettled(nodes.map((n) => n.close())).then(() => log.info('bitcoin-lab-stopped', {}))),
  };
}

// The lab's consensus-layer peers: real js-libp2p 3 nodes (TCP, Noise, yamux, ping, identify)
// with secp256k1 identities on loopback, so the playground, the CLI and the tests have libp2p
// peers to dial on a machine with no internet. Each also gets an ENR (same key, ip, tcp and an
// eth2 entry) for the discv5 lab, so a discv5 lookup finds them and "Dial with libp2p" works.
import './promise-with-resolvers.ts';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import type { Libp2pLabPeer } from '../shared/lab.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

/**
 * The lab's eth2 ENR entry (consensus-specs p2p-interface.md, ENRForkID): fork_digest ‖
 * next_fork_version ‖ next_fork_epoch (uint64 LE). A lab value, no real network's: digest
 * 0x1ab0000 "lab", no next fork (FAR_FUTURE_EPOCH).
 */
export const LAB_ETH2 = Uint8Array.from([0x01, 0xab, 0x00, 0x00, 0x01, 0xab, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

type Services = { ping: ReturnType<ReturnType<typeof ping>>; identify: ReturnType<ReturnType<typeof identify>> };
export type LabLibp2pNode = Libp2p<Services>;

export interface Libp2pLab {
  readonly peers: Libp2pLabPeer[];
  readonly nodes: LabLibp2pNode[];
  /** Each node's raw 32-byte secp256k1 private key and TCP port: the discv5 lab's ENRs for them. */
  readonly identities: { privateKey: Uint8Array; tcp: number }[];
  /** The named node dials a multiaddr and pings it (the page or the CLI is the listener). */
  ping(name: string, address: string): Promise<number>;
  close(): Promise<void>;
}

/** One js-libp2p node as a consensus client's libp2p would be set up, minus gossipsub and req/resp. */
export async function createLabNode(host = '127.0.0.1'): Promise<{ node: LabLibp2pNode; privateKey: Uint8Array }> {
  const privateKey = await generateKeyPair('secp256k1');
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: [`/${host.includes(':') ? 'ip6' : 'ip4'}/${host}/tcp/0`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { ping: ping(), identify: identify() },
    // A lab on loopback: a room of pages (and a benchmark) dial from one address many times a
    // second; js-libp2p's default of 5 inbound connections per second per host would refuse them.
    connectionManager: { inboundConnectionThreshold: 10_000, maxIncomingPendingConnections: 100 },
  });
  return { node: node as unknown as LabLibp2pNode, privateKey: privateKey.raw };
}

export async function startLibp2pLab(options: { size?: number; host?: string; log?: Logger } = {}): Promise<Libp2pLab> {
  const size = options.size ?? 2;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentLogger;
  const nodes: LabLibp2pNode[] = [];
  const peers: Libp2pLabPeer[] = [];
  const identities: Libp2pLab['identities'] = [];
  try {
    for (let i = 0; i < size; i++) {
      const { node, privateKey } = await createLabNode(host);
      nodes.push(node);
      const addr = node.getMultiaddrs()[0];
      const port = Number(addr.toString().split('/')[4]);
      identities.push({ privateKey, tcp: port });
      peers.push({ name: `cl-${String(i + 1).padStart(2, '0')}`, protocol: 'libp2p', ip: host, tcp: port, peerId: node.peerId.toString(), multiaddr: addr.toString(), agent: 'js-libp2p 3' });
    }
  } catch (e) {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    throw e;
  }
  log.info('libp2p-lab-started', { nodes: size, host, ports: peers.map((p) => p.tcp).join(',') });
  let closing: Promise<void> | undefined;
  return {
    peers,
    nodes,
    identities,
    async ping(name, address) {
      const i = peers.findIndex((p) => p.name === name);
      if (i < 0) throw new Error(`no libp2p lab node named "${name.slice(0, 20)}"`);
      // Two copies of @multiformats/multiaddr are installed; libp2p checks the shape, not the class.
      return nodes[i].services.ping.ping(multiaddr(address) as never);
    },
    close: () => (closing ??= Promise.allSettled(nodes.map((n) => n.stop())).then(() => log.info('libp2p-lab-stopped', {}))),
  };
}

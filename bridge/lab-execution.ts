// The lab's execution-layer peers: real @ethereumjs/devp2p nodes on loopback, each running
// discv4 (UDP) and RLPx with eth/66–68 (TCP) on one port, as real execution clients do. They
// know each other through discv4 (every node bootstraps from the first), so a lookup from one
// finds the rest. They run in this process: stopping the bridge stops them.
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { Common, Hardfork, Mainnet } from '@ethereumjs/common';
import { DPT, ETH, RLPx, type Peer } from '@ethereumjs/devp2p';
import * as secp from '@noble/secp256k1';
import { fromHex, toHex } from '../shared/bytes.ts';
import { formatEnode, nodeIdOf } from '../shared/enr/index.ts';
import type { ExecutionLabPeer } from '../shared/lab.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

/** The mainnet genesis block hash (go-ethereum params/config.go, MainnetGenesisHash). */
export const MAINNET_GENESIS_HASH = 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3';
const CLIENT_ID = 'ethereumjs-devp2p/v10.0.0/handshake-lab';

export interface ExecutionNode {
  readonly privateKey: Uint8Array;
  readonly dpt: DPT;
  readonly rlpx: RLPx;
  readonly port: number;
}

export interface ExecutionLab {
  readonly peers: ExecutionLabPeer[];
  readonly nodes: ExecutionNode[];
  /**
   * The named lab node dials ip:port as an RLPx initiator (auth to `key`, the listener's 64-byte
   * node key) and completes Hello and Status (the page is the recipient).
   */
  dial(name: string, ip: string, port: number, key: Uint8Array): Promise<{ clientId: string; capabilities: string[]; statusVersion: number }>;
  /** A page's discv4 socket is gone: no lab node keeps (or hands out in NEIGHBORS) that address. */
  forget(e: { ip: string; port: number }): void;
  close(): Promise<void>;
}

/** Dials and resolves once the peer's Status has been read (ethereumjs validated it and its fork id). */
async function dialNode(node: ExecutionNode, ip: string, port: number, key: Uint8Array): Promise<{ clientId: string; capabilities: string[]; statusVersion: number }> {
  const keyHex = toHex(key);
  let cleanup = () => {};
  const done = new Promise<{ clientId: string; capabilities: string[]; statusVersion: number }>((resolve, reject) => {
    const isOurs = (peer: Peer) => toHex(peer.getId() ?? new Uint8Array(0)) === keyHex;
    const added = (peer: Peer) => {
      if (!isOurs(peer)) return;
      for (const proto of peer.getProtocols()) {
        if (!(proto instanceof ETH)) continue;
        proto.events.once('status', () => {
          const hello = peer.getHelloMessage();
          resolve({ clientId: String(hello?.clientId ?? ''), capabilities: (hello?.capabilities ?? []).map((c) => `${c.name}/${c.version}`), statusVersion: proto.getVersion() });
          // Its part is done: it hangs up a little later, so the page sees what follows Status.
          setTimeout(() => peer.disconnect(0x08), 3000).unref?.();
        });
      }
    };
    const removed = (peer: Peer, reason: number) => isOurs(peer) && reject(new Error(`the connection ended (Disconnect reason ${reason})`));
    node.rlpx.events.on('peer:added', added);
    node.rlpx.events.on('peer:removed', removed);
    cleanup = () => {
      node.rlpx.events.off('peer:added', added);
      node.rlpx.events.off('peer:removed', removed);
    };
  });
  try {
    await node.rlpx.connect({ id: key, address: ip, tcpPort: port });
    return await done;
  } finally {
    cleanup();
  }
}

/** A port free for both TCP and UDP on host: discv4 and RLPx share it, as in an enode URL. */
async function freePortPair(host: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, host, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      u.once('error', () => resolve(false));
      u.bind(port, host, () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error(`no port free for both TCP and UDP on ${host}`);
}

function mainnetCommon(): Common {
  return new Common({ chain: Mainnet, hardfork: Hardfork.Prague });
}

/** Status as the lab node answers it: mainnet at genesis (it has no chain, only an identity). */
function sendStatus(peer: Peer): void {
  const genesis = fromHex(MAINNET_GENESIS_HASH);
  for (const proto of peer.getProtocols()) {
    if (!(proto instanceof ETH)) continue;
    try {
      proto.sendStatus({ td: Uint8Array.of(0x04, 0x00, 0x00, 0x00, 0x00), bestHash: genesis, genesisHash: genesis });
    } catch {
      // a peer that already hung up: nothing to answer
    }
  }
}

async function startNode(host: string): Promise<ExecutionNode> {
  const privateKey = secp.utils.randomSecretKey();
  const port = await freePortPair(host);
  const common = mainnetCommon();
  const endpoint = { address: host, udpPort: port, tcpPort: port };
  const dpt = new DPT(privateKey, { endpoint, refreshInterval: 30_000, shouldFindNeighbours: true, shouldGetDnsPeers: false, timeout: 2000, common });
  // RLPx takes no DPT: lab nodes answer dials but do not dial each other (no background traffic).
  const rlpx = new RLPx(privateKey, { maxPeers: 64, capabilities: [ETH.eth68, ETH.eth67, ETH.eth66], common, listenPort: port, clientId: new TextEncoder().encode(CLIENT_ID), timeout: 10_000 });
  dpt.events.on('error', () => {}); // a malformed datagram from a page is not fatal for a lab node
  rlpx.events.on('error', () => {});
  rlpx.events.on('peer:error', () => {});
  rlpx.events.on('peer:added', sendStatus);
  await Promise.all([
    new Promise<void>((resolve) => {
      dpt.events.once('listening', () => resolve());
      dpt.bind(port, host);
    }),
    new Promise<void>((resolve) => {
      rlpx.events.once('listening', () => resolve());
      rlpx.listen(port, host);
    }),
  ]);
  return { privateKey, dpt, rlpx, port };
}

export async function startExecutionLab(options: { size?: number; host?: string; log?: Logger } = {}): Promise<ExecutionLab> {
  const size = options.size ?? 4;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentLogger;
  const nodes: ExecutionNode[] = [];
  const closeAll = () =>
    Promise.allSettled(
      nodes.map(async (n) => {
        n.rlpx.destroy();
        n.dpt.destroy();
      }),
    );
  try {
    for (let i = 0; i < size; i++) nodes.push(await startNode(host));
    // Every node bonds with the first (the bootnode): it then knows them all, and each learns
    // the rest through its own lookups.
    const boot = nodes[0];
    await Promise.all(nodes.slice(1).map((n) => n.dpt.bootstrap({ address: host, udpPort: boot?.port, tcpPort: boot?.port })));
  } catch (e) {
    await closeAll();
    throw e;
  }
  const peers = nodes.map((n, i): ExecutionLabPeer => {
    const publicKey = secp.getPublicKey(n.privateKey, true);
    const nodeId = nodeIdOf(publicKey);
    return {
      name: `el-${String(i + 1).padStart(2, '0')}`,
      protocol: 'execution',
      network: 'mainnet',
      enode: formatEnode({ publicKey, nodeId, ip: host, tcp: n.port, udp: n.port }),
      nodeId: toHex(nodeId),
      ip: host,
      tcp: n.port,
      udp: n.port,
      clientId: CLIENT_ID,
      capabilities: ['eth/66', 'eth/67', 'eth/68'],
    };
  });
  log.info('execution-lab-started', { nodes: size, host, ports: peers.map((p) => p.tcp).join(',') });
  let closing: Promise<void> | undefined;
  return {
    peers,
    nodes,
    async dial(name, ip, port, key) {
      const i = peers.findIndex((p) => p.name === name);
      if (i < 0) throw new Error(`no execution lab node named "${name.slice(0, 20)}"`);
      if (key.length !== 64) throw new Error('the listener\'s node key is 64 bytes');
      return dialNode(nodes[i], ip, port, key);
    },
    forget(e) {
      for (const n of nodes) for (const p of n.dpt.getPeers()) if (p.address === e.ip && p.udpPort === e.port) n.dpt.removePeer(p);
    },
    close: () => (closing ??= closeAll().then(() => log.info('execution-lab-stopped', {}))),
  };
}

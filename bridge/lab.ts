// The lab: real, independent @chainsafe/discv5 nodes on loopback that know each other (a
// small DHT), so the playground has peers to handshake with on a machine with no internet.
// They run in this process: stopping the bridge stops them, no child process to leave behind.
import type { Socket as UdpSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { Discv5, type ITransportService, type IPMode } from '@chainsafe/discv5';
import { decodePacket, encodePacket, type IPacket } from '@chainsafe/discv5/packet';
import { getSocketAddressOnENR, type SocketAddress } from '@chainsafe/discv5/util';
import { type BaseENR, SignableENR } from '@chainsafe/enr';
import { generateKeyPair, privateKeyFromRaw } from '@libp2p/crypto/keys';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { bindUdp, unmap } from './node-transport.ts';
import type { Endpoint } from '../shared/transport.ts';
import { bytesToIp } from '../shared/ip.ts';
import { udpFields } from '../shared/enr/index.ts';
import type { Discv5LabPeer } from '../shared/lab.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';

type CreateOptions = Parameters<typeof Discv5.create>[0];

export interface Lab {
  readonly peers: Discv5LabPeer[];
  /** The running nodes (tests talk to them directly). */
  readonly nodes: Discv5[];
  /** Every node drops the records of nodes at this address (a page's tunnel socket that closed); returns how many. */
  forget(e: Endpoint): number;
  close(): Promise<void>;
}

export interface LabOptions {
  size?: number;
  /** Loopback address the nodes bind to (and put in their ENRs). */
  host?: string;
  log?: Logger;
  /**
   * Identities of the lab's libp2p nodes: each also joins the DHT with the same key and an ENR
   * carrying its tcp port and eth2 entry, as a consensus client's record does (discovery → dial).
   */
  libp2p?: { name: string; privateKey: Uint8Array; tcp: number; eth2: Uint8Array; multiaddr: string }[];
}

/**
 * chainsafe's own UDP transport binds a port it is given; ours binds port 0 first and lets the
 * node put the port it got into its ENR, and reports bind errors instead of throwing them.
 */
export class LabTransport extends EventEmitter implements ITransportService {
  readonly ipMode: IPMode;
  readonly bindAddrs: Multiaddr[];
  packetsIn = 0;
  packetsOut = 0;

  constructor(
    private readonly socket: UdpSocket,
    private readonly nodeId: string,
  ) {
    super();
    const a = socket.address();
    const v6 = a.family === 'IPv6';
    this.ipMode = v6 ? { ip4: false, ip6: true } : { ip4: true, ip6: false };
    this.bindAddrs = [multiaddr(`/${v6 ? 'ip6' : 'ip4'}/${a.address}/udp/${a.port}`)];
  }

  async start(): Promise<void> {
    this.socket.on('message', this.onMessage);
    this.socket.on('error', () => {}); // a send error on loopback is not fatal for a lab node
  }

  async stop(): Promise<void> {
    this.socket.off('message', this.onMessage);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  async send(to: Multiaddr, toId: string, packet: IPacket): Promise<void> {
    const o = to.toOptions();
    this.packetsOut++;
    this.socket.send(encodePacket(toId, packet), o.port, o.host);
  }

  getContactableAddr(enr: BaseENR): SocketAddress | undefined {
    return getSocketAddressOnENR(enr, this.ipMode);
  }

  private readonly onMessage = (data: Buffer, rinfo: { address: string; port: number; family: string }) => {
    this.packetsIn++;
    const ip = unmap(rinfo.address);
    const src = multiaddr(`/${ip.includes(':') ? 'ip6' : 'ip4'}/${ip}/udp/${rinfo.port}`);
    let packet: IPacket;
    try {
      packet = decodePacket(this.nodeId, data);
    } catch (e) {
      this.emit('decodeError', e as Error, src);
      return;
    }
    this.emit('packet', src, packet);
  };
}

/** Starts `size` discv5 nodes on `host` and introduces every node to every other. */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const size = options.size ?? 16;
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentLogger;
  const nodes: Discv5[] = [];
  const transports: LabTransport[] = [];
  const peers: Discv5LabPeer[] = [];
  const consensus = options.libp2p ?? [];
  try {
    for (let i = 0; i < size + consensus.length; i++) {
      const cl = i >= size ? consensus[i - size] : undefined;
      // Two copies of @libp2p/interface are installed; the key is the same object either way.
      const privateKey = (cl ? privateKeyFromRaw(cl.privateKey) : await generateKeyPair('secp256k1')) as unknown as CreateOptions['privateKey'];
      const enr = SignableENR.createFromPrivateKey(privateKey);
      const socket = await bindUdp(host, 0);
      const port = socket.address().port;
      Object.assign(enr, udpFields({ ip: host, port })); // through chainsafe's setters
      if (cl) {
        enr.tcp = cl.tcp;
        enr.set('eth2', cl.eth2);
      }
      const transport = new LabTransport(socket, enr.nodeId);
      transports.push(transport);
      const node = Discv5.create({
        enr,
        privateKey,
        bindAddrs: host.includes(':') ? { ip6: transport.bindAddrs[0] } : { ip4: transport.bindAddrs[0] },
        transport,
        // Fixed ENRs (no address voting): a lab, not a long-lived node. Patient: chainsafe keeps a
        // WHOAREYOU it sent for 2 × requestTimeout, and the playground's Step mode may hold the
        // browser's handshake that long while a room reads the explanation.
        config: { enrUpdate: false, requestTimeout: 15_000, requestRetries: 1, lookupTimeout: 10_000 },
      });
      // chainsafe leaves TALKREQ to the application; the spec wants an answer: the request back
      // for the "echo" protocol (something to see in the playground), empty for any other.
      node.on('talkReqReceived', (from, _enr, m) => {
        const echo = new TextDecoder().decode(m.protocol) === 'echo';
        node.sendTalkResp(from, m.id, echo ? m.request : new Uint8Array(0)).catch(() => {});
      });
      await node.start();
      nodes.push(node);
      peers.push({ name: cl ? cl.name : `lab-${String(i + 1).padStart(2, '0')}`, protocol: 'discv5', enr: enr.encodeTxt(), nodeId: enr.nodeId, ip: host, udp: port, ...(cl ? { libp2p: cl.multiaddr } : {}) });
    }
  } catch (e) {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    for (const t of transports.slice(nodes.length)) await t.stop().catch(() => {});
    throw e;
  }
  // Everyone knows everyone: a FINDNODE to any lab node answers with the others.
  for (const node of nodes) for (const p of peers) if (p.nodeId !== node.enr.nodeId) node.addEnr(p.enr);
  log.info('lab-started', { nodes: size + consensus.length, host, ports: `${peers[0]?.udp}..${peers[peers.length - 1]?.udp}` });

  let closing: Promise<void> | undefined;
  return {
    peers,
    nodes,
    forget: (e) => forgetAddress(nodes, e),
    close: () =>
      (closing ??= (async () => {
        await Promise.allSettled(nodes.map((n) => n.stop()));
        log.info('lab-stopped', {
          packetsIn: transports.reduce((n, t) => n + t.packetsIn, 0),
          packetsOut: transports.reduce((n, t) => n + t.packetsOut, 0),
        });
      })()),
  };
}

/** The routing table chainsafe keeps private: what forgetting a departed page needs of it. */
interface KadTable {
  values(): BaseENR[];
  removeById(id: string): unknown;
}

/**
 * A page's tunnel socket is gone, so the node behind that address is gone: each lab node drops
 * its record now, instead of handing it out in NODES answers until a liveness check fails (each
 * lookup that meets it would spend its retries on a dead address). chainsafe's pinger for the
 * entry stops by itself once the entry is gone.
 */
export function forgetAddress(nodes: Discv5[], e: Endpoint): number {
  let removed = 0;
  for (const node of nodes) {
    const table = (node as unknown as { kbuckets: KadTable }).kbuckets;
    for (const enr of table.values()) {
      const at = getSocketAddressOnENR(enr, e.ip.includes(':') ? { ip4: false, ip6: true } : { ip4: true, ip6: false });
      if (at && at.port === e.port && bytesToIp(at.ip.octets) === e.ip) {
        table.removeById(enr.nodeId);
        removed++;
      }
    }
  }
  return removed;
}

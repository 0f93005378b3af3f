// What /lab.json lists for each lab peer: written by the bridge, read by the page and the tests.
export type LabPeerInfo = Discv5LabPeer | BitcoinLabPeer | Libp2pLabPeer;

export interface Discv5LabPeer {
  name: string;
  protocol: 'discv5';
  enr: string;
  nodeId: string;
  ip: string;
  udp: number;
  /** A consensus lab node's discv5 identity: its libp2p multiaddr (the same key; its ENR has tcp and eth2). */
  libp2p?: string;
}

export interface BitcoinLabPeer {
  name: string;
  protocol: 'bitcoin';
  /** bcoin's network name ('regtest'), the page's network name too. */
  network: 'regtest';
  ip: string;
  tcp: number;
  /** The node's user agent, e.g. "/bcoin:v1.0.2/". */
  userAgent: string;
}

/** A js-libp2p node (the consensus layer's transport): TCP, Noise, yamux, ping, identify. */
export interface Libp2pLabPeer {
  name: string;
  protocol: 'libp2p';
  ip: string;
  tcp: number;
  /** "16Uiu2…": its secp256k1 identity. */
  peerId: string;
  /** "/ip4/127.0.0.1/tcp/…/p2p/16Uiu2…". */
  multiaddr: string;
  agent: string;
}

/** The transport and port a lab peer is reached on. */
export const labEndpoint = (p: LabPeerInfo): { protocol: 'udp' | 'tcp'; ip: string; port: number } =>
  p.protocol !== 'discv5' ? { protocol: 'tcp', ip: p.ip, port: p.tcp } : { protocol: 'udp', ip: p.ip, port: p.udp };

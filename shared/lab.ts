// What /lab.json lists for each lab peer: written by the bridge, read by the page and the tests.
export type LabPeerInfo = Discv5LabPeer | BitcoinLabPeer | ExecutionLabPeer | Libp2pLabPeer;

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

/**
 * An execution-layer node: discv4 on UDP and RLPx on TCP, one identity (the enode), usually one
 * port number for both, as real execution clients run them.
 */
export interface ExecutionLabPeer {
  name: string;
  protocol: 'execution';
  network: 'mainnet';
  /** enode://<public key>@ip:tcp[?discport=udp] */
  enode: string;
  /** keccak256 of the public key, hex: its place in the Kademlia table (the key itself is in the enode). */
  nodeId: string;
  ip: string;
  tcp: number;
  udp: number;
  /** The client id its Hello announces. */
  clientId: string;
  /** Capabilities its Hello announces, e.g. "eth/68". */
  capabilities: string[];
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

export type LabEndpoint = { protocol: 'udp' | 'tcp'; ip: string; port: number };

/** The transports and ports a lab peer is reached on. */
export function labEndpoints(p: LabPeerInfo): LabEndpoint[] {
  switch (p.protocol) {
    case 'discv5':
      return [{ protocol: 'udp', ip: p.ip, port: p.udp }];
    case 'bitcoin':
    case 'libp2p':
      return [{ protocol: 'tcp', ip: p.ip, port: p.tcp }];
    case 'execution':
      return [
        { protocol: 'udp', ip: p.ip, port: p.udp },
        { protocol: 'tcp', ip: p.ip, port: p.tcp },
      ];
  }
}

// What /lab.json lists for each lab peer: written by the bridge, read by the page and the tests.
export type LabPeerInfo = Discv5LabPeer | BitcoinLabPeer | ExecutionLabPeer;

export interface Discv5LabPeer {
  name: string;
  protocol: 'discv5';
  enr: string;
  nodeId: string;
  ip: string;
  udp: number;
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

export type LabEndpoint = { protocol: 'udp' | 'tcp'; ip: string; port: number };

/** The transports and ports a lab peer is reached on. */
export function labEndpoints(p: LabPeerInfo): LabEndpoint[] {
  switch (p.protocol) {
    case 'discv5':
      return [{ protocol: 'udp', ip: p.ip, port: p.udp }];
    case 'bitcoin':
      return [{ protocol: 'tcp', ip: p.ip, port: p.tcp }];
    case 'execution':
      return [
        { protocol: 'udp', ip: p.ip, port: p.udp },
        { protocol: 'tcp', ip: p.ip, port: p.tcp },
      ];
  }
}

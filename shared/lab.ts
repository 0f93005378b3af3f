// What /lab.json lists for each lab peer: written by the bridge, read by the page and the tests.
export type LabPeerInfo = Discv5LabPeer | BitcoinLabPeer;

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

/** The transport and port a lab peer is reached on. */
export const labEndpoint = (p: LabPeerInfo): { protocol: 'udp' | 'tcp'; ip: string; port: number } =>
  p.protocol === 'bitcoin' ? { protocol: 'tcp', ip: p.ip, port: p.tcp } : { protocol: 'udp', ip: p.ip, port: p.udp };

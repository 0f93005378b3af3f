// What /lab.json lists for each lab peer: written by the bridge, read by the page and the tests.
export interface LabPeerInfo {
  name: string;
  protocol: 'discv5';
  enr: string;
  nodeId: string;
  ip: string;
  udp: number;
}

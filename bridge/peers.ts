// The endpoints the policy always allows, each registered for one protocol: the lab's peers and
// the tunnel's own sockets (later also tunnel listeners). A UDP socket never opens its port to
// TCP, nor the reverse. Counted, since two registrations may share an endpoint.
import { type Endpoint, endpointKey } from '../shared/transport.ts';

export type Protocol = 'udp' | 'tcp';
/** 'lab': a lab peer; 'tunnel': a socket (or listener) the bridge opened for a page. */
export type PeerKind = 'lab' | 'tunnel';

/** What the policy asks of the registry. */
export interface PeerLookup {
  /** Is ip:port (endpointKey) registered for this protocol, by any kind? */
  has(protocol: Protocol, key: string): boolean;
  /** Is some endpoint on this address registered (DNS answers have no port yet)? */
  hasIp(ip: string): boolean;
}

export class PeerRegistry implements PeerLookup {
  /** `onTunnelGone`: the last registration of a tunnel endpoint went (the lab forgets the page there). */
  constructor(private readonly onTunnelGone?: (protocol: Protocol, e: Endpoint) => void) {}

  private readonly byProtocol = new Map<string, number>();
  /** The lab's share of byProtocol (few entries; a tunnel socket costs no entry here). */
  private readonly lab = new Map<string, number>();
  private readonly byIp = new Map<string, number>();

  add(protocol: Protocol, kind: PeerKind, e: Endpoint): void {
    this.bump(protocol, kind, e, 1);
  }

  remove(protocol: Protocol, kind: PeerKind, e: Endpoint): void {
    this.bump(protocol, kind, e, -1);
    if (kind === 'tunnel' && this.onTunnelGone && !this.hasKind(protocol, 'tunnel', e)) this.onTunnelGone(protocol, e);
  }

  has(protocol: Protocol, key: string): boolean {
    return this.byProtocol.has(`${protocol} ${key}`);
  }

  /** Registered for this protocol as this kind (e.g. a page's own UDP socket, not a lab peer). */
  hasKind(protocol: Protocol, kind: PeerKind, e: Endpoint): boolean {
    const k = `${protocol} ${endpointKey(e)}`;
    const labs = this.lab.get(k) ?? 0;
    return kind === 'lab' ? labs > 0 : (this.byProtocol.get(k) ?? 0) > labs;
  }

  hasIp(ip: string): boolean {
    return this.byIp.has(ip);
  }

  /** Distinct endpoints registered (any protocol). */
  get size(): number {
    return this.byProtocol.size;
  }

  private bump(protocol: Protocol, kind: PeerKind, e: Endpoint, d: number): void {
    const k = `${protocol} ${endpointKey(e)}`;
    count(this.byProtocol, k, d);
    if (kind === 'lab') count(this.lab, k, d);
    count(this.byIp, e.ip, d);
  }
}

function count(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}

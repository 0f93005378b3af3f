// Every address of this machine's interfaces (os.networkInterfaces()), for the policy: a target
// on one of them is a local service reached the long way round. Re-read every few seconds, so
// an address that came up after start (DHCP, VPN) is refused too.
import { networkInterfaces } from 'node:os';
import { normalizeIp } from '../shared/tunnel/ip.ts';

const REFRESH_MS = 5_000;

/** The current set of this machine's addresses, canonical text (unmapped, zone ids dropped). */
export function readHostAddresses(list = networkInterfaces()): Set<string> {
  const out = new Set<string>();
  for (const entries of Object.values(list))
    for (const a of entries ?? []) {
      const ip = normalizeIp(a.address.replace(/%.*$/, ''));
      if (ip) out.add(ip);
    }
  return out;
}

/** `has(ip)` over the host's addresses, re-read at most every REFRESH_MS. */
export function hostAddresses(now: () => number = () => performance.now()): { has(ip: string): boolean } {
  let set = readHostAddresses();
  let readAt = now();
  return {
    has(ip) {
      const t = now();
      if (t - readAt > REFRESH_MS) {
        set = readHostAddresses();
        readAt = t;
      }
      return set.has(ip);
    },
  };
}

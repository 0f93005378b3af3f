// A target policy built from a few options, and its verdict as one string, for policy tests.
import { TargetPolicy, policyConfig, type Protocol } from '../../bridge/policy.ts';
import { PeerRegistry } from '../../bridge/peers.ts';

/** A policy in local mode unless told otherwise; `peers` are registered for UDP (as lab peers). */
export const policy = (o: Partial<Parameters<typeof policyConfig>[0]> = {}, peers: string[] = []) => {
  const registry = new PeerRegistry();
  for (const p of peers) {
    const i = p.lastIndexOf(':');
    registry.add('udp', 'lab', { ip: p.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(p.slice(i + 1)) });
  }
  return new TargetPolicy(policyConfig({ allow: [], deny: [], publicTargets: !o.workshop, workshop: false, ...o }), registry);
};

export const reasonOf = (p: TargetPolicy, ip: string, port = 30303, protocol: Protocol = 'udp') => {
  const v = p.check(protocol, ip, port);
  return v.ok ? 'ok' : v.reason;
};


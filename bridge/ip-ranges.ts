// What range an address is in, for the target policy. IPv4: ipaddr.js's table ('unicast' is
// public). IPv6: public only inside 2000::/3 (global unicast, IANA IPv6 Address Space registry)
// minus the special-purpose blocks that are not globally reachable (IANA IPv6 Special-Purpose
// Address Registry); ipaddr.js calls everything it has no name for 'unicast', 4000::1 included.
import ipaddr from 'ipaddr.js';

export type Addr = ipaddr.IPv4 | ipaddr.IPv6;

const v6 = (cidr: string): [ipaddr.IPv6, number] => ipaddr.IPv6.parseCIDR(cidr) as [ipaddr.IPv6, number];

/** Named IPv6 blocks, most specific first; the first match names the range. */
const IPV6_BLOCKS: [string, [ipaddr.IPv6, number]][] = [
  ['unspecified', v6('::/128')],
  ['loopback', v6('::1/128')],
  ['ipv4Compatible', v6('::/96')], // RFC 4291 §2.5.5.1, deprecated: ::a9fe:a9fe is not 169.254.169.254's way out
  ['ipv4Mapped', v6('::ffff:0:0/96')], // unmapped before classification; here for completeness
  ['rfc6145', v6('::ffff:0:0:0/96')],
  ['nat64', v6('64:ff9b::/96')], // RFC 6052: refused rather than judged by the embedded IPv4
  ['nat64', v6('64:ff9b:1::/48')], // RFC 8215, local-use
  ['discard', v6('100::/64')], // RFC 6666
  ['ietfProtocol', v6('2001::/23')], // RFC 2928: Teredo, benchmarking, ORCHID, AMT…; no carve-out honoured
  ['documentation', v6('2001:db8::/32')], // RFC 3849
  ['6to4', v6('2002::/16')], // RFC 3056: refused rather than judged by the embedded IPv4
  ['documentation', v6('3fff::/20')], // RFC 9637
  ['segmentRouting', v6('5f00::/16')], // RFC 9602
  ['uniqueLocal', v6('fc00::/7')],
  ['linkLocal', v6('fe80::/10')],
  ['siteLocal', v6('fec0::/10')], // RFC 3879, deprecated
  ['multicast', v6('ff00::/8')],
];
const GLOBAL_UNICAST = v6('2000::/3');

/** The range's name; 'unicast' means a public address. */
export function rangeOf(addr: Addr): string {
  if (addr.kind() === 'ipv4') return addr.range();
  const a = addr as ipaddr.IPv6;
  for (const [name, net] of IPV6_BLOCKS) if (a.match(net)) return name;
  return a.match(GLOBAL_UNICAST) ? 'unicast' : 'reserved';
}

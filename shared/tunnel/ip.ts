// IP text <-> bytes for the tunnel frames. Strict on input (dotted-quad IPv4, IPv6 without a
// zone), RFC 5952 text on output, and `::ffff:`-mapped IPv4 always unmapped, so the bridge
// policy only ever sees the plain IPv4 form.
import ipaddr from 'ipaddr.js';

/** 4 bytes for IPv4 (also for ::ffff:a.b.c.d), 16 for IPv6; undefined for anything else. */
export function parseIp(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return Uint8Array.from(ipaddr.IPv4.parse(text).octets);
  if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  const v6 = ipaddr.IPv6.parse(text);
  if (v6.isIPv4MappedAddress()) return Uint8Array.from(v6.toIPv4Address().octets);
  return Uint8Array.from(v6.toByteArray());
}

/** Text of 4 or 16 address bytes; a mapped IPv6 address comes out as its IPv4 text. */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new Error(`an IP address is 4 or 16 bytes, got ${b.length}`);
  const v6 = ipaddr.fromByteArray(Array.from(b)) as ipaddr.IPv6;
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toRFC5952String();
}

/** Canonical text of an address (unmapped, RFC 5952), or undefined if it is not one. */
export function normalizeIp(text: string): string | undefined {
  const b = parseIp(text);
  return b ? formatIp(b) : undefined;
}

export const isIPv6 = (ip: string): boolean => ip.includes(':');

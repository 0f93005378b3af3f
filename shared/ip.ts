// IP addresses as text ⇄ bytes (4 or 16), for ENR keys, PONG recipient-ip and the tunnel.
// ipaddr.js does the parsing and the RFC 5952 formatting; it runs in browsers too.
import ipaddr from 'ipaddr.js';

/** 4 or 16 bytes, or undefined when `text` is not an IP address. "::ffff:a.b.c.d" gives 4 bytes. */
export function ipToBytes(text: string): Uint8Array | undefined {
  const s = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(s)) return undefined;
  let addr = ipaddr.parse(s);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(s) && !s.includes(':')) return undefined;
  return Uint8Array.from(addr.toByteArray());
}

/** Text form of 4 or 16 bytes (IPv4-mapped IPv6 shown as IPv4); undefined for other lengths. */
export function bytesToIp(b: Uint8Array): string | undefined {
  if (b.length !== 4 && b.length !== 16) return undefined;
  let addr = ipaddr.fromByteArray(Array.from(b));
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.toString();
}

export const isIPv6 = (text: string): boolean => text.includes(':');

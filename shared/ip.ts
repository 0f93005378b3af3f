// IP addresses as text ⇄ bytes (4 or 16), for ENR keys, PONG recipient-ip and the tunnel.
// ipaddr.js does the parsing and the RFC 5952 formatting; it runs in browsers too.
import ipaddr from 'ipaddr.js';

/** 4 or 16 bytes, or undefined when `text` is not an IP address. "::ffff:a.b.c.d" gives 4 bytes. */
export function ipToBytes(text: string): Uint8Array | undefined {
  const quad = canonicalQuad(text);
  if (quad) return quad;
  if (text === '::') return new Uint8Array(16);
  const s = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(s)) return undefined;
  let addr = ipaddr.parse(s);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(s) && !s.includes(':')) return undefined;
  return Uint8Array.from(addr.toByteArray());
}

/** Text form of 4 or 16 bytes (IPv4-mapped IPv6 shown as IPv4); undefined for other lengths. */
export function bytesToIp(b: Uint8Array): string | undefined {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`; // the one IPv4 text form
  if (b.length !== 16) return undefined;
  // Fast paths for what every Bitcoin version carries: ::ffff:a.b.c.d and the all-zero address.
  let zeros = 0;
  while (zeros < 10 && b[zeros] === 0) zeros++;
  if (zeros === 10 && b[10] === 0xff && b[11] === 0xff) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (zeros === 10 && b[10] === 0 && b[11] === 0 && b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15] === 0) return '::';
  let addr = ipaddr.fromByteArray(Array.from(b));
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  return addr.toString();
}

/**
 * Fast path for the common case (every PONG carries an address): "a.b.c.d" in canonical decimal,
 * no leading zeros, each part ≤ 255. Anything else goes through ipaddr.js as before.
 */
function canonicalQuad(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p[0] === '0')) return undefined;
    let n = 0;
    for (let j = 0; j < p.length; j++) {
      const c = p.charCodeAt(j) - 48;
      if (c < 0 || c > 9) return undefined;
      n = n * 10 + c;
    }
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export const isIPv6 = (text: string): boolean => text.includes(':');

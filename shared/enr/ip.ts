// IP addresses as ENR and enode carry them: `ip` is 4 bytes, `ip6` 16 bytes; text forms are
// dotted-quad and RFC 5952 IPv6. Parsing is strict (user input and URLs reach it).
import ipaddr from 'ipaddr.js';

/** 4 or 16 bytes → text. IPv4-mapped IPv6 is written `::ffff:a.b.c.d`. Throws on other lengths. */
export function ipToText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) throw new Error(`an IP address is 4 or 16 bytes, got ${b.length}`);
  const v4 = mappedIpv4(b);
  if (v4) return `::ffff:${v4}`;
  return ipaddr.fromByteArray(Array.from(b)).toString();
}

/** The IPv4 text inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else undefined. */
export function mappedIpv4(b: Uint8Array): string | undefined {
  if (b.length !== 16) return undefined;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return undefined;
  if (b[10] !== 0xff || b[11] !== 0xff) return undefined;
  return Array.from(b.subarray(12)).join('.');
}

/** Strict dotted-quad IPv4 text → 4 bytes, else undefined ("127.1", "0x7f.0.0.1", "01.2.3.4" are refused). */
export function parseIpv4(text: string): Uint8Array | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
  return Uint8Array.from(ipaddr.IPv4.parse(text).toByteArray());
}

/** IPv6 text (no brackets, no zone id) → 16 bytes, else undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
}

/** Either form → 4 or 16 bytes, else undefined. */
export const parseIp = (text: string): Uint8Array | undefined => parseIpv4(text) ?? parseIpv6(text);

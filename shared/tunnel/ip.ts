// The tunnel's view of IP text: what shared/ip.ts parses, always unmapped (`::ffff:a.b.c.d`
// becomes a.b.c.d) and in one canonical spelling, so the bridge policy sees one form only.
import { bytesToIp, ipToBytes } from '../ip.ts';

/** 4 bytes for IPv4 (also for ::ffff:a.b.c.d), 16 for IPv6; undefined for anything else. */
export function parseIp(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  // Hot path (every relayed datagram): dotted-quad IPv4, plain or ::ffff:-mapped, by hand.
  const m = DOTTED_QUAD.exec(text);
  if (m) return Uint8Array.of(+m[1], +m[2], +m[3], +m[4]);
  return ipToBytes(text);
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED_QUAD = new RegExp(`^(?:::ffff:)?${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`, 'i');

/** Text of 4 or 16 address bytes (RFC 5952; a mapped address comes out as IPv4). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`; // the hot path, without a parse
  const s = bytesToIp(b);
  if (s === undefined) throw new Error(`an IP address is 4 or 16 bytes, got ${b.length}`);
  return s;
}

/** Canonical text of an address, or undefined if it is not one. */
export function normalizeIp(text: string): string | undefined {
  const b = parseIp(text);
  return b ? formatIp(b) : undefined;
}

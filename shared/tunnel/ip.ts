// The tunnel's view of IP text: what shared/ip.ts parses, always unmapped (`::ffff:a.b.c.d`
// becomes a.b.c.d) and in one canonical spelling, so the bridge policy sees one form only.
import { bytesToIp, ipToBytes } from '../ip.ts';

/** 4 bytes for IPv4 (also for ::ffff:a.b.c.d), 16 for IPv6; undefined for anything else. */
export function parseIp(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64) return undefined;
  // Hot path (every relayed datagram): dotted-quad IPv4, plain or ::ffff:-mapped, by hand.
  const m = DOTTED_QUAD.exec(text);
  if (m) return Uint8Array.of(+m[1], +m[2], +m[3], +m[4]);
  return ipToBytes(hexTail(text));
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED_QUAD = new RegExp(`^(?:::ffff:)?${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`, 'i');
const QUAD_TAIL = new RegExp(`^(\\[?[0-9a-f:]*:)${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}(\\]?)$`, 'i');

/**
 * IPv6 text ending in a dotted quad, with the quad written as two hex groups. RFC 4291 §2.2:
 * `::a.b.c.d` is the IPv6 address whose low 32 bits are a.b.c.d (`::0.0.0.1` is `::1`), but
 * ipaddr.js reads it as `::ffff:a.b.c.d`, which would unmap to IPv4. `::ffff:` stays mapped.
 */
function hexTail(text: string): string {
  const m = QUAD_TAIL.exec(text);
  if (!m) return text;
  const hex = (hi: string, lo: string) => ((+hi << 8) | +lo).toString(16);
  return `${m[1]}${hex(m[2], m[3])}:${hex(m[4], m[5])}${m[6]}`;
}

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

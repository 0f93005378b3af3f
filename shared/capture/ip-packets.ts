// IP packets synthesized around recorded payloads, so a capture file shows them as they
// travelled: IPv4 (RFC 791), IPv6 (RFC 8200), UDP (RFC 768), TCP (RFC 793 / RFC 9293).
// Checksums are the Internet checksum (RFC 1071) over the RFC's pseudo-header.

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const IPV4_HEADER = 20;
export const IPV6_HEADER = 40;
export const UDP_HEADER = 8;
export const TCP_HEADER = 20;
/** IPv4 total length and IPv6 payload length are 16-bit (no jumbograms). */
export const MAX_IP_LENGTH = 0xffff;

/** TCP flag bits (RFC 9293 §3.1). */
export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface Addresses {
  /** 4 bytes each (IPv4) or 16 each (IPv6). */
  src: Uint8Array;
  dst: Uint8Array;
}

/** Adds 16-bit big-endian words to `sum` (an odd last byte is padded with zero, RFC 1071). */
function addWords(bytes: Uint8Array, sum: number): number {
  const even = bytes.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (even < bytes.length) sum += bytes[even] << 8;
  return sum;
}

const fold = (sum: number): number => {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
};

/** The Internet checksum of the parts laid end to end; every part but the last must be of even length. */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  // Fold as we go: a sum of many words stays well inside a double's exact range anyway, but short.
  for (const p of parts) sum = fold(addWords(p, sum));
  return ~sum & 0xffff;
}

/** RFC 793 §3.1 / RFC 8200 §8.1: source, destination, protocol and upper-layer length. */
export function pseudoHeader(a: Addresses, protocol: number, length: number): Uint8Array {
  if (a.src.length === 4) {
    const p = new Uint8Array(12);
    p.set(a.src, 0);
    p.set(a.dst, 4);
    p[9] = protocol;
    p[10] = length >>> 8;
    p[11] = length & 0xff;
    return p;
  }
  const p = new Uint8Array(40);
  p.set(a.src, 0);
  p.set(a.dst, 16);
  new DataView(p.buffer).setUint32(32, length);
  p[39] = protocol;
  return p;
}

/** The 20-byte IPv4 header (no options), its header checksum filled in. */
export function ipv4Header(a: Addresses, protocol: number, payloadLength: number, identification: number): Uint8Array {
  const h = new Uint8Array(IPV4_HEADER);
  const v = new DataView(h.buffer);
  h[0] = 0x45; // version 4, IHL 5 words
  v.setUint16(2, IPV4_HEADER + payloadLength);
  v.setUint16(4, identification & 0xffff);
  v.setUint16(6, 0x4000); // DF, offset 0: every segment fits the path
  h[8] = 64; // TTL
  h[9] = protocol;
  h.set(a.src, 12);
  h.set(a.dst, 16);
  v.setUint16(10, internetChecksum(h));
  return h;
}

/** The 40-byte IPv6 fixed header: traffic class and flow label zero, hop limit 64. */
export function ipv6Header(a: Addresses, nextHeader: number, payloadLength: number): Uint8Array {
  const h = new Uint8Array(IPV6_HEADER);
  const v = new DataView(h.buffer);
  h[0] = 0x60;
  v.setUint16(4, payloadLength);
  h[6] = nextHeader;
  h[7] = 64;
  h.set(a.src, 8);
  h.set(a.dst, 24);
  return h;
}

export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window?: number;
  /** Already padded to a multiple of 4 bytes. */
  options?: Uint8Array;
}

/** A TCP header with checksum 0 (the packet builder fills it in). */
export function tcpHeader(t: TcpFields): Uint8Array {
  const optionsLength = t.options?.length ?? 0;
  const h = new Uint8Array(TCP_HEADER + optionsLength);
  const v = new DataView(h.buffer);
  v.setUint16(0, t.srcPort);
  v.setUint16(2, t.dstPort);
  v.setUint32(4, t.seq >>> 0);
  v.setUint32(8, t.ack >>> 0);
  h[12] = (h.length / 4) << 4; // data offset in 32-bit words
  h[13] = t.flags;
  v.setUint16(14, t.window ?? 0xffff);
  if (t.options) h.set(t.options, TCP_HEADER);
  return h;
}

/** The MSS option (kind 2, RFC 9293 §3.2) a SYN announces. */
export const mssOption = (mss: number): Uint8Array => Uint8Array.of(2, 4, mss >>> 8, mss & 0xff);

/** A UDP header with checksum 0 (the packet builder fills it in). */
export function udpHeader(srcPort: number, dstPort: number, payloadLength: number): Uint8Array {
  const h = new Uint8Array(UDP_HEADER);
  const v = new DataView(h.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, UDP_HEADER + payloadLength);
  return h;
}

/** Where each transport keeps its checksum. */
const CHECKSUM_AT: Record<number, number> = { [IPPROTO_TCP]: 16, [IPPROTO_UDP]: 6 };

/** The largest transport segment (header + payload) an IP packet of this family can carry. */
export const maxSegment = (family: 4 | 6): number => MAX_IP_LENGTH - (family === 4 ? IPV4_HEADER : 0);

/**
 * IP header + transport header + payload, the transport checksum computed. The caller keeps
 * the segment within `maxSegment` (the 16-bit length fields cannot say more).
 */
export function ipPacket(a: Addresses, protocol: number, transport: Uint8Array, payload: Uint8Array, identification = 0): Uint8Array {
  const segment = transport.length + payload.length;
  const family = a.src.length === 4 ? 4 : 6;
  if (segment > maxSegment(family)) throw new RangeError(`a ${segment}-byte segment does not fit one IPv${family} packet`);
  const ip = family === 4 ? ipv4Header(a, protocol, segment, identification) : ipv6Header(a, protocol, segment);
  const packet = new Uint8Array(ip.length + segment);
  packet.set(ip, 0);
  packet.set(transport, ip.length);
  packet.set(payload, ip.length + transport.length);
  let sum = internetChecksum(pseudoHeader(a, protocol, segment), packet.subarray(ip.length));
  // RFC 768: a computed UDP checksum of zero is sent as all ones (zero means "none").
  if (protocol === IPPROTO_UDP && sum === 0) sum = 0xffff;
  new DataView(packet.buffer).setUint16(ip.length + CHECKSUM_AT[protocol], sum);
  return packet;
}

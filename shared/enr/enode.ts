// enode URLs (the devp2p v4 node address): enode://<128 hex: public key x ‖ y>@<ip>:<tcp>[?discport=<udp>],
// IPv6 in brackets. When discport is absent the UDP port equals the TCP port.
import { fromHex, toHex } from '../bytes.ts';
import { convertPublicKey, isValidPublicKey } from '../crypto/secp256k1.ts';
import { attempt, fail, WireError, type Result } from '../errors.ts';
import type { Enr } from './enr.ts';
import { nodeIdOf } from './enr.ts';
import { bytesToIp, ipToBytes } from '../ip.ts';

export const ENODE_SPEC = 'https://ethereum.org/developers/docs/networking-layer/network-addresses/#enode';

export interface Enode {
  /** compressed, 33 bytes */
  publicKey: Uint8Array;
  nodeId: Uint8Array;
  ip: string;
  tcp: number;
  udp: number;
}

/** Parses an enode URL. Host names are refused (resolving them is not a parser's job). Never throws. */
export function parseEnode(text: string): Result<Enode> {
  return attempt(() => {
    const s = text.trim();
    if (!s.startsWith('enode://')) fail('bad-value', 'enode', 'an enode URL starts with "enode://"');
    const at = s.indexOf('@');
    if (at < 0) fail('bad-value', 'enode', 'no "@ip:port" after the public key');
    const hex = s.slice(8, at);
    if (hex.length !== 128) fail('bad-length', 'public-key', `public key is 128 hex digits (64 bytes), got ${hex.length} characters`);
    if (!/^[0-9a-fA-F]*$/.test(hex)) fail('bad-value', 'public-key', 'public key is not hex');
    const full = Uint8Array.of(4, ...fromHex(hex));
    if (!isValidPublicKey(full)) fail('bad-value', 'public-key', 'not a point on secp256k1');

    let rest = s.slice(at + 1);
    let discport: string | undefined;
    const q = rest.indexOf('?');
    if (q >= 0) {
      const query = rest.slice(q + 1);
      rest = rest.slice(0, q);
      if (!query.startsWith('discport=')) fail('bad-value', 'discport', `unknown query "${query}"; only discport is defined`);
      discport = query.slice('discport='.length);
    }
    let host: string;
    let portText: string;
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0 || rest[close + 1] !== ':') fail('bad-value', 'ip', 'IPv6 host must be "[addr]:port"');
      host = rest.slice(1, close);
      portText = rest.slice(close + 2);
    } else {
      const colon = rest.lastIndexOf(':');
      if (colon < 0) fail('bad-value', 'tcp', 'no ":port" after the host');
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
      if (host.includes(':')) fail('bad-value', 'ip', 'an IPv6 host must be written in brackets');
    }
    const bracketed = rest.startsWith('[');
    // Bracketed hosts are IPv6 (a mapped one reads as IPv4); bare hosts are dotted-quad IPv4. No zone ids.
    const ipBytes = host.includes('%') || (bracketed && !host.includes(':')) ? undefined : ipToBytes(host);
    if (!ipBytes) fail('bad-value', 'ip', `"${host}" is not an IP address`);
    const ip = bytesToIp(ipBytes)!; // canonical text: RFC 5952 for IPv6
    const tcp = port(portText, 'tcp');
    const udp = discport === undefined ? tcp : port(discport, 'discport');
    const publicKey = convertPublicKey(full, true);
    return { publicKey, nodeId: nodeIdOf(publicKey), ip, tcp, udp };
  });
}

function port(text: string, field: string): number {
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 0xffff) fail('bad-value', field, `"${text}" is not a port number (0..65535)`);
  return Number(text);
}

export function formatEnode(e: Enode): string {
  const key = toHex(convertPublicKey(e.publicKey, false).subarray(1));
  const host = e.ip.includes(':') ? `[${e.ip}]` : e.ip;
  return `enode://${key}@${host}:${e.tcp}${e.udp !== e.tcp ? `?discport=${e.udp}` : ''}`;
}

/** The enode address of a record: IPv4 with tcp/udp when present, else IPv6 with tcp6/udp6 (or tcp/udp). Missing ports are 0. */
export function enodeFromEnr(enr: Enr): Enode {
  const base = { publicKey: enr.publicKey, nodeId: enr.nodeId };
  if (enr.ip !== undefined) return { ...base, ip: enr.ip, tcp: enr.tcp ?? 0, udp: enr.udp ?? 0 };
  if (enr.ip6 !== undefined) return { ...base, ip: enr.ip6, tcp: enr.tcp6 ?? enr.tcp ?? 0, udp: enr.udp6 ?? enr.udp ?? 0 };
  throw new WireError('bad-value', 'ip', 'the record has no IP address, so it has no enode URL');
}

export const enrToEnode = (enr: Enr): string => formatEnode(enodeFromEnr(enr));

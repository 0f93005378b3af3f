// Where to dial a libp2p peer: a multiaddr ("/ip4/127.0.0.1/tcp/9000/p2p/16Uiu2…") or an
// ENR (its ip/tcp entries, its secp256k1 key giving the peer id, its eth2 entry shown).
import { ipToBytes, bytesToIp } from '../ip.ts';
import { getPair, parseEnrText, tcpEndpoint } from '../enr/index.ts';
import { normalizeIp } from '../tunnel/ip.ts';
import { toHex } from '../bytes.ts';
import type { Endpoint } from '../transport.ts';
import { encodeSecp256k1PublicKey, parsePeerId, peerIdBytes, peerIdText } from './keys.ts';
import { base58 } from '@scure/base';
import { peekUvarint } from './varint.ts';

export interface DialTarget {
  endpoint: Endpoint;
  /** The peer id the dialler expects (multihash bytes), and its text. */
  peerId?: Uint8Array;
  peerIdText?: string;
  /** From an ENR: its eth2 entry (fork digest ‖ next fork version ‖ next fork epoch) as hex. */
  eth2?: string;
  from: 'multiaddr' | 'enr';
}

/** "/ip4/…/tcp/…[/p2p/…]", "/ip6/…/tcp/…[/p2p/…]" or "enr:…". A reason when it is neither. */
export function parseDialTarget(text: string): DialTarget | { error: string } {
  const t = text.trim();
  if (t.startsWith('enr:')) {
    const r = parseEnrText(t);
    if (!r.ok) return { error: `invalid ENR: ${r.error.reason}` };
    const enr = r.value;
    const ep = tcpEndpoint(enr);
    if (!ep) return { error: 'the ENR has no tcp (or tcp6) entry: no libp2p address to dial' };
    const key = encodeSecp256k1PublicKey(enr.publicKey);
    const eth2 = getPair(enr, 'eth2')?.value;
    return { endpoint: ep, peerId: peerIdBytes(key), peerIdText: peerIdText(key), ...(eth2 ? { eth2: toHex(eth2) } : {}), from: 'enr' };
  }
  if (!t.startsWith('/')) return { error: 'expected a multiaddr ("/ip4/127.0.0.1/tcp/9000/p2p/16Uiu2…") or an ENR ("enr:…")' };
  const parts = t.split('/').slice(1);
  if (parts.length !== 4 && parts.length !== 6) return { error: 'a dialable multiaddr is /ip4|ip6/<address>/tcp/<port>, optionally /p2p/<peer id>' };
  const [proto, addr, tcp, portText, p2p, id] = parts;
  if (proto !== 'ip4' && proto !== 'ip6') return { error: `"/${proto}": only /ip4 and /ip6 addresses are dialled (no DNS here)` };
  const ip = normalizeIp(addr);
  if (!ip || (proto === 'ip4') !== !ip.includes(':')) return { error: `"${addr}" is not an ${proto === 'ip4' ? 'IPv4' : 'IPv6'} address` };
  if (tcp !== 'tcp') return { error: `"/${tcp}": only /tcp is dialled` };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return { error: `port "${portText}": 1–65535` };
  const endpoint = { ip, port: Number(portText) };
  if (p2p === undefined) return { endpoint, from: 'multiaddr' };
  if (p2p !== 'p2p' && p2p !== 'ipfs') return { error: `"/${p2p}": only /p2p/<peer id> may follow /tcp` };
  const pid = parsePeerId(id);
  if (!pid.ok) return { error: `peer id "${id.slice(0, 60)}": ${pid.error.message}` };
  return { endpoint, peerId: pid.value, peerIdText: id, from: 'multiaddr' };
}

/** The multiaddr text of an endpoint (and peer id). */
export const multiaddrText = (ep: Endpoint, peerId?: string): string => `/${ep.ip.includes(':') ? 'ip6' : 'ip4'}/${ep.ip}/tcp/${ep.port}${peerId ? `/p2p/${peerId}` : ''}`;

/** Binary multiaddr of ip + tcp (codes 4/41 and 6, ports big-endian): identify's observedAddr. */
export function multiaddrBytes(ep: Endpoint): Uint8Array {
  const v6 = ep.ip.includes(':');
  const ip = ipToBytes(ep.ip) ?? new Uint8Array(v6 ? 16 : 4);
  return Uint8Array.from([v6 ? 0x29 : 0x04, ...ip, 0x06, ep.port >> 8, ep.port & 0xff]);
}

/** Reads the common binary multiaddrs (ip4/ip6, tcp/udp, p2p); others as hex. Never throws. */
export function describeMultiaddrBytes(b: Uint8Array): string {
  let at = 0;
  let out = '';
  const varint = (): number | undefined => {
    const v = peekUvarint(b.subarray(at), 4);
    if (v === undefined || v === -1) return undefined;
    at += v.size;
    return v.value;
  };
  const take = (n: number): Uint8Array | undefined => (at + n <= b.length ? b.subarray(at, (at += n)) : undefined);
  while (at < b.length) {
    const code = varint();
    let part: string | undefined;
    if (code === 0x04) part = mapBytes(take(4), (v) => `/ip4/${bytesToIp(v)}`);
    else if (code === 0x29) part = mapBytes(take(16), (v) => `/ip6/${bytesToIp(v)}`);
    else if (code === 0x06 || code === 0x0111) part = mapBytes(take(2), (p) => `/${code === 0x06 ? 'tcp' : 'udp'}/${(p[0] << 8) | p[1]}`);
    else if (code === 0x01a5) {
      const len = varint();
      part = len === undefined ? undefined : mapBytes(take(len), (v) => `/p2p/${base58.encode(v)}`);
    }
    if (part === undefined) return `0x${toHex(b)}`;
    out += part;
  }
  return out || '(empty)';
}

const mapBytes = (b: Uint8Array | undefined, f: (b: Uint8Array) => string): string | undefined => (b ? f(b) : undefined);

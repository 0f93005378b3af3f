// Which targets a tunnel may reach. The bridge must never become an open proxy into the
// machine's network: private, link-local (169.254.169.254 metadata included), CGNAT,
// unique-local, multicast, broadcast, unspecified and reserved ranges are refused unless
// allowed explicitly; loopback and this machine's own addresses only for registered peers
// (lab peers and the tunnel's own sockets, each for its protocol); public unicast only when
// the mode allows it. IPv4 ranges come from ipaddr.js, IPv6 from ip-ranges.ts.
import ipaddr from 'ipaddr.js';
import { normalizeIp } from '../shared/tunnel/ip.ts';
import { type Endpoint, endpointKey } from '../shared/transport.ts';
import { type Addr, rangeOf } from './ip-ranges.ts';
import type { PeerLookup, Protocol } from './peers.ts';

export type { Protocol };

export interface PortRange {
  from: number;
  to: number;
}

export interface Rule {
  /** The rule as written (for log lines and error messages). */
  text: string;
  net: [Addr, number];
  /** Undefined: every port. */
  ports?: PortRange[];
}

export interface Classified {
  ip: string;
  addr: Addr;
  range: string;
}

const CLASSIFY_CACHE = 4096;

export type Verdict = { ok: true; ip: string } | { ok: false; reason: string };

/**
 * Parses `CIDR[:PORTS]`: `10.0.0.0/8`, `10.1.2.3:30303`, `127.0.0.1/32:9000-9010,30303`,
 * `[fd00::]/8:30303`, `::1` (IPv6 with ports needs brackets). A bare address is a /32 or /128.
 */
export function parseRule(text: string): Rule {
  const t = text.trim();
  let addrPart: string;
  let portPart: string | undefined;
  const bracket = /^\[([^\]]+)\](\/\d{1,3})?(?::(.+))?$/.exec(t);
  if (bracket) {
    addrPart = bracket[1] + (bracket[2] ?? '');
    portPart = bracket[3];
  } else if ((t.match(/:/g) ?? []).length > 1) {
    addrPart = t; // bare IPv6, no ports
  } else {
    const i = t.indexOf(':');
    addrPart = i < 0 ? t : t.slice(0, i);
    portPart = i < 0 ? undefined : t.slice(i + 1);
  }
  const [ipText, prefixText] = addrPart.split('/');
  const ip = normalizeIp(ipText);
  if (!ip) throw new Error(`not an address: ${text}`);
  const addr = ipaddr.parse(ip);
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) throw new Error(`bad prefix length in ${text}`);
  return { text: t, net: [addr, prefix], ports: portPart === undefined ? undefined : parsePorts(portPart, text) };
}

function parsePorts(s: string, text: string): PortRange[] {
  return s.split(',').map((p) => {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(p.trim());
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from < 1 || to > 65535 || to < from) throw new Error(`bad port range "${p}" in ${text}`);
    return { from, to };
  });
}

function matchesAddr(rule: Rule, addr: Addr): boolean {
  return addr.kind() === rule.net[0].kind() && addr.match(rule.net);
}
function matchesPort(rule: Rule, port: number): boolean {
  return !rule.ports || rule.ports.some((r) => port >= r.from && port <= r.to);
}

export interface PolicyConfig {
  allow: Rule[];
  deny: Rule[];
  /** Public unicast targets allowed (local mode by default; workshop mode only with --public). */
  publicTargets: boolean;
  /** For reasons: which flag changes the public verdict. */
  workshop: boolean;
  /** Endpoints refused whatever else says: the bridge's own HTTP port. */
  self: Endpoint[];
  /** This machine's own addresses: refused as targets unless a registered peer or --allow. */
  ownAddress: { has(ip: string): boolean };
}

const NO_PEERS: PeerLookup = { has: () => false, hasIp: () => false };

/**
 * The target check. `peers` is a live registry of endpoints always allowed for their protocol:
 * the lab nodes and the tunnel sockets of every session (so browsers in a workshop reach each
 * other).
 */
export class TargetPolicy {
  constructor(
    readonly config: PolicyConfig,
    private readonly peers: PeerLookup = NO_PEERS,
  ) {}

  /** Classifications by input text: every relayed datagram is checked, few addresses recur. */
  private readonly cache = new Map<string, Classified | null>();

  /** Unmapped, canonical text and the range name ('unicast' means public). */
  classify(ip: string): Classified | undefined {
    let c = this.cache.get(ip);
    if (c === undefined) {
      const n = normalizeIp(ip);
      if (n) {
        const addr = ipaddr.parse(n);
        c = { ip: n, addr, range: rangeOf(addr) };
      } else c = null;
      if (this.cache.size >= CLASSIFY_CACHE) this.cache.clear(); // bounded: a flood of addresses only costs parses
      this.cache.set(ip, c);
    }
    return c ?? undefined;
  }

  /** May the tunnel send to (or hear from) ip:port over `protocol`? */
  check(protocol: Protocol, ip: string, port: number): Verdict {
    const c = this.classify(ip);
    if (!c) return { ok: false, reason: 'not an IP address' };
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: `port ${port}` };
    const addr = c.addr;
    const denied = this.config.deny.find((r) => matchesAddr(r, addr) && matchesPort(r, port));
    if (denied) return { ok: false, reason: `denied by --deny ${denied.text}` };
    if (this.config.self.some((s) => s.port === port && (s.ip === c.ip || (isLocal(c, this.config.ownAddress) && isLoopbackOrAny(s.ip)))))
      return { ok: false, reason: 'the bridge itself' };
    if (this.config.allow.some((r) => matchesAddr(r, addr) && matchesPort(r, port))) return { ok: true, ip: c.ip };
    if (this.peers.has(protocol, endpointKey({ ip: c.ip, port }))) return { ok: true, ip: c.ip };
    return this.byRange(c);
  }

  /**
   * May a peer at `ip` connect to a page's TCP listener? Only where an --allow rule names the
   * address (its port is the peer's ephemeral one, so address rules only) and no --deny does.
   */
  checkInbound(ip: string): Verdict {
    const c = this.classify(ip);
    if (!c) return { ok: false, reason: 'not an IP address' };
    const denied = this.config.deny.find((r) => !r.ports && matchesAddr(r, c.addr));
    if (denied) return { ok: false, reason: `denied by --deny ${denied.text}` };
    if (this.config.allow.some((r) => !r.ports && matchesAddr(r, c.addr))) return { ok: true, ip: c.ip };
    return { ok: false, reason: 'only lab nodes the bridge asked to dial, or --allow-ed addresses, may connect to a page' };
  }

  /** May a DNS answer be handed to the page? Port-specific rules count as "some port allowed". */
  checkAddress(ip: string): Verdict {
    const c = this.classify(ip);
    if (!c) return { ok: false, reason: 'not an IP address' };
    const addr = c.addr;
    const denied = this.config.deny.find((r) => !r.ports && matchesAddr(r, addr));
    if (denied) return { ok: false, reason: `denied by --deny ${denied.text}` };
    if (this.config.allow.some((r) => matchesAddr(r, addr))) return { ok: true, ip: c.ip };
    if (this.peers.hasIp(c.ip)) return { ok: true, ip: c.ip };
    return this.byRange(c);
  }

  private byRange(c: Classified): Verdict {
    if (c.range === 'loopback')
      return { ok: false, reason: 'loopback address: lab peers and tunnel sockets only (--allow opens a port)' };
    if (this.config.ownAddress.has(c.ip)) return { ok: false, reason: "this machine's own address (--allow opens a port)" };
    if (c.range === 'unicast') {
      if (this.config.publicTargets) return { ok: true, ip: c.ip };
      return { ok: false, reason: this.config.workshop ? 'public address (workshop mode: --public allows it)' : 'public address (--no-public)' };
    }
    return { ok: false, reason: `${c.range} address` };
  }
}

const isLocal = (c: Classified, own: { has(ip: string): boolean }) => c.range === 'loopback' || own.has(c.ip);
const isLoopbackOrAny = (ip: string) => ip === '0.0.0.0' || ip === '::' || ip.startsWith('127.') || ip === '::1';

/** Builds the policy config from options (throws a one-line message for a bad rule). */
export function policyConfig(o: {
  allow: string[];
  deny: string[];
  publicTargets: boolean;
  workshop: boolean;
  self?: Endpoint[];
  ownAddress?: { has(ip: string): boolean };
}): PolicyConfig {
  return {
    allow: o.allow.map(parseRule),
    deny: o.deny.map(parseRule),
    publicTargets: o.publicTargets,
    workshop: o.workshop,
    self: o.self ?? [],
    ownAddress: o.ownAddress ?? { has: () => false },
  };
}

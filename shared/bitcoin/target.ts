// What a user types as a Bitcoin peer: a host name or an IP address, with an optional port.
import { normalizeIp } from '../tunnel/ip.ts';

/** "host", "host:port", "[v6]:port", "1.2.3.4" → host and port (the network's default when absent). */
export function parseBitcoinTarget(text: string, defaultPort: number): { host: string; port: number } | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'type a host name or an IP address (optionally :port)' };
  let host = t;
  let port = defaultPort;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  const hp = /^([^:]+):(\d+)$/.exec(t);
  if (v6) {
    host = v6[1];
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (hp) {
    host = hp[1];
    port = Number(hp[2]);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: `port must be 1–65535` };
  if (normalizeIp(host) === undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(host)) return { error: `“${host}” is neither an IP address nor a host name` };
  return { host, port };
}

// The bridge's HTTP(S) server: the built web app, /lab.json and the /tunnel WebSocket.
// Guards, in order: connection caps (server-wide and per client address) and short header and
// request timeouts; the Host header (against DNS rebinding) on every request; on the upgrade
// also the page's own Origin and the per-run token (constant-time compare); then the session
// caps. Anything else gets refused before a WebSocket exists.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { constantTimeEqual, utf8 } from '../shared/bytes.ts';
import { type Endpoint, endpointKey } from '../shared/transport.ts';
import { normalizeIp } from '../shared/tunnel/ip.ts';
import { type BridgeOptions, maxFrameOf, resolveOptions } from './options.ts';
import { TargetPolicy, policyConfig } from './policy.ts';
import { PeerRegistry } from './peers.ts';
import { hostAddresses } from './host-addresses.ts';
import { type Logger, createLogger } from './log.ts';
import { CloseCode, type SessionStats, TunnelSession } from './session.ts';
import { isWildcard } from './node-transport.ts';
import { type LabPing, labPingHandler, serveJsonPost } from './lab-ping.ts';
import { labConnectHandler } from './lab-connect.ts';
import { labPingV4Handler } from './lab-ping-v4.ts';
import type { ExecutionLab } from './lab-execution.ts';
import type { BitcoinLab } from './lab-bitcoin.ts';
import { ExpectedInbound } from './inbound.ts';
import { RoomHub, type RoomRole } from './room/hub.ts';
import { linkPeers } from './room/peer-links.ts';

/** What /lab.json lists for each lab peer. */
import { labEndpoints, type LabPeerInfo } from '../shared/lab.ts';
export type { LabPeerInfo };

export interface BridgeServer {
  /** The URL to open: http(s)://host:port/?token=… */
  readonly url: string;
  /** The page's origin (what the upgrade's Origin header must be). */
  readonly origin: string;
  readonly token: string;
  readonly host: string;
  readonly port: number;
  readonly options: BridgeOptions;
  /** ws(s)://host:port/tunnel?token=… */
  readonly tunnelUrl: string;
  /** The target policy the sessions use (tests ask it directly, without sending anything). */
  readonly policy: TargetPolicy;
  setLab(peers: LabPeerInfo[]): void;
  /** The workshop room (with deps.room): participants, teachers, peer bridges. */
  readonly room: RoomHub | undefined;
  /** The teacher's link (with deps.room). */
  readonly teacherUrl: string | undefined;
  /** Open sessions, their summed counters, and the endpoints currently allowed as peers. */
  stats(): { sessions: number; peers: number; total: SessionStats };
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** The page's rules: own scripts only, connections (WebSocket included) back to this server only, never framed. */
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer', // the URL carries the token
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

const hostPart = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

/** What a refused request is logged as: the route it aimed at, never the path it sent. */
function routeOf(url: URL | undefined): string {
  if (!url) return 'unparsable';
  switch (url.pathname) {
    case '/tunnel':
    case '/lab.json':
    case '/lab/ping':
    case '/lab/ping-v4':
    case '/lab/connect':
      return url.pathname;
    default:
      return 'static';
  }
}

/** Counts per client address (sessions, HTTP connections). */
class PerClient {
  private readonly counts = new Map<string, number>();
  count(client: string): number {
    return this.counts.get(client) ?? 0;
  }
  add(client: string, d: number): void {
    const n = this.count(client) + d;
    if (n <= 0) this.counts.delete(client);
    else this.counts.set(client, n);
  }
}

const clientOf = (socket: { remoteAddress?: string }) => normalizeIp(socket.remoteAddress ?? '') ?? '?';

export interface StartBridgeDeps {
  log?: Logger;
  /** Lab peers to list and to allow as targets (can also be set later with setLab). */
  lab?: LabPeerInfo[];
  /** POST /lab/ping: a lab node pings a page's own tunnel socket (the playground's inbound handshake). */
  labPing?: LabPing;
  /** POST /lab/connect: a Bitcoin lab node dials a page's own TCP listener. */
  bitcoinLab?: BitcoinLab;
  /** POST /lab/connect (RLPx: an execution lab node dials a page's own TCP listener) and /lab/ping-v4 (it pings a page's own discv4 socket). */
  executionLab?: ExecutionLab;
  /** A workshop room on /room, the teacher's page holding this secret. */
  room?: { teacherToken: string };
  /** A page's tunnel socket is gone (its session closed or it closed it): the lab forgets that address. */
  onTunnelSocketGone?: (protocol: 'udp' | 'tcp', e: Endpoint) => void;
}

/** Starts the bridge server; resolves once it listens. */
export async function startBridge(partial: Partial<BridgeOptions> = {}, deps: StartBridgeDeps = {}): Promise<BridgeServer> {
  const options = resolveOptions(partial);
  const log = deps.log ?? createLogger(options.logLevel);
  const token = options.token ?? randomBytes(24).toString('base64url');
  const tokenBytes = utf8(token);
  const maxFrame = maxFrameOf(options);
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined;
  const scheme = tls ? 'https' : 'http';

  // Endpoints always reachable, each for its protocol: lab peers and every open tunnel socket.
  const peers = new PeerRegistry(deps.onTunnelSocketGone);

  const timeouts = {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    // Node checks both only this often (30 s by default): a short timeout needs a short check.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(options.headersTimeoutMs / 4))),
  };
  const server: http.Server = tls
    ? https.createServer({ ...timeouts, ...(await readTls(options.tlsCert!, options.tlsKey!)), handshakeTimeout: options.headersTimeoutMs })
    : http.createServer(timeouts);
  server.maxConnections = options.maxConnections;
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrame, perMessageDeflate: false, clientTracking: false });
  const sessions = new Set<TunnelSession>();
  const sockets = new Set<WebSocket>();
  const socketsGone: (() => void)[] = [];
  let lab: LabPeerInfo[] = [];
  // A lab peer is registered for the transports it serves: discv5 on UDP, Bitcoin on TCP, an
  // execution node on both (discv4 and RLPx).
  const setLab = (list: LabPeerInfo[]) => {
    for (const p of lab.flatMap(labEndpoints)) peers.remove(p.protocol, 'lab', p);
    lab = list;
    for (const p of lab.flatMap(labEndpoints)) peers.add(p.protocol, 'lab', p);
  };
  setLab(deps.lab ?? []);
  // Lab dials the bridge starts towards a page's TCP listener: the only inbound connections a listener takes.
  const inbound = new ExpectedInbound();
  const connectHandler = (deps.bitcoinLab || deps.executionLab) && labConnectHandler({ ...(deps.bitcoinLab ? { bitcoin: deps.bitcoinLab } : {}), ...(deps.executionLab ? { execution: deps.executionLab } : {}) }, inbound, (e: Endpoint) => peers.hasKind('tcp', 'tunnel', e));
  const pingV4Handler = deps.executionLab && labPingV4Handler(deps.executionLab, (e: Endpoint) => peers.hasKind('udp', 'tunnel', e));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  const host = options.host;
  const advertiseIp = options.advertiseIp ?? (isWildcard(host) ? '127.0.0.1' : (normalizeIp(host) ?? '127.0.0.1'));
  const policy = new TargetPolicy(
    policyConfig({ ...options, self: [{ ip: normalizeIp(host) ?? host, port }], ownAddress: hostAddresses() }),
    peers,
  );
  // Tunnel sockets bind the address the page is told (never every interface). A room binds
  // that one address only: no socket of a participant on the host's loopback. Locally also
  // 127.0.0.2: a second loopback source address, for the conformance suite's PingMultiIP.
  const defaultBindIp = options.udpBind ?? advertiseIp;
  const bindIps = new Set([defaultBindIp]);
  if (!options.workshop) for (const ip of [advertiseIp, '127.0.0.1', '127.0.0.2', '::1']) bindIps.add(ip);

  // Host names a page may be reached by (DNS rebinding: any other name is refused).
  const names = new Set(['127.0.0.1', 'localhost', '[::1]', hostPart(host), hostPart(advertiseIp), ...options.allowedHosts]);
  const allowedHosts = new Set([...names].map((n) => `${n}:${port}`.toLowerCase()));
  if (port === 80) for (const n of names) allowedHosts.add(n.toLowerCase());
  const allowedOrigins = new Set([...names].map((n) => `${scheme}://${n}:${port}`.toLowerCase()));
  for (const o of options.allowedOrigins) allowedOrigins.add(o.toLowerCase().replace(/\/$/, ''));
  const pageHost = hostPart(isWildcard(host) ? advertiseIp : host);
  // Behind a reverse proxy the pages know the proxy's address: its Host and Origin are this bridge's too.
  const publicUrl = options.publicUrl ? new URL(options.publicUrl) : undefined;
  if (publicUrl) {
    allowedHosts.add(publicUrl.host.toLowerCase());
    allowedOrigins.add(publicUrl.origin.toLowerCase());
  }
  const origin = publicUrl?.origin ?? `${scheme}://${pageHost}:${port}`;
  const teacherBytes = deps.room && utf8(deps.room.teacherToken);
  const room = deps.room && new RoomHub({ bridge: `${pageHost}:${port}`, teacherToken: deps.room.teacherToken, maxClients: options.maxSessions + 16, log });
  const roomLinks = deps.room && room && linkPeers(room, options.roomPeers, deps.room.teacherToken, log);

  const hostOk = (req: http.IncomingMessage) => allowedHosts.has((req.headers.host ?? '').toLowerCase());
  // The one way to pass the token: the `token` query parameter (docs/tunnel.md).
  const tokenOk = (url: URL) => constantTimeEqual(utf8(url.searchParams.get('token') ?? ''), tokenBytes);
  const originOk = (req: http.IncomingMessage, required: boolean) => {
    const o = req.headers.origin;
    if (o === undefined) return !required;
    return allowedOrigins.has(o.toLowerCase());
  };
  const parseUrl = (req: http.IncomingMessage) => {
    try {
      return new URL(req.url ?? '/', 'http://bridge.invalid');
    } catch {
      return undefined;
    }
  };

  server.on('request', (req, res) => {
    const url = parseUrl(req);
    const deny = (status: number, why: string) => {
      log.info('http-refused', { status, route: routeOf(url), why });
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end(`${status} ${why}\n`);
    };
    if (!hostOk(req)) return deny(403, 'forbidden host');
    if (!url) return deny(400, 'bad request');
    if (url.pathname === '/lab/ping' || url.pathname === '/lab/connect' || url.pathname === '/lab/ping-v4') {
      // Token and the page's own Origin, like the upgrade; the target must be one of this bridge's tunnel sockets.
      if (!tokenOk(url) || !originOk(req, true)) return deny(403, 'forbidden');
      if (url.pathname === '/lab/ping') {
        if (!deps.labPing) return deny(404, 'no lab running');
        return serveJsonPost(req, res, SECURITY_HEADERS, labPingHandler(deps.labPing, (e: Endpoint) => peers.hasKind('udp', 'tunnel', e)));
      }
      if (url.pathname === '/lab/ping-v4') {
        if (!pingV4Handler) return deny(404, 'no execution lab running');
        return serveJsonPost(req, res, SECURITY_HEADERS, pingV4Handler);
      }
      if (!connectHandler) return deny(404, 'no Bitcoin lab running');
      return serveJsonPost(req, res, SECURITY_HEADERS, connectHandler);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(405, 'method not allowed');
    if (url.pathname === '/lab.json') {
      if (!tokenOk(url) || !originOk(req, false)) return deny(403, 'forbidden');
      const body = JSON.stringify({ peers: lab, tunnel: '/tunnel', limits: { maxDatagram: options.maxDatagram }, room: room !== undefined });
      res.writeHead(200, { 'Content-Type': CONTENT_TYPES['.json'], 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    if (url.pathname === '/tunnel' || url.pathname === '/room') return deny(426, 'upgrade required');
    serveStatic(options.distDir, url.pathname, req, res).catch(() => deny(500, 'internal error'));
  });

  const refuseUpgrade = (socket: Duplex, status: number, text: string, why: string) => {
    log.info('upgrade-refused', { status, why });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length + 1}\r\n\r\n${text}\n`);
    socket.destroy();
  };

  // Connections that are not (yet) a WebSocket, per client address: one machine in the room
  // cannot hold every slot with half-sent requests.
  const httpPerClient = new PerClient();
  const sessionsPerClient = new PerClient();
  const countedHttp = new Set<string>();
  const connKey = (s: { remoteAddress?: string; remotePort?: number }) => `${clientOf(s)} ${s.remotePort}`;
  const releaseHttp = (s: { remoteAddress?: string; remotePort?: number }) => {
    if (countedHttp.delete(connKey(s))) httpPerClient.add(clientOf(s), -1);
  };
  function onHttpClose(this: Socket) {
    releaseHttp(this);
  }
  server.on('connection', (socket: Socket) => {
    const client = clientOf(socket);
    if (httpPerClient.count(client) >= options.maxHttpConnectionsPerClient) {
      log.info('connection-refused', { why: 'http connections per client' });
      return void socket.destroy();
    }
    httpPerClient.add(client, 1);
    countedHttp.add(connKey(socket));
    socket.once('close', onHttpClose);
  });

  server.on('upgrade', (req, socket: Socket, head) => {
    socket.on('error', () => {}); // a peer resetting mid-handshake must not crash the bridge
    releaseHttp(socket); // a session now (or refused below), counted as one
    const url = parseUrl(req);
    const client = clientOf(socket);
    if (!hostOk(req)) return refuseUpgrade(socket, 403, 'Forbidden', 'host');
    if (url?.pathname === '/room' && room && teacherBytes) {
      // Participants: the join token, from the page. Teachers: the teacher's secret, from the page. Peer bridges: the secret.
      const role = url.searchParams.get('role') as RoomRole | null;
      const teacherOk = constantTimeEqual(utf8(url.searchParams.get('teacher') ?? ''), teacherBytes);
      const ok = role === 'participant' ? tokenOk(url) && originOk(req, true) : role === 'teacher' ? teacherOk && originOk(req, true) : role === 'peer' && teacherOk;
      if (!ok) return refuseUpgrade(socket, 403, 'Forbidden', 'room');
      return room.upgrade(req, socket, head, role!);
    }
    if (!url || url.pathname !== '/tunnel') return refuseUpgrade(socket, 404, 'Not Found', 'path');
    if (!originOk(req, true)) return refuseUpgrade(socket, 403, 'Forbidden', 'origin');
    if (!tokenOk(url)) return refuseUpgrade(socket, 403, 'Forbidden', 'token');
    if (sessions.size >= options.maxSessions) return refuseUpgrade(socket, 503, 'Service Unavailable', 'session cap');
    if (sessionsPerClient.count(client) >= options.maxSessionsPerClient)
      return refuseUpgrade(socket, 429, 'Too Many Requests', 'session cap per client');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sessionsPerClient.add(client, 1); // counted once a session exists (the handshake completes synchronously)
      sockets.add(ws);
      ws.once('close', () => {
        sockets.delete(ws);
        if (sockets.size === 0) for (const w of socketsGone.splice(0)) w();
      });
      const session = new TunnelSession(
        ws,
        { options, policy, log, peers, advertiseIp, defaultBindIp, bindIps, inbound },
        maxFrame,
        client,
        (s) => {
          sessions.delete(s);
          sessionsPerClient.add(client, -1);
        },
        socket,
      );
      if (!session.isClosed) sessions.add(session);
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());

  // One sweeper for every session's idle timeout and heartbeat: an idle session owns no timer.
  const sweepMs = Math.max(50, Math.min(1000, options.heartbeatMs, Math.floor(options.idleTimeoutMs / 4)));
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const s of sessions) s.tick(now);
  }, sweepMs);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweeper);
      roomLinks?.close();
      room?.close();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of [...sessions]) s.close(CloseCode.goingAway, 'bridge shutting down');
      sessions.clear();
      // Give each page a moment to answer the close frame, then cut what is left.
      if (sockets.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((r) => socketsGone.push(r)),
          new Promise<void>((r) => (timer = setTimeout(r, 500))),
        ]);
        clearTimeout(timer);
        for (const ws of sockets) ws.terminate();
      }
      wss.close();
      await serverClosed;
    })());

  const tunnelUrl = `${tls ? 'wss' : 'ws'}://${pageHost}:${port}/tunnel?token=${token}`;
  log.info('listening', { host, port, tls });
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    host,
    port,
    options,
    tunnelUrl,
    policy,
    setLab,
    room,
    teacherUrl: deps.room && `${origin}/?token=${token}&teacher=${deps.room.teacherToken}`,
    stats() {
      const total: SessionStats = { udpSockets: 0, tcpConnections: 0, dnsInFlight: 0, timers: 0, framesIn: 0, framesOut: 0, refused: 0, dropped: 0, held: 0 };
      for (const s of sessions) {
        const st = s.stats();
        for (const k of Object.keys(total) as (keyof SessionStats)[]) total[k] += st[k];
      }
      return { sessions: sessions.size, peers: peers.size, total };
    },
    close,
  };
}

/** The certificate and key for HTTPS, read once at start. */
async function readTls(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (f: string, what: string) =>
    fs.readFile(f).catch((e: Error & { code?: string }) => {
      throw new Error(`cannot read ${what} ${f}: ${e.code ?? e.message}`);
    });
  return { cert: await read(certFile, '--tls-cert'), key: await read(keyFile, '--tls-key') };
}

/** Serves a file from the vite build; unknown paths without an extension get index.html (SPA). */
async function serveStatic(distDir: string, pathname: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const root = path.resolve(distDir);
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400, SECURITY_HEADERS).end();
    return;
  }
  if (rel.includes('\0')) {
    res.writeHead(400, SECURITY_HEADERS).end();
    return;
  }
  let file = path.resolve(root, '.' + path.posix.normalize('/' + rel));
  if (file !== root && !file.startsWith(root + path.sep)) {
    res.writeHead(403, SECURITY_HEADERS).end();
    return;
  }
  let stat = await fs.stat(file).catch(() => undefined);
  if (stat?.isDirectory()) {
    file = path.join(file, 'index.html');
    stat = await fs.stat(file).catch(() => undefined);
  }
  if (!stat?.isFile() && path.extname(rel) === '') {
    file = path.join(root, 'index.html');
    stat = await fs.stat(file).catch(() => undefined);
  }
  if (!stat?.isFile()) {
    const missing = path.extname(rel) === '' || rel === '/';
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
    res.end(missing ? 'The web app is not built yet: run `npm run build` (npm start does it for you).\n' : 'not found\n');
    return;
  }
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const immutable = file.includes(`${path.sep}assets${path.sep}`); // vite's hashed names
  res.writeHead(200, {
    'Content-Type': type,
    'Content-Length': stat.size,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-store',
    ...SECURITY_HEADERS,
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}

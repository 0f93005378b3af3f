// Every bridge option, its default and its command-line flag, in one place (docs/tunnel.md
// renders the same table). Defaults are the safe ones: loopback only, small quotas, short timeouts.
import { parseArgs } from 'node:util';
import { networkInterfaces } from 'node:os';
import { FRAME_OVERHEAD } from '../shared/tunnel/frames.ts';

export interface BridgeOptions {
  /** Address the HTTP/WebSocket server listens on. */
  host: string;
  /** TCP port of the server; 0 picks a free one. */
  port: number;
  /** Room mode: listen on a LAN address, more sessions, targets limited to the lab and the pages. */
  workshop: boolean;
  /** PEM certificate file: serve HTTPS and WSS (with tlsKey). */
  tlsCert: string | undefined;
  /** PEM private key file of tlsCert. */
  tlsKey: string | undefined;
  /** The per-run secret the page passes on the upgrade; random when undefined. */
  token: string | undefined;
  /** Extra Host header names accepted besides 127.0.0.1, localhost, [::1] and `host`. */
  allowedHosts: string[];
  /** Extra Origins accepted on the upgrade (e.g. the vite dev server). */
  allowedOrigins: string[];
  /** Targets allowed besides the defaults: CIDR[:ports]. */
  allow: string[];
  /** Targets refused even when otherwise allowed: CIDR[:ports]. */
  deny: string[];
  /** Public unicast targets allowed: true in local mode, false with --workshop unless --public. */
  publicTargets: boolean;
  /** Address tunnel UDP sockets bind to when the page does not ask for one; default: the advertised address. */
  udpBind: string | undefined;
  /** Address reported to the page as its socket's address (goes into its ENR); default: host, or 127.0.0.1 for a wildcard host. */
  advertiseIp: string | undefined;
  /** Largest UDP payload relayed, in bytes. */
  maxDatagram: number;
  /** Largest TCP_DATA payload, in bytes. */
  tcpChunk: number;
  maxUdpSockets: number;
  maxTcpConnections: number;
  /** TCP flow-control window per connection and direction, in bytes. */
  tcpWindow: number;
  /** Outgoing packet budget per session (datagrams + connection attempts + lookups), per second; burst = one second. */
  packetsPerSecond: number;
  /** Outgoing byte budget per session (UDP + TCP), per second; burst = one second. */
  bytesPerSecond: number;
  /** Malformed or refused frames tolerated per session per second (burst 2x) before the session is closed. */
  badFramesPerSecond: number;
  /** A session with no frame from the page for this long is closed. */
  idleTimeoutMs: number;
  /** Default (and maximum) TCP connect timeout. */
  tcpConnectTimeoutMs: number;
  /** A TCP connection with no traffic either way for this long is closed ('timed-out'). */
  tcpIdleTimeoutMs: number;
  dnsTimeoutMs: number;
  /** DNS lookups in flight per session. */
  maxDnsInFlight: number;
  /** Sessions open at once, over all browsers. */
  maxSessions: number;
  /** Sessions open at once from one client address. */
  maxSessionsPerClient: number;
  /** HTTP connections (not yet a WebSocket) open at once from one client address. */
  maxHttpConnectionsPerClient: number;
  /** TCP connections the server holds at once (server.maxConnections); default maxSessions + 64 (2 × maxSessions + 64 with --workshop: a page also holds its room channel). */
  maxConnections: number;
  /** A connection that has not sent its request headers within this time is closed. */
  headersTimeoutMs: number;
  /** A request not received in full within this time is closed. */
  requestTimeoutMs: number;
  /** A session held back for its packet budget again and again for this long is closed (4002). */
  overBudgetCloseMs: number;
  /** WebSocket send buffer above which the bridge drops inbound datagrams and pauses TCP reads. */
  maxBufferedBytes: number;
  /** WebSocket ping interval; a session that misses a pong is closed. */
  heartbeatMs: number;
  /** Start the lab of discv5 peers. */
  lab: boolean;
  labSize: number;
  /** Bitcoin (bcoin) lab nodes. */
  bitcoinLabSize: number;
  executionLabSize: number;
  /** js-libp2p (consensus-layer transport) lab nodes. */
  libp2pLabSize: number;
  /** --workshop: where the room's join and teacher tokens persist (default ~/.handshake-lab/room.json). */
  roomState: string | undefined;
  /** --workshop: start a fresh room (new links) instead of the one in the state file. */
  newRoom: boolean;
  /** The room's address when the bridge sits behind a reverse proxy (links, Host and Origin accepted). */
  publicUrl: string | undefined;
  /** Other bridges of the same room (ws:// or http:// base URLs): the teacher sees and leads all of it. */
  roomPeers: string[];
  /** Directory holding the built web app. */
  distDir: string;
  /** Build the web app on start: when stale (auto), always, or never. */
  build: 'auto' | 'always' | 'never';
  logLevel: 'silent' | 'info' | 'debug';
}

export const DEFAULTS: BridgeOptions = {
  host: '127.0.0.1',
  port: 8520,
  workshop: false,
  tlsCert: undefined,
  tlsKey: undefined,
  token: undefined,
  allowedHosts: [],
  allowedOrigins: [],
  allow: [],
  deny: [],
  publicTargets: true,
  udpBind: undefined,
  advertiseIp: undefined,
  maxDatagram: 1280,
  tcpChunk: 16384,
  maxUdpSockets: 4,
  maxTcpConnections: 8,
  tcpWindow: 256 * 1024,
  packetsPerSecond: 1000,
  bytesPerSecond: 8 * 1024 * 1024,
  badFramesPerSecond: 20,
  idleTimeoutMs: 10 * 60_000,
  tcpConnectTimeoutMs: 10_000,
  tcpIdleTimeoutMs: 5 * 60_000,
  dnsTimeoutMs: 5_000,
  maxDnsInFlight: 2,
  maxSessions: 32,
  maxSessionsPerClient: 8,
  // A browser opens up to 6 connections per host and tab group; a few tabs (or a few people behind one NAT) need more than 16.
  maxHttpConnectionsPerClient: 48,
  maxConnections: 32 + 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  overBudgetCloseMs: 10_000,
  maxBufferedBytes: 1024 * 1024,
  heartbeatMs: 30_000,
  lab: true,
  labSize: 16,
  bitcoinLabSize: 2,
  executionLabSize: 4,
  libp2pLabSize: 2,
  roomState: undefined,
  newRoom: false,
  publicUrl: undefined,
  roomPeers: [],
  distDir: 'dist',
  build: 'auto',
  logLevel: 'info',
};

/** Session count in --workshop mode unless --max-sessions says otherwise. */
export const WORKSHOP_MAX_SESSIONS = 200;

/** server.maxConnections beyond the session cap: page loads, /lab.json, upgrades in progress. */
export const CONNECTION_HEADROOM = 64;

/** The WebSocket maxPayload: the largest legitimate frame, nothing more. */
export const maxFrameOf = (o: Pick<BridgeOptions, 'maxDatagram' | 'tcpChunk'>): number =>
  FRAME_OVERHEAD + Math.max(o.maxDatagram, o.tcpChunk);

/** Fills defaults and checks ranges; throws a one-line message for a bad value. */
export function resolveOptions(partial: Partial<BridgeOptions> = {}): BridgeOptions {
  const o: BridgeOptions = { ...DEFAULTS, ...stripUndefined(partial) };
  if (o.workshop && partial.maxSessions === undefined) o.maxSessions = WORKSHOP_MAX_SESSIONS;
  if (partial.publicTargets === undefined) o.publicTargets = !o.workshop; // a room is not an open relay
  // In a room each page holds two connections: its tunnel and its room channel (/room).
  if (partial.maxConnections === undefined) o.maxConnections = (o.workshop ? 2 : 1) * o.maxSessions + CONNECTION_HEADROOM;
  const int = (name: keyof BridgeOptions, min: number, max: number) => {
    const v = o[name] as unknown as number;
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${kebab(name)} must be an integer in ${min}..${max}, got ${v}`);
  };
  int('port', 0, 65535);
  int('maxDatagram', 1, 65507);
  int('tcpChunk', 512, 1 << 20);
  int('maxUdpSockets', 0, 255);
  int('maxTcpConnections', 0, 255);
  int('tcpWindow', 1024, 64 << 20);
  int('packetsPerSecond', 1, 1e7);
  int('bytesPerSecond', 1024, 1e10);
  int('badFramesPerSecond', 1, 1e6);
  int('idleTimeoutMs', 100, 2 ** 31 - 1);
  int('tcpConnectTimeoutMs', 10, 600_000);
  int('tcpIdleTimeoutMs', 10, 2 ** 31 - 1);
  int('dnsTimeoutMs', 10, 600_000);
  int('maxDnsInFlight', 1, 64);
  int('maxSessions', 1, 100_000);
  int('maxSessionsPerClient', 1, 100_000);
  int('maxHttpConnectionsPerClient', 1, 100_000);
  int('maxConnections', o.maxSessions + 1, 1_000_000);
  int('headersTimeoutMs', 100, 600_000);
  int('requestTimeoutMs', o.headersTimeoutMs, 3_600_000);
  int('overBudgetCloseMs', 100, 2 ** 31 - 1);
  int('maxBufferedBytes', 1024, 1 << 30);
  int('heartbeatMs', 100, 2 ** 31 - 1);
  int('labSize', 1, 256);
  int('bitcoinLabSize', 0, 16);
  int('executionLabSize', 0, 16);
  int('libp2pLabSize', 0, 16);
  if (o.token !== undefined && !/^[A-Za-z0-9_-]{16,128}$/.test(o.token))
    throw new Error('--token must be 16..128 characters of [A-Za-z0-9_-]');
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (o.publicUrl !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(o.publicUrl)) throw new Error('--public-url must be http(s)://host[:port]');
  if (!['auto', 'always', 'never'].includes(o.build)) throw new Error('--build must be auto, always or never');
  if (!['silent', 'info', 'debug'].includes(o.logLevel)) throw new Error('--log must be silent, info or debug');
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The command-line flag of an option, where it is not just the kebab-case name. */
const FLAGS: Partial<Record<keyof BridgeOptions, string>> = {
  maxTcpConnections: 'max-tcp',
  packetsPerSecond: 'pps',
  bytesPerSecond: 'bps',
  idleTimeoutMs: 'idle-timeout',
  badFramesPerSecond: 'bad-frames',
  tcpConnectTimeoutMs: 'tcp-connect-timeout',
  tcpIdleTimeoutMs: 'tcp-idle-timeout',
  dnsTimeoutMs: 'dns-timeout',
  maxDnsInFlight: 'max-dns',
  maxBufferedBytes: 'max-buffered',
  heartbeatMs: 'heartbeat',
  maxHttpConnectionsPerClient: 'max-http-per-client',
  headersTimeoutMs: 'headers-timeout',
  requestTimeoutMs: 'request-timeout',
  overBudgetCloseMs: 'over-budget-close',
};
const kebab = (s: string) => FLAGS[s as keyof BridgeOptions] ?? s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The first non-internal IPv4 address of this machine (the workshop's LAN address). */
export function lanAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

export const USAGE = `Usage: npm start -- [options]

  --port N              HTTP/WebSocket port (default ${DEFAULTS.port}; 0 = any free port)
  --host ADDR           listen address (default ${DEFAULTS.host})
  --workshop            listen on this machine's LAN address for a room; join URL carries the token.
                        Targets: lab peers and the room's own sockets only. Over plain HTTP the URL
                        and its token travel in clear text on the LAN: use --tls-cert/--tls-key
  --tls-cert FILE       serve HTTPS/WSS with this PEM certificate (and --tls-key FILE)
  --tls-key FILE        the certificate's PEM private key
  --token T             use this token instead of a random one (dev setups)
  --allow-host NAME     also accept this Host header name (repeatable)
  --allow-origin URL    also accept this Origin on the upgrade, e.g. http://localhost:5173 (repeatable)
  --allow CIDR[:PORTS]  allow targets in CIDR (PORTS: 30303 or 30300-30310,9000) (repeatable)
  --deny CIDR[:PORTS]   refuse targets in CIDR (repeatable; wins over --allow)
  --public              allow public addresses in --workshop mode (risk: the room gets an open
                        relay to the internet from this machine's address)
  --no-public           refuse public addresses (local mode allows them by default)
  --udp-bind ADDR       address tunnel UDP sockets bind to (default: the advertised address)
  --advertise ADDR      address a page's socket reports as its own (default: host)
  --max-datagram N      largest UDP payload (default ${DEFAULTS.maxDatagram})
  --max-udp-sockets N   per session (default ${DEFAULTS.maxUdpSockets})
  --max-tcp N           TCP connections per session (default ${DEFAULTS.maxTcpConnections})
  --tcp-window N        TCP flow-control window in bytes (default ${DEFAULTS.tcpWindow})
  --pps N               outgoing packets per second per session (default ${DEFAULTS.packetsPerSecond})
  --bps N               outgoing bytes per second per session (default ${DEFAULTS.bytesPerSecond})
  --idle-timeout MS     close a session silent this long (default ${DEFAULTS.idleTimeoutMs})
  --bad-frames N        bad frames tolerated per second per session (default ${DEFAULTS.badFramesPerSecond})
  --tcp-chunk N         largest TCP_DATA payload (default ${DEFAULTS.tcpChunk})
  --tcp-connect-timeout MS    default and maximum (default ${DEFAULTS.tcpConnectTimeoutMs})
  --tcp-idle-timeout MS       close a silent TCP connection (default ${DEFAULTS.tcpIdleTimeoutMs})
  --dns-timeout MS      (default ${DEFAULTS.dnsTimeoutMs})
  --max-dns N           lookups in flight per session (default ${DEFAULTS.maxDnsInFlight})
  --max-buffered N      WebSocket send buffer high-water mark in bytes (default ${DEFAULTS.maxBufferedBytes})
  --heartbeat MS        WebSocket ping interval (default ${DEFAULTS.heartbeatMs})
  --max-sessions N      sessions at once (default ${DEFAULTS.maxSessions}; ${WORKSHOP_MAX_SESSIONS} with --workshop)
  --max-sessions-per-client N   sessions from one client address (default ${DEFAULTS.maxSessionsPerClient})
  --max-http-per-client N       HTTP connections from one client address (default ${DEFAULTS.maxHttpConnectionsPerClient})
  --max-connections N   TCP connections the server holds (default: max-sessions + ${CONNECTION_HEADROOM};
                        2 × max-sessions + ${CONNECTION_HEADROOM} with --workshop: each page's room channel)
  --headers-timeout MS  close a connection whose request headers are not in (default ${DEFAULTS.headersTimeoutMs})
  --request-timeout MS  close a connection whose request is not in (default ${DEFAULTS.requestTimeoutMs})
  --over-budget-close MS      close a session held back for its budget this long (default ${DEFAULTS.overBudgetCloseMs})
  --room-state FILE     --workshop: the room's tokens persist here, so the links survive a restart
                        (default ~/.handshake-lab/room.json; bridges behind one proxy share it)
  --new-room            --workshop: a fresh room (new join and teacher links) in the state file
  --public-url URL      the room's address behind a reverse proxy, e.g. https://room.lan (docs/workshop.md)
  --room-peer URL       another bridge of the same room, e.g. ws://10.0.0.2:8520 (repeatable)
  --no-lab              do not start the lab (discv5 and Bitcoin peers)
  --lab-size N          discv5 lab nodes (default ${DEFAULTS.labSize})
  --bitcoin-lab-size N  Bitcoin lab nodes, bcoin regtest in memory (default ${DEFAULTS.bitcoinLabSize}; 0: none)
  --execution-lab-size N  execution-layer lab nodes, ethereumjs discv4 + RLPx eth/68 (default ${DEFAULTS.executionLabSize}; 0: none)
  --libp2p-lab-size N   js-libp2p lab nodes, each also in the discv5 lab (default ${DEFAULTS.libp2pLabSize}; 0: none)
  --dist DIR            the built web app (default ${DEFAULTS.distDir})
  --build auto|always|never   build the web app when stale (default auto)
  --log silent|info|debug
  -h, --help
`;

/** Parses `npm start -- …` arguments. Throws a one-line message on a bad flag. */
export function parseArgv(argv: string[]): { options: BridgeOptions; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      workshop: { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      public: { type: 'boolean' },
      token: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      'allow-origin': { type: 'string', multiple: true },
      allow: { type: 'string', multiple: true },
      deny: { type: 'string', multiple: true },
      'no-public': { type: 'boolean' },
      'udp-bind': { type: 'string' },
      advertise: { type: 'string' },
      'max-datagram': { type: 'string' },
      'max-udp-sockets': { type: 'string' },
      'max-tcp': { type: 'string' },
      'tcp-window': { type: 'string' },
      pps: { type: 'string' },
      bps: { type: 'string' },
      'idle-timeout': { type: 'string' },
      'bad-frames': { type: 'string' },
      'tcp-chunk': { type: 'string' },
      'tcp-connect-timeout': { type: 'string' },
      'tcp-idle-timeout': { type: 'string' },
      'dns-timeout': { type: 'string' },
      'max-dns': { type: 'string' },
      'max-buffered': { type: 'string' },
      heartbeat: { type: 'string' },
      dist: { type: 'string' },
      'room-state': { type: 'string' },
      'new-room': { type: 'boolean' },
      'public-url': { type: 'string' },
      'room-peer': { type: 'string', multiple: true },
      'max-sessions': { type: 'string' },
      'max-sessions-per-client': { type: 'string' },
      'max-http-per-client': { type: 'string' },
      'max-connections': { type: 'string' },
      'headers-timeout': { type: 'string' },
      'request-timeout': { type: 'string' },
      'over-budget-close': { type: 'string' },
      'no-lab': { type: 'boolean' },
      'lab-size': { type: 'string' },
      'bitcoin-lab-size': { type: 'string' },
      'execution-lab-size': { type: 'string' },
      'libp2p-lab-size': { type: 'string' },
      build: { type: 'string' },
      log: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new Error(`--${flag} expects a number, got ${v}`);
    return Number(v);
  };
  const workshop = values.workshop ?? false;
  if (values.public && values['no-public']) throw new Error('--public and --no-public contradict each other');
  const publicTargets = values.public ? true : values['no-public'] ? false : undefined;
  let host = values.host;
  if (workshop && host === undefined) {
    host = lanAddress();
    if (!host) throw new Error('--workshop: no LAN address found; pass --host ADDR');
  }
  const options = resolveOptions({
    host,
    port: num('port', values.port),
    workshop,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    token: values.token,
    allowedHosts: values['allow-host'] ?? [],
    allowedOrigins: values['allow-origin'] ?? [],
    allow: values.allow ?? [],
    deny: values.deny ?? [],
    publicTargets,
    udpBind: values['udp-bind'],
    advertiseIp: values.advertise,
    maxDatagram: num('max-datagram', values['max-datagram']),
    maxUdpSockets: num('max-udp-sockets', values['max-udp-sockets']),
    maxTcpConnections: num('max-tcp', values['max-tcp']),
    tcpWindow: num('tcp-window', values['tcp-window']),
    packetsPerSecond: num('pps', values.pps),
    bytesPerSecond: num('bps', values.bps),
    idleTimeoutMs: num('idle-timeout', values['idle-timeout']),
    badFramesPerSecond: num('bad-frames', values['bad-frames']),
    tcpChunk: num('tcp-chunk', values['tcp-chunk']),
    tcpConnectTimeoutMs: num('tcp-connect-timeout', values['tcp-connect-timeout']),
    tcpIdleTimeoutMs: num('tcp-idle-timeout', values['tcp-idle-timeout']),
    dnsTimeoutMs: num('dns-timeout', values['dns-timeout']),
    maxDnsInFlight: num('max-dns', values['max-dns']),
    maxBufferedBytes: num('max-buffered', values['max-buffered']),
    heartbeatMs: num('heartbeat', values.heartbeat),
    distDir: values.dist,
    roomState: values['room-state'],
    newRoom: values['new-room'] ?? false,
    publicUrl: values['public-url'],
    roomPeers: values['room-peer'] ?? [],
    maxSessions: num('max-sessions', values['max-sessions']),
    maxSessionsPerClient: num('max-sessions-per-client', values['max-sessions-per-client']),
    maxHttpConnectionsPerClient: num('max-http-per-client', values['max-http-per-client']),
    maxConnections: num('max-connections', values['max-connections']),
    headersTimeoutMs: num('headers-timeout', values['headers-timeout']),
    requestTimeoutMs: num('request-timeout', values['request-timeout']),
    overBudgetCloseMs: num('over-budget-close', values['over-budget-close']),
    lab: !(values['no-lab'] ?? false),
    labSize: num('lab-size', values['lab-size']),
    bitcoinLabSize: num('bitcoin-lab-size', values['bitcoin-lab-size']),
    executionLabSize: num('execution-lab-size', values['execution-lab-size']),
    libp2pLabSize: num('libp2p-lab-size', values['libp2p-lab-size']),
    build: values.build as BridgeOptions['build'] | undefined,
    logLevel: values.log as BridgeOptions['logLevel'] | undefined,
  });
  return { options, help: values.help ?? false };
}

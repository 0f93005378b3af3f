// Loads bcoin 1.0.2 in its pure-JavaScript form, for the lab, the interop tests and the bench.
// Its native add-ons are not built (.npmrc ignore-scripts: leveldown fails to compile on Node
// 20): NODE_BACKEND=js picks the JS versions of its crypto and hashes, and nodes run with
// `memory: true`, so leveldown is never used; bdb still requires it at load, so it gets a stub.
import { createRequire, Module } from 'node:module';
import net from 'node:net';

export interface BcoinNode {
  network: unknown;
  pool: {
    options: unknown;
    server: { address(): { address: string; port: number } };
    peers: { size(): number; head(): unknown };
    nonces: { remove(hostname: string): void };
  };
  open(): Promise<void>;
  connect(): Promise<void>;
  close(): Promise<void>;
}

export interface BcoinPeer {
  handshake: boolean;
  hostname(): string;
  version: number;
  agent: string;
  destroy(): void;
  open(): Promise<void>;
  once(event: string, handler: (...args: unknown[]) => void): void;
  on(event: string, handler: (...args: unknown[]) => void): void;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Bcoin = any;

let loaded: Bcoin | undefined;

export function loadBcoin(): Bcoin {
  if (loaded) return loaded;
  process.env.NODE_BACKEND = 'js';
  const require = createRequire(import.meta.url);
  const levelPath = require.resolve('leveldown');
  if (!require.cache[levelPath]) {
    const stub = new Module(levelPath);
    stub.filename = levelPath;
    stub.loaded = true;
    stub.exports = () => {
      throw new Error('leveldown is not built: bcoin runs in memory here');
    };
    require.cache[levelPath] = stub;
  }
  loaded = require('bcoin');
  return loaded;
}

/** A port free on `host` right now (bcoin needs a real port number, not 0). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A regtest (or other network) full node in memory, listening on host:port (default: a free port). */
export async function startBcoinNode(options: { host?: string; port?: number; network?: string; maxInbound?: number } = {}): Promise<BcoinNode> {
  const bcoin = loadBcoin();
  const host = options.host ?? '127.0.0.1';
  const node = new bcoin.FullNode({
    // Its HTTP API is not used; it still listens, on loopback and a free port.
    httpHost: '127.0.0.1',
    httpPort: await freePort(),
    network: options.network ?? 'regtest',
    memory: true,
    listen: true,
    host,
    port: options.port ?? (await freePort(host)),
    publicHost: host,
    logLevel: 'none',
    workers: false,
    selfish: false,
    noDiscovery: true,
    nodes: [],
    only: [],
    // bcoin's default is 8 inbound peers: a lab node serves a whole room.
    ...(options.maxInbound ? { maxInbound: options.maxInbound } : {}),
  }) as BcoinNode;
  await node.open();
  await node.connect();
  return node;
}

/** bcoin dialling a peer with its own Peer class: resolves once version/verack are done. */
export async function bcoinDial(node: BcoinNode, host: string, port: number): Promise<BcoinPeer> {
  const bcoin = loadBcoin();
  const addr = bcoin.net.NetAddress.fromHostname(`${host.includes(':') ? `[${host}]` : host}:${port}`, node.network);
  const peer = bcoin.net.Peer.fromOutbound(node.pool.options, addr) as BcoinPeer;
  // The pool frees a peer's version nonce when the peer closes; a peer made outside the pool
  // must do it itself, or the next dial to the same host fails bcoin's one-nonce-per-host check.
  peer.once('close', () => node.pool.nonces.remove(peer.hostname()));
  // A peer made outside the pool has no one listening for its errors: a hang-up after the
  // handshake must not become an uncaught 'error' event (open() still rejects on failure).
  peer.on('error', () => undefined);
  await peer.open();
  return peer;
}

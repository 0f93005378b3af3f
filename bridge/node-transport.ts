// The transports of shared/transport.ts over Node's own sockets (dgram, net, dns), for the
// CLI, the tests and the benchmark. The browser gets the same interfaces from the tunnel.
import dgram from 'node:dgram';
import net from 'node:net';
import dns from 'node:dns';
import type {
  DatagramSocket,
  DatagramTransport,
  Endpoint,
  Resolver,
  StreamConnection,
  StreamEndReason,
  StreamListener,
  StreamTransport,
} from '../shared/transport.ts';
import { normalizeIp } from '../shared/tunnel/ip.ts';

/** Strips `::ffff:` from an IPv4-mapped address, as every Endpoint must be. */
export function unmap(ip: string): string {
  return normalizeIp(ip) ?? ip;
}

export const isWildcard = (ip: string): boolean => ip === '0.0.0.0' || ip === '::';

/** How a dual-stack (udp6/tcp6) socket names an IPv4 destination. */
export function socketAddress(ip: string, family: 4 | 6): string {
  return family === 6 && !ip.includes(':') ? `::ffff:${ip}` : ip;
}

/** Why a socket ended, from the error that ended it (none: a clean close). */
export function closeReasonOf(error: (Error & { code?: string }) | undefined): StreamEndReason {
  switch (error?.code) {
    case undefined:
      return error ? 'error' : 'closed';
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timed-out';
    default:
      return 'error';
  }
}

function literalLookup(address: string, family: number, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, family);
}

/** Binds a UDP socket, resolving once bound; rejects (never throws an 'error' event) on failure. */
export function bindUdp(ip: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const family = ip.includes(':') ? 'udp6' : 'udp4';
    // Targets are always IP literals: an identity lookup sends each datagram inside send(), not a
    // tick later through dns.lookup, so work done right after send() never delays the packet.
    const socket = dgram.createSocket({ type: family, ipv6Only: false, lookup: literalLookup as never });
    const onError = (e: Error) => {
      socket.close();
      reject(e);
    };
    socket.once('error', onError);
    socket.bind(port, ip, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

class NodeDatagramSocket implements DatagramSocket {
  private readonly errorHandlers: ((e: Error) => void)[] = [];
  private readonly family: 4 | 6;
  private closed = false;
  constructor(
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
  ) {
    this.family = socket.address().family === 'IPv6' ? 6 : 4;
    socket.on('error', (e) => this.errorHandlers.forEach((h) => h(e)));
  }
  send(bytes: Uint8Array, to: Endpoint): void {
    if (this.closed) return this.errorHandlers.forEach((h) => h(new Error('socket closed')));
    this.socket.send(bytes, to.port, socketAddress(to.ip, this.family));
  }
  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void {
    this.socket.on('message', (msg, rinfo) =>
      handler(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { ip: unmap(rinfo.address), port: rinfo.port }),
    );
  }
  onError(handler: (error: Error) => void): void {
    this.errorHandlers.push(handler);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}

/**
 * UDP over dgram. Default bind: 127.0.0.1 (tests, the lab). A wildcard bind reports the
 * loopback address as `local`, the one address a wildcard socket is surely reachable on.
 */
export const nodeDatagramTransport: DatagramTransport = {
  async openDatagram(options = {}) {
    const ip = options.ip ?? '127.0.0.1';
    const socket = await bindUdp(ip, options.port ?? 0);
    const port = socket.address().port;
    const localIp = isWildcard(ip) ? (ip === '::' ? '::1' : '127.0.0.1') : unmap(ip);
    return new NodeDatagramSocket(socket, { ip: localIp, port });
  },
};

class NodeStream implements StreamConnection {
  private error: (Error & { code?: string }) | undefined;
  private reason: StreamEndReason | undefined;
  constructor(
    private readonly socket: net.Socket,
    readonly remote: Endpoint,
  ) {
    socket.on('error', (e) => (this.error ??= e));
  }
  write(bytes: Uint8Array): boolean {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    return this.socket.write(bytes);
  }
  onData(handler: (bytes: Uint8Array) => void): void {
    this.socket.on('data', (b: Buffer) => handler(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
  }
  onDrain(handler: () => void): void {
    this.socket.on('drain', handler);
  }
  onEnd(handler: () => void): void {
    if (this.socket.readableEnded) handler();
    else this.socket.once('end', handler);
  }
  onClose(handler: (reason: StreamEndReason, detail?: string) => void): void {
    const fire = () => handler(this.reason ?? closeReasonOf(this.error), this.error?.code);
    if (this.socket.closed) fire();
    else this.socket.once('close', fire);
  }
  end(): void {
    this.socket.end();
  }
  close(): void {
    this.reason ??= 'closed';
    this.socket.destroy();
  }
}

/** TCP over net, half-open allowed (end() is a real half-close). */
export const nodeStreamTransport: StreamTransport = {
  connect(to, options = {}) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: to.ip, port: to.port, allowHalfOpen: true, noDelay: true });
      // Node holds writes until the connection is up, then sends them first.
      if (options.initialData?.length) socket.write(options.initialData);
      const timeoutMs = options.timeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`connect to ${to.ip}:${to.port} timed out`), { reason: 'timed-out' }));
      }, timeoutMs);
      socket.once('error', (e: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(Object.assign(e, { reason: closeReasonOf(e) }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new NodeStream(socket, { ip: unmap(to.ip), port: to.port }));
      });
    });
  },
};

/** A and AAAA addresses through the system resolver (hosts file included), unmapped. */
export const nodeResolver: Resolver = {
  async resolve(name) {
    const answers = await dns.promises.lookup(name, { all: true, verbatim: true });
    return [...new Set(answers.map((a) => unmap(a.address)))];
  },
};

/** A TCP listener over net (the CLI's and tests' recipient role); connections are half-open capable. */
export function listenTcp(ip: string, port: number): Promise<StreamListener> {
  return new Promise((resolve, reject) => {
    const handlers: ((c: StreamConnection) => void)[] = [];
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      const remote = { ip: unmap(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
      const conn = new NodeStream(socket, remote);
      if (handlers.length === 0) socket.destroy();
      for (const h of handlers) h(conn);
    });
    server.once('error', reject);
    server.listen({ host: ip, port }, () => {
      server.removeListener('error', reject);
      const a = server.address() as net.AddressInfo;
      const localIp = isWildcard(ip) ? (ip === '::' ? '::1' : '127.0.0.1') : unmap(a.address);
      resolve({
        local: { ip: localIp, port: a.port },
        onConnection: (h) => handlers.push(h),
        close: () => server.close(),
      });
    });
  });
}

// The interfaces engines are driven through. Node (dgram/net) and the browser (the bridge
// tunnel) each implement them; nothing in shared/ knows which one it runs on.

export interface Endpoint {
  /** IPv4 dotted quad or IPv6 text (unmapped: never "::ffff:1.2.3.4"). */
  ip: string;
  port: number;
}

export const endpointKey = (e: Endpoint): string => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

/** endpointKey read back: "1.2.3.4:30303" or "[::1]:30303"; undefined for anything else. */
export function parseEndpointKey(s: string): Endpoint | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([0-9.]+):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  return m && port <= 65535 ? { ip: m[1], port } : undefined;
}

export interface DatagramSocket {
  /** The address the socket is bound to, as peers should reach it. */
  readonly local: Endpoint;
  send(bytes: Uint8Array, to: Endpoint): void;
  onMessage(handler: (bytes: Uint8Array, from: Endpoint) => void): void;
  /** Errors that do not close the socket (a refused target, a policy refusal). */
  onError(handler: (error: Error) => void): void;
  close(): void;
}

export interface DatagramTransport {
  /** Binds a UDP socket; port 0 (default) asks for an ephemeral one. */
  openDatagram(options?: { ip?: string; port?: number }): Promise<DatagramSocket>;
}

/** Why a stream ended: the UI shows it. */
export type StreamEndReason = 'closed' | 'refused' | 'reset' | 'timed-out' | 'policy' | 'error';

export interface StreamConnection {
  readonly remote: Endpoint;
  /** Queues bytes; false means "buffer full, wait for onDrain" (backpressure). */
  write(bytes: Uint8Array): boolean;
  onData(handler: (bytes: Uint8Array) => void): void;
  onDrain(handler: () => void): void;
  /** The peer half-closed: no more data will arrive (we may still write). */
  onEnd(handler: () => void): void;
  /** Called once, when the connection is fully closed. */
  onClose(handler: (reason: StreamEndReason, detail?: string) => void): void;
  /** Half-close: no more writes from us; reading goes on. */
  end(): void;
  close(): void;
}

export interface StreamTransport {
  /**
   * initialData: bytes to send as soon as the connection is up, without waiting for the caller
   * to hear that it is (the protocol's first message from the side that connects: one round trip
   * less through a tunnel). Counts against the connection's flow-control window.
   */
  connect(to: Endpoint, options?: { timeoutMs?: number; initialData?: Uint8Array }): Promise<StreamConnection>;
}

/** A listening TCP socket (the recipient role): each peer that dials in is handed over. */
export interface StreamListener {
  readonly local: Endpoint;
  onConnection(handler: (conn: StreamConnection) => void): void;
  close(): void;
}

export interface Resolver {
  /** A and AAAA addresses of a DNS name. */
  resolve(name: string): Promise<string[]>;
}

// The tunnel end to end, with the Node-side TunnelClient over a real `ws` WebSocket and real
// loopback peers: UDP round trips, a 10 MB TCP transfer with backpressure, every close reason,
// DNS, and what the bridge refuses (policy, oversize, quotas, floods). Loopback targets other
// than lab peers need --allow, so the bridges here open 127.0.0.1 and ::1 (LOOPBACK_ALLOWED).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatagramSocket, Endpoint, StreamConnection, StreamEndReason } from '../shared/transport.ts';
import { TunnelError, type TunnelClient } from '../shared/tunnel/client.ts';
import { FrameType, TunnelErrorCode } from '../shared/tunnel/frames.ts';
import { nodeDatagramTransport } from '../bridge/node-transport.ts';
import { type BridgeHarness, freeTcpPort, startBridgeHarness, tcpServer, udpEcho, until } from './helpers/bridge-harness.ts';
import { prng } from './helpers/prng.ts';

/** Sends one datagram and waits for the next one back. */
function roundTrip(sock: DatagramSocket, to: Endpoint, payload: Uint8Array, timeoutMs = 2000): Promise<{ bytes: Uint8Array; from: Endpoint }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no echo')), timeoutMs);
    waiting.set(sock, (bytes, from) => {
      clearTimeout(t);
      resolve({ bytes: bytes.slice(), from });
    });
    sock.send(payload, to);
  });
}
const waiting = new Map<DatagramSocket, (b: Uint8Array, from: Endpoint) => void>();
const listen = (sock: DatagramSocket) =>
  sock.onMessage((b, from) => {
    const w = waiting.get(sock);
    waiting.delete(sock);
    w?.(b, from);
  });

const LOOPBACK_ALLOWED = ['127.0.0.1', '::1'];

const nextError = (sock: DatagramSocket) => new Promise<TunnelError>((resolve) => sock.onError((e) => resolve(e as TunnelError)));

describe('tunnel: UDP', () => {
  let h: BridgeHarness;
  let echo: Awaited<ReturnType<typeof udpEcho>>;
  let echo6: Awaited<ReturnType<typeof udpEcho>>;
  let denied: Awaited<ReturnType<typeof udpEcho>>;
  let client: TunnelClient;

  beforeAll(async () => {
    echo = await udpEcho('127.0.0.1');
    echo6 = await udpEcho('::1');
    denied = await udpEcho('127.0.0.1');
    h = await startBridgeHarness({ options: { deny: [`127.0.0.1:${denied.port}`], allow: LOOPBACK_ALLOWED } });
    client = await openedClient(h);
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
    await Promise.all([echo?.close(), echo6?.close(), denied?.close()]);
  });

  it('HELLO carries the session limits', () => {
    expect(client.limits).toEqual({ maxDatagram: 1280, maxUdpSockets: 4, maxTcpConnections: 8, window: 262144, maxFrame: 16411 });
  });

  it('round-trips datagrams with a real UDP echo (IPv4 and IPv6), source address included', async () => {
    const sock = await client.openDatagram();
    listen(sock);
    expect(sock.local.ip).toBe('127.0.0.1'); // what a browser node puts in its ENR
    expect(sock.local.port).toBeGreaterThan(0);
    for (const size of [0, 1, 100, 1280]) {
      const payload = prng(size).bytes(size);
      const back = await roundTrip(sock, { ip: '127.0.0.1', port: echo.port }, payload);
      expect(back.bytes).toEqual(payload);
      expect(back.from).toEqual({ ip: '127.0.0.1', port: echo.port });
    }
    // The socket is bound to the advertised IPv4 address: IPv6 needs a socket bound to ::1.
    const sock6 = await client.openDatagram({ ip: '::1' });
    listen(sock6);
    expect(sock6.local.ip).toBe('::1');
    const back6 = await roundTrip(sock6, { ip: '::1', port: echo6.port }, Uint8Array.of(6));
    expect(back6.from).toEqual({ ip: '::1', port: echo6.port });
    sock6.close();
    // ::ffff:-mapped targets are unmapped, and replies come from the plain IPv4 address.
    const mapped = await roundTrip(sock, { ip: '::ffff:127.0.0.1', port: echo.port }, Uint8Array.of(4));
    expect(mapped.from).toEqual({ ip: '127.0.0.1', port: echo.port });
    sock.close();
  });

  it('is reachable inbound at its bound address (a peer writing first)', async () => {
    const sock = await client.openDatagram();
    const got = new Promise<{ b: Uint8Array; from: Endpoint }>((resolve) => sock.onMessage((b, from) => resolve({ b: b.slice(), from })));
    const peer = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1' });
    peer.send(Uint8Array.of(1, 2, 3), sock.local);
    const { b, from } = await got;
    expect(b).toEqual(Uint8Array.of(1, 2, 3));
    expect(from).toEqual(peer.local);
    peer.close();
    sock.close();
  });

  it('a --deny-ed loopback port gets an error frame and nothing is sent', async () => {
    const sock = await client.openDatagram();
    listen(sock);
    const err = nextError(sock);
    sock.send(Uint8Array.of(9), { ip: '127.0.0.1', port: denied.port });
    const e = await err;
    expect(e.code).toBe('policy');
    expect(e.message).toContain('denied by --deny');
    // Frames are handled in order: once a later datagram has made its round trip, the
    // refused one would have arrived too, had it been sent.
    await roundTrip(sock, { ip: '127.0.0.1', port: echo.port }, Uint8Array.of(1));
    expect(denied.received).toBe(0);
    sock.close();
  });

  it('refuses private and metadata targets without sending', async () => {
    const sock = await client.openDatagram();
    for (const ip of ['10.0.0.1', '169.254.169.254', '192.168.0.1', 'fd00::1', '::ffff:10.0.0.1']) {
      const err = nextError(sock);
      sock.send(Uint8Array.of(1), { ip, port: 30303 });
      expect((await err).code).toBe('policy');
    }
    sock.close();
  });

  it('binds a requested port', async () => {
    const free = await nodeDatagramTransport.openDatagram();
    const port = free.local.port;
    free.close();
    const s = await client.openDatagram({ port });
    expect(s.local).toEqual({ ip: '127.0.0.1', port });
    await expect(client.openDatagram({ port })).rejects.toMatchObject({ code: 'bind-failed' }); // taken now
    s.close();
  });

  it('refuses a fifth socket and privileged or foreign bind addresses', async () => {
    const socks = await Promise.all([1, 2, 3, 4].map(() => client.openDatagram()));
    await expect(client.openDatagram()).rejects.toMatchObject({ code: 'quota' });
    for (const s of socks) s.close();
    await expect(client.openDatagram({ port: 80 })).rejects.toMatchObject({ code: 'policy' });
    await expect(client.openDatagram({ ip: '8.8.8.8' })).rejects.toMatchObject({ code: 'policy' });
    const s = await client.openDatagram({ ip: '127.0.0.1' });
    expect(s.local.ip).toBe('127.0.0.1');
    s.close();
  });

  it('refuses an oversize datagram with too-large, and the session goes on', async () => {
    const raw = await h.openRaw();
    raw.send({ type: 'udp-open', id: 1, ip: '', port: 0 });
    await raw.next((f) => f.type === 'udp-opened');
    raw.send({ type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: echo.port }, payload: new Uint8Array(1281) });
    const e = await raw.next((f) => f.type === 'error');
    expect(e).toMatchObject({ type: 'error', id: 1, refType: FrameType.UDP_SEND, code: TunnelErrorCode['too-large'] });
    raw.send({ type: 'udp-send', id: 1, peer: { ip: '127.0.0.1', port: echo.port }, payload: new Uint8Array(1280) });
    const back = await raw.next((f) => f.type === 'udp-recv');
    expect(back.type === 'udp-recv' && back.payload.length).toBe(1280);
    raw.close();
  });

  it('closes a session that sends a frame over maxPayload (1009); the next session works', async () => {
    const raw = await h.openRaw();
    raw.send({ type: 'tcp-data', id: 1, payload: new Uint8Array(client.limits.maxFrame) });
    expect((await raw.waitClosed()).code).toBe(1009);
    const fresh = await openedClient(h);
    const sock = await fresh.openDatagram();
    listen(sock);
    await roundTrip(sock, { ip: '127.0.0.1', port: echo.port }, Uint8Array.of(5));
    fresh.close();
  });

  it('answers bad frames with error codes, and closes on text, bad versions or too many bad frames', async () => {
    const raw = await h.openRaw();
    raw.send(Uint8Array.of(1, 0x77, 0, 5));
    expect(await raw.next((f) => f.type === 'error')).toMatchObject({ id: 5, refType: 0x77, code: TunnelErrorCode['unknown-type'] });
    raw.send(Uint8Array.of(1, 0x12, 0, 1, 0));
    expect(await raw.next((f) => f.type === 'error')).toMatchObject({ id: 1, code: TunnelErrorCode.malformed });
    raw.send({ type: 'udp-recv', id: 1, peer: { ip: '127.0.0.1', port: 1 }, payload: new Uint8Array(0) });
    expect(await raw.next((f) => f.type === 'error')).toMatchObject({ code: TunnelErrorCode.unexpected });
    raw.send({ type: 'udp-send', id: 42, peer: { ip: '127.0.0.1', port: 1 }, payload: new Uint8Array(0) });
    expect(await raw.next((f) => f.type === 'error')).toMatchObject({ id: 42, code: TunnelErrorCode.unexpected });
    raw.send(Uint8Array.of(2, 0x12, 0, 1));
    expect(await raw.waitClosed()).toMatchObject({ code: 4000 });

    const text = await h.openRaw();
    text.ws.send('hello');
    expect((await text.waitClosed()).code).toBe(1003);

    const flood = await h.openRaw();
    for (let i = 0; i < 100; i++) flood.send(Uint8Array.of(1, 0x77, 0, 1));
    expect(await flood.waitClosed()).toMatchObject({ code: 1008, reason: 'too many bad frames' });
  });
});

describe('tunnel: TCP', () => {
  let h: BridgeHarness;
  let client: TunnelClient;
  beforeAll(async () => {
    h = await startBridgeHarness({ options: { allow: LOOPBACK_ALLOWED } });
    client = await openedClient(h);
  });
  afterAll(async () => {
    client?.close();
    await h?.close();
  });

  it('moves 10 MB each way with split writes and backpressure, byte for byte', async () => {
    const SIZE = 10 * 1024 * 1024;
    const g = prng(10);
    const data = g.bytes(SIZE);
    const want = createHash('sha256').update(data).digest('hex');
    // The server reads slowly at first (pauses), hashes what it gets, then sends it all back.
    const server = await tcpServer((s) => {
      const hash = createHash('sha256');
      let got = 0;
      s.pause();
      setTimeout(() => s.resume(), 200);
      s.on('data', (b) => {
        hash.update(b);
        got += b.length;
      });
      s.on('end', () => {
        expect(got).toBe(SIZE);
        expect(hash.digest('hex')).toBe(want);
        // Back in uneven pieces, honouring the socket's own backpressure.
        let at = 0;
        const pump = () => {
          while (at < SIZE) {
            const n = Math.min(SIZE - at, 1 + g.int(100_000));
            const more = s.write(data.subarray(at, at + n));
            at += n;
            if (!more) return void s.once('drain', pump);
          }
          s.end();
        };
        pump();
      });
    });
    const conn = await client.connect({ ip: '127.0.0.1', port: server.port });
    expect(conn.remote).toEqual({ ip: '127.0.0.1', port: server.port });
    const back = createHash('sha256');
    let backBytes = 0;
    conn.onData((b) => {
      back.update(b);
      backBytes += b.length;
    });
    const closed = new Promise<StreamEndReason>((resolve) => conn.onClose((r) => resolve(r)));
    let falses = 0;
    let drains = 0;
    await new Promise<void>((resolve) => {
      let at = 0;
      const pump = () => {
        while (at < SIZE) {
          const n = Math.min(SIZE - at, 1 + g.int(70_000));
          const ok = conn.write(data.subarray(at, at + n));
          at += n;
          if (!ok) {
            falses++;
            return;
          }
        }
        conn.end(); // half-close: the server sees EOF and answers
        resolve();
      };
      conn.onDrain(() => {
        drains++;
        pump();
      });
      pump();
    });
    expect(await closed).toBe('closed');
    expect(backBytes).toBe(SIZE);
    expect(back.digest('hex')).toBe(want);
    expect(falses).toBeGreaterThan(10); // the window was full many times…
    expect(drains).toBe(falses); // …and every wait ended with a drain
    await server.close();
  }, 60_000);

  it('never sends past the window the page has not acknowledged', async () => {
    const server = await tcpServer((s) => s.end(new Uint8Array(2 * 1024 * 1024)));
    const raw = await h.openRaw();
    raw.send({ type: 'tcp-connect', id: 1, peer: { ip: '127.0.0.1', port: server.port }, timeoutMs: 0 });
    const connected = await raw.next((f) => f.type === 'tcp-connected');
    const window = connected.type === 'tcp-connected' ? connected.window : 0;
    let got = 0;
    const drainData = () => {
      for (let f; (f = raw.received.findIndex((x) => x.type === 'tcp-data')) >= 0; ) {
        const d = raw.received.splice(f, 1)[0];
        if (d.type === 'tcp-data') got += d.payload.length;
      }
    };
    await new Promise((r) => setTimeout(r, 300));
    drainData();
    // One socket read (≤ 64 KiB) may overshoot before the bridge pauses.
    expect(got).toBeGreaterThanOrEqual(window);
    expect(got).toBeLessThanOrEqual(window + 65536);
    raw.send({ type: 'tcp-ack', id: 1, bytes: got });
    await until(() => (drainData(), got > window + 65536), 3000, 'more data after the ACK');
    raw.close();
    await server.close();
  });

  it('closes a page that writes past its window (policy)', async () => {
    // The server never reads: once the kernel buffers are full, the bridge's ACKs stop, and a
    // page that keeps writing is past its window.
    const server = await tcpServer((s) => s.pause());
    const raw = await h.openRaw();
    raw.send({ type: 'tcp-connect', id: 3, peer: { ip: '127.0.0.1', port: server.port }, timeoutMs: 0 });
    await raw.next((f) => f.type === 'tcp-connected');
    const chunk = new Uint8Array(16384);
    for (let i = 0; i < 4096 && !raw.received.some((f) => f.type === 'error'); i++) {
      raw.send({ type: 'tcp-data', id: 3, payload: chunk });
      if (i % 64 === 63) await new Promise((r) => setTimeout(r, 5));
    }
    expect(await raw.next((f) => f.type === 'error')).toMatchObject({ id: 3, code: TunnelErrorCode['window-exceeded'] });
    expect(await raw.next((f) => f.type === 'tcp-close')).toMatchObject({ id: 3, reason: 'policy', detail: 'window-exceeded' });
    raw.close();
    await server.close();
  });

  it('reports each close reason: closed, refused, reset, timed-out, policy', async () => {
    // closed: the server answers and ends after our half-close.
    const echoServer = await tcpServer((s) => s.pipe(s));
    const a = await client.connect({ ip: '127.0.0.1', port: echoServer.port });
    const aData: number[] = [];
    a.onData((b) => aData.push(...b));
    a.write(Uint8Array.of(1, 2, 3));
    a.end();
    expect(await closeReason(a)).toEqual(['closed', undefined]);
    expect(aData).toEqual([1, 2, 3]);

    // refused: nothing listens there.
    const port = await freeTcpPort();
    await expect(client.connect({ ip: '127.0.0.1', port })).rejects.toMatchObject({ reason: 'refused' });

    // reset: the server sends RST.
    const rst = await tcpServer((s) => setTimeout(() => s.resetAndDestroy(), 20));
    const b = await client.connect({ ip: '127.0.0.1', port: rst.port });
    expect((await closeReason(b))[0]).toBe('reset');

    // timed-out: nothing happens on the connection for tcpIdleTimeoutMs (300 ms here).
    const silent = await tcpServer(() => {});
    const quick = await startBridgeHarness({ options: { tcpIdleTimeoutMs: 300, allow: LOOPBACK_ALLOWED } });
    const qc = await openedClient(quick);
    const c = await qc.connect({ ip: '127.0.0.1', port: silent.port });
    expect(await closeReason(c)).toEqual(['timed-out', 'idle']);
    qc.close();
    await quick.close();

    // policy: a private target, and the bridge's own port.
    await expect(client.connect({ ip: '10.1.2.3', port: 8333 })).rejects.toMatchObject({ reason: 'policy' });
    await expect(client.connect({ ip: '127.0.0.1', port: h.port })).rejects.toMatchObject({ reason: 'policy' });

    // close() from our side.
    const d = await client.connect({ ip: '127.0.0.1', port: echoServer.port });
    d.close();
    expect(await closeReason(d)).toEqual(['closed', undefined]);
    await until(() => echoServer.sockets.size === 0, 2000, 'the bridge to drop the socket');

    await Promise.all([echoServer.close(), rst.close(), silent.close()]);
  });

  it('refuses a ninth connection (quota)', async () => {
    const server = await tcpServer(() => {});
    const conns = await Promise.all(Array.from({ length: 8 }, () => client.connect({ ip: '127.0.0.1', port: server.port })));
    await expect(client.connect({ ip: '127.0.0.1', port: server.port })).rejects.toMatchObject({ reason: 'policy' });
    for (const c of conns) c.close();
    await server.close();
  });
});

describe('tunnel: DNS', () => {
  it('resolves localhost, under the same policy as targets', async () => {
    const h = await startBridgeHarness({ options: { allow: LOOPBACK_ALLOWED } });
    const client = await openedClient(h);
    const addrs = await client.resolve('localhost');
    expect(addrs).toContain('127.0.0.1');
    await expect(client.resolve('no-such-name.invalid')).rejects.toMatchObject({ code: 'dns-failed' });
    client.close();
    await h.close();

    const strict = await startBridgeHarness({ options: { deny: ['127.0.0.0/8', '::1'], allow: LOOPBACK_ALLOWED } });
    const c2 = await openedClient(strict);
    await expect(c2.resolve('localhost')).rejects.toMatchObject({ code: 'policy' });
    c2.close();
    await strict.close();
  });
});

describe('tunnel: workshop mode', () => {
  it('loopback targets are lab peers and other pages only; pages reach each other', async () => {
    const echo = await udpEcho();
    const h = await startBridgeHarness({ lab: 1, options: { workshop: true } });
    const alice = await openedClient(h);
    const bob = await openedClient(h);
    const a = await alice.openDatagram();
    const b = await bob.openDatagram();
    // The host's own loopback services are out of reach…
    const refused = nextError(a);
    a.send(Uint8Array.of(1), { ip: '127.0.0.1', port: echo.port });
    expect((await refused).message).toContain('loopback address: lab peers and tunnel sockets only');
    // …but another page's socket is not.
    const got = new Promise<Endpoint>((resolve) => b.onMessage((_m, from) => resolve(from)));
    a.send(Uint8Array.of(2), b.local);
    expect(await got).toEqual(a.local);
    expect(echo.received).toBe(0);
    alice.close();
    bob.close();
    await h.close();
    await echo.close();
  });
});

describe('tunnel: budgets', () => {
  it('holds a flooding session to its budget (not read, nothing dropped) while another session still gets its round trips', async () => {
    const echo = await udpEcho();
    const h = await startBridgeHarness({ options: { packetsPerSecond: 200, allow: LOOPBACK_ALLOWED } });
    const flooder = await openedClient(h);
    const calm = await openedClient(h);
    const fs = await flooder.openDatagram();
    const cs = await calm.openDatagram();
    listen(cs);
    const started = Date.now();
    // 3,000 datagrams as fast as the tunnel takes them, while `calm` does 20 round trips.
    const flood = (async () => {
      for (let i = 0; i < 30; i++) {
        for (let k = 0; k < 100; k++) fs.send(Uint8Array.of(k), { ip: '127.0.0.1', port: echo.port });
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 20; i++) await roundTrip(cs, { ip: '127.0.0.1', port: echo.port }, Uint8Array.of(i));
    await flood;
    expect(h.server.stats().total.held).toBeGreaterThan(0); // the flooder's WebSocket was paused
    await roundTrip(cs, { ip: '127.0.0.1', port: echo.port }, Uint8Array.of(99)); // everything sent has been handled
    const seconds = (Date.now() - started) / 1000;
    // The flooder got its burst (200, one of them spent on its UDP_OPEN) plus 200/s, the calm
    // session its 21; nothing more left.
    expect(echo.received).toBeLessThanOrEqual(200 + Math.ceil(200 * seconds) + 21 + 5);
    expect(echo.received).toBeGreaterThanOrEqual(199 + 21);
    flooder.close();
    calm.close();
    await h.close();
    await echo.close();
  });

  it('closes an idle session (4001)', async () => {
    const h = await startBridgeHarness({ options: { idleTimeoutMs: 300 } });
    const raw = await h.openRaw();
    const t = Date.now();
    expect(await raw.waitClosed(3000)).toMatchObject({ code: 4001 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(250);
    await h.close();
  });
});

async function openedClient(h: BridgeHarness): Promise<TunnelClient> {
  const c = await h.openClient();
  expect(c.closed).toBe(false);
  return c;
}

function closeReason(c: StreamConnection): Promise<[StreamEndReason, string | undefined]> {
  return new Promise((resolve) => c.onClose((r, d) => resolve([r, d])));
}

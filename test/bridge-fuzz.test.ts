// Hostile and churning pages: 10,000 random or mutated frames, then 100 sessions opened and
// closed, after which no socket, timer or peer registration may be left.
//
// The fuzzed bridge reaches nothing it should not: --no-public and workshop mode leave only
// registered peers (here: the echo, and the tunnel's own sockets) as targets, and DNS_RESOLVE
// frames are turned into a bridge-only type so no lookup leaves the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatagramSocket, Endpoint } from '../shared/transport.ts';
import { type Frame, FrameType, encodeFrame } from '../shared/tunnel/frames.ts';
import { type BridgeHarness, startBridgeHarness, tcpServer, udpEcho, until } from './helpers/bridge-harness.ts';
import { prng } from './helpers/prng.ts';

function echoOnce(sock: DatagramSocket, to: Endpoint, payload: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no echo')), 3000);
    sock.onMessage((b) => {
      clearTimeout(t);
      resolve(b.slice());
    });
    sock.send(payload, to);
  });
}

const count = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;
const KINDS = ['UDPWrap', 'TCPWrap', 'TCPSocketWrap', 'Timeout', 'GetAddrInfoReqWrap'];
const snapshot = () => Object.fromEntries(KINDS.map((k) => [k, count(k)]));

describe('bridge under hostile input', () => {
  let h: BridgeHarness;
  let echo: Awaited<ReturnType<typeof udpEcho>>;
  let echoPeer: Endpoint;
  beforeAll(async () => {
    echo = await udpEcho();
    echoPeer = { ip: '127.0.0.1', port: echo.port };
    h = await startBridgeHarness({ options: { workshop: true, badFramesPerSecond: 1_000_000, packetsPerSecond: 1_000_000, maxSessions: 8 } });
    h.server.setLab([{ name: 'echo', protocol: 'discv5', enr: '', nodeId: '', ip: '127.0.0.1', udp: echo.port }]);
  });
  afterAll(async () => {
    await h?.close();
    await echo?.close();
  });

  it('keeps serving after 10,000 random or mutated frames', async () => {
    const g = prng(77);
    const corpus: Frame[] = [
      { type: 'udp-open', id: 1, ip: '', port: 0 },
      { type: 'udp-open', id: 2, ip: '127.0.0.1', port: 0 },
      { type: 'udp-send', id: 1, peer: echoPeer, payload: g.bytes(40) },
      { type: 'udp-send', id: 2, peer: { ip: '::1', port: 30303 }, payload: g.bytes(8) },
      { type: 'udp-close', id: 1, code: 0 },
      { type: 'tcp-connect', id: 1, peer: { ip: '127.0.0.1', port: 8333 }, timeoutMs: 100 },
      { type: 'tcp-data', id: 1, payload: g.bytes(30) },
      { type: 'tcp-ack', id: 1, bytes: 100 },
      { type: 'tcp-end', id: 1 },
      { type: 'tcp-close', id: 1, reason: 'closed', detail: '' },
    ];
    const valid = corpus.map((f) => {
      const r = encodeFrame(f);
      if (!r.ok) throw r.error;
      return r.value;
    });
    const raw = await h.openRaw();
    for (let i = 0; i < 10_000; i++) {
      let b: Uint8Array;
      const kind = g.int(3);
      if (kind === 0) b = g.bytes(g.int(64));
      else if (kind === 1) {
        b = g.bytes(4 + g.int(48));
        b[0] = 1;
        b[1] = g.int(0x40);
        b[2] = 0;
      } else {
        const src = valid[g.int(valid.length)];
        b = src.slice(0, g.int(4) === 0 ? g.int(src.length + 1) : src.length);
        for (let k = 0, n = g.int(4); k < n && b.length > 0; k++) b[g.int(b.length)] ^= 1 << g.int(8);
      }
      if (b.length > 1 && b[1] === FrameType.DNS_RESOLVE) b[1] = FrameType.DNS_RESULT; // no real lookups
      if (b.length > 0) b[0] = 1; // another version closes the session at once (tested elsewhere)
      raw.send(b);
      if (i % 200 === 199) await new Promise((r) => setImmediate(r));
    }
    // Still answering after all of them: the session was never closed.
    raw.send(Uint8Array.of(1, 0x77, 0, 9));
    await raw.next((f) => f.type === 'error' && f.id === 9 && f.refType === 0x77, 10_000);
    expect(raw.closed).toBeUndefined();
    expect(raw.received.filter((f) => f.type === 'error').length).toBeGreaterThan(1000); // refusals were answered
    raw.close();

    // And a new session works end to end.
    const client = await h.openClient();
    const sock = await client.openDatagram();
    expect(await echoOnce(sock, echoPeer, Uint8Array.of(1, 2, 3))).toEqual(Uint8Array.of(1, 2, 3));
    client.close();
  });

  it('with the default tolerance, a fuzzing session is closed (1008) and the next one works', async () => {
    const strict = await startBridgeHarness({ options: { workshop: true } });
    const g = prng(78);
    const raw = await strict.openRaw();
    for (let i = 0; i < 2000 && !raw.closed; i++) {
      const b = g.bytes(4 + g.int(40));
      b[0] = 1;
      if (b[1] === FrameType.DNS_RESOLVE) b[1] = FrameType.DNS_RESULT;
      raw.send(b);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    expect(await raw.waitClosed()).toMatchObject({ code: 1008 });
    const client = await strict.openClient();
    expect(client.limits.maxDatagram).toBe(1280);
    client.close();
    await strict.close();
  });
});

describe('bridge under churn', () => {
  it('leaves no socket, timer or peer after 100 sessions open and close', async () => {
    const echo = await udpEcho();
    const server = await tcpServer((s) => s.pipe(s));
    const h = await startBridgeHarness({ lab: 0, options: { maxSessions: 8, allow: ['127.0.0.1'] } });
    await new Promise((r) => setTimeout(r, 20));
    const before = snapshot();
    const peersBefore = h.server.stats().peers;
    for (let i = 0; i < 100; i++) {
      const client = await h.openClient();
      const sock = await client.openDatagram();
      await echoOnce(sock, { ip: '127.0.0.1', port: echo.port }, Uint8Array.of(i));
      const conn = await client.connect({ ip: '127.0.0.1', port: server.port });
      conn.write(Uint8Array.of(i));
      if (i === 50) {
        // The count can fail: while a session is open its handles show.
        expect(count('UDPWrap')).toBeGreaterThan(before.UDPWrap);
        expect(count('TCPSocketWrap')).toBeGreaterThan(before.TCPSocketWrap);
      }
      if (i % 10 === 0) expect(await client.resolve('localhost')).toContain('127.0.0.1');
      if (i % 2 === 0) client.close();
      else {
        // Half of them vanish without a close handshake.
        const raw = await h.openRaw();
        raw.close();
        client.close();
      }
    }
    await until(() => h.server.stats().sessions === 0, 5000, 'sessions to close');
    const st = h.server.stats();
    expect(st.total).toMatchObject({ udpSockets: 0, tcpConnections: 0, dnsInFlight: 0, timers: 0 });
    expect(st.peers).toBe(peersBefore);
    // Closed handles leave the loop on its next turns.
    const settled = () => KINDS.every((k) => count(k) <= before[k]);
    await until(settled, 5000, 'handles to close');
    expect(snapshot()).toMatchObject({ UDPWrap: before.UDPWrap, TCPSocketWrap: before.TCPSocketWrap, TCPWrap: before.TCPWrap });
    expect(server.sockets.size).toBe(0);
    await h.close();
    await server.close();
    await echo.close();
  }, 60_000);
});

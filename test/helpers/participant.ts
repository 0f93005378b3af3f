// A room participant without a browser: a tunnel session running the same shared engines the
// page's worker runs (discv5 node, Bitcoin engine) plus the page's room channel (name, progress).
// Tests and `npm run bench:room` use it; every address it talks to comes from the bridge.
import { WebSocket } from 'ws';
import { randomBytes } from 'node:crypto';
import { randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { Discv5Driver } from '../../shared/discv5/driver.ts';
import { contactFromEnr, type NodeContact } from '../../shared/discv5/engine.ts';
import { Discv5Node } from '../../shared/discv5/node.ts';
import { createEnr, parseEnrText, type Enr } from '../../shared/enr/index.ts';
import { secureRandom } from '../../shared/random.ts';
import { openTunnel, type TunnelClient } from '../../shared/tunnel/client.ts';
import { EngineDriver } from '../../shared/drive/driver.ts';
import { BitcoinEngine, type BitcoinEvent } from '../../shared/bitcoin/engine.ts';
import { NETWORKS } from '../../shared/bitcoin/spec.ts';
import type { BitcoinLabPeer, Discv5LabPeer, LabPeerInfo } from '../../shared/lab.ts';
import type { HandshakeTally, ParticipantProgress, RoomServerMessage } from '../../shared/room/messages.ts';
import { decodeServerMessage } from '../../shared/room/messages.ts';

export interface JoinOptions {
  /** The page's origin (the bridge's, or the proxy's). */
  origin: string;
  token: string;
  name?: string;
  /** Sent on every request (e.g. the proxy's sticky cookie). */
  cookie?: string;
  /** Open the room channel and report progress (default true). */
  room?: boolean;
}

export interface Outcome {
  ok: boolean;
  ms: number;
  reason?: string;
}

const JOIN_LIMIT_MS = 20_000;

const wsUrl = (origin: string, path: string) => origin.replace(/^http/, 'ws') + path;

export class Participant {
  readonly id = randomBytes(12).toString('base64url');
  readonly progress: ParticipantProgress = { handshakes: {} };
  /** Timeouts the discv5 node met (any request, lookups included). */
  timeouts = 0;
  /** What timed out: the request and whether its target was a lab node or another participant. */
  readonly timedOut: string[] = [];
  /** What the room channel said last (welcome: the bridge this participant landed on). */
  bridge: string | undefined;
  readonly roomMessages: RoomServerMessage[] = [];
  private room: WebSocket | undefined;
  private progressTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    readonly options: JoinOptions,
    readonly tunnel: TunnelClient,
    readonly discv5: Discv5Driver,
    readonly btc: EngineDriver<unknown, BitcoinEvent>,
    readonly lab: { discv5: Discv5LabPeer[]; bitcoin: BitcoinLabPeer[]; contacts: NodeContact[]; enrs: Enr[] },
  ) {
    discv5.listen({
      event: (e) => {
        if (e.type !== 'timeout') return;
        this.timeouts++;
        const key = `${e.to.endpoint.ip}:${e.to.endpoint.port}`;
        this.timedOut.push(`${e.request.type} to ${lab.discv5.some((p) => `${p.ip}:${p.udp}` === key) ? 'a lab node' : 'a participant'}`);
      },
    });
  }

  /** Joins within `limitMs` (a refused or dropped connection fails the join, never hangs it). */
  static async join(o: JoinOptions, limitMs = JOIN_LIMIT_MS): Promise<Participant> {
    const opened: { close(): void }[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`join: not done within ${limitMs} ms`)), limitMs)));
    try {
      return await Promise.race([Participant.joinSteps(o, opened), limit]);
    } catch (e) {
      for (const x of opened) x.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  private static async joinSteps(o: JoinOptions, opened: { close(): void }[]): Promise<Participant> {
    const headers = o.cookie ? { cookie: o.cookie } : undefined;
    const r = await fetch(`${o.origin}/lab.json?token=${encodeURIComponent(o.token)}`, { headers, signal: AbortSignal.timeout(JOIN_LIMIT_MS) });
    if (!r.ok) throw new Error(`/lab.json: ${r.status}`);
    const peers = ((await r.json()) as { peers: LabPeerInfo[] }).peers;
    const discv5 = peers.filter((p): p is Discv5LabPeer => p.protocol === 'discv5');
    const bitcoin = peers.filter((p): p is BitcoinLabPeer => p.protocol === 'bitcoin');
    const enrs = discv5.map((p) => {
      const e = parseEnrText(p.enr);
      if (!e.ok) throw new Error(e.error.reason);
      return e.value;
    });
    const ws = new WebSocket(wsUrl(o.origin, `/tunnel?token=${encodeURIComponent(o.token)}`), { origin: o.origin, headers });
    opened.push({ close: () => ws.terminate() });
    const tunnel = await openTunnel(ws);
    const socket = await tunnel.openDatagram();
    const privateKey = randomPrivateKey(secureRandom);
    const enr = createEnr({ privateKey, ip: socket.local.ip, udp: socket.local.port });
    const node = new Discv5Driver(new Discv5Node({ privateKey, enr, random: secureRandom }), socket);
    const btc = new EngineDriver(new BitcoinEngine({ network: NETWORKS.regtest, random: secureRandom, timeoutMs: 10_000, afterHandshake: 'close' }), { streams: tunnel }) as EngineDriver<unknown, BitcoinEvent>;
    const p = new Participant(o, tunnel, node, btc, { discv5, bitcoin, contacts: enrs.map((e) => contactFromEnr(e)!), enrs });
    opened.push(p);
    if (o.room !== false) await p.openRoom();
    return p;
  }

  /** The room channel, as the page opens it. Resolves on the bridge's welcome. */
  private async openRoom(): Promise<void> {
    const o = this.options;
    const ws = new WebSocket(wsUrl(o.origin, `/room?role=participant&token=${encodeURIComponent(o.token)}`), { origin: o.origin, headers: o.cookie ? { cookie: o.cookie } : undefined });
    this.room = ws;
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', id: this.id, name: o.name ?? '' })));
      ws.once('close', (code) => reject(new Error(`room closed (${code})`)));
      ws.on('message', (d) => {
        const m = decodeServerMessage(d.toString());
        if (!m) return;
        this.roomMessages.push(m);
        if (m.type === 'welcome') {
          this.bridge = m.bridge;
          resolve();
        }
      });
    });
  }

  private tally(protocol: string, o: Outcome): void {
    const t: HandshakeTally = (this.progress.handshakes[protocol] ??= { completed: 0, failed: 0, reasons: {} });
    if (o.ok) t.completed++;
    else {
      t.failed++;
      const r = (o.reason ?? 'failed').slice(0, 100);
      t.reasons[r] = (t.reasons[r] ?? 0) + 1;
    }
    // Like the page: at most one progress message a second.
    if (this.room && !this.progressTimer)
      this.progressTimer = setTimeout(() => {
        this.progressTimer = undefined;
        if (this.room?.readyState === WebSocket.OPEN) this.room.send(JSON.stringify({ type: 'progress', progress: this.progress }));
      }, 200);
  }

  /** A fresh discv5 handshake with lab node `i`: drop any session, then PING (random packet → WHOAREYOU → handshake → PONG). */
  async discv5Handshake(i: number): Promise<Outcome> {
    const to = this.lab.contacts[i % this.lab.contacts.length];
    this.discv5.command({ type: 'drop-session', nodeId: to.nodeId });
    const t0 = performance.now();
    const r = await this.discv5.ping(to);
    const o: Outcome = r.ok ? { ok: true, ms: performance.now() - t0 } : { ok: false, ms: performance.now() - t0, reason: r.reason };
    this.tally('discv5', o);
    return o;
  }

  /** connect → version/verack with Bitcoin lab node `i`, over this participant's tunnel. */
  async bitcoinHandshake(i: number): Promise<Outcome> {
    const peer = this.lab.bitcoin[i % this.lab.bitcoin.length];
    if (!peer) return { ok: false, ms: 0, reason: 'no Bitcoin lab' };
    const t0 = performance.now();
    const outcome = await new Promise<Extract<BitcoinEvent, { type: 'outcome' }>>((resolve) => {
      const off = this.btc.listen({ event: (e) => e.type === 'outcome' && (off(), resolve(e)) });
      this.btc.command({ type: 'handshake', to: { ip: peer.ip, port: peer.tcp } });
    });
    const o: Outcome = outcome.outcome === 'SUCCESS' ? { ok: true, ms: performance.now() - t0 } : { ok: false, ms: performance.now() - t0, reason: `${outcome.outcome} ${outcome.reason ?? ''}`.trim() };
    this.tally('bitcoin', o);
    return o;
  }

  /** An iterative lookup of a random target, seeded with the lab. */
  async lookup(): Promise<{ ms: number; timeouts: number; timedOut: string[]; closest: Enr[] }> {
    const before = this.timeouts;
    const t0 = performance.now();
    const closest = await this.discv5.lookup(randomBytes(32), this.lab.enrs);
    return { ms: performance.now() - t0, timeouts: this.timeouts - before, timedOut: this.timedOut.slice(before), closest };
  }

  nodeId(): string {
    return Buffer.from(this.discv5.node.engine.localId).toString('hex');
  }

  close(): void {
    clearTimeout(this.progressTimer);
    this.discv5.close();
    this.btc.close();
    this.tunnel.close();
    this.room?.close();
  }
}

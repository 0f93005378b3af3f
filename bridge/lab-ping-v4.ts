// POST /lab/ping-v4: a lab execution node (ethereumjs) pings a page's discv4 socket, so the page
// shows discv4 from the recipient's side: the PING in, its PONG out, and its own PING back to
// bond. The same rules as /lab/ping: only towards a UDP socket this bridge opened for a page.
import type { ExecutionLab } from './lab-execution.ts';
import type { JsonAnswer } from './lab-ping.ts';
import { parseEnode } from '../shared/enr/index.ts';
import type { Endpoint } from '../shared/transport.ts';

export interface LabPingV4Request {
  /** The lab node's name, e.g. "el-01". */
  peer: string;
  /** The page's discv4 node: enode://…@ip:port?discport=udp (the UDP port is what is pinged). */
  enode: string;
}

const MAX_IN_FLIGHT = 4;
const TIMEOUT_MS = 10_000;

/** What an ethereumjs DPT offers for a ping (its server's, which the public API does not expose). */
interface DptServer {
  ping(peer: { address: string; udpPort: number; tcpPort: number | null }): Promise<{ id?: Uint8Array }>;
}

function request(body: unknown): LabPingV4Request | string {
  const b = body as Partial<LabPingV4Request> | null;
  if (!b || typeof b.peer !== 'string' || typeof b.enode !== 'string' || b.peer.length > 64 || b.enode.length > 400) return 'expected {"peer": "el-01", "enode": "enode://…"}';
  return { peer: b.peer, enode: b.enode };
}

/** The handler, given the running execution lab and the bridge's view of tunnel UDP sockets. */
export function labPingV4Handler(lab: ExecutionLab, isTunnelSocket: (e: Endpoint) => boolean) {
  let inFlight = 0;
  return async (body: unknown): Promise<JsonAnswer> => {
    const r = request(body);
    if (typeof r === 'string') return { status: 400, body: { ok: false, error: r } };
    const i = lab.peers.findIndex((p) => p.name === r.peer);
    if (i < 0 || !lab.nodes[i]) return { status: 404, body: { ok: false, error: `no lab execution node named "${r.peer.slice(0, 20)}"` } };
    const enode = parseEnode(r.enode);
    if (!enode.ok) return { status: 400, body: { ok: false, error: `invalid enode: ${enode.error.reason}` } };
    const to = { ip: enode.value.ip, port: enode.value.udp };
    if (!isTunnelSocket(to)) return { status: 403, body: { ok: false, error: 'a lab node only pings UDP sockets this bridge opened for a page' } };
    if (inFlight >= MAX_IN_FLIGHT) return { status: 429, body: { ok: false, error: 'too many lab pings at once' } };
    inFlight++;
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const server = (lab.nodes[i].dpt as unknown as { _server: DptServer })._server;
      await Promise.race([
        server.ping({ address: to.ip, udpPort: to.port, tcpPort: null }),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no PONG within ${TIMEOUT_MS} ms`)), TIMEOUT_MS))),
      ]);
      return { status: 200, body: { ok: true, rttMs: performance.now() - started, peer: r.peer } };
    } catch (e) {
      return { status: 504, body: { ok: false, error: `${r.peer} got no PONG: ${(e as Error).message}` } };
    } finally {
      clearTimeout(timer);
      inFlight--;
    }
  };
}

// POST /lab/ping: one lab node pings a browser node, cold, so the page can show a handshake
// it did not start (the browser is the recipient). Only towards a UDP socket this bridge opened
// for a page: the lab never becomes a way to send packets anywhere else.
import type http from 'node:http';
import type { Discv5 } from '@chainsafe/discv5';
import { ENR } from '@chainsafe/enr';
import { parseEnrText, udpEndpoint } from '../shared/enr/index.ts';
import { bytesToIp } from '../shared/ip.ts';
import type { Endpoint } from '../shared/transport.ts';
import type { Discv5LabPeer } from '../shared/lab.ts';

export interface LabPingRequest {
  /** The lab node's name, e.g. "lab-01". */
  peer: string;
  /** The browser node's ENR text. */
  enr: string;
}

export type LabPingResult =
  | { ok: true; rttMs: number; enrSeq: string; ip: string; port: number }
  | { ok: false; status: number; error: string };

export type LabPing = (request: LabPingRequest, isTunnelSocket: (e: Endpoint) => boolean) => Promise<LabPingResult>;

const MAX_BODY = 2048;
const MAX_IN_FLIGHT = 4;

/** The ping itself, given the running lab. */
export function labPing(lab: { peers: Discv5LabPeer[]; nodes: Discv5[] }, timeoutMs = 40_000): LabPing {
  let inFlight = 0;
  return async ({ peer, enr }, isTunnelSocket) => {
    const i = lab.peers.findIndex((p) => p.name === peer);
    if (i < 0 || !lab.nodes[i]) return { ok: false, status: 404, error: `no lab node named "${peer.slice(0, 20)}"` };
    const record = parseEnrText(enr);
    if (!record.ok) return { ok: false, status: 400, error: `invalid ENR: ${record.error.reason}` };
    const to = udpEndpoint(record.value);
    if (!to || !isTunnelSocket(to)) return { ok: false, status: 403, error: 'a lab node only pings UDP sockets this bridge opened for a page' };
    if (inFlight >= MAX_IN_FLIGHT) return { ok: false, status: 429, error: 'too many lab pings at once' };
    inFlight++;
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const pong = await Promise.race([
        lab.nodes[i].sendPing(ENR.decodeTxt(enr)),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      const ip = bytesToIp(pong.addr.ip.octets) ?? '?';
      return { ok: true, rttMs: performance.now() - started, enrSeq: pong.enrSeq.toString(), ip, port: pong.addr.port };
    } catch (e) {
      return { ok: false, status: 504, error: `${peer} got no PONG: ${(e as Error).message}` };
    } finally {
      clearTimeout(timer);
      inFlight--;
    }
  };
}

/** The body of POST /lab/ping, checked; a string says what is wrong. */
function labPingRequest(body: unknown): LabPingRequest | string {
  const b = body as Partial<LabPingRequest> | null;
  if (!b || typeof b.peer !== 'string' || typeof b.enr !== 'string' || b.peer.length > 64 || b.enr.length > 1000) return 'expected {"peer": "lab-01", "enr": "enr:…"}';
  return { peer: b.peer, enr: b.enr };
}

export type JsonAnswer = { status: number; body: object };

/**
 * A lab request over HTTP: a small JSON body in, a JSON answer out. Token and Origin are
 * checked by the caller; the body is bounded before it is parsed.
 */
export function serveJsonPost(req: http.IncomingMessage, res: http.ServerResponse, headers: Record<string, string>, handle: (body: unknown) => Promise<JsonAnswer>): void {
  const reply = (status: number, body: object) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };
  if (req.method !== 'POST') return reply(405, { ok: false, error: 'POST only' });
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return reply(415, { ok: false, error: 'send JSON' });
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY && !refused) {
      refused = true;
      reply(413, { ok: false, error: 'body too large' });
      req.destroy();
    } else if (!refused) chunks.push(c);
  });
  req.on('error', () => {});
  req.on('end', () => {
    if (refused) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(400, { ok: false, error: 'not JSON' });
    }
    handle(body).then(
      (a) => reply(a.status, a.body),
      (e: Error) => reply(500, { ok: false, error: e.message }),
    );
  });
}

/** POST /lab/ping as JSON: the checked request, the ping, its result. */
export const labPingHandler = (ping: LabPing, isTunnelSocket: (e: Endpoint) => boolean) => async (body: unknown): Promise<JsonAnswer> => {
  const request = labPingRequest(body);
  if (typeof request === 'string') return { status: 400, body: { ok: false, error: request } };
  const r = await ping(request, isTunnelSocket);
  return r.ok ? { status: 200, body: r } : { status: r.status, body: { ok: false, error: r.error } };
};

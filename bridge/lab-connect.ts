// POST /lab/connect: a lab node dials a page's TCP listener and does its handshake, so the page
// can show a handshake it did not start (the page is the recipient): a Bitcoin node's
// version/verack, or an execution node's RLPx auth, Hello and Status (then the request names the
// listener's node key, which RLPx encrypts its auth to). Only
// towards a listener this bridge opened for a page, and the dial is the one inbound connection
// that listener will take from the lab's address: the lab never becomes a way in or out.
import type { Endpoint } from '../shared/transport.ts';
import type { ExpectedInbound } from './inbound.ts';
import { fromHex } from '../shared/bytes.ts';
import type { BitcoinLab } from './lab-bitcoin.ts';
import type { ExecutionLab } from './lab-execution.ts';
import type { JsonAnswer } from './lab-ping.ts';

export interface LabConnectRequest {
  peer: string;
  ip: string;
  port: number;
  /** RLPx: the listener's node key, 128 hex digits. */
  key?: string;
}

/** The labs whose nodes can dial a page. */
export interface DialingLabs {
  bitcoin?: BitcoinLab;
  execution?: ExecutionLab;
}

const MAX_IN_FLIGHT = 4;
const TIMEOUT_MS = 30_000;

function labConnectRequest(body: unknown): LabConnectRequest | string {
  const b = body as Partial<LabConnectRequest> | null;
  if (!b || typeof b.peer !== 'string' || b.peer.length > 64 || typeof b.ip !== 'string' || b.ip.length > 64 || !Number.isInteger(b.port) || b.port! < 1 || b.port! > 65535)
    return 'expected {"peer": "btc-01", "ip": "127.0.0.1", "port": 40001}: the page\'s TCP listener';
  if (b.key !== undefined && (typeof b.key !== 'string' || !/^[0-9a-f]{128}$/.test(b.key))) return 'key: the listener\'s node key, 128 lowercase hex digits';
  return { peer: b.peer, ip: b.ip, port: b.port!, ...(b.key !== undefined ? { key: b.key } : {}) };
}

/** The handler, given the running labs and the bridge's view of tunnel listeners. */
export function labConnectHandler(labs: DialingLabs, inbound: ExpectedInbound, isTunnelListener: (e: Endpoint) => boolean) {
  let inFlight = 0;
  return async (body: unknown): Promise<JsonAnswer> => {
    const r = labConnectRequest(body);
    if (typeof r === 'string') return { status: 400, body: { ok: false, error: r } };
    const peer = labs.bitcoin?.peers.find((p) => p.name === r.peer) ?? labs.execution?.peers.find((p) => p.name === r.peer);
    if (!peer) return { status: 404, body: { ok: false, error: `no lab node named "${r.peer.slice(0, 20)}"` } };
    if (peer.protocol === 'execution' && !r.key) return { status: 400, body: { ok: false, error: 'key: an execution node encrypts its auth to the listener\'s node key; send it (128 hex digits)' } };
    const to = { ip: r.ip, port: r.port };
    if (!isTunnelListener(to)) return { status: 403, body: { ok: false, error: 'a lab node only dials TCP listeners this bridge opened for a page' } };
    if (inFlight >= MAX_IN_FLIGHT) return { status: 429, body: { ok: false, error: 'too many lab dials at once' } };
    inFlight++;
    inbound.expect(to, peer.ip);
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const dial: Promise<Record<string, unknown>> =
        peer.protocol === 'execution' ? labs.execution!.dial(peer.name, r.ip, r.port, fromHex(r.key!)) : labs.bitcoin!.dial(peer.name, r.ip, r.port);
      const v = await Promise.race([
        dial,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no handshake within ${TIMEOUT_MS} ms`)), TIMEOUT_MS))),
      ]);
      return { status: 200, body: { ok: true, rttMs: performance.now() - started, peer: peer.name, ...v } };
    } catch (e) {
      return { status: 504, body: { ok: false, error: `${peer.name} could not complete its handshake with you: ${(e as Error).message}` } };
    } finally {
      clearTimeout(timer);
      inFlight--;
    }
  };
}

// What a user gives as an RLPx peer: an enode URL (its TCP port) or an ENR (ip/ip6 and tcp/tcp6).
import { err, ok, type Result } from '../errors.ts';
import { enodeFromEnr, parseEnode, parseEnrText } from '../enr/index.ts';

export interface RlpxTarget {
  /** 33-byte compressed static key. */
  publicKey: Uint8Array;
  nodeId: Uint8Array;
  ip: string;
  tcp: number;
}

export function parseRlpxTarget(text: string): Result<RlpxTarget> {
  const s = text.trim();
  if (s.startsWith('enode://')) {
    const e = parseEnode(s);
    if (!e.ok) return e;
    if (!e.value.tcp) return err('bad-value', 'tcp', 'the enode URL has TCP port 0: RLPx needs a TCP port');
    return ok({ publicKey: e.value.publicKey, nodeId: e.value.nodeId, ip: e.value.ip, tcp: e.value.tcp });
  }
  if (!s.startsWith('enr:')) return err('bad-value', 'target', 'expected an enode URL ("enode://…") or an ENR ("enr:…")');
  const r = parseEnrText(s);
  if (!r.ok) return r;
  let e;
  try {
    e = enodeFromEnr(r.value);
  } catch {
    return err('bad-value', 'ip', 'the record has no IP address: there is nowhere to connect');
  }
  if (!e.tcp) return err('bad-value', 'tcp', 'the record has no "tcp" port: the node does not announce RLPx');
  return ok({ publicKey: e.publicKey, nodeId: e.nodeId, ip: e.ip, tcp: e.tcp });
}

// A discv4 peer the user names: an enode URL or an `enr:` record, as discv5's parseTarget reads
// it, plus the RLPx (TCP) port an execution node also serves (CLI and page share this).
import { parseTarget } from '../discv5/contact.ts';
import { ok, type Result } from '../errors.ts';
import { parseEnode, tcpEndpoint, type Enr } from '../enr/index.ts';
import type { Discv4Node } from './node.ts';

export function parseDiscv4Target(text: string): Result<Discv4Node & { enr?: Enr }> {
  const r = parseTarget(text);
  if (!r.ok) return r;
  const { nodeId, publicKey, endpoint, enr } = r.value;
  const e = enr ? undefined : parseEnode(text);
  const tcp = enr ? (tcpEndpoint(enr)?.port ?? 0) : e?.ok ? e.value.tcp : 0;
  return ok({ nodeId, publicKey, ip: endpoint.ip, udp: endpoint.port, tcp, ...(enr ? { enr } : {}) });
}

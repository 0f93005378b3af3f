// A discv4 peer the user names: an enode URL or an `enr:` record, as a node with its UDP
// endpoint and RLPx port (CLI and page share this). Errors explain what is wrong.
import { err, ok, type Result } from '../errors.ts';
import { parseEnode, parseEnrText, udpEndpoint, tcpEndpoint, type Enr } from '../enr/index.ts';
import type { Discv4Node } from './node.ts';

export function parseDiscv4Target(text: string): Result<Discv4Node & { enr?: Enr }> {
  const s = text.trim();
  if (s.startsWith('enode://')) {
    const e = parseEnode(s);
    if (!e.ok) return e;
    if (!e.value.udp) return err('bad-value', 'udp', 'the enode URL has no UDP port');
    return ok({ nodeId: e.value.nodeId, publicKey: e.value.publicKey, ip: e.value.ip, udp: e.value.udp, tcp: e.value.tcp });
  }
  if (!s.startsWith('enr:')) return err('bad-value', 'target', 'expected an enode URL ("enode://…") or an ENR ("enr:…")');
  const r = parseEnrText(s);
  if (!r.ok) return r;
  const udp = udpEndpoint(r.value);
  if (!udp) return err('bad-value', 'udp', 'the record has no IP address with a UDP port: there is nowhere to send to');
  return ok({ nodeId: r.value.nodeId, publicKey: r.value.publicKey, ip: udp.ip, udp: udp.port, tcp: tcpEndpoint(r.value)?.port ?? 0, enr: r.value });
}

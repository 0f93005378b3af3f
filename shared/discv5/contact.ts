// A peer the user names: an `enr:` record or an `enode://` URL, turned into a contact with
// an explanation of what is wrong when it cannot be used (CLI and playground share this).
import { err, ok, type Result } from '../errors.ts';
import { parseEnode, parseEnrText, udpEndpoint, type Enr } from '../enr/index.ts';
import type { NodeContact } from './engine.ts';

export function parseTarget(text: string): Result<NodeContact & { enr?: Enr }> {
  const s = text.trim();
  if (s.startsWith('enode://')) {
    const e = parseEnode(s);
    if (!e.ok) return e;
    if (!e.value.udp) return err('bad-value', 'udp', 'the enode URL has no UDP port');
    return ok({ nodeId: e.value.nodeId, publicKey: e.value.publicKey, endpoint: { ip: e.value.ip, port: e.value.udp } });
  }
  if (!s.startsWith('enr:')) return err('bad-value', 'target', 'expected an ENR ("enr:…") or an enode URL ("enode://…")');
  const r = parseEnrText(s);
  if (!r.ok) return r;
  const endpoint = udpEndpoint(r.value);
  if (!endpoint) return err('bad-value', 'udp', 'the record has no IP address with a UDP port: there is nowhere to send to');
  return ok({ nodeId: r.value.nodeId, publicKey: r.value.publicKey, endpoint, enr: r.value });
}

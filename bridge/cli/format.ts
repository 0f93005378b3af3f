// How the CLI prints packets, crypto steps and records: a readable line each for people,
// or one JSON object per line (--json) for programs.
import { fromHex, toHex } from '../../shared/bytes.ts';
import type { Dissection } from '../../shared/dissect.ts';
import { dissectDiscv5 } from '../../shared/discv5/dissect-packet.ts';
import type { PacketRecord } from '../../shared/discv5/engine.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import { endpointKey } from '../../shared/transport.ts';

export interface Printer {
  json: boolean;
  line(text: string): void;
  object(o: unknown): void;
}

export const stdoutPrinter = (json: boolean): Printer => ({
  json,
  line: (text) => process.stdout.write(`${text}\n`),
  object: (o) => process.stdout.write(`${JSON.stringify(o, jsonReplacer)}\n`),
});

/** JSON with bytes as hex and bigints as decimal strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function packetDissection(p: PacketRecord, localId: Uint8Array): Dissection {
  const destId = p.direction === 'in' ? localId : fromHex(p.peerId ?? '');
  return dissectDiscv5(p.raw, destId, { ...(p.plaintext ? { plaintext: p.plaintext } : {}), random: p.kind === 'random' });
}

/** A packet as one JSON object: everything about it, its full dissection included. */
export function packetJson(p: PacketRecord, localId: Uint8Array, d = packetDissection(p, localId)): Record<string, unknown> {
  return {
    type: 'packet', seq: p.seq, direction: p.direction, at: p.at, peer: endpointKey(p.peer), peerId: p.peerId, kind: p.rejected ? 'rejected' : d.kind, size: p.raw.length,
    summary: d.summary, ...(p.retransmit ? { retransmit: true } : {}), ...(p.note ? { note: p.note } : {}), ...(p.rejected ? { rejected: p.rejected } : {}),
    ...(p.messageKey ? { messageKey: p.messageKey } : {}), raw: p.raw, dissection: d,
  };
}

export function printPacket(out: Printer, p: PacketRecord, localId: Uint8Array, t0: number): void {
  const d = packetDissection(p, localId);
  const elapsed = t0 ? `${(p.at - t0).toFixed(1).padStart(7)} ms` : '';
  if (out.json) {
    out.object(packetJson(p, localId, d));
    return;
  }
  const arrow = p.direction === 'out' ? '→' : '←';
  const who = p.direction === 'out' ? `to ${endpointKey(p.peer)}` : `from ${endpointKey(p.peer)}`;
  out.line(`${elapsed} ${arrow} #${p.seq} ${p.rejected ? 'REJECTED' : d.kind}${p.retransmit ? ' (retransmit)' : ''}  ${p.raw.length} bytes ${who}`);
  if (p.rejected) {
    out.line(`             reason: ${p.rejected}`);
    return;
  }
  out.line(`             ${d.summary ?? ''}`);
  const authdata = d.layers.find((l) => l.name === 'authdata');
  for (const f of authdata?.fields ?? []) if (f.name !== 'sig-size' && f.name !== 'eph-key-size') out.line(`             ${f.name}: ${f.value}`);
  if (p.note) out.line(`             (${p.note})`);
}

/** Key-schedule steps worth a line: keys and verdicts. */
export function printTrace(out: Printer, t: TraceRecord): void {
  if (out.json) {
    out.object({ type: 'trace', ...t });
    return;
  }
  if (t.step === 'hkdf' || t.step === 'ecdh' || t.step === 'id-verify' || t.step === 'ephemeral-key') {
    const values = t.step === 'id-verify' ? [] : t.outputs;
    out.line(`             ${t.title}${t.ok === undefined ? '' : t.ok ? ' ✓' : ' ✗'}`);
    for (const v of values) out.line(`               ${v.name}${v.secret ? ' (secret)' : ''}: ${v.hex}`);
  }
}

// What the user types before anything is sent: distances, TALKREQ fields, lookup targets.
// Each check answers with a value or one sentence saying what is wrong (shown inline).
import { parseHex, utf8 } from '../../shared/bytes.ts';

export type Check<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Log-distances for FINDNODE: whole numbers 0..256, comma or space separated. */
export function parseDistances(text: string): Check<number[]> {
  const parts = text.split(/[\s,]+/).filter((p) => p.length > 0);
  if (parts.length === 0) return { ok: false, reason: 'give at least one distance, e.g. 256 (0 asks for the node’s own record)' };
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) return { ok: false, reason: `"${p.slice(0, 12)}" is not a whole number: distances are 0 to 256` };
    const d = Number(p);
    if (d > 256) return { ok: false, reason: `${d} is too far: node ids have 256 bits, so distances go from 0 to 256` };
    if (!out.includes(d)) out.push(d);
  }
  if (out.length > 16) return { ok: false, reason: `${out.length} distances: ask for at most 16 at once` };
  return { ok: true, value: out };
}

export interface TalkInput {
  protocol: string;
  request: Uint8Array;
}

/** TALKREQ: a protocol name (text) and a request as hex (may be empty). */
export function parseTalk(protocol: string, requestHex: string): Check<TalkInput> {
  if (protocol.length === 0) return { ok: false, reason: 'name the protocol the request is for, e.g. "eth2" or "portal"' };
  if (utf8(protocol).length > 64) return { ok: false, reason: 'the protocol name is over 64 bytes' };
  const hex = requestHex.trim().replace(/^0x/i, '').replace(/\s+/g, '');
  if (hex.length % 2 !== 0) return { ok: false, reason: 'the request hex has an odd number of digits (two per byte)' };
  const request = parseHex(hex);
  if (!request) return { ok: false, reason: 'the request must be hex digits 0-9 and a-f' };
  if (request.length > 1000) return { ok: false, reason: `${request.length} bytes do not fit in one 1280-byte packet with the headers` };
  return { ok: true, value: { protocol, request } };
}

/** A lookup target: 64 hex digits, or empty for a random id. */
export function parseLookupTarget(text: string, random: () => Uint8Array): Check<Uint8Array> {
  const s = text.trim().replace(/^0x/i, '');
  if (s.length === 0) return { ok: true, value: random() };
  const id = /^[0-9a-fA-F]{64}$/.test(s) ? parseHex(s) : undefined;
  if (!id) return { ok: false, reason: `a node id is 32 bytes = 64 hex digits${/^[0-9a-fA-F]*$/.test(s) ? `, this has ${s.length}` : ''}; leave empty for a random target` };
  return { ok: true, value: id };
}

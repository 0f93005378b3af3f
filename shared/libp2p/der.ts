// Strict DER for ECDSA signatures (SEC 1 / RFC 3279: SEQUENCE { INTEGER r, INTEGER s }), as
// libp2p's secp256k1 keys sign. noble gives 64-byte r ‖ s; this converts both ways and
// refuses any encoding but the one DER allows (minimal lengths and integers, no padding).
import { err, ok, type Result } from '../errors.ts';
import type { Field } from '../dissect.ts';
import { hexOf } from '../bitcoin/wire.ts';

const DER_SPEC = 'https://www.rfc-editor.org/rfc/rfc3279#section-2.2.3';

/** One INTEGER's content: big-endian, no leading zero unless the next byte has its top bit set. */
function integer(n: Uint8Array): Uint8Array {
  let i = 0;
  while (i < n.length - 1 && n[i] === 0) i++;
  const v = n.subarray(i);
  if (v[0] & 0x80) {
    const out = new Uint8Array(v.length + 1);
    out.set(v, 1);
    return out;
  }
  return v;
}

/** 64 bytes r ‖ s → DER (at most 72 bytes). */
export function compactToDer(sig: Uint8Array): Uint8Array {
  if (sig.length !== 64) throw new Error('compactToDer: 64 bytes expected');
  const r = integer(sig.subarray(0, 32));
  const s = integer(sig.subarray(32));
  const body = 2 + r.length + 2 + s.length;
  const out = new Uint8Array(2 + body);
  out.set([0x30, body, 0x02, r.length], 0);
  out.set(r, 4);
  out.set([0x02, s.length], 4 + r.length);
  out.set(s, 6 + r.length);
  return out;
}

/** Reads one INTEGER at `at`: its 32-byte value, or a reason. */
function readInteger(der: Uint8Array, at: number, name: string): { value: Uint8Array; end: number } | string {
  if (der[at] !== 0x02) return `${name}: expected INTEGER (0x02)`;
  const len = der[at + 1];
  if (len === undefined || len === 0) return `${name}: missing or zero length`;
  if (len > 33) return `${name}: ${len} bytes is longer than a 256-bit integer`;
  if (at + 2 + len > der.length) return `${name}: truncated`;
  const v = der.subarray(at + 2, at + 2 + len);
  if (v[0] & 0x80) return `${name}: negative integer`;
  if (v[0] === 0 && len > 1 && !(v[1] & 0x80)) return `${name}: leading zero byte not needed (not DER)`;
  const value = new Uint8Array(32);
  const digits = v[0] === 0 && len > 1 ? v.subarray(1) : v;
  if (digits.length > 32) return `${name}: over 256 bits`;
  value.set(digits, 32 - digits.length);
  return { value, end: at + 2 + len };
}

/** DER → 64 bytes r ‖ s; anything not strict DER is an error. */
export function derToCompact(der: Uint8Array): Result<Uint8Array> {
  if (der.length < 8 || der.length > 72) return err('bad-length', 'identity-sig', `a DER ECDSA signature is 8–72 bytes, not ${der.length}`);
  if (der[0] !== 0x30) return err('bad-value', 'identity-sig', 'expected SEQUENCE (0x30)');
  if (der[1] & 0x80) return err('non-canonical', 'identity-sig', 'long-form length (a signature fits the short form)');
  if (der[1] !== der.length - 2) return err('bad-length', 'identity-sig', `SEQUENCE length ${der[1]}, ${der.length - 2} bytes follow`);
  const r = readInteger(der, 2, 'r');
  if (typeof r === 'string') return err('bad-value', 'identity-sig', r);
  const s = readInteger(der, r.end, 's');
  if (typeof s === 'string') return err('bad-value', 'identity-sig', s);
  if (s.end !== der.length) return err('trailing-bytes', 'identity-sig', 'bytes after s');
  const out = new Uint8Array(64);
  out.set(r.value, 0);
  out.set(s.value, 32);
  return ok(out);
}

/** The fields of a DER signature (for the dissection); call only on one derToCompact accepted. */
export function derFields(der: Uint8Array, base: number): Field[] {
  const rLen = der[3];
  const sLen = der[5 + rLen];
  const f = (name: string, offset: number, length: number, meaning: string): Field => ({ name, offset: base + offset, length, value: hexOf(der.subarray(offset, offset + length)), meaning, spec: DER_SPEC });
  return [
    f('SEQUENCE tag + length', 0, 2, 'DER: a SEQUENCE (0x30) of the two integers, then its length.'),
    f('r tag + length', 2, 2, 'DER: INTEGER (0x02) and its length.'),
    f('r', 4, rLen, 'The signature’s r, big-endian; a leading 0x00 only when the top bit would read as a sign.'),
    f('s tag + length', 4 + rLen, 2, 'DER: INTEGER (0x02) and its length.'),
    f('s', 6 + rLen, sLen, 'The signature’s s (low-s: at most half the curve order).'),
  ];
}

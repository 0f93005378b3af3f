// The browser node's identity: a secp256k1 key made on first visit and kept in localStorage,
// or pasted, or replaced. Also the ENR seq, which must grow on every new record: a peer that
// still holds our old record (old port) would otherwise keep it and refuse the handshake.
import { parseHex, toHex } from '../../shared/bytes.ts';
import { isValidPrivateKey, randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { secureRandom } from '../../shared/random.ts';

const KEY = 'handshake-lab.discv5.private-key';
const SEQ = 'handshake-lab.discv5.enr-seq';

export type StorageLike = Pick<Storage, 'getItem' | 'setItem'>;

export type KeyCheck = { ok: true; key: Uint8Array } | { ok: false; reason: string };

/** A pasted private key: 64 hex digits (0x and spaces allowed), a valid secp256k1 scalar. */
export function parsePrivateKey(text: string): KeyCheck {
  const s = text.trim().replace(/^0x/i, '').replace(/\s+/g, '');
  if (s.length === 0) return { ok: false, reason: 'empty: paste 64 hex digits' };
  if (!/^[0-9a-fA-F]*$/.test(s)) return { ok: false, reason: 'only hex digits 0-9 and a-f (an optional 0x in front)' };
  if (s.length !== 64) return { ok: false, reason: `a secp256k1 private key is 32 bytes = 64 hex digits, this has ${s.length}` };
  const key = parseHex(s);
  if (!key || !isValidPrivateKey(key)) return { ok: false, reason: 'not a valid secp256k1 key: it must be between 1 and the curve order n − 1' };
  return { ok: true, key };
}

function read(storage: StorageLike | undefined, name: string): string | null {
  try {
    return storage?.getItem(name) ?? null;
  } catch {
    return null;
  }
}

function write(storage: StorageLike | undefined, name: string, value: string): void {
  try {
    storage?.setItem(name, value);
  } catch {
    // Private windows may refuse storage: the identity then lives as long as the page.
  }
}

/** The stored key, or a new one (stored). */
export function loadKey(storage: StorageLike | undefined): { key: Uint8Array; created: boolean } {
  const stored = read(storage, KEY);
  if (stored) {
    const r = parsePrivateKey(stored);
    if (r.ok) return { key: r.key, created: false };
  }
  const key = randomPrivateKey(secureRandom);
  write(storage, KEY, toHex(key));
  return { key, created: true };
}

export function saveKey(storage: StorageLike | undefined, key: Uint8Array): void {
  write(storage, KEY, toHex(key));
}

export const newKey = (): Uint8Array => randomPrivateKey(secureRandom);

/** A seq above every one handed out before in this browser (stored). */
export function nextSeq(storage: StorageLike | undefined): bigint {
  const stored = read(storage, SEQ);
  const last = stored && /^\d{1,19}$/.test(stored) ? BigInt(stored) : 0n;
  const next = last + 1n;
  write(storage, SEQ, next.toString());
  return next;
}

/** Remembers a seq the node reached by itself (a new socket after reconnecting). */
export function noteSeq(storage: StorageLike | undefined, seq: bigint): void {
  const stored = read(storage, SEQ);
  const last = stored && /^\d{1,19}$/.test(stored) ? BigInt(stored) : 0n;
  if (seq > last) write(storage, SEQ, seq.toString());
}

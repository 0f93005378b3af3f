// RLP (Ethereum yellow paper, appendix B): a decoder that keeps every item's offset and
// header length, so dissections can point at bytes, and rejects non-canonical forms.
// Lengths are checked against the input before any slice; nothing is allocated from them.
import { bigintToBytes, bytesToBigint, concat, shortHex } from './bytes.ts';
import { fail } from './errors.ts';

export interface RlpBytes {
  kind: 'bytes';
  /** A view into the input (no copy). */
  value: Uint8Array;
  /** Offset of the item's first byte (its prefix, if any) in the decoded buffer. */
  offset: number;
  /** Bytes of prefix before the payload (0 for a single byte below 0x80). */
  headerLength: number;
  /** Prefix plus payload. */
  length: number;
}
export interface RlpList {
  kind: 'list';
  items: RlpItem[];
  offset: number;
  headerLength: number;
  length: number;
}
export type RlpItem = RlpBytes | RlpList;
export type RlpInput = Uint8Array | RlpInput[];

const MAX_DEPTH = 16;

/** Decodes exactly one item filling the whole buffer. Throws WireError. */
export function decodeRlp(buf: Uint8Array, field = 'rlp'): RlpItem {
  const item = decodeAt(buf, 0, buf.length, 0, field);
  if (item.length !== buf.length) fail('trailing-bytes', field, `${buf.length - item.length} bytes after the RLP item`);
  return item;
}

/** Decodes one item at `offset`, allowing bytes after it. Throws WireError. */
export function decodeRlpPrefix(buf: Uint8Array, offset = 0, field = 'rlp'): RlpItem {
  return decodeAt(buf, offset, buf.length, 0, field);
}

function decodeAt(buf: Uint8Array, at: number, end: number, depth: number, field: string): RlpItem {
  if (depth > MAX_DEPTH) fail('too-large', field, `RLP nested deeper than ${MAX_DEPTH}`);
  if (at >= end) fail('truncated', field, `RLP item expected at offset ${at}, input ends`);
  const b0 = buf[at];
  if (b0 < 0x80) return { kind: 'bytes', value: buf.subarray(at, at + 1), offset: at, headerLength: 0, length: 1 };
  if (b0 <= 0xb7) {
    const len = b0 - 0x80;
    checkRoom(at + 1, len, end, field);
    if (len === 1 && buf[at + 1] < 0x80) fail('non-canonical', field, `single byte 0x${buf[at + 1].toString(16)} must not carry a prefix`);
    return { kind: 'bytes', value: buf.subarray(at + 1, at + 1 + len), offset: at, headerLength: 1, length: 1 + len };
  }
  if (b0 <= 0xbf) {
    const lenOfLen = b0 - 0xb7;
    const len = readLongLength(buf, at + 1, lenOfLen, end, field);
    checkRoom(at + 1 + lenOfLen, len, end, field);
    const start = at + 1 + lenOfLen;
    return { kind: 'bytes', value: buf.subarray(start, start + len), offset: at, headerLength: 1 + lenOfLen, length: 1 + lenOfLen + len };
  }
  let len: number;
  let headerLength: number;
  if (b0 <= 0xf7) {
    len = b0 - 0xc0;
    headerLength = 1;
  } else {
    const lenOfLen = b0 - 0xf7;
    len = readLongLength(buf, at + 1, lenOfLen, end, field);
    headerLength = 1 + lenOfLen;
  }
  checkRoom(at + headerLength, len, end, field);
  const items: RlpItem[] = [];
  let p = at + headerLength;
  const listEnd = p + len;
  while (p < listEnd) {
    const item = decodeAt(buf, p, listEnd, depth + 1, field);
    items.push(item);
    p += item.length;
  }
  return { kind: 'list', items, offset: at, headerLength, length: headerLength + len };
}

function readLongLength(buf: Uint8Array, at: number, lenOfLen: number, end: number, field: string): number {
  if (at + lenOfLen > end) fail('truncated', field, `RLP length of ${lenOfLen} bytes runs past the end`);
  if (buf[at] === 0) fail('non-canonical', field, 'RLP length has a leading zero byte');
  if (lenOfLen > 4) fail('too-large', field, `RLP length of ${lenOfLen} bytes is absurd here`);
  let len = 0;
  for (let i = 0; i < lenOfLen; i++) len = len * 256 + buf[at + i];
  if (len < 56) fail('non-canonical', field, `RLP long form used for a length of ${len} (< 56)`);
  return len;
}

function checkRoom(start: number, len: number, end: number, field: string): void {
  if (start + len > end) fail('truncated', field, `RLP item claims ${len} bytes, only ${Math.max(0, end - start)} remain`);
}

// ---- typed accessors: each names the field it reads, for the error ----

export function asList(item: RlpItem, field: string): RlpItem[] {
  if (item.kind !== 'list') fail('bad-type', field, 'expected an RLP list, got a byte string');
  return item.items;
}

export function asBytes(item: RlpItem, field: string): Uint8Array {
  if (item.kind !== 'bytes') fail('bad-type', field, 'expected a byte string, got an RLP list');
  return item.value;
}

/** An RLP integer: no leading zeros, at most `maxBytes` bytes. */
export function asBigint(item: RlpItem, field: string, maxBytes = 8): bigint {
  const b = asBytes(item, field);
  if (b.length > maxBytes) fail('too-large', field, `integer of ${b.length} bytes, at most ${maxBytes} allowed`);
  if (b.length > 0 && b[0] === 0) fail('non-canonical', field, 'integer has a leading zero byte');
  return bytesToBigint(b);
}

export function asNumber(item: RlpItem, field: string, maxBytes = 4): number {
  return Number(asBigint(item, field, Math.min(maxBytes, 6)));
}

// ---- encoding ----

/**
 * RLP encoding, written in one buffer (sizes first, then bytes: no copy per level).
 * `reserve` leaves that many bytes free at the start for the caller (a message-type byte).
 */
export function encodeRlp(input: RlpInput, reserve = 0): Uint8Array {
  const out = new Uint8Array(reserve + encodedLength(input));
  writeItem(input, out, reserve);
  return out;
}

const lengthOfLength = (len: number): number => (len < 56 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4);

function payloadLength(input: RlpInput): number {
  if (input instanceof Uint8Array) return input.length;
  let n = 0;
  for (const item of input) n += encodedLength(item);
  return n;
}

function encodedLength(input: RlpInput): number {
  if (input instanceof Uint8Array && input.length === 1 && input[0] < 0x80) return 1;
  const len = payloadLength(input);
  return 1 + lengthOfLength(len) + len;
}

function writeItem(input: RlpInput, out: Uint8Array, at: number): number {
  if (input instanceof Uint8Array) {
    if (input.length === 1 && input[0] < 0x80) {
      out[at] = input[0];
      return at + 1;
    }
    at = writeHeader(0x80, input.length, out, at);
    out.set(input, at);
    return at + input.length;
  }
  at = writeHeader(0xc0, payloadLength(input), out, at);
  for (const item of input) at = writeItem(item, out, at);
  return at;
}

function writeHeader(base: number, len: number, out: Uint8Array, at: number): number {
  const ll = lengthOfLength(len);
  if (ll === 0) {
    out[at] = base + len;
    return at + 1;
  }
  out[at] = base + 55 + ll;
  for (let i = ll; i >= 1; i--) out[at + i] = (len >>> (8 * (ll - i))) & 0xff;
  return at + 1 + ll;
}

/** A list from items that are already RLP-encoded (kept byte-exact, e.g. raw ENR values). */
export const encodeRlpList = (encodedItems: Uint8Array[]): Uint8Array => {
  const payload = concat(...encodedItems);
  return concat(header(0xc0, payload.length), payload);
};

/** The prefix of an RLP list whose payload is `len` bytes (to splice in pre-encoded items). */
export const encodeListHeader = (len: number): Uint8Array => header(0xc0, len);

function header(base: number, len: number): Uint8Array {
  if (len < 56) return Uint8Array.of(base + len);
  const lenBytes = bigintToBytes(len);
  return concat(Uint8Array.of(base + 55 + lenBytes.length), lenBytes);
}

/** An integer as RLP wants it (minimal big-endian). */
export const rlpUint = (n: bigint | number): Uint8Array => bigintToBytes(n);

/** One-line description of an item, for dissections of RLP whose meaning is unknown. */
export function describeRlp(item: RlpItem): string {
  if (item.kind === 'list') return `list of ${item.items.length} item${item.items.length === 1 ? '' : 's'}`;
  if (item.value.length === 0) return 'empty string (0)';
  return `${item.value.length} byte${item.value.length === 1 ? '' : 's'}: 0x${shortHex(item.value, 32)}`;
}

// Ethereum Node Records (EIP-778, devp2p enr.md) with the "v4" identity scheme:
// record = [signature, seq, k, v, ...], signature = sign(keccak256(rlp([seq, k, v, ...]))),
// node id = keccak256(uncompressed public key x ‖ y). Decoding keeps every value's exact RLP
// bytes, so records with keys this code does not know are relayed unchanged.
import { base64urlnopad } from '@scure/base';
import { equalBytes, fromUtf8, printableOrHex, shortHex, toHex, utf8 } from '../bytes.ts';
import { keccak256 } from '../crypto/hashes.ts';
import { convertPublicKey, isValidPrivateKey, isValidPublicKey, publicKeyOf, signHash, verifyHash } from '../crypto/secp256k1.ts';
import type { Dissection, Field } from '../dissect.ts';
import { rlpStructure } from '../dissect.ts';
import { attempt, fail, unwrap, WireError, type Result } from '../errors.ts';
import { asBigint, asBytes, asList, decodeRlp, decodeRlpPrefix, encodeRlp, encodeRlpList, rlpUint, type RlpItem } from '../rlp.ts';
import type { Endpoint } from '../transport.ts';
import { bytesToIp, ipToBytes } from '../ip.ts';
import { describeEnrValue, ENR_SPEC, keyInfo } from './keys.ts';

/** enr.md: "The maximum encoded size of a node record is 300 bytes." */
export const MAX_RECORD_SIZE = 300;
export const MAX_SEQ = 2n ** 64n - 1n;

export interface EnrPair {
  key: string;
  /** exact RLP encoding of the value item as in the record */
  rawValue: Uint8Array;
  /** payload when the value is an RLP byte string, undefined when it is a list */
  value?: Uint8Array;
}

export interface Enr {
  seq: bigint;
  /** 64 bytes r ‖ s */
  signature: Uint8Array;
  /** in record order (sorted, unique) */
  pairs: EnrPair[];
  /** the full RLP record, byte-exact */
  raw: Uint8Array;
  /** keccak256(uncompressed pubkey x ‖ y), 32 bytes */
  nodeId: Uint8Array;
  /** compressed, 33 bytes */
  publicKey: Uint8Array;
  id: 'v4';
  ip?: string;
  tcp?: number;
  udp?: number;
  ip6?: string;
  tcp6?: number;
  udp6?: number;
}

export interface EnrInit {
  privateKey: Uint8Array;
  seq?: bigint;
  ip?: string;
  udp?: number;
  tcp?: number;
  ip6?: string;
  udp6?: number;
  tcp6?: number;
  /** extra pairs, raw RLP value encodings */
  extra?: { key: string; rawValue: Uint8Array }[];
}

type TypedKey = 'ip' | 'tcp' | 'udp' | 'ip6' | 'tcp6' | 'udp6';
const TYPED_KEYS: readonly TypedKey[] = ['ip', 'tcp', 'udp', 'ip6', 'tcp6', 'udp6'];
const SCHEME_KEYS = new Set(['id', 'secp256k1']);
const V4 = utf8('v4');


// ---- decoding ----

/** Decodes and verifies a record (RLP bytes). Never throws. */
export const decodeEnr = (raw: Uint8Array): Result<Enr> => attempt(() => decodeOrThrow(raw));

/** "enr:" + base64url without padding; surrounding whitespace is ignored. Never throws. */
export function parseEnrText(text: string): Result<Enr> {
  return attempt(() => {
    const s = text.trim();
    if (!s.startsWith('enr:')) fail('bad-value', 'enr', 'text form starts with "enr:"');
    const body = s.slice(4);
    // 4 characters per 3 bytes: refuse before decoding anything that could not fit in 300 bytes.
    if (body.length > Math.ceil((MAX_RECORD_SIZE * 4) / 3)) fail('too-large', 'record', `text of ${body.length} characters is over ${MAX_RECORD_SIZE} bytes`);
    // Said in the words of someone who pasted it, not the base64 decoder's.
    const stray = /[^A-Za-z0-9_-]/.exec(body);
    if (stray) fail('bad-value', 'enr', `${stray[0] === ' ' ? 'a space' : /\s/.test(stray[0]) ? 'a line break' : `“${stray[0]}”`} at character ${stray.index + 5}: after “enr:” a record has only letters, digits, - and _ (copy it again, whole)`);
    let raw: Uint8Array;
    try {
      raw = base64urlnopad.decode(body);
    } catch {
      fail('truncated', 'enr', 'the text ends in the middle of a byte: it looks cut short or has a character too many (copy it again, whole)');
    }
    return decodeOrThrow(raw);
  });
}

export const encodeEnrText = (enr: Enr): string => `enr:${base64urlnopad.encode(enr.raw)}`;

function decodeOrThrow(input: Uint8Array): Enr {
  if (input.length > MAX_RECORD_SIZE) fail('too-large', 'record', `record is ${input.length} bytes, at most ${MAX_RECORD_SIZE} allowed`);
  const raw = input.slice(); // the Enr owns its bytes; pair values are views into this copy
  const items = asList(decodeRlp(raw, 'record'), 'record');
  if (items.length < 2) fail('truncated', 'record', 'a record is at least [signature, seq]');
  if (items.length % 2 !== 0) fail('bad-length', 'record', `odd number of list elements (${items.length}): the last key has no value`);
  const signature = asBytes(items[0], 'signature');
  const seq = asBigint(items[1], 'seq', 8);

  const pairs: EnrPair[] = [];
  const valueItems = new Map<string, RlpItem>();
  let prev: Uint8Array | undefined;
  for (let i = 2; i < items.length; i += 2) {
    const keyBytes = asBytes(items[i], 'key');
    const key = keyText(keyBytes);
    if (prev) {
      const order = compareBytes(prev, keyBytes);
      if (order === 0) fail('duplicate-key', key, `key "${key}" appears twice`);
      if (order > 0) fail('unsorted-keys', key, `key "${key}" comes after "${keyText(prev)}": keys must be sorted`);
    }
    prev = keyBytes;
    const v = items[i + 1];
    valueItems.set(key, v);
    pairs.push({ key, rawValue: raw.subarray(v.offset, v.offset + v.length), ...(v.kind === 'bytes' ? { value: v.value } : {}) });
  }

  const idItem = valueItems.get('id');
  if (!idItem) fail('unknown-scheme', 'id', 'record has no "id" key, so no identity scheme');
  const id = asBytes(idItem, 'id');
  if (!equalBytes(id, V4)) fail('unknown-scheme', 'id', `identity scheme "${printableOrHex(id)}" is not supported (only "v4")`);

  const keyItem = valueItems.get('secp256k1');
  if (!keyItem) fail('bad-value', 'secp256k1', 'a v4 record needs a "secp256k1" public key');
  const publicKey = asBytes(keyItem, 'secp256k1');
  if (publicKey.length !== 33) fail('bad-length', 'secp256k1', `compressed public key is 33 bytes, got ${publicKey.length}`);
  if (!isValidPublicKey(publicKey)) fail('bad-value', 'secp256k1', 'not a valid compressed secp256k1 point');

  const typed: Partial<Pick<Enr, TypedKey>> = {};
  for (const key of TYPED_KEYS) {
    const item = valueItems.get(key);
    if (!item) continue;
    if (key === 'ip' || key === 'ip6') {
      const b = asBytes(item, key);
      const want = key === 'ip' ? 4 : 16;
      if (b.length !== want) fail('bad-length', key, `${key} is ${want} bytes, got ${b.length}`);
      typed[key] = bytesToIp(b)!; // an IPv4-mapped ip6 reads as IPv4 text, as Endpoint wants
    } else typed[key] = Number(asBigint(item, key, 2));
  }

  if (signature.length !== 64) fail('bad-length', 'signature', `v4 signature is 64 bytes (r ‖ s), got ${signature.length}`);
  if (!verifyHash(signature, signingHash(raw, items[1]), publicKey)) fail('bad-signature', 'signature', 'signature does not verify against the secp256k1 key');

  return { seq, signature, pairs, raw, nodeId: nodeIdOf(publicKey), publicKey, id: 'v4', ...typed };
}

/** keccak256(rlp([seq, k, v, ...])): the content is the record minus its signature, re-listed. */
function signingHash(raw: Uint8Array, seqItem: RlpItem): Uint8Array {
  return keccak256(encodeRlpList([raw.subarray(seqItem.offset)]));
}

/**
 * Keys are byte strings; as text they must be UTF-8 (ASCII in practice). Only keys whose text
 * encodes back to the same bytes are accepted, so keys round-trip exactly through strings.
 */
function keyText(b: Uint8Array): string {
  const text = fromUtf8(b);
  if (!equalBytes(utf8(text), b)) fail('bad-value', 'key', `key 0x${toHex(b)} is not UTF-8 text`);
  return text;
}


function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

// ---- node id and endpoints ----

/** keccak256 of the 64-byte uncompressed key body. Accepts 33, 65 or 64 (bare x ‖ y) bytes; throws on an invalid key. */
export function nodeIdOf(publicKey: Uint8Array): Uint8Array {
  const full = publicKey.length === 64 ? Uint8Array.of(4, ...publicKey) : publicKey;
  return keccak256(convertPublicKey(full, false).subarray(1));
}

/** Where to send discovery packets: ip + udp, else ip6 + udp6 (udp applies to both when udp6 is absent). */
export const udpEndpoint = (enr: Enr): Endpoint | undefined => endpoint(enr, enr.udp, enr.udp6);

/** The record keys that announce a UDP endpoint: ip + udp for IPv4, ip6 + udp6 for IPv6. */
export const udpFields = (ep: Endpoint): { ip: string; udp: number } | { ip6: string; udp6: number } =>
  ep.ip.includes(':') ? { ip6: ep.ip, udp6: ep.port } : { ip: ep.ip, udp: ep.port };

/** Where to open RLPx / libp2p TCP: ip + tcp, else ip6 + tcp6 (or tcp). */
export const tcpEndpoint = (enr: Enr): Endpoint | undefined => endpoint(enr, enr.tcp, enr.tcp6);

function endpoint(enr: Enr, port4: number | undefined, port6: number | undefined): Endpoint | undefined {
  if (enr.ip !== undefined && port4) return { ip: enr.ip, port: port4 };
  const port = port6 ?? port4;
  return enr.ip6 !== undefined && port ? { ip: enr.ip6, port } : undefined;
}

/** The pair with this key, if the record has it. */
export const getPair = (enr: Enr, key: string): EnrPair | undefined => enr.pairs.find((p) => p.key === key);

// ---- signing (trusted path: throws on bad input) ----

/**
 * Signs already-encoded content items [seq, k, v, ...] as given, with no checks, and returns the
 * record's bytes. For building records on purpose (tests, malformed-record lessons).
 */
export function signEnrContent(privateKey: Uint8Array, content: Uint8Array[]): Uint8Array {
  const signature = signHash(keccak256(encodeRlpList(content)), privateKey);
  return encodeRlpList([encodeRlp(signature), ...content]);
}

export function createEnr(init: EnrInit): Enr {
  const entries = new Map<string, Uint8Array>();
  applyTyped(entries, init);
  for (const { key, rawValue } of init.extra ?? []) {
    if (entries.has(key)) throw new WireError('duplicate-key', key, `key "${key}" given twice`);
    entries.set(key, checkedRawValue(key, rawValue));
  }
  return signEntries(init.privateKey, init.seq ?? 1n, entries);
}

/**
 * A new record from `enr` with `changes` applied, signed with the same key. A typed key present in
 * `changes` with the value undefined is removed; extra pairs replace pairs of the same key.
 */
export function updateEnr(enr: Enr, privateKey: Uint8Array, changes: Partial<Omit<EnrInit, 'privateKey'>>): Enr {
  if (!isValidPrivateKey(privateKey) || !equalBytes(publicKeyOf(privateKey), enr.publicKey))
    throw new WireError('bad-value', 'secp256k1', 'the private key does not belong to this record');
  const entries = new Map<string, Uint8Array>();
  for (const p of enr.pairs) if (!SCHEME_KEYS.has(p.key)) entries.set(p.key, p.rawValue);
  applyTyped(entries, changes);
  for (const { key, rawValue } of changes.extra ?? []) entries.set(key, checkedRawValue(key, rawValue));
  const seq = changes.seq ?? enr.seq + 1n;
  return signEntries(privateKey, seq, entries);
}

function applyTyped(entries: Map<string, Uint8Array>, src: Partial<Omit<EnrInit, 'privateKey'>>): void {
  for (const key of TYPED_KEYS) {
    if (!Object.hasOwn(src, key)) continue;
    const v = src[key];
    if (v === undefined) {
      entries.delete(key);
      continue;
    }
    if (key === 'ip' || key === 'ip6') {
      const text = String(v);
      const b = text.includes('%') ? undefined : ipToBytes(text);
      if (!b || b.length !== (key === 'ip' ? 4 : 16)) throw new WireError('bad-value', key, `"${v}" is not an ${key === 'ip' ? 'IPv4' : 'IPv6'} address`);
      entries.set(key, encodeRlp(b));
    } else {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw new WireError('bad-value', key, `port ${v} is not 0..65535`);
      entries.set(key, encodeRlp(rlpUint(v)));
    }
  }
}

function checkedRawValue(key: string, rawValue: Uint8Array): Uint8Array {
  if (SCHEME_KEYS.has(key)) throw new WireError('bad-value', key, `"${key}" is set by the identity scheme`);
  decodeRlp(rawValue, key); // one canonical RLP item, or a WireError
  return rawValue.slice();
}

function signEntries(privateKey: Uint8Array, seq: bigint, entries: Map<string, Uint8Array>): Enr {
  if (!isValidPrivateKey(privateKey)) throw new WireError('bad-value', 'secp256k1', 'not a valid secp256k1 private key');
  if (seq < 0n || seq > MAX_SEQ) throw new WireError('too-large', 'seq', `seq ${seq} is not a 64-bit unsigned integer`);
  entries.set('id', encodeRlp(V4));
  entries.set('secp256k1', encodeRlp(publicKeyOf(privateKey)));
  const keys = [...entries.keys()].map((k) => ({ k, b: utf8(k) })).sort((x, y) => compareBytes(x.b, y.b));
  const content = [encodeRlp(rlpUint(seq)), ...keys.flatMap(({ k, b }) => [encodeRlp(b), entries.get(k)!])];
  // Decoding what we signed checks size, typed values and signature in one place.
  return unwrap(decodeEnr(signEnrContent(privateKey, content)));
}

// ---- dissection ----

const RECORD_SPEC = `${ENR_SPEC}#record-structure`;

export function dissectEnr(raw: Uint8Array): Dissection {
  const r = decodeEnr(raw);
  return {
    protocol: 'ENR',
    kind: 'node record',
    summary: r.ok ? enrSummary(r.value) : `invalid record: ${r.error.reason}`,
    layers: [{ name: 'record (RLP)', bytes: raw, fields: enrFields(raw) }],
    ...(r.ok ? {} : { error: r.error.reason }),
  };
}

/** "seq=1 v4 127.0.0.1 udp=30303 node a448f24c…" */
export function enrSummary(enr: Enr): string {
  const parts = [`seq=${enr.seq}`, enr.id];
  if (enr.ip) parts.push(enr.ip);
  if (enr.ip6) parts.push(enr.ip6);
  for (const k of ['tcp', 'udp', 'tcp6', 'udp6'] as const) if (enr[k] !== undefined) parts.push(`${k}=${enr[k]}`);
  parts.push(`node ${shortHex(enr.nodeId, 4)}`);
  return parts.join(' ');
}

/**
 * The fields of a record, offsets shifted by `base` (where the record sits in an enclosing layer).
 * Best effort on invalid records: whatever parses is named, the rest is one field; the leaves
 * always cover the record's bytes exactly once.
 */
export function enrFields(raw: Uint8Array, base = 0): Field[] {
  if (raw.length === 0) return [];
  let top: RlpItem;
  try {
    top = decodeRlpPrefix(raw, 0, 'record');
  } catch (e) {
    return [{ name: 'enr', offset: base, length: raw.length, value: `undecodable RLP (${raw.length} bytes)`, meaning: `Not a node record: ${(e as Error).message}.`, spec: `${ENR_SPEC}#rlp-encoding` }];
  }
  const fields: Field[] = [recordField(raw, top, base)];
  if (top.length < raw.length)
    fields.push({ name: 'trailing bytes', offset: base + top.length, length: raw.length - top.length, value: `${raw.length - top.length} bytes`, meaning: 'Bytes after the record\'s RLP list; a record is exactly one list.', spec: `${ENR_SPEC}#rlp-encoding` });
  return fields;
}

function recordField(raw: Uint8Array, top: RlpItem, base: number): Field {
  const root = rlpStructure(top, 'enr', -base);
  root.spec = `${ENR_SPEC}#rlp-encoding`;
  if (top.kind !== 'list') {
    root.meaning = 'A record must be an RLP list [signature, seq, k, v, ...]; this is a byte string.';
    return root;
  }
  const items = top.items;
  root.value = `${items.length} items: signature, seq, ${Math.max(0, Math.floor((items.length - 2) / 2))} key/value pairs`;
  root.meaning = 'The node record: an RLP list [signature, seq, k, v, ...], at most 300 bytes.';
  const children: Field[] = [root.children![0]]; // the list prefix
  if (items[0]) {
    const sig = items[0].kind === 'bytes' ? `0x${toHex(items[0].value)}` : 'a list (invalid)';
    children.push(labelled(items[0], 'signature', base, sig, 'v4 scheme: ECDSA signature r ‖ s (64 bytes) over keccak256(rlp([seq, k, v, ...])), made with the secp256k1 key below.', `${ENR_SPEC}#v4-identity-scheme`));
  }
  if (items[1]) {
    const seq = describeSeq(items[1]);
    children.push(labelled(items[1], 'seq', base, seq, 'Sequence number: the node increases it whenever the record changes, so peers keep the newest.', RECORD_SPEC));
  }
  for (let i = 2; i < items.length; i += 2) children.push(pairField(raw, items[i], items[i + 1], base, i));
  root.children = children;
  return root;
}

function describeSeq(item: RlpItem): string {
  try {
    return `${asBigint(item, 'seq', 8)}`;
  } catch (e) {
    return `invalid: ${(e as Error).message}`;
  }
}

function pairField(raw: Uint8Array, keyItem: RlpItem, valueItem: RlpItem | undefined, base: number, index: number): Field {
  let key: string | undefined;
  try {
    key = keyText(asBytes(keyItem, 'key'));
  } catch {
    key = undefined;
  }
  const name = key ?? `key #${index / 2}`;
  const info = key !== undefined ? keyInfo(key) : { meaning: 'A key must be a UTF-8 byte string.', spec: RECORD_SPEC };
  const keyField = labelled(keyItem, 'key', base, key !== undefined ? `"${key}"` : 'invalid key', 'The key: a byte string; keys are sorted and each appears once.', RECORD_SPEC);
  const end = (valueItem ?? keyItem).offset + (valueItem ?? keyItem).length;
  if (!valueItem)
    return { name, offset: base + keyItem.offset, length: end - keyItem.offset, value: 'no value (odd number of list elements)', meaning: info.meaning, spec: info.spec, children: [keyField] };
  const rawValue = raw.subarray(valueItem.offset, valueItem.offset + valueItem.length);
  const view = describeEnrValue(key ?? '', rawValue);
  const text = view.problem ? `${view.text} — ${view.problem}` : view.text;
  const valueField = labelled(valueItem, 'value', base, text, info.meaning, info.spec);
  if (view.parts) attachParts(valueField, view.parts.map((p) => ({ ...p, offset: base + valueItem.offset + p.offset, spec: info.spec })));
  return { name, offset: base + keyItem.offset, length: end - keyItem.offset, value: text, meaning: info.meaning, spec: info.spec, children: [keyField, valueField] };
}

/** rlpStructure with the spec's name, decoded value and meaning on the item (and its payload). */
function labelled(item: RlpItem, name: string, base: number, value: string, meaning: string, spec: string): Field {
  const f = rlpStructure(item, name, -base);
  Object.assign(f, { value, meaning, spec });
  const payload = f.children?.[1];
  if (item.kind === 'bytes' && payload) Object.assign(payload, { value, spec });
  return f;
}

/** Names sub-ranges of a value: an exact match renames a node, parts inside a leaf become its children. */
function attachParts(root: Field, parts: Field[]): void {
  const used = new Set<Field>();
  const walk = (f: Field) => {
    const exact = f === root ? undefined : parts.find((p) => !used.has(p) && p.offset === f.offset && p.length === f.length);
    if (exact) {
      Object.assign(f, { name: exact.name, value: exact.value, meaning: exact.meaning, spec: exact.spec });
      used.add(exact);
    }
    if (f.children && f.children.length > 0) return f.children.forEach(walk);
    const inner = parts.filter((p) => !used.has(p) && p.offset >= f.offset && p.offset + p.length <= f.offset + f.length).sort((a, b) => a.offset - b.offset);
    let at = f.offset;
    for (const p of inner) at = p.offset === at ? at + p.length : -1;
    if (inner.length > 0 && at === f.offset + f.length) {
      f.children = inner;
      inner.forEach((p) => used.add(p));
    }
  };
  walk(root);
}

// The p2p capability (rlpx.md "p2p Capability"): Hello (0x00), Disconnect (0x01), Ping (0x02),
// Pong (0x03), and how two Hellos decide the shared capabilities and their message-id offsets.
import { fromUtf8, toHex, utf8 } from '../bytes.ts';
import { attempt, fail, type Result } from '../errors.ts';
import type { Field } from '../dissect.ts';
import { asBigint, asBytes, asList, asNumber, decodeRlp, encodeRlp, rlpUint, type RlpItem } from '../rlp.ts';
import { EXTRA_ELEMENT, namedList } from './rlp-fields.ts';
import { disconnectReasonText, P2P_LENGTH, SPEC } from './spec.ts';

export interface Capability {
  name: string;
  version: number;
}

export interface Hello {
  protocolVersion: number;
  clientId: string;
  capabilities: Capability[];
  listenPort: number;
  /** The sender's static public key, 64 bytes. */
  nodeId: Uint8Array;
}

const MAX_CAPABILITIES = 64;

export function encodeHello(h: Hello): Uint8Array {
  return encodeRlp([rlpUint(h.protocolVersion), utf8(h.clientId), h.capabilities.map((c) => [utf8(c.name), rlpUint(c.version)]), rlpUint(h.listenPort), h.nodeId]);
}

export function decodeHello(payload: Uint8Array): Result<Hello> {
  return attempt(() => readHello(decodeRlp(payload, 'hello')));
}

export function readHello(item: RlpItem): Hello {
  const l = asList(item, 'hello');
  if (l.length < 5) fail('truncated', 'hello', `Hello has ${l.length} elements, at least 5 are required`);
  const protocolVersion = asNumber(l[0], 'protocolVersion', 4);
  const clientId = printable(asBytes(l[1], 'clientId'));
  const caps = asList(l[2], 'capabilities');
  if (caps.length > MAX_CAPABILITIES) fail('too-large', 'capabilities', `${caps.length} capabilities, at most ${MAX_CAPABILITIES}`);
  const capabilities = caps.map((c, i) => {
    const pair = asList(c, `capabilities[${i}]`);
    if (pair.length < 2) fail('truncated', `capabilities[${i}]`, 'a capability is [cap-name, cap-version]');
    const name = asBytes(pair[0], 'cap-name');
    if (name.length === 0 || name.length > 8) fail('bad-length', 'cap-name', `a capability name is 1–8 ASCII letters, got ${name.length} bytes`);
    return { name: printable(name), version: asNumber(pair[1], 'cap-version', 4) };
  });
  const listenPort = Number(asBigint(l[3], 'listenPort', 2));
  const nodeId = asBytes(l[4], 'nodeKey');
  if (nodeId.length !== 64) fail('bad-length', 'nodeKey', `the node key is 64 bytes, got ${nodeId.length}`);
  return { protocolVersion, clientId, capabilities, listenPort, nodeId: nodeId.slice() };
}

/** Text as sent, with anything unprintable escaped (a client id is shown, never trusted). */
function printable(b: Uint8Array): string {
  const s = fromUtf8(b);
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Disconnect: [reason] by the spec; a bare reason byte (or an empty payload) is accepted as well. */
export function decodeDisconnect(payload: Uint8Array): Result<{ reason: number; form: 'list' | 'bare' | 'empty' }> {
  return attempt(() => {
    if (payload.length === 0) return { reason: 0, form: 'empty' as const };
    const item = decodeRlp(payload, 'disconnect');
    if (item.kind === 'bytes') return { reason: Number(asBigint(item, 'reason', 1)), form: 'bare' as const };
    if (item.items.length === 0) return { reason: 0, form: 'list' as const };
    return { reason: Number(asBigint(item.items[0], 'reason', 1)), form: 'list' as const };
  });
}

export const encodeDisconnect = (reason: number): Uint8Array => encodeRlp([rlpUint(reason)]);
/** Ping and Pong carry an empty list. */
export const EMPTY_LIST = Uint8Array.of(0xc0);

// ---- capability negotiation ----

export interface SharedCapability extends Capability {
  /** The first message id this capability uses on the connection. */
  offset: number;
  /** How many ids it takes. */
  length: number;
}

/**
 * rlpx.md "Capability Messaging": the capabilities both Hellos name (same name and version), the
 * highest common version of each name, sorted by name; ids after p2p's 0x00–0x0f, each taking
 * its message count. `lengthOf` gives the count for the capabilities we know.
 */
export function negotiate(ours: Capability[], theirs: Capability[], lengthOf: (c: Capability) => number | undefined): SharedCapability[] {
  const best = new Map<string, Capability>();
  for (const c of ours) {
    if (!theirs.some((t) => t.name === c.name && t.version === c.version)) continue;
    const prev = best.get(c.name);
    if (!prev || prev.version < c.version) best.set(c.name, c);
  }
  const names = [...best.keys()].sort();
  let offset = P2P_LENGTH;
  return names.map((n) => {
    const c = best.get(n)!;
    const length = lengthOf(c) ?? 0;
    const s = { ...c, offset, length };
    offset += length;
    return s;
  });
}

// ---- dissection ----

const HELLO_DOCS = [
  { name: 'protocolVersion', meaning: 'The p2p protocol version: 5 and above turn on snappy compression after Hello (EIP-706).' },
  { name: 'clientId', meaning: 'The client software and its version, free text.' },
  { name: 'capabilities', meaning: 'The sub-protocols the sender speaks, each [name, version]: the shared ones are used.' },
  { name: 'listenPort', meaning: 'The TCP port the sender listens on (0 or empty: not announced; most clients send 0).' },
  { name: 'nodeKey', meaning: 'The sender\'s static public key (64 bytes): must be the key the handshake proved.' },
];

export function helloFields(item: RlpItem, base = 0): Field {
  return namedList(item, { name: 'Hello', meaning: 'p2p Hello: the first framed message each side sends, never compressed.', spec: SPEC.hello }, (i, it) => {
    const d = HELLO_DOCS[i];
    if (!d) return EXTRA_ELEMENT(i, SPEC.eip8);
    if (i === 2 && it.kind === 'list')
      return {
        ...d,
        spec: SPEC.hello,
        field: namedList(it, { ...d, spec: SPEC.hello, value: `${it.items.length} capabilities` }, (j, cap) => ({
          name: `cap[${j}]`,
          value: cap.kind === 'list' && cap.items.length >= 2 && cap.items[0].kind === 'bytes' && cap.items[1].kind === 'bytes' ? `${fromUtf8(cap.items[0].value)}/${cap.items[1].value.reduce((a, b) => a * 256 + b, 0)}` : 'malformed',
          meaning: 'One capability: [cap-name (ASCII, ≤ 8 letters), cap-version].',
          spec: SPEC.capabilities,
        }), base),
      };
    const value = it.kind !== 'bytes' ? undefined : i === 1 ? JSON.stringify(printable(it.value)) : i === 4 ? `0x${toHex(it.value)}` : String(it.value.reduce((a, b) => a * 256 + b, 0));
    return { ...d, spec: SPEC.hello, ...(value !== undefined ? { value } : {}) };
  }, base);
}

export function disconnectFields(item: RlpItem, base = 0): Field {
  const reasonOf = (it: RlpItem) => (it.kind === 'bytes' ? disconnectReasonText(it.value.length === 0 ? 0 : it.value[it.value.length - 1]) : 'list');
  if (item.kind === 'bytes') return { ...namedList(item, { name: 'reason', meaning: 'A bare reason byte (not wrapped in a list): some clients send it this way; accepted.', spec: SPEC.disconnect, value: reasonOf(item) }, () => EXTRA_ELEMENT(0), base) };
  return namedList(item, { name: 'Disconnect', meaning: 'p2p Disconnect [reason]: the peer is about to close the connection, and says why.', spec: SPEC.disconnect }, (i, it) =>
    i === 0 ? { name: 'reason', value: reasonOf(it), meaning: 'Why the peer disconnects (rlpx.md lists every code).', spec: SPEC.disconnect } : EXTRA_ELEMENT(i, SPEC.disconnect), base);
}

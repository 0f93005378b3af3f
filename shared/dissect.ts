// The one dissection model every protocol produces and the UI renders generically:
// a packet is a stack of layers, each a byte range tiled by fields (a protocol analyser's
// field tree + hex pane). Leaf fields of a layer cover its bytes exactly once.
import type { RlpItem } from './rlp.ts';
import { describeRlp } from './rlp.ts';

export interface Field {
  /** Spec spelling: "masking-iv", "authdata-size", "id-signature". */
  name: string;
  /** Offset within its layer's bytes. */
  offset: number;
  length: number;
  /** Decoded and human-readable: "0x01 (WHOAREYOU)", "127.0.0.1", "3 ENRs". */
  value: string;
  /** One plain sentence. */
  meaning: string;
  /** Link to the section of the spec that defines it. */
  spec?: string;
  /** Keys and shared secrets: shown (this is a teaching tool), but marked. */
  secret?: boolean;
  children?: Field[];
}

export interface Layer {
  /** "datagram", "unmasked header", "authdata", "message (RLP)", "message fields". */
  name: string;
  bytes: Uint8Array;
  fields: Field[];
  note?: string;
  secret?: boolean;
}

export interface Dissection {
  protocol: string;
  /** "WHOAREYOU", "ordinary message", "handshake", … */
  kind: string;
  /** A short summary line: "PING req=0x01 enr-seq=2". */
  summary?: string;
  layers: Layer[];
  /** Set when decoding stopped: the layers so far are what could be read. */
  error?: string;
}

/** Problems with a layer's tiling: leaves must cover [0, bytes.length) once, parents span children. */
export function coverageProblems(layer: Layer): string[] {
  const problems: string[] = [];
  const leaves: Field[] = [];
  const walk = (fields: Field[], base: string) => {
    for (const f of fields) {
      if (f.children && f.children.length > 0) {
        const first = Math.min(...f.children.map((c) => c.offset));
        const last = Math.max(...f.children.map((c) => c.offset + c.length));
        if (first !== f.offset || last !== f.offset + f.length) problems.push(`${base}${f.name}: children span ${first}..${last}, field spans ${f.offset}..${f.offset + f.length}`);
        walk(f.children, `${base}${f.name}/`);
      } else leaves.push(f);
    }
  };
  walk(layer.fields, '');
  leaves.sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const f of leaves) {
    if (f.offset !== at) problems.push(`${f.name}: starts at ${f.offset}, expected ${at}`);
    if (f.length <= 0) problems.push(`${f.name}: empty field`);
    at = f.offset + f.length;
  }
  if (at !== layer.bytes.length) problems.push(`leaves end at ${at}, layer has ${layer.bytes.length} bytes`);
  return problems;
}

/** The leaf field containing byte `offset` of a layer (hex → tree link). */
export function fieldAt(fields: Field[], offset: number): Field[] | undefined {
  for (const f of fields) {
    if (offset >= f.offset && offset < f.offset + f.length) {
      if (f.children && f.children.length > 0) {
        const inner = fieldAt(f.children, offset);
        if (inner) return [f, ...inner];
      }
      return [f];
    }
  }
  return undefined;
}

const RLP_SPEC = 'https://ethereum.org/developers/docs/data-structures-and-encoding/rlp/';

/**
 * The generic structure of an RLP item: every prefix and every payload as its own field,
 * so a reader learns RLP from the bytes. `names` labels list elements by position.
 */
export function rlpStructure(item: RlpItem, name: string, base = 0): Field {
  const prefix = (what: string): Field => ({
    name: 'rlp prefix',
    offset: item.offset - base,
    length: item.headerLength,
    value: `0x${Array.from(itemHeader(item)).map((x) => x.toString(16).padStart(2, '0')).join('')} → ${what}`,
    meaning: 'RLP header: says whether a string or a list follows, and how many bytes long it is.',
    spec: RLP_SPEC,
  });
  if (item.kind === 'bytes') {
    const payload: Field = {
      name,
      offset: item.offset - base + item.headerLength,
      length: item.value.length,
      value: describeRlp(item),
      meaning: 'RLP string payload.',
      spec: RLP_SPEC,
    };
    if (item.headerLength === 0) return { ...payload, offset: item.offset - base, length: 1, meaning: 'A single byte below 0x80 is its own RLP encoding (no prefix).' };
    if (item.value.length === 0) return { ...prefix('empty string'), name, length: item.headerLength, meaning: '0x80 encodes an empty string (also the integer 0).' };
    return { name, offset: item.offset - base, length: item.length, value: describeRlp(item), meaning: 'RLP string: prefix, then payload.', spec: RLP_SPEC, children: [prefix(`string of ${item.value.length} bytes`), payload] };
  }
  const children = [prefix(`list of ${item.length - item.headerLength} bytes`), ...item.items.map((it, i) => rlpStructure(it, `[${i}]`, base))];
  return { name, offset: item.offset - base, length: item.length, value: describeRlp(item), meaning: 'RLP list: prefix, then its items one after another.', spec: RLP_SPEC, children };
}

function itemHeader(item: RlpItem): number[] {
  // Re-derive the header bytes from the lengths (the decoder already validated them).
  const payloadLen = item.length - item.headerLength;
  const base = item.kind === 'list' ? 0xc0 : 0x80;
  if (item.headerLength === 1) return [base + payloadLen];
  const lenBytes: number[] = [];
  for (let v = payloadLen; v > 0; v = Math.floor(v / 256)) lenBytes.unshift(v % 256);
  return [base + 55 + lenBytes.length, ...lenBytes];
}

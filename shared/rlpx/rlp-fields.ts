// Dissection of RLP whose meaning is known: the generic structure of shared/dissect.ts (every
// prefix and payload its own field), with each element of a list named and explained.
import type { Field } from '../dissect.ts';
import { rlpStructure } from '../dissect.ts';
import type { RlpItem } from '../rlp.ts';

export interface ElementDoc {
  name: string;
  meaning: string;
  spec?: string;
  /** The shown value; the generic RLP description when absent. */
  value?: string;
  /** A whole field for the element instead (a nested list named in turn). */
  field?: Field;
}

/** One RLP item as a named field (its prefix and payload as children). */
export function namedItem(item: RlpItem, doc: ElementDoc, base = 0): Field {
  const f = rlpStructure(item, doc.name, base);
  return { ...f, name: doc.name, meaning: doc.meaning, ...(doc.value !== undefined ? { value: doc.value } : {}), ...(doc.spec ? { spec: doc.spec } : {}) };
}

/**
 * A list whose elements are named by position (`docs(i, item)`): the list prefix, then each
 * element (extra elements past the known ones are named by the callback too).
 */
export function namedList(list: RlpItem, doc: ElementDoc, docs: (i: number, item: RlpItem) => ElementDoc, base = 0): Field {
  const f = rlpStructure(list, doc.name, base);
  if (list.kind !== 'list' || !f.children) return { ...f, meaning: doc.meaning };
  const [prefix, ...elements] = f.children;
  const children = [prefix, ...list.items.map((it, i) => {
    const d = docs(i, it);
    if (d.field) return d.field;
    const e = elements[i];
    return { ...e, name: d.name, meaning: d.meaning, ...(d.value !== undefined ? { value: d.value } : {}), ...(d.spec ? { spec: d.spec } : {}) };
  })];
  return { ...f, name: doc.name, meaning: doc.meaning, ...(doc.value !== undefined ? { value: doc.value } : {}), ...(doc.spec ? { spec: doc.spec } : {}), children };
}

export const EXTRA_ELEMENT = (i: number, spec?: string): ElementDoc => ({
  name: `[${i}] (extra)`,
  meaning: 'An element past the ones this version defines: EIP-8 says to accept and ignore it (room for later versions).',
  ...(spec ? { spec } : {}),
});

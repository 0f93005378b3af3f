// The glossary as the page uses it: loaded after the first paint (web/glossary/terms.ts), then
// every term in field names, notes and narration is marked; hover or keyboard focus shows its
// one-line definition (web/glossary/tooltip.ts). Until it loads, text shows plain.
import type { GlossaryIndex } from '../glossary/terms.ts';

export const glossary = $state<{ index?: GlossaryIndex; prose?: RegExp }>({});

/** Words too common in running text to mark every time (they are marked as field names). */
const NOT_IN_PROSE = new Set(['key', 'value', 'id', 'd', 'ip', 'ip6', 'udp', 'udp6', 'tcp', 'length', 'version', 'message', 'messages', 'request', 'response', 'protocol', 'info', 'secret', 'records', 'record', 'table', 'random', 'node', 'peer', 'peers', 'lab', 'Step', 'vector', 'vectors', 'distance', 'ephemeral', 'unread', 'tag', 'total', 'command', 'payload', 'enr', 'seq', 'signature', 'packet', 'session', 'challenge', 'datagram', 'salt', 'nonces', 'TCP', 'UDP', 'masked', 'unmask', 'unmasked', 'relay', 'services', 'timestamp', 'magic', 'announce', 'eth', 'eth2', 'initiator', 'recipient', 'handshake', 'handshakes', 'Replay', 'lookup', 'bucket', 'buckets', 'plaintext']);

let loading: Promise<void> | undefined;

export function loadGlossary(): Promise<void> {
  return (loading ??= Promise.all([import('../glossary/terms.ts'), import('../glossary/tooltip.ts')]).then(([t, tip]) => {
    const index = t.indexTerms();
    const spellings = [...new Set(t.TERMS.flatMap((x) => [x.term, ...(x.also ?? [])]))].filter((s) => !NOT_IN_PROSE.has(s) && s.length > 1);
    spellings.sort((a, b) => b.length - a.length);
    const alts = spellings.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    keyOf = t.termKey;
    glossary.index = index;
    glossary.prose = new RegExp(`(?<![\\w-])(${alts})(?![\\w-])`, 'g');
    tip.installTooltip((name) => t.termOf(index, name));
  }));
}

export interface Piece {
  text: string;
  /** The glossary key, when this piece is a term. */
  term?: string;
}

/** Running text cut into plain pieces and terms; each term marked once per text. */
export function pieces(text: string): Piece[] {
  const re = glossary.prose;
  if (!re || !text) return [{ text }];
  const out: Piece[] = [];
  const seen = new Set<string>();
  let at = 0;
  for (const m of text.matchAll(re)) {
    const key = m[1].toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ text: m[1], term: key });
    at = m.index + m[1].length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/** A whole name (a field's) as a term, when the glossary has it. */
export function nameTerm(name: string): string | undefined {
  return glossary.index && keyOf ? keyOf(glossary.index, name) : undefined;
}
let keyOf: typeof import('../glossary/terms.ts').termKey | undefined;

// The protocol registry: protocol id → how the page shows its records. Generic views ask
// here; adding a protocol adds a module and a line below, never a branch in a view.
import { bitcoinView } from './bitcoin.ts';
import { discv4View } from './discv4.ts';
import { discv5View } from './discv5.ts';
import { libp2pView } from './libp2p.ts';
import { rlpxView } from './rlpx.ts';
import type { Moment, Narration, ProtocolView, RecordView } from './types.ts';

export const PROTOCOLS: Record<string, ProtocolView> = {
  // The order of the protocol choice: Ethereum's discovery, its execution and consensus transports, then Bitcoin.
  discv5: discv5View,
  discv4: discv4View,
  rlpx: rlpxView,
  libp2p: libp2pView,
  bitcoin: bitcoinView,
};

export type ProtocolId = keyof typeof PROTOCOLS;

/** Records made before there was more than one protocol carry none: they are discv5. */
export const viewOf = (r: Pick<RecordView, 'protocol'>): ProtocolView => PROTOCOLS[r.protocol ?? 'discv5'] ?? discv5View;

export type Narrator = (r: Pick<RecordView, 'protocol'>, m: Moment) => Narration;
let narrators: Promise<Narrator> | undefined;

/** Every protocol's Step narration, loaded once (with the stepper): a record's own protocol speaks. */
export function loadNarrators(): Promise<Narrator> {
  return (narrators ??= Promise.all(Object.values(PROTOCOLS).map(async (p) => [p.id, await p.narration()] as const)).then((list) => {
    const by = new Map(list);
    return (r, m) => (by.get(r.protocol ?? 'discv5') ?? by.get('discv5')!)(m);
  }));
}

export const isProtocolId = (s: string): s is ProtocolId => Object.hasOwn(PROTOCOLS, s);

/** Every protocol's dissector, loaded (before a session is exported or printed: they dissect every packet). */
export const loadDissectors = (): Promise<unknown> => Promise.all(Object.values(PROTOCOLS).map((v) => v.loadDissector?.()));

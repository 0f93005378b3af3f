// The protocol registry: protocol id → how the page shows its records. Generic views ask
// here; adding a protocol adds a module and a line below, never a branch in a view.
import { bitcoinView } from './bitcoin.ts';
import { discv4View } from './discv4.ts';
import { discv5View } from './discv5.ts';
import type { ProtocolView, RecordView } from './types.ts';

export const PROTOCOLS: Record<string, ProtocolView> = {
  discv5: discv5View,
  bitcoin: bitcoinView,
  discv4: discv4View,
};

export type ProtocolId = keyof typeof PROTOCOLS;

/** Records made before there was more than one protocol carry none: they are discv5. */
export const viewOf = (r: Pick<RecordView, 'protocol'>): ProtocolView => PROTOCOLS[r.protocol ?? 'discv5'] ?? discv5View;

export const isProtocolId = (s: string): s is ProtocolId => Object.hasOwn(PROTOCOLS, s);

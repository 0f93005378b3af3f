// The page's discv5 choices and views of its own: which lab node or pasted record to talk to,
// the routing table as it fills and the running lookup. Session state (packets, notes, results)
// stays in Playground; this class holds only what is discv5's.
import { toHex } from '../../shared/bytes.ts';
import { parseTarget } from '../../shared/discv5/contact.ts';
import type { NodeContact } from '../../shared/discv5/engine.ts';
import type { Discv5LabPeer } from '../../shared/lab.ts';

export interface LookupProgress {
  id: number;
  target: string;
  inFlight: string[];
  queried: number;
  answered: number;
  failed: number;
  found: number;
  done: boolean;
  closest: { nodeId: string; distance: number }[];
}

export interface TableBucket {
  distance: number;
  /** verified: it answered your node, so your node's NODES answers may relay it. */
  nodes: { nodeId: string; seq: bigint; endpoint: string; addedAt: number; verified: boolean }[];
}

/** A record that decodes but is not whole and unchanged, said plainly (the decoder's words in brackets). */
function plainReason(e: { field: string; message: string; reason: string }): string {
  if (e.field === 'signature') return 'its signature does not match its contents: a character was changed somewhere (copy it again, whole)';
  if (e.field === 'enr' || e.field === 'target' || e.field === 'udp') return e.message;
  return `these characters do not make a whole record (${e.reason}): it was probably cut short or mistyped — copy it again, whole`;
}

export type Discv5Parsed = { ok: true; value: NodeContact } | { ok: false; error: { reason: string } };

export type Discv5Target = { ok: true; text: string; contact: NodeContact; name: string } | { ok: false; reason: string };

export class Discv5State {
  lab = $state.raw<Discv5LabPeer[]>([]);
  labError = $state<string | undefined>();
  /** 'lab:<node id>' or 'custom'. */
  choice = $state('');
  customText = $state('');
  table = $state.raw<TableBucket[]>([]);
  lookup = $state.raw<LookupProgress | undefined>();

  /** The pasted peer as typed: usable, or what is wrong in plain words. */
  customParsed = $derived.by((): Discv5Parsed | undefined => {
    if (!this.customText.trim()) return undefined;
    const r = parseTarget(this.customText);
    return r.ok ? r : { ok: false, error: { reason: plainReason(r.error) } };
  });
  target = $derived.by((): Discv5Target => this.resolve());

  constructor(private readonly nameOf: (nodeId: string) => string) {}

  /** The lab list from /lab.json; the first node is chosen unless the choice still exists. */
  setLab(peers: Discv5LabPeer[]): void {
    this.lab = peers;
    this.labError = peers.length === 0 ? 'no lab is running (npm start -- --no-lab): paste an ENR below' : undefined;
    if (!this.choice || (this.choice.startsWith('lab:') && !peers.some((p) => `lab:${p.nodeId}` === this.choice))) this.choice = peers.length ? `lab:${peers[0].nodeId}` : 'custom';
  }

  private resolve(): Discv5Target {
    if (this.choice.startsWith('lab:')) {
      const peer = this.lab.find((p) => `lab:${p.nodeId}` === this.choice);
      if (!peer) return { ok: false, reason: 'choose a lab node or paste an ENR' };
      const r = parseTarget(peer.enr);
      return r.ok ? { ok: true, text: peer.enr, contact: r.value, name: peer.name } : { ok: false, reason: r.error.reason };
    }
    const text = this.customText.trim();
    if (!text) return { ok: false, reason: 'paste an ENR (enr:…) or an enode URL (enode://…) first' };
    const r = parseTarget(text);
    return r.ok ? { ok: true, text, contact: r.value, name: this.nameOf(toHex(r.value.nodeId)) } : { ok: false, reason: plainReason(r.error) };
  }
}

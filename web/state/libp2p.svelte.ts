// The page's libp2p choices: which lab node (or pasted multiaddr / ENR) to dial. Session state
// (packets, notes, results) stays in Playground; this class holds only what is libp2p's.
import type { Libp2pLabPeer } from '../../shared/lab.ts';
import type { parseDialTarget } from '../../shared/libp2p/address.ts';
import { endpointKey, type Endpoint } from '../../shared/transport.ts';

export type Libp2pTarget = { ok: true; text: string; name: string; labPeer?: Libp2pLabPeer } | { ok: false; reason: string };

export class Libp2pState {
  lab = $state.raw<Libp2pLabPeer[]>([]);
  /** 'lab:<name>' or 'custom'. */
  choice = $state('');
  customText = $state('');
  /** The multiaddr / ENR reader, loaded after the first paint (it brings libp2p's key code). */
  private parse = $state.raw<typeof parseDialTarget | undefined>();
  private loading: Promise<void> | undefined;

  /** Loads the address reader (once); a pasted target is checked after it. */
  ready(): Promise<void> {
    return (this.loading ??= import('../../shared/libp2p/address.ts').then(
      (m) => void (this.parse = m.parseDialTarget),
      () => void (this.loading = undefined),
    ));
  }

  target = $derived.by((): Libp2pTarget => {
    if (this.choice.startsWith('lab:')) {
      const p = this.lab.find((l) => `lab:${l.name}` === this.choice);
      if (!p) return { ok: false, reason: 'choose a libp2p lab node or paste a multiaddr or ENR' };
      return { ok: true, text: p.multiaddr, name: p.name, labPeer: p };
    }
    const text = this.customText.trim();
    if (!text) return { ok: false, reason: 'paste a multiaddr (/ip4/…/tcp/…/p2p/…) or an ENR (enr:…)' };
    const parse = this.parse;
    if (!parse) {
      void this.ready();
      return { ok: false, reason: 'checking the address…' };
    }
    const t = parse(text);
    if ('error' in t) return { ok: false, reason: t.error };
    return { ok: true, text, name: endpointKey(t.endpoint) };
  });

  setLab(peers: Libp2pLabPeer[]): void {
    this.lab = peers;
    void this.ready();
    if (!this.choice || (this.choice.startsWith('lab:') && !peers.some((p) => `lab:${p.name}` === this.choice))) this.choice = peers.length ? `lab:${peers[0].name}` : 'custom';
  }

  /** A target from elsewhere in the page (a discv5 lookup's ENR). */
  dialText(text: string): void {
    this.choice = 'custom';
    this.customText = text;
  }

  labAt(e: Endpoint): Libp2pLabPeer | undefined {
    return this.lab.find((p) => p.ip === e.ip && p.tcp === e.port);
  }

  laneName(e: Endpoint): { name: string; sub: string } | undefined {
    const lab = this.labAt(e);
    return lab ? { name: lab.name, sub: endpointKey(e) } : undefined;
  }
}

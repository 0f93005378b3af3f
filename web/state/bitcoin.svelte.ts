// The page's Bitcoin choices: which lab node or host to handshake with, on which network, and
// the page's own TCP listener for the recipient role. Session state (packets, notes, results)
// stays in Playground; this class holds only what is Bitcoin's.
import { NETWORKS, type NetworkName } from '../../shared/bitcoin/spec.ts';
import type { BitcoinLabPeer } from '../../shared/lab.ts';
import { endpointKey, type Endpoint } from '../../shared/transport.ts';
import { parseBitcoinTarget } from '../../shared/bitcoin/target.ts';

export type BitcoinTarget = { ok: true; text: string; name: string; network: NetworkName; labPeer?: BitcoinLabPeer } | { ok: false; reason: string };

export class BitcoinState {
  lab = $state.raw<BitcoinLabPeer[]>([]);
  /** 'lab:<name>' or 'custom'. */
  choice = $state('');
  customText = $state('');
  network = $state<NetworkName>('regtest');
  /** The page's TCP listener on the bridge, once opened. */
  listening = $state.raw<Endpoint | undefined>();
  /** The lab node last asked to dial the listener: names the lane of the connection it makes. */
  dialler = $state<string | undefined>();

  target = $derived.by((): BitcoinTarget => {
    if (this.choice.startsWith('lab:')) {
      const p = this.lab.find((l) => `lab:${l.name}` === this.choice);
      if (!p) return { ok: false, reason: 'choose a Bitcoin lab node or type a host' };
      return { ok: true, text: `${p.ip}:${p.tcp}`, name: p.name, network: p.network, labPeer: p };
    }
    const text = this.customText.trim();
    const t = parseBitcoinTarget(text, NETWORKS[this.network].defaultPort);
    if ('error' in t) return { ok: false, reason: t.error };
    return { ok: true, text, name: t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`, network: this.network };
  });

  setLab(peers: BitcoinLabPeer[]): void {
    this.lab = peers;
    if (!this.choice || (this.choice.startsWith('lab:') && !peers.some((p) => `lab:${p.name}` === this.choice))) this.choice = peers.length ? `lab:${peers[0].name}` : 'custom';
  }

  /** The lab node listening at an endpoint (for lane names). */
  labAt(e: Endpoint): BitcoinLabPeer | undefined {
    return this.lab.find((p) => p.ip === e.ip && p.tcp === e.port);
  }

  laneName(e: Endpoint): { name: string; sub: string } {
    const lab = this.labAt(e);
    if (lab) return { name: lab.name, sub: endpointKey(e) };
    // A lab node that dialled your listener comes from its address and a port of its own.
    const dialledUs = this.listening !== undefined && this.dialler !== undefined && this.lab.some((p) => p.ip === e.ip);
    return dialledUs ? { name: `${this.dialler} → you`, sub: endpointKey(e) } : { name: endpointKey(e), sub: 'TCP peer' };
  }
}

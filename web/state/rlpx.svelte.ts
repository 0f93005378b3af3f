// The page's RLPx choices: which execution node to connect to (a lab node from /lab.json, or a
// pasted enode/ENR), the goal (Status, or Hello + Ping), the chain, and the page's TCP listener
// for the recipient role. Session state stays in Playground; this holds only what is RLPx's.
import { toHex } from '../../shared/bytes.ts';
import type { ChainName } from '../../shared/eth/chains.ts';
import type { ExecutionLabPeer } from '../../shared/lab.ts';
import { parseRlpxTarget } from '../../shared/rlpx/target.ts';
import { endpointKey, type Endpoint } from '../../shared/transport.ts';

export type RlpxTargetChoice =
  | { ok: true; text: string; name: string; endpoint: Endpoint; nodeId: string; labPeer?: ExecutionLabPeer }
  | { ok: false; reason: string };

export class RlpxState {
  lab = $state.raw<ExecutionLabPeer[]>([]);
  /** 'lab:<name>' or 'custom'. */
  choice = $state('');
  customText = $state('');
  goal = $state<'status' | 'ping'>('status');
  network = $state<ChainName>('mainnet');
  /** The page's TCP listener on the bridge, once opened for RLPx. */
  listening = $state.raw<Endpoint | undefined>();
  /** The lab node last asked to dial the listener (names the lane of its connection). */
  dialler = $state<string | undefined>();

  target = $derived.by((): RlpxTargetChoice => {
    if (this.choice.startsWith('lab:')) {
      const p = this.lab.find((l) => `lab:${l.name}` === this.choice);
      if (!p) return { ok: false, reason: 'choose an execution lab node or paste an enode' };
      return { ok: true, text: p.enode, name: p.name, endpoint: { ip: p.ip, port: p.tcp }, nodeId: p.nodeId, labPeer: p };
    }
    const text = this.customText.trim();
    if (!text) return { ok: false, reason: 'paste an enode URL (enode://…) or an ENR (enr:…) first' };
    const t = parseRlpxTarget(text);
    if (!t.ok) return { ok: false, reason: t.error.reason };
    const endpoint = { ip: t.value.ip, port: t.value.tcp };
    const lab = this.labAt(endpoint);
    return { ok: true, text, name: lab?.name ?? endpointKey(endpoint), endpoint, nodeId: toHex(t.value.nodeId), ...(lab ? { labPeer: lab } : {}) };
  });

  setLab(peers: ExecutionLabPeer[]): void {
    this.lab = peers;
    if (!this.choice || (this.choice.startsWith('lab:') && !peers.some((p) => `lab:${p.name}` === this.choice))) this.choice = peers.length ? `lab:${peers[0].name}` : 'custom';
  }

  /**
   * Aims RLPx at a node given as an enode URL (or ENR): the lab node it names, or a pasted
   * target. Returns the reason when the text is no RLPx target. (The discv4 view's "open an RLPx
   * connection to this node" calls this, then switches the page to RLPx.)
   */
  setTargetFromEnode(text: string): { ok: true } | { ok: false; reason: string } {
    const t = parseRlpxTarget(text);
    if (!t.ok) return { ok: false, reason: t.error.reason };
    const id = toHex(t.value.nodeId);
    const lab = this.lab.find((p) => p.nodeId === id && p.ip === t.value.ip && p.tcp === t.value.tcp);
    if (lab) this.choice = `lab:${lab.name}`;
    else {
      this.choice = 'custom';
      this.customText = text.trim();
    }
    return { ok: true };
  }

  labAt(e: Endpoint): ExecutionLabPeer | undefined {
    return this.lab.find((p) => p.ip === e.ip && p.tcp === e.port);
  }

  /** A lane's name for a TCP peer, when it is RLPx's to name. */
  laneName(e: Endpoint): { name: string; sub: string } | undefined {
    const lab = this.labAt(e);
    if (lab) return { name: lab.name, sub: endpointKey(e) };
    const dialledUs = this.listening !== undefined && this.dialler !== undefined && this.lab.some((p) => p.ip === e.ip && p.name === this.dialler);
    return dialledUs ? { name: `${this.dialler} → you`, sub: endpointKey(e) } : undefined;
  }
}

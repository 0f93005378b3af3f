// discv4 in the page: labels, colours, inspector steps, Step narration and the signature
// view of the key-schedule tab. The bytes are dissected by shared/discv4; the spec words quoted
// are discv4.md's, EIP-8's and EIP-868's, with links.
import { lazyDissect } from './lazy-dissect.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import type { PacketInfo } from '../lib/protocol.ts';
import type { HandshakeView, MessageCrypto } from './discv5-keys.ts';
import type { KeyScheduleView, ProtocolView, RecordView } from './types.ts';

const COLORS: Record<string, string> = {
  PING: 'var(--k-random)',
  PONG: 'var(--k-whoareyou)',
  FINDNODE: 'var(--k-handshake)',
  NEIGHBORS: 'var(--k-ordinary)',
  ENRRequest: 'var(--k-handshake)',
  ENRResponse: 'var(--k-ordinary)',
};

// ---------------------------------------------------------------- the signature steps

const STEP_NOTES = {
  'packet-sign': { label: 'Sign', why: 'Your node signs keccak256(packet-type ‖ packet-data) with its secp256k1 key; the packet hash covers the signature too.' },
  'signature-recover': { label: 'Recover the sender', why: 'discv4 packets carry no sender id: the receiver recovers the public key from the signature (r, s and the recovery id v) and the signing hash. keccak256 of that key is the node id.' },
};

/** One group per peer: the signatures made for it and recovered from it. */
function handshakesOf(traces: TraceRecord[]): HandshakeView[] {
  const groups = new Map<string, TraceRecord[]>();
  for (const t of traces) {
    if (!t.handshake?.startsWith('discv4:') || t.packet === undefined) continue;
    let g = groups.get(t.handshake);
    if (!g) groups.set(t.handshake, (g = []));
    g.push(t);
  }
  return [...groups.values()]
    .map((steps): HandshakeView => ({ peer: steps[0].peer ?? '', role: steps[0].step === 'packet-sign' ? 'initiator' : 'recipient', packet: Math.min(...steps.map((s) => s.packet!)), steps: steps.slice(-12), ok: steps.every((s) => s.ok !== false) }))
    .sort((a, b) => a.packet - b.packet);
}

const keySchedule: KeyScheduleView = {
  // discv4 has no session keys: each packet is signed, and the receiver recovers who signed it.
  wording: { group: 'Signatures exchanged with', ok: 'every signature checks' },
  handshakesOf,
  handshakeFor: (all, peer) => all.find((h) => h.peer === peer),
  provokesHandshake: () => false,
  messagesOf: (_records: PacketInfo[], _all: HandshakeView[], _hs: HandshakeView): MessageCrypto[] => [],
  stepNotes: STEP_NOTES,
};

/** The dissector loads on first use (web/protocols/lazy-dissect.ts). */
const dissector = lazyDissect('discv4', () => import('../../shared/discv4/dissect-packet.ts').then((m) => (r: RecordView) => m.dissectDiscv4(r.raw)));

export const discv4View: ProtocolView = {
  id: 'discv4',
  label: 'discv4',
  transport: 'udp',
  dissect: dissector.dissect,
  loadDissector: dissector.load,
  kindLabel: (r) => (r.rejected ? 'refused' : (r.kind ?? 'packet')),
  messageLabel: () => '',
  color: (r) => (r.rejected ? 'var(--k-rejected)' : (COLORS[r.kind ?? ''] ?? 'var(--k-ordinary)')),
  facts: (r) => (r.peerId ? [{ label: r.direction === 'in' ? 'sender (recovered)' : 'to node', value: `${r.peerId.slice(0, 16)}…` }] : []),
  layerSteps: { 'packet-data (RLP)': 'the bytes after packet-type, read as RLP: the packet’s named fields' },
  narration: () => import('./discv4-narration.ts').then((m) => m.narrate),
  lessons: [{ id: 'discv4-first-bond', title: 'Your first discv4 bond', minutes: 4, load: () => import('../lessons/discv4.ts').then((m) => m.default) }],
  keySchedule,
  idle: 'Press Ping: your node’s PING stops here first; then the PONG, and the lab node’s own PING back (bonding), one press at a time.',
  hint: {
    lead: 'Press Ping, then Find nodes. discv4 packets are signed, not encrypted; a first contact is an endpoint proof each way:',
    steps: [
      { label: 'PING', color: COLORS.PING, text: 'yours: “are you there?”, signed with your key.' },
      { label: 'PONG', color: COLORS.PONG, text: 'the node’s answer quotes your PING’s hash: its address is proven to you.' },
      { label: 'PING', color: COLORS.PING, text: 'the node pings you in turn, and your PONG proves your address to it (bonding).' },
      { label: 'FINDNODE', color: COLORS.FINDNODE, text: 'now it answers your FINDNODE with NEIGHBORS.' },
    ],
    after: 'Select a packet in the timeline (or use ↑ ↓). Its bytes appear here: hash, signature (r, s, v), packet-type and every RLP field, with the spec section that defines it. The Key schedule tab shows each signature and the sender recovered from it.',
  },
  legend: [
    { label: 'PING', color: COLORS.PING },
    { label: 'PONG', color: COLORS.PONG },
    { label: 'FINDNODE / ENRRequest', color: COLORS.FINDNODE },
    { label: 'NEIGHBORS / ENRResponse', color: COLORS.NEIGHBORS },
    { label: 'refused', color: 'var(--k-rejected)' },
  ],
};

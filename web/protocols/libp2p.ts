// libp2p in the page (the consensus layer's transport): labels, colours, Step narration token
// by token, and the Noise key schedule over the trace. The bytes are dissected by shared/libp2p;
// the words quoted are the libp2p specs' (noise, connections, yamux) and the Noise spec's.
import { lazyDissect } from './lazy-dissect.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import type { HandshakeView } from './discv5-keys.ts';
import type { KeyScheduleView, ProtocolView, RecordView } from './types.ts';

const COLORS: Record<string, string> = {
  multistream: 'var(--k-random)',
  'noise-e': 'var(--k-whoareyou)',
  'noise-e-ee-s-es': 'var(--k-handshake)',
  'noise-s-se': 'var(--k-handshake)',
  'noise-transport': 'var(--k-ordinary)',
};

export const LABELS: Record<string, string> = {
  multistream: 'multistream',
  'noise-e': 'Noise → e',
  'noise-e-ee-s-es': 'Noise ← e, ee, s, es',
  'noise-s-se': 'Noise → s, se',
  'noise-transport': 'encrypted',
};

// ---------------------------------------------------------------- the Noise key schedule

const NOISE_STEPS = new Set(['noise-init', 'noise-e', 'noise-ee', 'noise-s', 'noise-es', 'noise-se', 'noise-payload', 'identity-sign', 'identity-verify', 'split']);

function handshakesOf(traces: TraceRecord[]): HandshakeView[] {
  const groups = new Map<string, TraceRecord[]>();
  for (const t of traces) {
    if (!t.handshake?.endsWith(':noise') || !NOISE_STEPS.has(t.step)) continue;
    let g = groups.get(t.handshake);
    if (!g) groups.set(t.handshake, (g = []));
    g.push(t);
  }
  const out: HandshakeView[] = [];
  for (const steps of groups.values()) {
    const firstE = steps.find((s) => s.step === 'noise-e');
    out.push({
      peer: steps[0].peer ?? '',
      role: firstE?.title.startsWith('e: our') ? 'initiator' : 'recipient',
      packet: Math.min(...steps.map((s) => s.packet ?? Infinity)),
      steps,
      ok: steps.every((s) => s.ok !== false) && steps.some((s) => s.step === 'split'),
    });
  }
  return out.sort((a, b) => a.packet - b.packet);
}

const keySchedule: KeyScheduleView = {
  handshakesOf,
  // The handshake of the connection a record belongs to: the latest one started at or before it.
  handshakeFor: (all, _peer, seq) => {
    let best: HandshakeView | undefined;
    for (const h of all) if (h.packet <= seq && (!best || h.packet > best.packet)) best = h;
    return best ?? all[0];
  },
  provokesHandshake: () => false,
  messagesOf: () => [],
  stepNotes: {
    'noise-init': { label: 'Initialize', why: 'h and ck start as the protocol name, then the (empty) prologue is hashed in: both sides must agree on every byte before anything is sent.' },
    'noise-e': { label: 'e', why: 'A fresh ephemeral key: the source of forward secrecy. Sent in clear and hashed into h.' },
    'noise-ee': { label: 'ee', why: 'DH(ephemeral, ephemeral) → MixKey: the first cipher key k; from here on, everything is encrypted.' },
    'noise-s': { label: 's', why: 'A static key, encrypted with k and hashed into h: the identity of the Noise endpoint, hidden from onlookers.' },
    'noise-es': { label: 'es', why: 'DH(initiator ephemeral, responder static) → MixKey: only the holder of the responder’s static key can follow from here.' },
    'noise-se': { label: 'se', why: 'DH(initiator static, responder ephemeral) → MixKey: authenticates the initiator’s static key.' },
    'noise-payload': { label: 'payload', why: 'EncryptAndHash of the message payload: empty in message 1, the libp2p identity in messages 2 and 3. Its tag also proves h matches on both sides.' },
    'identity-sign': { label: 'identity signature', why: 'libp2p binds the Noise static key to the peer id: the identity key signs “noise-libp2p-static-key:” ‖ static key.' },
    'identity-verify': { label: 'identity check', why: 'The signature must verify with the key in the payload, and the peer id made from that key must be the one dialled.' },
    split: { label: 'Split', why: 'Two transport keys from the final ck: k1 for initiator → responder, k2 for the other way; each direction counts its own nonces.' },
  },
};

/** The dissector loads on first use (web/protocols/lazy-dissect.ts). */
const dissector = lazyDissect('libp2p', () => import('../../shared/libp2p/dissect.ts').then((m) => (r: RecordView) => m.dissectLibp2p(r)));

export const libp2pView: ProtocolView = {
  id: 'libp2p',
  label: 'libp2p',
  transport: 'tcp',
  dissect: dissector.dissect,
  loadDissector: dissector.load,
  kindLabel: (r) => (r.rejected ? 'refused' : (LABELS[r.kind ?? ''] ?? r.kind ?? 'message')),
  messageLabel: (r) => (r.kind === 'noise-transport' ? innerLabel(r.summary ?? '') : r.kind === 'multistream' ? (r.summary ?? '') : ''),
  color: (r) => (r.rejected ? 'var(--k-rejected)' : (COLORS[r.kind ?? ''] ?? 'var(--k-ordinary)')),
  facts: (r) => [
    { label: 'connection', value: r.conn ?? '?' },
    ...(r.peerId ? [{ label: 'peer id', value: r.peerId }] : []),
    ...(r.streamOffset !== undefined ? [{ label: 'stream bytes', value: `${r.streamOffset}–${r.streamOffset + r.raw.length - 1} (${r.direction === 'out' ? 'sent' : 'received'})` }] : []),
  ],
  layerSteps: {
    'handshake payload': 'DecryptAndHash with the current k and h as associated data: the identity protobuf',
    'plaintext (yamux)': 'ChaCha20-Poly1305 with this direction’s transport key (from Split) and the message counter as nonce',
  },
  narration: () => import('./libp2p-narration.ts').then((m) => m.narrate),
  lessons: [{ id: 'libp2p-first-dial', title: 'Your first libp2p dial', minutes: 4, load: () => import('../lessons/libp2p.ts').then((m) => m.default) }],
  keySchedule,
  idle: 'Press Dial: your node connects over TCP, and every message — multistream, each Noise message, every encrypted yamux frame — stops here first, in both directions.',
  hint: {
    lead: 'Press Dial. A consensus client’s connection, as libp2p makes it over TCP:',
    steps: [
      { label: 'multistream', color: COLORS.multistream, text: '“/multistream/1.0.0”, then “/noise”: both sides agree on the security protocol.' },
      { label: 'Noise → e', color: COLORS['noise-e'], text: 'your ephemeral X25519 key, in clear.' },
      { label: 'Noise ← e, ee, s, es', color: COLORS['noise-e-ee-s-es'], text: 'the node’s ephemeral key, then — encrypted — its static key and its libp2p identity, signed.' },
      { label: 'Noise → s, se', color: COLORS['noise-s-se'], text: 'your static key and identity. Both sides split into transport keys.' },
      { label: 'encrypted', color: COLORS['noise-transport'], text: 'yamux streams inside Noise: ping’s 32 bytes come back, identify says what the node runs.' },
    ],
    after: 'Select a message (or use ↑ ↓): the Noise layer, then the decrypted payload or yamux frames, every byte named. The Keys tab shows h, ck and k after every token.',
  },
  legend: [
    { label: 'multistream', color: COLORS.multistream },
    { label: 'Noise handshake', color: COLORS['noise-e-ee-s-es'] },
    { label: 'encrypted (yamux)', color: COLORS['noise-transport'] },
    { label: 'refused', color: 'var(--k-rejected)' },
  ],
};

/** "ping", "identify", "Window Update"…: the first thing inside an encrypted message. */
function innerLabel(summary: string): string {
  if (summary.includes('ping')) return 'ping';
  if (summary.includes('identify')) return 'identify';
  if (summary.includes('Go Away')) return 'Go Away';
  if (summary.includes('/yamux/')) return 'muxer';
  const m = /yamux (Data|Window Update|Ping)/.exec(summary);
  return m ? m[1] : '';
}

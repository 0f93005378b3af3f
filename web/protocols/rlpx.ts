// RLPx (with the eth Status) in the page: labels, colours, the key schedule over the trace, and
// Step narration. The bytes are dissected by shared/rlpx from the decrypted layers the engine
// kept with each record; the spec words quoted are rlpx.md's, EIP-8's, caps/eth.md's and EIP-2124's.
import { lazyDissect } from './lazy-dissect.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import type { HandshakeView } from './discv5-keys.ts';
import type { KeyScheduleView, ProtocolView, RecordView } from './types.ts';

const COLORS: Record<string, string> = {
  auth: 'var(--k-handshake)',
  ack: 'var(--k-handshake)',
  Hello: 'var(--k-whoareyou)',
  Status: 'var(--k-random)',
  Disconnect: 'var(--k-rejected)',
};

// ---- key schedule ----

const RLPX_STEPS = new Set(['static-ecdh', 'auth-sign', 'auth-recover', 'ecies-encrypt', 'ecies-decrypt', 'ephemeral-ecdh', 'secrets', 'mac-init', 'frame-mac']);

function handshakesOf(traces: TraceRecord[]): HandshakeView[] {
  const groups = new Map<string, TraceRecord[]>();
  for (const t of traces) {
    if (!RLPX_STEPS.has(t.step) || t.packet === undefined || !t.handshake) continue;
    let g = groups.get(t.handshake);
    if (!g) groups.set(t.handshake, (g = []));
    g.push(t);
  }
  return [...groups.values()]
    .map((steps) => ({
      peer: steps.find((s) => s.peer)?.peer ?? '',
      role: steps.some((s) => s.step === 'auth-recover') ? ('recipient' as const) : ('initiator' as const),
      packet: Math.min(...steps.map((s) => s.packet!)),
      steps,
      ok: steps.some((s) => s.step === 'secrets') && steps.every((s) => s.ok !== false),
    }))
    .sort((a, b) => a.packet - b.packet);
}

const keySchedule: KeyScheduleView = {
  handshakesOf,
  handshakeFor(all, peer, seq) {
    const mine = peer ? all.filter((h) => h.peer === peer) : all;
    let best: HandshakeView | undefined;
    for (const h of mine) if (h.packet <= seq && (!best || h.packet > best.packet)) best = h;
    return best ?? mine.find((h) => h.packet > seq);
  },
  provokesHandshake: () => false,
  messagesOf: () => [],
  stepNotes: {
    'static-ecdh': { label: 'static ECDH', why: 'Both static keys give static-shared-secret: only the two real nodes can compute it, so the signature over it ⊕ nonce proves who is talking.' },
    'auth-sign': { label: 'auth signature', why: 'Signed with the one-off ephemeral key: the recipient recovers that key from the signature instead of receiving it.' },
    'auth-recover': { label: 'recover ephemeral key', why: 'From the signature and static-shared-secret ⊕ initiator-nonce: the initiator’s ephemeral public key.' },
    'ecies-encrypt': { label: 'ECIES encrypt', why: 'A one-off key R with the recipient’s static key gives S; the concat KDF turns S into an AES-128 key and an HMAC key. The 2-byte size prefix is authenticated too (EIP-8).' },
    'ecies-decrypt': { label: 'ECIES decrypt', why: 'Our static key with R gives the same S; the HMAC tag is checked before anything is decrypted.' },
    'ephemeral-ecdh': { label: 'ephemeral ECDH', why: 'The two ephemeral keys: forward secrecy — the session keys die with the connection.' },
    secrets: { label: 'session secrets', why: 'A keccak256 chain: shared-secret mixes in both nonces, aes-secret keys the frame cipher, mac-secret keys the MAC.' },
    'mac-init': { label: 'MAC states', why: 'Each direction’s keccak256 state starts with (mac-secret ⊕ the other side’s nonce) ‖ the handshake packet exactly as sent.' },
    'frame-mac': { label: 'first frame', why: 'One AES-256-CTR keystream per direction; the MAC absorbs AES-256-ECB(mac-secret, digest) ⊕ the header ciphertext, then the body.' },
  },
};

/** The dissector loads on first use (web/protocols/lazy-dissect.ts). */
const dissector = lazyDissect('rlpx', () => import('../../shared/rlpx/dissect.ts').then((m) => (r: RecordView) => m.dissectRlpx(r.raw, r.rlpx, r.kind)));

export const rlpxView: ProtocolView = {
  id: 'rlpx',
  label: 'RLPx',
  transport: 'tcp',
  dissect: dissector.dissect,
  loadDissector: dissector.load,
  kindLabel: (r) => (r.rejected ? 'refused' : (r.kind ?? 'frame')),
  messageLabel: () => '',
  color: (r) => (r.rejected ? 'var(--k-rejected)' : (COLORS[r.kind ?? ''] ?? 'var(--k-ordinary)')),
  facts: (r) => [
    { label: 'connection', value: r.conn ?? '?' },
    ...(r.streamOffset !== undefined ? [{ label: 'stream bytes', value: `${r.streamOffset}–${r.streamOffset + r.raw.length - 1} (${r.direction === 'out' ? 'sent' : 'received'})` }] : []),
    ...(r.peerId ? [{ label: 'peer node id', value: `${r.peerId.slice(0, 16)}…` }] : []),
  ],
  layerSteps: {
    'ECIES envelope': '',
    'auth body (decrypted)': 'ECIES: S = ECDH(R, static key) → concat-KDF → kE ‖ kM; the HMAC tag checks, then AES-128-CTR under kE',
    'ack body (decrypted)': 'ECIES: S = ECDH(R, static key) → concat-KDF → kE ‖ kM; the HMAC tag checks, then AES-128-CTR under kE',
    frame: '',
    'header (decrypted)': 'header-mac checked, then AES-256-CTR (aes-secret, the connection’s running keystream)',
    'frame-data (decrypted)': 'frame-mac checked, then the same keystream continues over the body',
    'msg-data (snappy)': 'frame-data = rlp(msg-id) ‖ msg-data',
    'message (RLP)': 'snappy decompressed (the length checked against 16 MiB first)',
  },
  narration: () => import('./rlpx-narration.ts').then((m) => m.narrate),
  lessons: [{ id: 'rlpx-first-connection', title: 'Your first RLPx connection', minutes: 5, load: () => import('../lessons/rlpx.ts').then((m) => m.default) }],
  keySchedule,
  idle: 'Press Connect: your node dials the execution node over TCP; auth, ack and every frame stop here first, in both directions.',
  hint: {
    lead: 'Press Connect. RLPx is an encrypted handshake over one TCP connection, then framed messages:',
    steps: [
      { label: 'auth', color: COLORS.auth, text: 'yours, ECIES-encrypted to the node’s public key from its enode: a signature by a one-off key, your static key, a nonce.' },
      { label: 'ack', color: COLORS.ack, text: 'the node’s one-off key and nonce. Both sides now derive aes-secret and mac-secret.' },
      { label: 'Hello', color: COLORS.Hello, text: 'both ways, in frames: client name and capabilities (eth/68, eth/69). Snappy starts after it.' },
      { label: 'Status', color: COLORS.Status, text: 'both ways: network, genesis and the fork id — checked by EIP-2124’s rules.' },
    ],
    after: 'Select a message: its bytes appear here layer by layer — the ECIES envelope or the frame, then the decrypted header, the frame-data, the snappy block and the message’s fields. The Keys tab shows every secret as it was computed.',
  },
  legend: [
    { label: 'auth / ack', color: COLORS.auth },
    { label: 'Hello', color: COLORS.Hello },
    { label: 'Status', color: COLORS.Status },
    { label: 'Disconnect', color: COLORS.Disconnect },
    { label: 'other frame', color: 'var(--k-ordinary)' },
    { label: 'refused', color: 'var(--k-rejected)' },
  ],
};

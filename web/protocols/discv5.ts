// discv5 in the page: labels, colours, inspector steps; Step narration loads with the stepper
// (web/protocols/discv5-narration.ts). The bytes are dissected by shared/discv5.
import { parseHex } from '../../shared/bytes.ts';
import { dissectDiscv5 } from '../../shared/discv5/dissect-packet.ts';
import { handshakeFor, handshakesOf, messagesOf, provokesHandshake, STEP_NOTES } from './discv5-keys.ts';
import { shortId } from '../lib/names.ts';
import type { ProtocolView, RecordView } from './types.ts';

const COLORS: Record<string, string> = {
  random: 'var(--k-random)',
  WHOAREYOU: 'var(--k-whoareyou)',
  handshake: 'var(--k-handshake)',
  ordinary: 'var(--k-ordinary)',
};

export const discv5View: ProtocolView = {
  id: 'discv5',
  label: 'discv5',
  transport: 'udp',
  dissect: (r: RecordView) => dissectDiscv5(r.raw, parseHex(r.destId ?? '') ?? new Uint8Array(32), { ...(r.plaintext ? { plaintext: r.plaintext } : {}), random: r.kind === 'random' }),
  kindLabel: (r) => (!r.kind ? 'rejected' : r.kind === 'ordinary' ? 'message' : r.kind === 'random' ? 'random packet' : r.kind),
  messageLabel: (r) => {
    if (r.message) return r.message.type;
    if (r.kind === 'WHOAREYOU') return 'challenge';
    if (r.kind === 'ordinary' || r.kind === 'handshake') return 'unreadable: no session';
    return '';
  },
  color: (r) => (r.rejected || !r.kind ? 'var(--k-rejected)' : (COLORS[r.kind] ?? 'var(--k-ordinary)')),
  facts: (r, ctx) => [
    { label: 'masked for', value: r.direction === 'out' ? `${shortId(r.destId ?? '')} (their id)` : `${shortId(r.destId ?? '')} (${ctx.ourId})` },
  ],
  layerSteps: {
    'unmasked header': 'unmask: AES-128-CTR, key = dest-id[:16], iv = masking-iv',
    authdata: 'the header’s last authdata-size bytes',
    'message (RLP)': 'decrypt: AES-128-GCM with the session key, nonce from the header, ad = masking-iv ‖ header',
    'message (plaintext)': 'decrypt: AES-128-GCM with the session key',
    'message fields': 'the same plaintext, read as the message’s named fields',
    'record (RLP)': '',
  },
  narration: () => import('./discv5-narration.ts').then((m) => m.narrate),
  keySchedule: { handshakesOf, handshakeFor, provokesHandshake, messagesOf, stepNotes: STEP_NOTES },
  idle:
    'Press Ping (or any action). Your node will stop before every packet it sends and after every packet it receives, and explain it. → steps one packet, Space plays or pauses. ' +
    'Your node’s clock stands still while it waits for you, so its timeouts never fire because you were talking.',
  lessons: [{ id: 'discv5-first-handshake', title: 'Your first discv5 handshake', minutes: 6, first: true, load: () => import('../lessons/discv5.ts').then((m) => m.default) }],
  hint: {
    lead: 'Press Ping. A first contact between two discv5 nodes takes four packets:',
    steps: [
      { label: 'random packet', color: COLORS.random, text: 'your PING, sealed with a throw-away key: the peer cannot read it, and that makes it ask…' },
      { label: 'WHOAREYOU', color: COLORS.WHOAREYOU, text: '…who are you? A random challenge to sign.' },
      { label: 'handshake', color: COLORS.handshake, text: 'your node derives session keys (ECDH + HKDF), signs the challenge, and re-sends the PING encrypted.' },
      { label: 'message', color: COLORS.ordinary, text: 'the PONG, encrypted with the new keys: the session works.' },
    ],
    after: 'Select a packet in the timeline (or use ↑ ↓). Its bytes appear here layer by layer — datagram, unmasked header, authdata, decrypted message, message fields. Hover a field to light up its bytes; click a byte to find its field.',
  },
  legend: [
    { label: 'random packet', color: COLORS.random },
    { label: 'WHOAREYOU', color: COLORS.WHOAREYOU },
    { label: 'handshake', color: COLORS.handshake },
    { label: 'message', color: COLORS.ordinary },
    { label: 'rejected', color: 'var(--k-rejected)' },
  ],
};

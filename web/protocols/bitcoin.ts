// Bitcoin's version/verack handshake in the page: labels, colours, inspector steps; Step
// narration loads with the stepper (bitcoin-narration.ts). The bytes are dissected by shared/bitcoin.
import { lazyDissect } from './lazy-dissect.ts';
import { SPEC } from '../../shared/bitcoin/spec.ts';
import type { ProtocolView, RecordView } from './types.ts';

const COLORS: Record<string, string> = {
  version: 'var(--k-handshake)',
  verack: 'var(--k-random)',
  wtxidrelay: 'var(--k-whoareyou)',
  sendaddrv2: 'var(--k-whoareyou)',
  sendtxrcncl: 'var(--k-whoareyou)',
};

/** The dissector loads on first use (web/protocols/lazy-dissect.ts). */
const dissector = lazyDissect('bitcoin', () => import('../../shared/bitcoin/messages.ts').then((m) => (r: RecordView) => m.dissectBitcoin(r.raw)));

export const bitcoinView: ProtocolView = {
  id: 'bitcoin',
  label: 'Bitcoin',
  transport: 'tcp',
  // The page may talk to any network; the header's own magic names it in the dissection.
  dissect: dissector.dissect,
  loadDissector: dissector.load,
  kindLabel: (r) => (r.rejected ? 'refused' : (r.kind ?? 'message')),
  messageLabel: () => '',
  color: (r) => (r.rejected ? 'var(--k-rejected)' : (COLORS[r.kind ?? ''] ?? 'var(--k-ordinary)')),
  facts: (r) => [
    { label: 'connection', value: r.conn ?? '?' },
    ...(r.streamOffset !== undefined ? [{ label: 'stream bytes', value: `${r.streamOffset}–${r.streamOffset + r.raw.length - 1} (${r.direction === 'out' ? 'sent' : 'received'})` }] : []),
  ],
  layerSteps: { 'message header': '', payload: 'the header’s length says how many bytes follow; SHA256(SHA256(payload)) must start with the checksum' },
  narration: () => import('./bitcoin-narration.ts').then((m) => m.narrate),
  lessons: [{ id: 'bitcoin-first-handshake', title: 'Your first Bitcoin handshake', minutes: 4, load: () => import('../lessons/bitcoin.ts').then((m) => m.default) }],
  idle: 'Press Handshake: your node connects over TCP and every message of the version/verack exchange stops here first, in both directions.',
  hint: {
    lead: 'Press Handshake. Bitcoin’s handshake is four messages over one TCP connection:',
    steps: [
      { label: 'version', color: COLORS.version, text: 'yours: the side that connects speaks first — protocol version, services, clock, a nonce, user agent, best height.' },
      { label: 'version', color: COLORS.version, text: 'the node’s own. Both sides then speak the lower of the two versions (at 70016 also wtxidrelay and sendaddrv2, before verack).' },
      { label: 'verack', color: COLORS.verack, text: 'yours: “I accept your version”.' },
      { label: 'verack', color: COLORS.verack, text: 'the node’s: with a verack each way, the handshake is complete.' },
    ],
    after: 'Select a message in the timeline (or use ↑ ↓). Its bytes appear here: the 24-byte header (network magic, command, length, checksum), then every payload field. Hover a field to light up its bytes; click a byte to find its field.',
  },
  legend: [
    { label: 'version', color: COLORS.version },
    { label: 'verack', color: COLORS.verack },
    { label: 'feature negotiation', color: COLORS.wtxidrelay },
    { label: 'other message', color: 'var(--k-ordinary)' },
    { label: 'refused', color: 'var(--k-rejected)' },
  ],
  noKeySchedule: 'Bitcoin’s v1 transport is not encrypted: there are no keys. Each message is checked by its SHA256d checksum (see the header’s checksum field). The encrypted v2 transport (BIP 324) is a future lesson.',
};


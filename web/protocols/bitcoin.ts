// Bitcoin's version/verack handshake in the page: labels, colours and Step narration. The
// bytes are dissected by shared/bitcoin; the spec words quoted are the Bitcoin developer
// reference's (developer.bitcoin.org, P2P network) and the BIPs', with links.
import { dissectBitcoin } from '../../shared/bitcoin/messages.ts';
import { SPEC } from '../../shared/bitcoin/spec.ts';
import type { Narration, ProtocolView, RecordView } from './types.ts';

const COLORS: Record<string, string> = {
  version: 'var(--k-handshake)',
  verack: 'var(--k-random)',
  wtxidrelay: 'var(--k-whoareyou)',
  sendaddrv2: 'var(--k-whoareyou)',
  sendtxrcncl: 'var(--k-whoareyou)',
};

/** What each message is for, in plain words. */
const ABOUT: Record<string, string> = {
  version: 'Its version message: the protocol version it speaks, the services it offers, its clock, the address it sees you at, a random nonce, its software (user agent) and its best block height.',
  verack: 'verack acknowledges the other side’s version. With a verack each way, the handshake is complete.',
  wtxidrelay: 'wtxidrelay (BIP 339) says: announce transactions to me by witness txid. Like sendaddrv2, it is only allowed between version and verack.',
  sendaddrv2: 'sendaddrv2 (BIP 155) says: send me addresses in the addrv2 format, which can carry Tor v3, I2P and CJDNS addresses. Only allowed between version and verack.',
  sendheaders: 'sendheaders (BIP 130): announce new blocks by their headers. This comes after the handshake.',
  sendcmpct: 'sendcmpct (BIP 152): how the peer would like to receive new blocks as compact blocks. After the handshake.',
  ping: 'ping: are you still there? The answer, pong, echoes its nonce.',
  pong: 'pong: the answer to a ping, with the same nonce.',
  feefilter: 'feefilter (BIP 133): do not announce transactions that pay less than this fee rate.',
  getaddr: 'getaddr asks for addresses of other nodes.',
  alert: 'alert: the retired alert system. Old or odd nodes still send it; it is not a verack.',
};

const LINK: Record<string, string> = { version: SPEC.version, verack: SPEC.verack, wtxidrelay: SPEC.wtxidrelay, sendaddrv2: SPEC.sendaddrv2 };

function narrate(m: Parameters<ProtocolView['narrate']>[0]): Narration {
  if (m.phase === 'arrived') {
    return {
      title: `${m.size} bytes arrived on the TCP connection — not read yet`,
      plain: `TCP delivers a byte stream, not messages: these ${m.size} bytes from ${m.peer} may hold part of a message, one, or several. Press → and your node reads 24-byte headers off the stream (magic, command, length, checksum) and waits until each whole payload is in.`,
      spec: 'Bitcoin messages are sent over TCP: each begins with a 24-byte header giving the network (magic), the command, the payload size and a checksum.',
      section: 'Developer reference · Message headers',
      link: SPEC.header,
    };
  }
  const r = m.record;
  const cmd = r.kind ?? 'message';
  const about = ABOUT[cmd] ?? `A “${cmd}” message: not part of the handshake; your node lists it and does not act on it.`;
  if (r.rejected) {
    return {
      title: `Refused: ${r.rejected}`,
      plain: `These bytes from ${m.peer} break a rule every node checks before it trusts a message (the right network magic, a payload under 4 MB, a checksum that matches). Your node closes the connection: nothing in them is acted on.`,
      spec: 'Messages with a wrong magic, an oversized length or a checksum that does not match are dropped.',
      section: 'Developer reference · Message headers',
      link: SPEC.header,
    };
  }
  if (m.phase === 'before-send') {
    const title = cmd === 'version' ? `About to send: your version to ${m.peer}` : cmd === 'verack' ? `About to send: verack — “I accept your version”` : `About to send: ${cmd}`;
    const why =
      cmd === 'version'
        ? 'The side that opened the connection speaks first. ' + about.replace('Its version', 'Your version')
        : cmd === 'verack'
          ? `Your node read ${m.peer}’s version and accepts it. ${about}`
          : about;
    return { title, plain: why, spec: cmd === 'version' ? 'The “version” message provides information about the transmitting node to the receiving node at the beginning of a connection.' : undefined, section: cmd === 'version' ? 'Developer reference · version' : undefined, link: LINK[cmd] ?? SPEC.header };
  }
  const title = cmd === 'version' ? `Received ${m.peer}’s version` : cmd === 'verack' ? `Received verack from ${m.peer}` : `Received ${cmd}`;
  const extra = r.note ? `Your node: ${r.note}.` : undefined;
  return {
    title,
    plain: cmd === 'version' ? `${about} Both sides will use the lower of the two protocol versions.` : about,
    ...(cmd === 'version' ? { spec: 'Until both peers have exchanged “version” messages, no other messages will be accepted.', section: 'Developer reference · version' } : cmd === 'verack' ? { spec: 'The “verack” message acknowledges a previously-received “version” message, informing the connecting node that it can begin to send other messages.', section: 'Developer reference · verack' } : {}),
    link: LINK[cmd] ?? SPEC.header,
    ...(extra ? { extra } : {}),
  };
}

export const bitcoinView: ProtocolView = {
  id: 'bitcoin',
  label: 'Bitcoin',
  transport: 'tcp',
  // The page may talk to any network; the header's own magic names it in the dissection.
  dissect: (r: RecordView) => dissectBitcoin(r.raw),
  kindLabel: (r) => (r.rejected ? 'refused' : (r.kind ?? 'message')),
  messageLabel: () => '',
  color: (r) => (r.rejected ? 'var(--k-rejected)' : (COLORS[r.kind ?? ''] ?? 'var(--k-ordinary)')),
  facts: (r) => [
    { label: 'connection', value: r.conn ?? '?' },
    ...(r.streamOffset !== undefined ? [{ label: 'stream bytes', value: `${r.streamOffset}–${r.streamOffset + r.raw.length - 1} (${r.direction === 'out' ? 'sent' : 'received'})` }] : []),
  ],
  layerSteps: { 'message header': '', payload: 'the header’s length says how many bytes follow; SHA256(SHA256(payload)) must start with the checksum' },
  narrate,
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


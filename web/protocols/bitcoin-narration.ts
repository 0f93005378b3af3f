// Bitcoin's Step narration: plain words, then the words of the Bitcoin developer reference
// (developer.bitcoin.org, P2P network) and the BIPs, with links. Loaded with the stepper.
import { SPEC } from '../../shared/bitcoin/spec.ts';
import type { Moment, Narration } from './types.ts';

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

/** What Step mode says at one moment of a Bitcoin exchange. */
export function narrate(m: Moment): Narration {
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


// RLPx's Step narration: plain words, then the words of rlpx.md, EIP-8, caps/eth.md and EIP-2124,
// with links. Loaded with the stepper.
import { SPEC } from '../../shared/rlpx/spec.ts';
import { ETH_SPEC } from '../../shared/eth/status.ts';
import { EIP_2124 } from '../../shared/eth/forkid.ts';
import type { Moment, Narration } from './types.ts';

const ABOUT: Record<string, { plain: string; spec?: string; section?: string; link: string }> = {
  auth: {
    plain: 'auth: the initiator’s first message, ECIES-encrypted to the recipient’s static public key (from its enode). Inside: a signature made with a one-off (ephemeral) key over static-shared-secret ⊕ nonce, the initiator’s static key and a random nonce. The recipient recovers the ephemeral key from the signature.',
    spec: 'The initiator connects to the recipient and sends its auth message.',
    section: 'rlpx.md · Initial Handshake',
    link: SPEC.handshake,
  },
  ack: {
    plain: 'ack: the recipient’s answer, ECIES-encrypted to the initiator’s static key: its own ephemeral public key and nonce. With both ephemeral keys and both nonces, each side now derives the same aes-secret and mac-secret.',
    spec: 'The recipient accepts, decrypts and verifies auth … and derives secrets, then sends ack.',
    section: 'rlpx.md · Initial Handshake',
    link: SPEC.handshake,
  },
  Hello: {
    plain: 'Hello: the first framed message each side sends (encrypted with aes-secret, authenticated with the keccak MAC, never compressed): the client’s name, the capabilities it speaks (eth/68…) and its node key. The capabilities both name are the ones used; snappy compression starts after Hello.',
    spec: 'First packet sent over the connection, and sent once by both sides.',
    section: 'rlpx.md · Hello (0x00)',
    link: SPEC.hello,
  },
  Status: {
    plain: 'Status: the eth sub-protocol’s first message: network id, genesis hash and the EIP-2124 fork id (a CRC32 over the genesis hash and every fork passed, plus the next fork). A peer on another chain, or on an incompatible fork, is dropped here.',
    spec: 'Inform a peer of its current state. This message should be sent just after the connection is established and prior to any other eth protocol messages.',
    section: 'caps/eth.md · Status (0x00)',
    link: ETH_SPEC.status,
  },
  Disconnect: { plain: 'Disconnect: the sender is about to close the connection, and says why (a reason code).', spec: 'Inform the peer that a disconnection is imminent.', section: 'rlpx.md · Disconnect (0x01)', link: SPEC.disconnect },
  Ping: { plain: 'Ping: are you still there? The answer is Pong. Like every message after Hello, snappy-compressed.', section: 'rlpx.md · Ping (0x02)', link: SPEC.ping },
  Pong: { plain: 'Pong: the answer to a Ping.', section: 'rlpx.md · Pong (0x03)', link: SPEC.pong },
};

export function narrate(m: Moment): Narration {
  if (m.phase === 'arrived') {
    return {
      title: `${m.size} bytes arrived on the TCP connection — not read yet`,
      plain: `TCP delivers a byte stream: these ${m.size} bytes from ${m.peer} may hold part of a message, one, or several. Press → and your node reads them: first the auth/ack (its size prefix says how long), then frames of 32 header bytes (checked by their MAC before decrypting) and a body.`,
      spec: 'All messages following the initial handshake are framed.',
      section: 'rlpx.md · Framing',
      link: SPEC.framing,
    };
  }
  const r = m.record;
  const kind = r.kind ?? 'frame';
  const about = ABOUT[kind] ?? { plain: `${kind}: a message after the handshake; your node lists it.`, link: SPEC.messages };
  if (r.rejected) {
    return {
      title: `Refused: ${r.rejected}`,
      plain: `These bytes from ${m.peer} fail a check your node makes before it trusts anything (the ECIES tag, a frame MAC, the message format). It closes the connection; the session keys and MAC states are left exactly as they were.`,
      spec: 'A MAC mismatch means the data was tampered with or the keys differ: the connection must be dropped.',
      section: 'rlpx.md · MAC',
      link: SPEC.mac,
    };
  }
  const who = m.phase === 'before-send' ? 'About to send' : 'Received';
  const extra = r.note ? `Your node: ${r.note}${r.note.endsWith('.') ? '' : '.'}` : undefined;
  return {
    title: `${who}: ${r.summary ?? kind}`,
    plain: about.plain,
    ...(about.spec ? { spec: about.spec } : {}),
    ...(about.section ? { section: about.section } : {}),
    link: kind === 'Status' && r.note?.startsWith('Rule') ? EIP_2124 : about.link,
    ...(extra ? { extra } : {}),
  };
}

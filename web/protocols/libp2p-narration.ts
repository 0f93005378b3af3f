// libp2p's Step narration, token by token: plain words, then the words of the libp2p specs (noise,
// connections, yamux) and the Noise spec, with links. Loaded with the stepper.
import { SPEC } from '../../shared/libp2p/spec.ts';
import { LABELS } from './libp2p.ts';
import type { Moment, Narration } from './types.ts';

/** What a message is, token by token, in plain words. */
const ABOUT: Record<string, { plain: string; spec: string; section: string; link: string }> = {
  multistream: {
    plain: 'multistream-select picks the protocol for the connection. Each side first says “/multistream/1.0.0”; the dialer proposes “/noise”; the listener echoes it to agree (or answers “na”). Each message is a varint length, the text, and a newline.',
    spec: 'The dialer sends the multistream header and the protocol id it wants; the listener echoes the id back to agree, or responds with “na”.',
    section: 'libp2p connections · protocol negotiation',
    link: SPEC.connections,
  },
  'noise-e': {
    plain: 'Token e: the initiator makes a fresh X25519 key pair and sends the public half in clear — no key exists yet to hide it. Both sides mix it into the handshake hash h. libp2p puts no payload here.',
    spec: '-> e',
    section: 'Noise · XX pattern, message 1',
    link: SPEC.noiseXX,
  },
  'noise-e-ee-s-es': {
    plain: 'e: the responder’s fresh ephemeral key, in clear. ee: both compute X25519(e, re) and MixKey it — now there is a cipher key. s: the responder’s static Noise key goes encrypted. es: X25519 of the initiator’s ephemeral and the responder’s static key, mixed in. Then the payload, encrypted: its libp2p identity key, a signature binding the static key to it, and the muxers it offers.',
    spec: '<- e, ee, s, es',
    section: 'Noise · XX pattern, message 2',
    link: SPEC.noiseXX,
  },
  'noise-s-se': {
    plain: 's: the initiator’s static key, encrypted. se: X25519 of the initiator’s static and the responder’s ephemeral key, mixed in. Then the initiator’s identity payload. After this message both sides Split() the chaining key into two transport keys, one per direction.',
    spec: '-> s, se',
    section: 'Noise · XX pattern, message 3',
    link: SPEC.noiseXX,
  },
  'noise-transport': {
    plain: 'A Noise transport message: 2-byte length, then ChaCha20-Poly1305 under this direction’s key, nonce counting up. Inside: yamux frames — 12-byte headers with a stream id — and on the streams, multistream-select again, then ping’s 32 bytes or identify’s protobuf.',
    spec: 'Each Noise message is prefixed with its length as a 2-byte big-endian integer.',
    section: 'libp2p noise · wire format',
    link: SPEC.noiseWire,
  },
};

export function narrate(m: Moment): Narration {
  if (m.phase === 'arrived') {
    return {
      title: `${m.size} bytes arrived on the TCP connection — not read yet`,
      plain: `TCP delivers a byte stream, not messages. Press → and your node reads them: first multistream lines (a varint length each), then Noise messages (a 2-byte length each).`,
      spec: 'Noise messages are prefixed with a 2-byte big-endian length.',
      section: 'libp2p noise · wire format',
      link: SPEC.noiseWire,
    };
  }
  const r = m.record;
  const kind = r.kind ?? 'message';
  if (r.rejected) {
    return {
      title: `Refused: ${r.rejected}`,
      plain: `Your node will not go on with ${m.peer}: ${r.rejected}. A Noise tag that fails, a signature that does not verify or an identity that is not the one dialled ends the connection.`,
      spec: 'Upon receiving the handshake payload, peers MUST decode the public key and verify the signature; if the signature is invalid, the handshake MUST be aborted.',
      section: 'libp2p noise · handshake payload',
      link: SPEC.noiseSignature,
    };
  }
  const a = ABOUT[kind] ?? ABOUT['noise-transport'];
  const verb = m.phase === 'before-send' ? 'About to send' : 'Received';
  const title = kind === 'noise-transport' ? `${verb}: ${r.summary ?? 'an encrypted message'}` : kind === 'multistream' ? `${verb}: “${r.summary}”` : `${verb}: ${LABELS[kind]}`;
  return { title, plain: a.plain, spec: a.spec, section: a.section, link: a.link, ...(r.note ? { extra: `Your node: ${r.note}` } : {}) };
}

// "Your first Bitcoin handshake": version/verack with a lab bcoin node over TCP, then the
// version message's own fields. Checkpoints read what the learner did (LessonContext).
import { SPEC } from '../../shared/bitcoin/spec.ts';
import { latest, type Lesson } from './types.ts';

export const firstBitcoin: Lesson = {
  id: 'bitcoin-first-handshake',
  protocol: 'bitcoin',
  title: 'Your first Bitcoin handshake',
  steps: [
    {
      id: 'choose',
      goal: 'Switch the side panel to Bitcoin.',
      todo: 'Choose Bitcoin under the protocol choice on the left.',
      target: ['[data-testid="protocol-bitcoin"]'],
      check: (c) => c.protocol === 'bitcoin',
      why: 'Bitcoin nodes speak over TCP, not UDP: one connection, a byte stream, messages framed by a 24-byte header.',
      spec: { label: 'Developer reference · Message headers', link: SPEC.header },
    },
    {
      id: 'handshake',
      goal: 'Connect to a real Bitcoin node.',
      todo: 'A lab bcoin node is chosen. Press Handshake.',
      target: ['[data-testid="btc-handshake"]'],
      check: (c) => !!latest(c.since, (r) => r.protocol === 'bitcoin' && r.direction === 'in' && r.kind === 'verack'),
      why: 'version → version → verack → verack: each side says who it is, then accepts the other.',
      spec: { label: 'Developer reference · version', link: SPEC.version },
    },
    {
      id: 'their-version',
      goal: 'Read what the node told you about itself.',
      todo: 'Click the node’s version message on the timeline (the arrow pointing to you).',
      target: ['.timeline [data-protocol="bitcoin"][data-direction="in"][data-kind="version"]'],
      check: (c) => (c.selected?.kind === 'version' && c.selected.direction === 'in') || (c.selected ? { hint: 'Pick the version that comes in (the arrow pointing at your lifeline).' } : false),
      why: 'The version message is the node’s introduction: protocol version, services, clock, how it sees you, its software and best block.',
      spec: { label: 'Developer reference · version', link: SPEC.version },
    },
    {
      id: 'user-agent',
      goal: 'Find the node’s software name.',
      todo: 'In Packet bytes, open the version payload layer and click the user_agent field.',
      target: ['.tree [data-field="user_agent"]', '.layers [data-layer$="payload"]'],
      check: (c) => c.field?.name === 'user_agent' || (c.field ? { hint: `That is ${c.field.name}: user_agent is further down the payload.` } : false),
      why: 'user_agent is a free-text name (BIP 14): here bcoin’s. Nodes log it; nothing trusts it.',
      spec: { label: 'BIP 14 · user agent', link: 'https://github.com/bitcoin/bips/blob/master/bip-0014.mediawiki' },
    },
    {
      id: 'checksum',
      goal: 'See how each message is protected without encryption.',
      todo: 'Open the message header layer and click the checksum field.',
      target: ['.tree [data-field="checksum"]', '.layers [data-layer="message header"]'],
      check: (c) => c.field?.name === 'checksum',
      why: 'v1 Bitcoin has no keys: the checksum (first 4 bytes of SHA256(SHA256(payload))) only catches corruption, not tampering.',
      spec: { label: 'Developer reference · Message headers', link: SPEC.header },
    },
  ],
};

export default firstBitcoin;

// "Your first libp2p dial": multistream-select, Noise XX and yamux with a lab js-libp2p node, then
// the identity proof inside Noise and its key schedule. Checkpoints read what the learner did.
import { SPEC } from '../../shared/libp2p/spec.ts';
import { type Lesson } from './types.ts';

export const firstLibp2p: Lesson = {
  id: 'libp2p-first-dial',
  protocol: 'libp2p',
  title: 'Your first libp2p dial',
  steps: [
    {
      id: 'choose',
      goal: 'Switch the side panel to libp2p.',
      todo: 'Choose libp2p under the protocol choice on the left.',
      target: ['[data-testid="protocol-libp2p"]'],
      check: (c) => c.protocol === 'libp2p',
      why: 'Consensus clients (Lighthouse, Prysm, …) find each other with discv5, then connect with libp2p over TCP.',
      spec: { label: 'libp2p connections', link: SPEC.connections },
    },
    {
      id: 'dial',
      goal: 'Dial a real libp2p node and ping it.',
      todo: 'A lab libp2p node is chosen. Press Dial.',
      target: ['[data-testid="p2p-dial"]'],
      check: (c) => (c.result?.action === 'dial' ? c.result.ok || { hint: 'The dial failed: read the reason under the button and press Dial again.' } : false),
      why: 'multistream-select picks Noise, Noise XX proves both identities and sets the keys, yamux carries the ping.',
      spec: { label: 'libp2p noise', link: SPEC.noiseXX },
    },
    {
      id: 'message-2',
      goal: 'Open the node’s Noise message.',
      todo: 'Click the arrow labelled “Noise ← e, ee, s, es” on the timeline.',
      target: ['.timeline [data-protocol="libp2p"][data-direction="in"][data-kind="noise-e-ee-s-es"]'],
      check: (c) => c.selected?.kind === 'noise-e-ee-s-es' || (c.selected ? { hint: 'Pick the second Noise message: from the node to you.' } : false),
      why: 'One message, four tokens: the node’s fresh key, a first shared secret, its static key (already encrypted) and a second secret.',
      spec: { label: 'Noise · XX pattern', link: SPEC.noiseXX },
    },
    {
      id: 'signature',
      goal: 'Find the node’s proof of identity.',
      todo: 'In Packet bytes, open the handshake payload layer and click identity_sig.',
      target: ['.tree [data-field="identity_sig"]', '.layers [data-layer="handshake payload"]'],
      check: (c) => c.field?.name === 'identity_sig' || (c.field ? { hint: `That is ${c.field.name}: identity_sig is in the decrypted handshake payload.` } : false),
      why: 'The node signs its Noise static key with its secp256k1 identity key: that is what ties this encrypted channel to its peer id.',
      spec: { label: 'libp2p noise · handshake payload', link: SPEC.noiseSignature },
    },
    {
      id: 'keys',
      goal: 'Follow Noise’s state, token by token.',
      todo: 'Open the Key schedule tab.',
      target: ['[data-lesson="tab-keys"]'],
      check: (c) => c.tab === 'keys',
      why: 'After each token the handshake hash h, chaining key ck and cipher key k change; Split() turns ck into one key per direction.',
      spec: { label: 'Noise · processing rules', link: SPEC.noiseXX },
    },
  ],
};

export default firstLibp2p;

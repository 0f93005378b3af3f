// "Your first RLPx connection": auth/ack and Status with a lab execution node over TCP, then the
// layers inside: the decrypted auth body, the fork id, the keys. Checkpoints read what the learner did.
import { SPEC } from '../../shared/rlpx/spec.ts';
import { ETH_SPEC } from '../../shared/eth/status.ts';
import { EIP_2124 } from '../../shared/eth/forkid.ts';
import { latest, type Lesson } from './types.ts';

export const firstRlpx: Lesson = {
  id: 'rlpx-first-connection',
  protocol: 'rlpx',
  title: 'Your first RLPx connection',
  steps: [
    {
      id: 'choose',
      goal: 'Switch the side panel to RLPx.',
      todo: 'Choose RLPx under the protocol choice on the left.',
      target: ['[data-testid="protocol-rlpx"]'],
      check: (c) => c.protocol === 'rlpx',
      why: 'Execution clients (geth, Nethermind, …) talk over RLPx: one TCP connection, encrypted and authenticated from the first byte.',
      spec: { label: 'rlpx.md · RLPx Transport Protocol', link: SPEC.handshake },
    },
    {
      id: 'connect',
      goal: 'Connect to a real execution node and exchange Status.',
      todo: 'A lab execution node is chosen and the goal is Status. Press Connect.',
      target: ['[data-testid="rlpx-connect"]'],
      check: (c) => !!latest(c.since, (r) => r.protocol === 'rlpx' && r.direction === 'in' && r.kind === 'Status'),
      why: 'auth → ack sets up the keys; then Hello and Status go both ways inside encrypted frames.',
      spec: { label: 'rlpx.md · Initial Handshake', link: SPEC.handshake },
    },
    {
      id: 'auth',
      goal: 'Open your first message, auth.',
      todo: 'Click your auth message on the timeline (the first arrow, leaving your lifeline).',
      target: ['.timeline [data-protocol="rlpx"][data-direction="out"][data-kind="auth"]'],
      check: (c) => (c.selected?.kind === 'auth' && c.selected.direction === 'out') || (c.selected ? { hint: 'Pick auth: the first arrow, from you to the node.' } : false),
      why: 'auth is encrypted to the node’s public key (from its enode) with ECIES: only that node can read it.',
      spec: { label: 'EIP-8 · auth', link: SPEC.handshake },
    },
    {
      id: 'nonce',
      goal: 'Look inside the encryption.',
      todo: 'In Packet bytes, open the decrypted auth body layer and click initiator-nonce.',
      target: ['.tree [data-field="initiator-nonce"]', '.layers [data-layer="auth body (decrypted)"]'],
      check: (c) => c.field?.name === 'initiator-nonce' || (c.field ? { hint: `That is ${c.field.name}: initiator-nonce is in the decrypted auth body.` } : false),
      why: 'Your random nonce: with the node’s nonce from ack it goes into every session secret, so no two connections share keys.',
      spec: { label: 'rlpx.md · Initial Handshake', link: SPEC.handshake },
    },
    {
      id: 'status',
      goal: 'Open the node’s Status.',
      todo: 'Click the node’s Status on the timeline (an arrow pointing to you).',
      target: ['.timeline [data-protocol="rlpx"][data-direction="in"][data-kind="Status"]'],
      check: (c) => (c.selected?.kind === 'Status' && c.selected.direction === 'in') || (c.selected ? { hint: 'Pick Status from the node: the arrow pointing at your lifeline.' } : false),
      why: 'Status is the eth sub-protocol’s first message: which network and chain the node follows.',
      spec: { label: 'caps/eth.md · Status', link: ETH_SPEC.status },
    },
    {
      id: 'forkid',
      goal: 'See how the node checks you are on its chain.',
      todo: 'In Packet bytes, open the message (RLP) layer and click the forkid field.',
      target: ['.tree [data-field="forkid"]', '.layers [data-layer="message (RLP)"]'],
      check: (c) => (c.selected?.kind === 'Status' && c.field?.name === 'forkid') || (c.field ? { hint: `That is ${c.field.name}: forkid is the last field of Status.` } : false),
      why: 'The fork id is a CRC32 over the genesis hash and every fork passed: two nodes on different chains or forks drop each other here.',
      spec: { label: 'EIP-2124 · Fork identifier', link: EIP_2124 },
    },
    {
      id: 'keys',
      goal: 'See where the keys came from.',
      todo: 'Open the Key schedule tab.',
      target: ['[data-lesson="tab-keys"]'],
      check: (c) => c.tab === 'keys',
      why: 'Two ECDHs (static and ephemeral), then a keccak chain: aes-secret encrypts the frames, mac-secret keys their MACs.',
      spec: { label: 'rlpx.md · Secrets', link: SPEC.secrets },
    },
  ],
};

export default firstRlpx;

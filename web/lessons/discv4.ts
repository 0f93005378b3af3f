// "Your first discv4 bond": PING/PONG both ways with a lab execution node (the endpoint proof),
// the PONG's ping-hash, FINDNODE → NEIGHBORS, and the signature recovery that names every sender.
import { SPEC } from '../../shared/discv4/spec.ts';
import { latest, type Lesson } from './types.ts';

export const firstDiscv4: Lesson = {
  id: 'discv4-first-bond',
  protocol: 'discv4',
  title: 'Your first discv4 bond',
  steps: [
    {
      id: 'choose',
      goal: 'Switch the side panel to discv4.',
      todo: 'Choose discv4 under the protocol choice on the left.',
      target: ['[data-testid="protocol-discv4"]'],
      check: (c) => c.protocol === 'discv4',
      why: 'Execution clients (geth, Nethermind, …) still find each other with Node Discovery v4: signed UDP packets, no sessions.',
      spec: { label: 'discv4.md · Node Discovery Protocol v4', link: SPEC.wire },
    },
    {
      id: 'ping',
      goal: 'Ping a real execution node.',
      todo: 'A lab execution node is chosen. Press Ping.',
      target: ['[data-testid="v4-ping"]'],
      check: (c) => !!latest(c.since, (r) => r.protocol === 'discv4' && r.direction === 'in' && r.kind === 'PONG'),
      why: 'PING → PONG proves the node is at that address; it then pings you back so your address is proven to it too (bonding).',
      spec: { label: 'discv4.md · Ping Packet', link: SPEC.ping },
    },
    {
      id: 'pong',
      goal: 'Open the node’s answer.',
      todo: 'Click the node’s PONG on the timeline (an arrow pointing to you).',
      target: ['.timeline [data-protocol="discv4"][data-direction="in"][data-kind="PONG"]'],
      check: (c) => (c.selected?.kind === 'PONG' && c.selected.direction === 'in') || (c.selected ? { hint: 'Pick the PONG from the node: the arrow pointing at your lifeline.' } : false),
      why: 'Every discv4 packet is signed: hash ‖ signature ‖ type ‖ RLP fields.',
      spec: { label: 'discv4.md · Pong Packet', link: SPEC.pong },
    },
    {
      id: 'ping-hash',
      goal: 'See how a PONG proves it answers your PING.',
      todo: 'In Packet bytes, open the packet-data (RLP) layer and click ping-hash.',
      target: ['.tree [data-field="ping-hash"]', '.layers [data-layer="packet-data (RLP)"]'],
      check: (c) => (c.selected?.kind === 'PONG' && c.field?.name === 'ping-hash') || (c.field ? { hint: `That is ${c.field.name}: ping-hash is the PONG’s second field.` } : false),
      why: 'ping-hash is the hash of your PING: only a node that really received it can quote it, so a forged source address cannot bond.',
      spec: { label: 'discv4.md · Pong Packet', link: SPEC.pong },
    },
    {
      id: 'findnode',
      goal: 'Ask the node for its neighbours.',
      todo: 'Press Find nodes.',
      target: ['[data-testid="v4-findnode"]'],
      check: (c) => !!latest(c.since, (r) => r.protocol === 'discv4' && r.direction === 'in' && r.kind === 'NEIGHBORS'),
      why: 'Now that both addresses are proven, the node answers FINDNODE with NEIGHBORS: the nodes it knows closest to a target.',
      spec: { label: 'discv4.md · FindNode Packet', link: SPEC.findnode },
    },
    {
      id: 'keys',
      goal: 'See how every packet names its sender.',
      todo: 'Open the Key schedule tab.',
      target: ['[data-lesson="tab-keys"]'],
      check: (c) => c.tab === 'keys',
      why: 'A discv4 packet carries no sender id: your node recovers the sender’s public key from the signature over the packet’s hash.',
      spec: { label: 'discv4.md · Wire Protocol', link: SPEC.wire },
    },
  ],
};

export default firstDiscv4;

// discv4 in the page: labels, colours, inspector steps, Step narration and the signature
// view of the key-schedule tab. The bytes are dissected by shared/discv4; the spec words quoted
// are discv4.md's, EIP-8's and EIP-868's, with links.
import { dissectDiscv4 } from '../../shared/discv4/dissect-packet.ts';
import { SPEC } from '../../shared/discv4/spec.ts';
import type { TraceRecord } from '../../shared/trace.ts';
import type { PacketInfo } from '../lib/protocol.ts';
import type { HandshakeView, MessageCrypto } from './discv5-keys.ts';
import type { KeyScheduleView, Narration, ProtocolView, RecordView } from './types.ts';

const COLORS: Record<string, string> = {
  PING: 'var(--k-random)',
  PONG: 'var(--k-whoareyou)',
  FINDNODE: 'var(--k-handshake)',
  NEIGHBORS: 'var(--k-ordinary)',
  ENRRequest: 'var(--k-handshake)',
  ENRResponse: 'var(--k-ordinary)',
};

const ABOUT: Record<string, { plain: string; spec: string; link: string }> = {
  PING: {
    plain: 'PING asks “are you there?”. It also starts the endpoint proof: the answer (PONG) must quote this packet’s hash, which only a node that received it at this address can know.',
    spec: 'When a ping packet is received, the recipient should reply with a Pong packet. It may also consider the sender for addition into the local table.',
    link: SPEC.ping,
  },
  PONG: {
    plain: 'PONG answers a PING: it quotes the PING’s hash and mirrors back the address the PING came from. A node that answered your PING within the last 12 hours is “bonded”: your node answers its FINDNODE.',
    spec: 'Pong is the reply to ping. ping-hash should be equal to hash of the corresponding ping packet. Implementations should ignore unsolicited pong packets that do not contain the hash of the most recent ping packet.',
    link: SPEC.pong,
  },
  FINDNODE: {
    plain: 'FINDNODE asks for the nodes closest to a target (a public key; distance is XOR of keccak256 hashes). A node answers only if the asker has proven its endpoint recently: NEIGHBORS is bigger than FINDNODE, and a forged source address would otherwise turn the node into an amplifier.',
    spec: 'A FindNode packet requests information about nodes close to target. The recipient should reply with Neighbors packets containing the closest 16 nodes to target found in its local table.',
    link: SPEC.findnode,
  },
  NEIGHBORS: {
    plain: 'NEIGHBORS answers FINDNODE with up to 16 nodes: IP, UDP and TCP ports and public key each. Packets are at most 1280 bytes, so a full answer comes in two or more.',
    spec: 'Neighbors is the reply to FindNode.',
    link: SPEC.neighbors,
  },
  ENRRequest: {
    plain: 'ENRRequest (EIP-868) asks for the node’s current record. Like FINDNODE, it is answered only after the endpoint proof.',
    spec: 'When a packet of this type is received, the node should reply with an ENRResponse packet containing the current version of its node record.',
    link: SPEC.enrRequest,
  },
  ENRResponse: {
    plain: 'ENRResponse carries the node record and the hash of the request it answers; your node checks both, and that the record is signed by the same key as the packet.',
    spec: 'This packet is the response to ENRRequest. request-hash is the hash of the entire ENRRequest packet being replied to.',
    link: SPEC.enrResponse,
  },
};

function narrate(m: Parameters<ProtocolView['narrate']>[0]): Narration {
  if (m.phase === 'arrived') {
    return {
      title: `A ${m.size}-byte datagram arrived from ${m.peer} — not read yet`,
      plain: 'Press → and your node checks it: the hash first (keccak256 of the rest), then the packet type and fields, the expiration, and finally recovers the sender’s public key from the signature — the only way a discv4 packet says who sent it.',
      spec: 'packet-header = hash || signature || packet-type',
      section: 'discv4.md · Wire Protocol',
      link: SPEC.wire,
    };
  }
  const r = m.record;
  const kind = r.kind ?? 'packet';
  if (r.rejected) {
    return {
      title: `Refused: ${r.rejected}`,
      plain: `Your node dropped this ${kind === 'rejected' ? 'datagram' : kind} from ${m.peer} without changing anything: ${r.rejected.includes('endpoint proof') ? 'it asks something of a node it has not proven its address to — answering could flood a forged source address.' : r.rejected.includes('expir') ? 'its expiration is past, so it could be a replay.' : 'it is not a packet your node asked for, or not a well-formed one.'}`,
      spec: 'To prevent traffic amplification attacks, implementations must verify that the sender of a query participates in the discovery protocol.',
      section: 'discv4.md · Endpoint Proof',
      link: SPEC.endpointProof,
    };
  }
  const about = ABOUT[kind];
  const title = m.phase === 'before-send' ? `About to send: ${kind} to ${m.peer}` : `Received ${kind} from ${m.peer}`;
  return {
    title,
    plain: about?.plain ?? 'A discv4 packet.',
    ...(about ? { spec: about.spec, section: `discv4.md · ${kind}`, link: about.link } : {}),
    ...(r.note ? { extra: `Your node: ${r.note}.` } : {}),
  };
}

// ---------------------------------------------------------------- the signature steps

const STEP_NOTES = {
  'packet-sign': { label: 'Sign', why: 'Your node signs keccak256(packet-type ‖ packet-data) with its secp256k1 key; the packet hash covers the signature too.' },
  'signature-recover': { label: 'Recover the sender', why: 'discv4 packets carry no sender id: the receiver recovers the public key from the signature (r, s and the recovery id v) and the signing hash. keccak256 of that key is the node id.' },
};

/** One group per peer: the signatures made for it and recovered from it. */
function handshakesOf(traces: TraceRecord[]): HandshakeView[] {
  const groups = new Map<string, TraceRecord[]>();
  for (const t of traces) {
    if (!t.handshake?.startsWith('discv4:') || t.packet === undefined) continue;
    let g = groups.get(t.handshake);
    if (!g) groups.set(t.handshake, (g = []));
    g.push(t);
  }
  return [...groups.values()]
    .map((steps): HandshakeView => ({ peer: steps[0].peer ?? '', role: steps[0].step === 'packet-sign' ? 'initiator' : 'recipient', packet: Math.min(...steps.map((s) => s.packet!)), steps: steps.slice(-12), ok: steps.every((s) => s.ok !== false) }))
    .sort((a, b) => a.packet - b.packet);
}

const keySchedule: KeyScheduleView = {
  handshakesOf,
  handshakeFor: (all, peer) => all.find((h) => h.peer === peer),
  provokesHandshake: () => false,
  messagesOf: (_records: PacketInfo[], _all: HandshakeView[], _hs: HandshakeView): MessageCrypto[] => [],
  stepNotes: STEP_NOTES,
};

export const discv4View: ProtocolView = {
  id: 'discv4',
  label: 'discv4',
  transport: 'udp',
  dissect: (r: RecordView) => dissectDiscv4(r.raw),
  kindLabel: (r) => (r.rejected ? 'refused' : (r.kind ?? 'packet')),
  messageLabel: () => '',
  color: (r) => (r.rejected ? 'var(--k-rejected)' : (COLORS[r.kind ?? ''] ?? 'var(--k-ordinary)')),
  facts: (r) => (r.peerId ? [{ label: r.direction === 'in' ? 'sender (recovered)' : 'to node', value: `${r.peerId.slice(0, 16)}…` }] : []),
  layerSteps: { 'packet-data (RLP)': 'the bytes after packet-type, read as RLP: the packet’s named fields' },
  narrate,
  keySchedule,
  idle: 'Press Ping: your node’s PING stops here first; then the PONG, and the lab node’s own PING back (bonding), one press at a time.',
  hint: {
    lead: 'Press Ping, then Find nodes. discv4 packets are signed, not encrypted; a first contact is an endpoint proof each way:',
    steps: [
      { label: 'PING', color: COLORS.PING, text: 'yours: “are you there?”, signed with your key.' },
      { label: 'PONG', color: COLORS.PONG, text: 'the node’s answer quotes your PING’s hash: its address is proven to you.' },
      { label: 'PING', color: COLORS.PING, text: 'the node pings you in turn, and your PONG proves your address to it (bonding).' },
      { label: 'FINDNODE', color: COLORS.FINDNODE, text: 'now it answers your FINDNODE with NEIGHBORS.' },
    ],
    after: 'Select a packet in the timeline (or use ↑ ↓). Its bytes appear here: hash, signature (r, s, v), packet-type and every RLP field, with the spec section that defines it. The Key schedule tab shows each signature and the sender recovered from it.',
  },
  legend: [
    { label: 'PING', color: COLORS.PING },
    { label: 'PONG', color: COLORS.PONG },
    { label: 'FINDNODE / ENRRequest', color: COLORS.FINDNODE },
    { label: 'NEIGHBORS / ENRResponse', color: COLORS.NEIGHBORS },
    { label: 'refused', color: 'var(--k-rejected)' },
  ],
};

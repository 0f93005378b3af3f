// discv4's Step narration: plain words, then the words of discv4.md, EIP-8 and EIP-868, with
// links. Loaded with the stepper.
import { SPEC } from '../../shared/discv4/spec.ts';
import type { Moment, Narration } from './types.ts';

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

export function narrate(m: Moment): Narration {
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

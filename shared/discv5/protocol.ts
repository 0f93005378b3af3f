// discv5 on the engine contract: the node (sessions, table, lookups) behind `Engine`, so the
// generic driver, step gate and capture serve it as they serve any protocol. Datagrams go to
// node.receive, commands to node.command; each PacketRecord also becomes a generic WireRecord
// (the full record, with plaintext and message key, stays in the node's 'packet' event).
import { toHex } from '../bytes.ts';
import { emptyOutput, type Engine, type EngineInput, type EngineOutput, type Transmit, type WireRecord } from '../engine.ts';
import type { PacketRecord } from './engine.ts';
import { summarizeMessage } from './messages.ts';
import type { Discv5Node, NodeCommand, NodeEvent, NodeOutput } from './node.ts';
import { FLAG_WHOAREYOU } from './spec.ts';

export const PROTOCOL = 'discv5';

/** Wire-record kind of a datagram that did not decode as a discv5 packet. */
export const UNDECODED = 'rejected';

/** One line for a packet: what kind it is and what it carries. */
export function summarizePacket(p: PacketRecord): string {
  const kind = !p.kind ? 'undecodable packet' : p.kind === 'ordinary' ? 'message' : p.kind === 'random' ? 'random packet' : p.kind;
  const a = p.packet?.authdata;
  const carries = p.message
    ? summarizeMessage(p.message)
    : p.kind === 'WHOAREYOU'
      ? `challenge${a?.flag === FLAG_WHOAREYOU ? ` id-nonce=0x${toHex(a.idNonce)} enr-seq=${a.enrSeq}` : ''}`
      : p.kind === 'ordinary' || p.kind === 'handshake'
        ? 'unreadable: no session'
        : '';
  return carries ? `${kind} · ${carries}` : `${kind}, ${p.raw.length} bytes`;
}

/** The generic record of a discv5 packet. */
export function wireRecordOf(p: PacketRecord): WireRecord {
  return {
    seq: p.seq,
    protocol: PROTOCOL,
    direction: p.direction,
    at: p.at,
    peer: p.peer,
    ...(p.peerId ? { peerId: p.peerId } : {}),
    raw: p.raw,
    kind: p.kind ?? UNDECODED,
    summary: summarizePacket(p),
    ...(p.retransmit ? { retransmit: true } : {}),
    ...(p.rejected ? { rejected: p.rejected } : {}),
    ...(p.note ? { note: p.note } : {}),
  };
}

export class Discv5Protocol implements Engine<NodeCommand, NodeEvent> {
  readonly protocol = PROTOCOL;

  constructor(readonly node: Discv5Node) {}

  handle(input: EngineInput<NodeCommand>, now: number): EngineOutput<NodeEvent> {
    switch (input.type) {
      case 'datagram':
        return this.convert(this.node.receive(input.bytes, input.from, now));
      case 'command':
        return this.convert(this.node.command(input.command, now));
      default:
        return emptyOutput(); // discv5 is UDP only: no streams
    }
  }

  tick(now: number): EngineOutput<NodeEvent> {
    return this.convert(this.node.tick(now));
  }

  nextDeadline(): number | undefined {
    return this.node.nextDeadline();
  }

  /** The packets are out: make the next handshakes' ECDH while their answers travel. */
  prepare(): void {
    this.node.engine.prepareHandshakes();
  }

  /** A fresh request-id from the node's injected randomness (none pending has it). */
  newRequestId(): Uint8Array {
    return this.node.engine.newRequestId();
  }

  private convert(out: NodeOutput): EngineOutput<NodeEvent> {
    const transmits: Transmit[] = out.send.map((s) => ({ type: 'datagram', to: s.to, bytes: s.bytes }));
    const records: WireRecord[] = [];
    for (const e of out.events) if (e.type === 'packet') records.push(wireRecordOf(e.packet));
    return { transmits, events: out.events, records, trace: out.trace };
  }
}

// One TCP connection rebuilt from the messages recorded on it, so a capture tool reassembles
// it without complaint (RFC 9293): a three-way handshake before the first message, sequence
// numbers from each message's offset in its direction of the stream, acknowledgments of what
// the other side has sent so far, messages cut into MSS-sized segments, and a FIN exchange
// (or a reset) when the connection ended inside the capture.
import { TCP, mssOption } from './ip-packets.ts';

export type Side = 'local' | 'remote';

export interface Segment {
  at: number;
  from: Side;
  seq: number;
  ack: number;
  flags: number;
  payload: Uint8Array;
  options?: Uint8Array;
  /** Set on segments the recording did not contain (handshake, teardown). */
  synthesized?: string;
  /** Index of the record this segment carries bytes of, and which part it is. */
  record?: number;
  part?: { index: number; of: number };
}

const other = (s: Side): Side => (s === 'local' ? 'remote' : 'local');
const EMPTY = new Uint8Array(0);

export class TcpFlow {
  /** Initial sequence numbers (RFC 9293 §3.4.1); fixed per flow, so an export is reproducible. */
  private readonly isn: Record<Side, number>;
  /** Bytes each side has sent so far: the highest stream offset written (what the other side acks). */
  private readonly sent: Record<Side, number> = { local: 0, remote: 0 };
  private lastAt = 0;

  constructor(
    readonly opener: Side,
    readonly mss: number,
    isnLocal: number,
    isnRemote: number,
  ) {
    this.isn = { local: isnLocal >>> 0, remote: isnRemote >>> 0 };
  }

  /** SYN, SYN-ACK, ACK (RFC 9293 §3.5), both SYNs announcing our MSS. */
  open(at: number): Segment[] {
    this.lastAt = at;
    const o = this.opener;
    const a = other(o);
    const mss = mssOption(this.mss);
    const why = 'connection set-up (synthesized: the recording starts with the first message)';
    return [
      { at, from: o, seq: this.isn[o], ack: 0, flags: TCP.SYN, payload: EMPTY, options: mss, synthesized: why },
      { at, from: a, seq: this.isn[a], ack: this.isn[o] + 1, flags: TCP.SYN | TCP.ACK, payload: EMPTY, options: mss, synthesized: why },
      { at, from: o, seq: this.isn[o] + 1, ack: this.isn[a] + 1, flags: TCP.ACK, payload: EMPTY, synthesized: why },
    ];
  }

  /** Next stream offset of a side: where its next message starts when the record does not say. */
  nextOffset(from: Side): number {
    return this.sent[from];
  }

  /** The bytes of one message, at `offset` in its direction, as PSH|ACK segments of at most one MSS. */
  data(from: Side, offset: number, bytes: Uint8Array, at: number, record: number): Segment[] {
    at = this.clamp(at);
    const of = Math.max(1, Math.ceil(bytes.length / this.mss));
    const out: Segment[] = [];
    for (let i = 0; i * this.mss < bytes.length; i++) {
      const part = bytes.subarray(i * this.mss, (i + 1) * this.mss);
      const last = (i + 1) * this.mss >= bytes.length;
      out.push({ at, from, seq: this.seq(from, offset + i * this.mss), ack: this.ack(from), flags: last ? TCP.PSH | TCP.ACK : TCP.ACK, payload: part, record, ...(of > 1 ? { part: { index: i + 1, of } } : {}) });
    }
    this.sent[from] = Math.max(this.sent[from], offset + bytes.length);
    return out;
  }

  /** FIN from the closer, FIN from the other side, the last ACK; or one RST. */
  close(by: Side, at: number, reset = false): Segment[] {
    at = this.clamp(at);
    const a = other(by);
    if (reset) return [{ at, from: by, seq: this.seq(by, this.sent[by]), ack: this.ack(by), flags: TCP.RST | TCP.ACK, payload: EMPTY, synthesized: 'connection reset (synthesized)' }];
    const why = 'connection teardown (synthesized: the recording says the connection closed)';
    // A FIN takes one sequence number (RFC 9293 §3.5), so the answers acknowledge one more.
    const finBy = this.seq(by, this.sent[by]);
    const finOther = this.seq(a, this.sent[a]);
    return [
      { at, from: by, seq: finBy, ack: this.ack(by), flags: TCP.FIN | TCP.ACK, payload: EMPTY, synthesized: why },
      { at, from: a, seq: finOther, ack: (finBy + 1) >>> 0, flags: TCP.FIN | TCP.ACK, payload: EMPTY, synthesized: why },
      { at, from: by, seq: (finBy + 1) >>> 0, ack: (finOther + 1) >>> 0, flags: TCP.ACK, payload: EMPTY, synthesized: why },
    ];
  }

  /** Sequence numbers are modulo 2^32; the SYN took the ISN itself. */
  private seq(from: Side, offset: number): number {
    return (this.isn[from] + 1 + (offset % 0x1_0000_0000)) >>> 0;
  }

  private ack(from: Side): number {
    return this.seq(other(from), this.sent[other(from)]);
  }

  /** Keeps a flow's timestamps non-decreasing (a record stamped before its connection opened). */
  private clamp(at: number): number {
    this.lastAt = Math.max(this.lastAt, at);
    return this.lastAt;
  }
}

// A sans-IO byte queue for stream protocols: chunks arrive as TCP delivers them (split
// anywhere, or several messages in one); a framer takes whole messages off the front.
import { WireError } from './errors.ts';

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private size = 0;
  /** Bytes taken so far: the stream offset of the next byte in the queue. */
  private consumed = 0;

  constructor(
    /** Bytes the queue may hold before the stream is refused (a peer that never completes a frame). */
    readonly limit: number,
  ) {}

  get length(): number {
    return this.size;
  }

  get offset(): number {
    return this.consumed;
  }

  /** Appends a chunk; a queue over its limit is an error the caller turns into a close. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.size + chunk.length > this.limit) throw new WireError('too-large', 'stream', `more than ${this.limit} bytes buffered without a complete message`);
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The first `n` bytes without consuming them (a copy only when they span chunks). */
  peek(n: number): Uint8Array | undefined {
    if (n > this.size) return undefined;
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const c of this.chunks) {
      const part = c.subarray(0, Math.min(c.length, n - at));
      out.set(part, at);
      at += part.length;
      if (at === n) break;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes; undefined if fewer are queued. */
  take(n: number): Uint8Array | undefined {
    const out = this.peek(n);
    if (!out) return undefined;
    let left = n;
    while (left > 0) {
      const c = this.chunks[0];
      if (c.length <= left) {
        this.chunks.shift();
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.size -= n;
    this.consumed += n;
    return out;
  }

  /** Everything still queued (the bytes of an incomplete message when a stream ends). */
  drain(): Uint8Array {
    return this.take(this.size) ?? new Uint8Array(0);
  }
}

/** What a framer reads off the front of a queue. */
export type FrameResult<Frame> =
  | { type: 'frame'; frame: Frame; raw: Uint8Array; offset: number }
  | { type: 'need-more' }
  /** The stream cannot go on: the bytes so far are refused (`raw`, from `offset`). */
  | { type: 'error'; error: WireError; raw: Uint8Array; offset: number };

export type Framer<Frame> = (queue: ByteQueue) => FrameResult<Frame>;

/**
 * Pushes a chunk and reads every frame it completes. A chunk larger than the room left goes in
 * piece by piece, frames taken off between, so a message of the largest size followed by more
 * bytes in the same chunk is read, not refused; only bytes that never complete a frame within
 * the limit are.
 */
export function feedFrames<Frame>(queue: ByteQueue, chunk: Uint8Array, framer: Framer<Frame>): FrameResult<Frame>[] {
  const out: FrameResult<Frame>[] = [];
  for (let at = 0; at < chunk.length; ) {
    const room = queue.limit - queue.length;
    if (room === 0) {
      const offset = queue.offset;
      out.push({ type: 'error', error: new WireError('too-large', 'stream', `more than ${queue.limit} bytes buffered without a complete message`), raw: queue.drain(), offset });
      return out;
    }
    const piece = chunk.subarray(at, at + room);
    queue.push(piece);
    at += piece.length;
    for (const r of readFrames(queue, framer)) {
      out.push(r);
      if (r.type === 'error') return out;
    }
  }
  return out;
}

/** Reads every complete frame now in the queue, stopping at the first error. */
export function readFrames<Frame>(queue: ByteQueue, framer: Framer<Frame>): FrameResult<Frame>[] {
  const out: FrameResult<Frame>[] = [];
  for (;;) {
    const r = framer(queue);
    if (r.type === 'need-more') return out;
    out.push(r);
    if (r.type === 'error') return out;
  }
}

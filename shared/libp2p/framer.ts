// Cuts the secured TCP stream into Noise messages: a 2-byte big-endian length, then that
// many bytes (noise/README.md "Wire Format"; at most 65535).
import { WireError } from '../errors.ts';
import type { ByteQueue, FrameResult } from '../framing.ts';
import { NOISE_MAX_MESSAGE } from './spec.ts';

/** One largest Noise message and its prefix. */
export const NOISE_STREAM_LIMIT = 2 + NOISE_MAX_MESSAGE;

export function noiseFramer(q: ByteQueue): FrameResult<Uint8Array> {
  const offset = q.offset;
  if (q.length < 2) return { type: 'need-more' };
  const head = q.peek(2)!;
  const len = (head[0] << 8) | head[1];
  if (len === 0) return { type: 'error', error: new WireError('too-small', 'noise_message_len', 'an empty Noise message'), raw: q.drain(), offset };
  if (q.length < 2 + len) return { type: 'need-more' };
  const raw = q.take(2 + len)!;
  return { type: 'frame', frame: raw.subarray(2), raw, offset };
}

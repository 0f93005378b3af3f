// Cuts a TCP byte stream into Bitcoin messages. The header is judged as soon as it is
// complete (magic, command, the 4 MB length limit), so a peer claiming a 4 GB payload is
// refused at once, before any of it is buffered; a wrong magic after its first 4 bytes;
// the checksum once the payload is in.
import { asWireError } from '../errors.ts';
import type { ByteQueue, FrameResult } from '../framing.ts';
import { checkMagic, readBody, readHeader, type Decoded } from './messages.ts';
import { HEADER_SIZE, MAX_MESSAGE_LENGTH, type Network } from './spec.ts';
import { Reader } from './wire.ts';

/** The most a Bitcoin stream may buffer: one largest message and its header. */
export const STREAM_LIMIT = HEADER_SIZE + MAX_MESSAGE_LENGTH;

export function bitcoinFramer(network: Network): (q: ByteQueue) => FrameResult<Decoded> {
  return (q) => {
    const offset = q.offset;
    try {
      if (q.length < HEADER_SIZE) {
        if (q.length >= 4) checkMagic(q.peek(4)!, 0, network);
        return { type: 'need-more' };
      }
      const header = readHeader(new Reader(q.peek(HEADER_SIZE)!), network);
      if (q.length < HEADER_SIZE + header.length) return { type: 'need-more' };
      const raw = q.take(HEADER_SIZE + header.length)!;
      try {
        return { type: 'frame', frame: { header, message: readBody(header, raw.subarray(HEADER_SIZE)) }, raw, offset };
      } catch (e) {
        return { type: 'error', error: asWireError(e), raw, offset };
      }
    } catch (e) {
      return { type: 'error', error: asWireError(e), raw: q.drain(), offset };
    }
  };
}

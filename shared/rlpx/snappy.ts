// Snappy's raw block format (EIP-706: every message after Hello is compressed). Compression is
// snappyjs's (pure JS, runs in the browser). Decompression is ours, because its input is
// untrusted: the declared length is read first and refused over 16 MiB before any allocation,
// every copy is bounds-checked, and the output must be exactly the declared length. (snappyjs's
// decoder trusts 4-byte literal lengths: a negative one walks its read position backwards.)
//   block = uncompressed-length (varint) ‖ elements; element tag low 2 bits: 00 literal,
//   01 copy with 1-byte offset, 10 copy with 2-byte offset, 11 copy with 4-byte offset.
import { compress } from 'snappyjs';
import { err, ok, type Result } from '../errors.ts';
import { MAX_UNCOMPRESSED } from './spec.ts';

export const snappyCompress = (data: Uint8Array): Uint8Array => compress(data);

/** The varint at the start: the uncompressed length and how many bytes it took. */
export function snappyLength(block: Uint8Array): Result<{ length: number; varintBytes: number }> {
  let length = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i];
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (i === 4 && b > 0x0f) return err('too-large', 'snappy-length', 'the uncompressed length does not fit in 32 bits');
      return ok({ length, varintBytes: i + 1 });
    }
  }
  return err(block.length < 5 ? 'truncated' : 'bad-value', 'snappy-length', 'the uncompressed-length varint is cut off or longer than 5 bytes');
}

export function snappyDecompress(block: Uint8Array, max = MAX_UNCOMPRESSED): Result<Uint8Array> {
  const head = snappyLength(block);
  if (!head.ok) return head;
  const { length, varintBytes } = head.value;
  if (length > max) return err('too-large', 'snappy-length', `the block says ${length} bytes uncompressed, over the ${max}-byte limit`);
  // A literal is at most the rest of the input and a copy reaches at most 64 bytes per 2 input
  // bytes: a length no input this short can produce is refused before it is allocated.
  if (length > (block.length - varintBytes) * 32 + 64) return err('bad-value', 'snappy-length', `${block.length} bytes cannot decompress to ${length}`);
  const out = new Uint8Array(length);
  let pos = varintBytes;
  let o = 0;
  while (pos < block.length) {
    const tag = block[pos++];
    const type = tag & 3;
    if (type === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > block.length) return err('truncated', 'snappy-literal', 'literal length cut off');
        len = 0;
        for (let i = 0; i < extra; i++) len += block[pos + i] * 2 ** (8 * i);
        pos += extra;
      }
      len += 1;
      if (pos + len > block.length) return err('truncated', 'snappy-literal', `literal of ${len} bytes runs past the input`);
      if (o + len > length) return err('bad-value', 'snappy-literal', 'output longer than the declared length');
      out.set(block.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (type === 1) {
      if (pos + 1 > block.length) return err('truncated', 'snappy-copy', 'copy offset cut off');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | block[pos];
      pos += 1;
    } else if (type === 2) {
      if (pos + 2 > block.length) return err('truncated', 'snappy-copy', 'copy offset cut off');
      len = (tag >>> 2) + 1;
      offset = block[pos] | (block[pos + 1] << 8);
      pos += 2;
    } else {
      if (pos + 4 > block.length) return err('truncated', 'snappy-copy', 'copy offset cut off');
      len = (tag >>> 2) + 1;
      offset = (block[pos] | (block[pos + 1] << 8) | (block[pos + 2] << 16)) + block[pos + 3] * 2 ** 24;
      pos += 4;
    }
    if (offset === 0 || offset > o) return err('bad-value', 'snappy-copy', `copy from ${offset} bytes back, only ${o} written`);
    if (o + len > length) return err('bad-value', 'snappy-copy', 'output longer than the declared length');
    for (let i = 0; i < len; i++, o++) out[o] = out[o - offset];
  }
  if (o !== length) return err('truncated', 'snappy', `decompressed to ${o} bytes, the block declared ${length}`);
  return ok(out);
}

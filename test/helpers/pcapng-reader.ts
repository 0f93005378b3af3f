// Reads a pcapng file back block by block, by hand from the draft's layout (little-endian
// only: that is what we write), so tests check the structure independently of the writer.
export interface RawBlock {
  type: number;
  offset: number;
  totalLength: number;
  trailingLength: number;
  body: Uint8Array;
}

export interface PcapOption {
  code: number;
  value: Uint8Array;
}

export function readBlocks(file: Uint8Array): RawBlock[] {
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const blocks: RawBlock[] = [];
  for (let at = 0; at < file.length; ) {
    const type = v.getUint32(at, true);
    const totalLength = v.getUint32(at + 4, true);
    if (totalLength < 12 || at + totalLength > file.length) throw new Error(`block at ${at}: length ${totalLength} runs past the file`);
    blocks.push({ type, offset: at, totalLength, trailingLength: v.getUint32(at + totalLength - 4, true), body: file.subarray(at + 8, at + totalLength - 4) });
    at += totalLength;
  }
  return blocks;
}

/** Options from `at` in a block body up to and including opt_endofopt. */
export function readOptions(body: Uint8Array, at: number): { options: PcapOption[]; ended: boolean; end: number } {
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const options: PcapOption[] = [];
  while (at + 4 <= body.length) {
    const code = v.getUint16(at, true);
    const length = v.getUint16(at + 2, true);
    if (code === 0) return { options, ended: length === 0, end: at + 4 };
    options.push({ code, value: body.subarray(at + 4, at + 4 + length) });
    at += 4 + ((length + 3) & ~3);
  }
  return { options, ended: false, end: at };
}

export interface EnhancedPacket {
  interfaceId: number;
  timestamp: bigint;
  capturedLength: number;
  originalLength: number;
  data: Uint8Array;
  options: PcapOption[];
}

export function readEnhancedPacket(b: RawBlock): EnhancedPacket {
  const v = new DataView(b.body.buffer, b.body.byteOffset, b.body.byteLength);
  const capturedLength = v.getUint32(12, true);
  const dataEnd = 20 + ((capturedLength + 3) & ~3);
  return {
    interfaceId: v.getUint32(0, true),
    timestamp: (BigInt(v.getUint32(4, true)) << 32n) | BigInt(v.getUint32(8, true)),
    capturedLength,
    originalLength: v.getUint32(16, true),
    data: b.body.subarray(20, 20 + capturedLength),
    options: readOptions(b.body, dataEnd).options,
  };
}

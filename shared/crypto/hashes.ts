// The hashes the protocols name: SHA-256 (discv5 id-signature and HKDF), SHA256d (Bitcoin) and
// Keccak-256 (Ethereum: ENR "v4" identity, discv4, RLPx). noble's code, pure and synchronous;
// tracing of what they compute is the protocol module's job (it knows the spec names of the values).
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { keccakF1600 } from './keccak-f.ts';

export { sha256 };

// One SHA-256 hasher kept in its initial state and cloned into a working one: half the cost
// of two fresh hashers for the short inputs of a Bitcoin checksum.
const sha256Initial = sha256.create();
const sha256Work = sha256.create();

/** SHA256(SHA256(data)): Bitcoin's message checksum (its first 4 bytes) and hash. */
export function sha256d(data: Uint8Array): Uint8Array {
  // Fed as 63 bytes then the rest, noble copies short inputs into its own block buffer instead
  // of making a DataView over ours, and digest() writes through its own cached view: a DataView
  // costs more than a compression at these sizes.
  sha256Initial._cloneInto(sha256Work);
  if (data.length > 63 && data.length < 128) sha256Work.update(data.subarray(0, 63)).update(data.subarray(63));
  else sha256Work.update(data);
  const inner = sha256Work.digest();
  sha256Initial._cloneInto(sha256Work);
  return sha256Work.update(inner).digest();
}

/** Keccak-256 (the original padding, not NIST SHA3-256), as Ethereum uses it. */
export const keccak256 = (data: Uint8Array): Uint8Array => keccak_256(data);

/** A running Keccak-256 state (RLPx's egress/ingress MACs): absorb, read the digest so far, copy. */
export interface KeccakState {
  update(data: Uint8Array): KeccakState;
  /** The digest of everything absorbed so far, without ending the state (into `out` when given). */
  peek(out?: Uint8Array): Uint8Array;
  copy(): KeccakState;
  /** Makes `target` a copy of this state, reusing its memory (when it is a state made here). */
  copyTo(target: KeccakState): KeccakState;
}

/** Keccak-256's rate: 136 bytes absorbed per permutation. */
const RATE = 136;
const scratch = new Uint32Array(50);
const scratchBytes = new Uint8Array(scratch.buffer);

// A sponge of our own over the unrolled permutation (keccak-f.ts): the MAC states absorb every
// frame and are read four times per frame, which is most of a frame's cost. The 32-bit words of
// the state are read little-endian, as every browser and Node platform stores them.
class RunningKeccak implements KeccakState {
  private readonly state = new Uint32Array(50);
  private readonly bytes = new Uint8Array(this.state.buffer);
  private pos = 0;
  update(data: Uint8Array): KeccakState {
    const n = data.length;
    const bytes = this.bytes;
    for (let i = 0; i < n; ) {
      const take = Math.min(RATE - this.pos, n - i);
      let k = 0;
      // Whole 32-bit words when both sides are aligned (frames are: they start on 16-byte bounds).
      if ((this.pos & 3) === 0 && ((data.byteOffset + i) & 3) === 0 && take >= 4) {
        const words = new Uint32Array(data.buffer, data.byteOffset + i, take >>> 2);
        for (let w = 0, at = this.pos >>> 2; w < words.length; w++) this.state[at + w] ^= words[w];
        k = words.length << 2;
      }
      for (let at = this.pos; k < take; k++) bytes[at + k] ^= data[i + k];
      this.pos += take;
      i += take;
      if (this.pos === RATE) {
        keccakF1600(this.state);
        this.pos = 0;
      }
    }
    return this;
  }
  peek(out = new Uint8Array(32)): Uint8Array {
    scratch.set(this.state);
    scratchBytes[this.pos] ^= 0x01; // Keccak's padding (not SHA-3's 0x06)
    scratchBytes[RATE - 1] ^= 0x80;
    keccakF1600(scratch);
    out.set(scratchBytes.subarray(0, 32));
    return out;
  }
  copy(): KeccakState {
    return this.copyTo(new RunningKeccak());
  }
  copyTo(target: KeccakState): KeccakState {
    if (!(target instanceof RunningKeccak)) return this.copy();
    target.state.set(this.state);
    target.pos = this.pos;
    return target;
  }
}

export const keccakState = (): KeccakState => new RunningKeccak();

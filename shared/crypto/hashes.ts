// The hashes the protocols name: SHA-256 (discv5 id-signature and HKDF), SHA256d (Bitcoin) and
// Keccak-256 (Ethereum: ENR "v4" identity, discv4, RLPx). noble's code, pure and synchronous;
// tracing of what they compute is the protocol module's job (it knows the spec names of the values).
import { sha256 } from '@noble/hashes/sha2.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

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

type NobleKeccak = ReturnType<typeof keccak_256.create>;

class RunningKeccak implements KeccakState {
  private readonly scratch: NobleKeccak = keccak_256.create();
  constructor(readonly h: NobleKeccak = keccak_256.create()) {}
  update(data: Uint8Array): KeccakState {
    this.h.update(data);
    return this;
  }
  peek(out = new Uint8Array(32)): Uint8Array {
    this.h._cloneInto(this.scratch);
    this.scratch.digestInto(out);
    return out;
  }
  copy(): KeccakState {
    return new RunningKeccak(this.h.clone());
  }
  copyTo(target: KeccakState): KeccakState {
    if (!(target instanceof RunningKeccak)) return this.copy();
    this.h._cloneInto(target.h);
    return target;
  }
}

export const keccakState = (): KeccakState => new RunningKeccak();

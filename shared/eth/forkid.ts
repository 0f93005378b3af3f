// EIP-2124 fork identifier: FORK_HASH = CRC32 (IEEE) of the genesis hash, updated with each fork
// passed (8-byte big-endian block number or time, in schedule order); FORK_NEXT = the next fork
// still to come, 0 if none is known. Validation follows the EIP's four rules; the verdict says
// in words which rule decided.
import { fromHex, toHex } from '../bytes.ts';
import type { Chain } from './chains.ts';

export const EIP_2124 = 'https://eips.ethereum.org/EIPS/eip-2124';

export interface ForkId {
  /** 4 bytes. */
  hash: Uint8Array;
  next: bigint;
}

/** The local chain position a fork id is computed for: head block number and its time. */
export interface Head {
  number: number;
  time: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32-IEEE continued from `crc` (0 to start), as Go's crc32.Update. */
export function crc32Update(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const u64be = (n: bigint): Uint8Array => {
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};

const hashBytes = (crc: number): Uint8Array => Uint8Array.of(crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff);

/** The checksum after genesis and after each fork in turn (index 0: genesis only). */
export function forkSums(chain: Chain): number[] {
  let crc = crc32Update(0, fromHex(chain.genesisHash));
  const sums = [crc];
  for (const f of chain.forks) {
    crc = crc32Update(crc, u64be(BigInt(f.at)));
    sums.push(crc);
  }
  return sums;
}

const passed = (f: Chain['forks'][number], head: Head): boolean => (f.by === 'block' ? head.number >= f.at : head.time >= f.at);

export function forkIdOf(chain: Chain, head: Head): ForkId {
  const sums = forkSums(chain);
  let i = 0;
  while (i < chain.forks.length && passed(chain.forks[i], head)) i++;
  return { hash: hashBytes(sums[i]), next: i < chain.forks.length ? BigInt(chain.forks[i].at) : 0n };
}

/** go-ethereum's timestampThreshold: a FORK_NEXT above it is a time, compared with the head's time. */
const TIMESTAMP_THRESHOLD = 1438269973n;

export type ForkIdVerdict = {
  accept: boolean;
  /** '1a', '1b', '2', '2-stale', '3', '4' */
  rule: string;
  /** The rule that decided, in words. */
  words: string;
  /** The remote's fork state named from our schedule, when its hash is one of ours. */
  remoteFork?: string;
};

/** EIP-2124 validation of a remote fork id against our chain at `head`. */
export function validateForkId(chain: Chain, head: Head, remote: ForkId): ForkIdVerdict {
  const sums = forkSums(chain).map(hashBytes).map(toHex);
  const remoteHash = toHex(remote.hash);
  const forks = chain.forks;
  const name = (j: number) => (j === 0 ? 'genesis (no fork passed)' : forks[j - 1].name);
  const found = sums.indexOf(remoteHash);
  const remoteFork = found >= 0 ? name(found) : undefined;
  const withName = (v: Omit<ForkIdVerdict, 'remoteFork'>): ForkIdVerdict => ({ ...v, ...(remoteFork ? { remoteFork } : {}) });
  // i: the first fork we have not passed (forks.length: all passed; a sentinel that never passes).
  let i = 0;
  while (i < forks.length && passed(forks[i], head)) i++;
  // The head compared with FORK_NEXT: block number while the forks are block forks, time after
  // (the never-passed sentinel past the last fork is a time when the chain has time forks).
  const blockForks = forks.filter((f) => f.by === 'block').length;
  const localHead = i < blockForks || (i === forks.length && blockForks === forks.length) ? BigInt(head.number) : BigInt(head.time);
  if (sums[i] === remoteHash) {
    const n = remote.next;
    if (n > 0n && (localHead >= n || (n > TIMESTAMP_THRESHOLD && BigInt(head.time) >= n)))
      return withName({ accept: false, rule: '1a', words: `Rule 1a: same fork state (${name(i)}), but the remote announces a next fork at ${n} that we have already passed without knowing of it: the chains are incompatible (or we need an update).` });
    return withName({ accept: true, rule: '1b', words: `Rule 1b: same fork state (${name(i)})${n > 0n ? `; the remote's next fork at ${n} is not yet passed here` : ', no further fork announced'}: connect.` });
  }
  for (let j = 0; j < i; j++) {
    if (sums[j] !== remoteHash) continue;
    if (BigInt(forks[j].at) !== remote.next)
      return withName({ accept: false, rule: '2-stale', words: `Rule 2: the remote is at ${name(j)}, a fork we passed, but it announces next ${remote.next} where ours was ${forks[j].name} at ${forks[j].at}: the remote needs a software update.` });
    return withName({ accept: true, rule: '2', words: `Rule 2: the remote is at ${name(j)}, a subset of our past forks, and its next fork (${forks[j].name} at ${forks[j].at}) matches ours: it is syncing, connect.` });
  }
  for (let j = i + 1; j < sums.length; j++) {
    if (sums[j] === remoteHash) return withName({ accept: true, rule: '3', words: `Rule 3: the remote is at ${name(j)}, a superset of our past forks that our own schedule completes: we are the one behind, connect.` });
  }
  return withName({ accept: false, rule: '4', words: `Rule 4: fork hash 0x${remoteHash} is neither our current state, a past one, nor a future one of ${chain.name}: different chains, reject.` });
}

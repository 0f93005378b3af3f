// What the values of well-known ENR keys mean, for display: the typed keys of enr.md, the
// consensus-layer keys (eth2 = SSZ ENRForkID, attnets / syncnets = SSZ bitvectors, cgc, nfd)
// and the execution-layer `eth` entry ([[fork-hash, fork-next]], EIP-2124). Unknown keys are
// shown raw. Nothing here is needed to accept a record: only the typed keys are checked there.
import { bytesToBigint, concat, printableAscii, printableOrHex, toHex, uintBytes } from '../bytes.ts';
import { attempt, fail, type Result } from '../errors.ts';
import { asBigint, asBytes, asList, decodeRlp, describeRlp, encodeRlp, rlpUint, type RlpItem } from '../rlp.ts';
import { bytesToIp } from '../ip.ts';

export const ENR_SPEC = 'https://github.com/ethereum/devp2p/blob/master/enr.md';
const CONSENSUS = 'https://github.com/ethereum/consensus-specs/blob/master/specs';
export const ETH2_SPEC = `${CONSENSUS}/phase0/p2p-interface.md#eth2-field`;
export const ATTNETS_SPEC = `${CONSENSUS}/phase0/p2p-interface.md#attestation-subnet-bitfield`;
export const SYNCNETS_SPEC = `${CONSENSUS}/altair/p2p-interface.md#syncnets-bitfield`;
export const ETH_ENTRY_SPEC = 'https://github.com/ethereum/devp2p/blob/master/enr-entries/eth.md';

/** Consensus-spec constants (phase0 / altair). */
export const ATTESTATION_SUBNET_COUNT = 64;
export const SYNC_COMMITTEE_SUBNET_COUNT = 4;
export const FAR_FUTURE_EPOCH = 2n ** 64n - 1n;

// ---- eth2: SSZ ENRForkID (fork_digest: Bytes4, next_fork_version: Bytes4, next_fork_epoch: uint64 little-endian) ----

export interface Eth2ForkId {
  forkDigest: Uint8Array;
  nextForkVersion: Uint8Array;
  nextForkEpoch: bigint;
}

export function decodeEth2(value: Uint8Array): Result<Eth2ForkId> {
  return attempt(() => {
    if (value.length !== 16) fail('bad-length', 'eth2', `SSZ ENRForkID is 16 bytes, got ${value.length}`);
    return { forkDigest: value.slice(0, 4), nextForkVersion: value.slice(4, 8), nextForkEpoch: bytesToBigint(value.slice(8, 16).reverse()) };
  });
}

export function encodeEth2(f: Eth2ForkId): Uint8Array {
  if (f.forkDigest.length !== 4 || f.nextForkVersion.length !== 4) throw new Error('fork digest and version are 4 bytes');
  if (f.nextForkEpoch < 0n || f.nextForkEpoch > FAR_FUTURE_EPOCH) throw new Error('epoch is a uint64');
  return concat(f.forkDigest, f.nextForkVersion, uintBytes(f.nextForkEpoch, 8).reverse());
}

// ---- attnets / syncnets: SSZ Bitvector[N], bit i in byte i / 8 at position i % 8 (least significant first) ----

/** The set bit indices; the length must be exactly ceil(N / 8) and unused high bits zero (SSZ). */
export function decodeBitvector(value: Uint8Array, bits: number, field: string): Result<number[]> {
  return attempt(() => {
    const bytes = Math.ceil(bits / 8);
    if (value.length !== bytes) fail('bad-length', field, `SSZ Bitvector[${bits}] is ${bytes} byte${bytes === 1 ? '' : 's'}, got ${value.length}`);
    const set: number[] = [];
    for (let i = 0; i < bytes * 8; i++) {
      if ((value[i >> 3] >> (i & 7)) & 1) {
        if (i >= bits) fail('bad-value', field, `bit ${i} is set beyond the ${bits} bits of the bitvector`);
        set.push(i);
      }
    }
    return set;
  });
}

export function encodeBitvector(indices: number[], bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits / 8));
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= bits) throw new Error(`bit ${i} is outside Bitvector[${bits}]`);
    out[i >> 3] |= 1 << (i & 7);
  }
  return out;
}

export const decodeAttnets = (value: Uint8Array): Result<number[]> => decodeBitvector(value, ATTESTATION_SUBNET_COUNT, 'attnets');
export const decodeSyncnets = (value: Uint8Array): Result<number[]> => decodeBitvector(value, SYNC_COMMITTEE_SUBNET_COUNT, 'syncnets');
export const encodeAttnets = (subnets: number[]): Uint8Array => encodeBitvector(subnets, ATTESTATION_SUBNET_COUNT);
export const encodeSyncnets = (subnets: number[]): Uint8Array => encodeBitvector(subnets, SYNC_COMMITTEE_SUBNET_COUNT);

// ---- eth: [[fork-hash, fork-next], ...] — later list elements are ignored, as eth.md asks ----

export interface EthForkId {
  forkHash: Uint8Array;
  forkNext: bigint;
}

/** Decodes the raw RLP value of an `eth` entry. */
export function decodeEthEntry(rawValue: Uint8Array): Result<EthForkId> {
  return attempt(() => {
    const entry = asList(decodeRlp(rawValue, 'eth'), 'eth');
    if (entry.length < 1) fail('truncated', 'eth', 'the eth entry list is empty, a fork id is expected');
    const forkId = asList(entry[0], 'eth');
    if (forkId.length < 2) fail('truncated', 'eth', 'fork id needs [fork-hash, fork-next]');
    const forkHash = asBytes(forkId[0], 'fork-hash');
    if (forkHash.length !== 4) fail('bad-length', 'fork-hash', `fork hash is 4 bytes, got ${forkHash.length}`);
    return { forkHash: forkHash.slice(), forkNext: asBigint(forkId[1], 'fork-next', 8) };
  });
}

/** The raw RLP value of an `eth` entry, for `extra` pairs. */
export const encodeEthEntry = (f: EthForkId): Uint8Array => encodeRlp([[f.forkHash, rlpUint(f.forkNext)]]);

// ---- display ----

export interface KeyInfo {
  meaning: string;
  spec: string;
}

const PORT = (what: string, spec = `${ENR_SPEC}#record-structure`): KeyInfo => ({ meaning: what, spec });

/** One-line meanings of the keys this tool knows, with the spec that defines each. */
export const KNOWN_KEYS: Record<string, KeyInfo> = {
  id: { meaning: 'Identity scheme: how the record is signed and how the node id is derived ("v4" is the only one).', spec: `${ENR_SPEC}#v4-identity-scheme` },
  secp256k1: { meaning: 'Compressed secp256k1 public key (33 bytes); the v4 signature is checked against it and the node id is its keccak256.', spec: `${ENR_SPEC}#v4-identity-scheme` },
  ip: PORT('IPv4 address of the node (4 bytes).'),
  tcp: PORT('TCP port for IPv4 (RLPx / libp2p), big-endian integer.'),
  udp: PORT('UDP port for IPv4 (discovery), big-endian integer.'),
  ip6: PORT('IPv6 address of the node (16 bytes).'),
  tcp6: PORT('TCP port for IPv6; when absent, tcp applies to both addresses.'),
  udp6: PORT('UDP port for IPv6; when absent, udp applies to both addresses.'),
  quic: PORT('libp2p QUIC (UDP) port for IPv4 (consensus layer).', `${CONSENSUS}/phase0/p2p-interface.md#enr-structure`),
  quic6: PORT('libp2p QUIC (UDP) port for IPv6 (consensus layer).', `${CONSENSUS}/phase0/p2p-interface.md#enr-structure`),
  eth2: { meaning: 'Consensus-layer fork: SSZ ENRForkID (current fork digest, next fork version, next fork epoch); peers on other networks are skipped.', spec: ETH2_SPEC },
  attnets: { meaning: 'Attestation subnets the node is subscribed to: SSZ Bitvector[64].', spec: ATTNETS_SPEC },
  syncnets: { meaning: 'Sync-committee subnets the node is subscribed to: SSZ Bitvector[4].', spec: SYNCNETS_SPEC },
  cgc: { meaning: 'Custody group count (PeerDAS): how many data-column custody groups the node keeps.', spec: `${CONSENSUS}/fulu/p2p-interface.md#custody-group-count` },
  nfd: { meaning: 'Next fork digest: the digest of the next scheduled fork (zero when none).', spec: `${CONSENSUS}/fulu/p2p-interface.md#next-fork-digest` },
  eth: { meaning: 'Execution-layer node: its EIP-2124 fork id [fork-hash, fork-next], so peers on other chains are skipped.', spec: ETH_ENTRY_SPEC },
  snap: { meaning: 'The node serves the snap sync protocol.', spec: 'https://github.com/ethereum/devp2p/blob/master/caps/snap.md' },
  les: { meaning: 'The node serves the light client protocol (LES).', spec: 'https://github.com/ethereum/devp2p/blob/master/enr-entries/les.md' },
};

export const keyInfo = (key: string): KeyInfo =>
  Object.hasOwn(KNOWN_KEYS, key) ? KNOWN_KEYS[key] : { meaning: 'A key this tool does not interpret; kept and relayed byte for byte.', spec: `${ENR_SPEC}#rationale` };

/** A named piece of a value, offsets relative to the start of the value's RLP encoding. */
export interface ValuePart {
  name: string;
  offset: number;
  length: number;
  value: string;
  meaning: string;
}

export interface ValueView {
  /** One line: "127.0.0.1", "subnets 3, 17 (2 of 64)". */
  text: string;
  parts?: ValuePart[];
  /** Set when the value does not have the form its key demands. */
  problem?: string;
}

const PORT_KEYS = new Set(['tcp', 'udp', 'tcp6', 'udp6', 'quic', 'quic6']);

/** Describes a value for display. Never throws: a malformed value comes back with `problem`. */
export function describeEnrValue(key: string, rawValue: Uint8Array): ValueView {
  let item: RlpItem;
  try {
    item = decodeRlp(rawValue, key);
  } catch (e) {
    return { text: `undecodable RLP (${rawValue.length} bytes)`, problem: (e as Error).message };
  }
  try {
    return describeItem(key, item);
  } catch (e) {
    return { text: `invalid: ${describeRlp(item)}`, problem: (e as Error).message };
  }
}

function describeItem(key: string, item: RlpItem): ValueView {
  if (key === 'eth') return describeEth(item);
  if (item.kind === 'list') {
    if (key === 'snap' && item.items.length === 0) return { text: 'empty list (supported)' };
    if (Object.hasOwn(KNOWN_KEYS, key) && key !== 'les' && key !== 'snap') fail('bad-type', key, 'expected a byte string, got an RLP list');
    return { text: describeRlp(item) };
  }
  const v = item.value;
  const at = item.headerLength; // payload offset within the raw value
  const unwrap = <T>(r: Result<T>): T => {
    if (!r.ok) throw r.error;
    return r.value;
  };
  switch (key) {
    case 'id':
      return { text: printableOrHex(v) };
    case 'secp256k1':
      if (v.length !== 33) fail('bad-length', key, `compressed key is 33 bytes, got ${v.length}`);
      return { text: `0x${toHex(v)}` };
    case 'ip':
    case 'ip6': {
      const want = key === 'ip' ? 4 : 16;
      if (v.length !== want) fail('bad-length', key, `${key} is ${want} bytes, got ${v.length}`);
      return { text: bytesToIp(v)! };
    }
    case 'cgc':
      return { text: `${asBigint(item, key, 8)} custody groups` };
    case 'nfd':
      if (v.length !== 4) fail('bad-length', key, `fork digest is 4 bytes, got ${v.length}`);
      return { text: `0x${toHex(v)}` };
    case 'eth2': {
      const f = unwrap(decodeEth2(v));
      const epoch = f.nextForkEpoch === FAR_FUTURE_EPOCH ? 'FAR_FUTURE_EPOCH (no fork planned)' : `${f.nextForkEpoch}`;
      return {
        text: `fork_digest 0x${toHex(f.forkDigest)}, next_fork_version 0x${toHex(f.nextForkVersion)}, next_fork_epoch ${epoch}`,
        parts: [
          { name: 'fork_digest', offset: at, length: 4, value: `0x${toHex(f.forkDigest)}`, meaning: 'Digest of the current fork version and the genesis validators root: identifies the network and fork.' },
          { name: 'next_fork_version', offset: at + 4, length: 4, value: `0x${toHex(f.nextForkVersion)}`, meaning: 'Version of the next planned fork (the current one when none is planned).' },
          { name: 'next_fork_epoch', offset: at + 8, length: 8, value: epoch, meaning: 'Epoch of the next planned fork, SSZ uint64 little-endian.' },
        ],
      };
    }
    case 'attnets':
    case 'syncnets': {
      const bits = key === 'attnets' ? ATTESTATION_SUBNET_COUNT : SYNC_COMMITTEE_SUBNET_COUNT;
      const set = unwrap(decodeBitvector(v, bits, key));
      return { text: set.length === 0 ? `no subnets (0 of ${bits})` : `subnet${set.length === 1 ? '' : 's'} ${set.join(', ')} (${set.length} of ${bits})` };
    }
  }
  if (PORT_KEYS.has(key)) return { text: `${asBigint(item, key, 2)}` };
  const text = printableAscii(v);
  return { text: text !== undefined ? `"${text}" (${describeRlp(item)})` : describeRlp(item) };
}

function describeEth(item: RlpItem): ValueView {
  const f = (() => {
    const entry = asList(item, 'eth');
    const forkId = entry.length > 0 ? asList(entry[0], 'eth') : [];
    if (forkId.length < 2) fail('truncated', 'eth', 'fork id needs [fork-hash, fork-next]');
    return { hash: forkId[0], next: forkId[1] };
  })();
  const hash = asBytes(f.hash, 'fork-hash');
  if (hash.length !== 4) fail('bad-length', 'fork-hash', `fork hash is 4 bytes, got ${hash.length}`);
  const next = asBigint(f.next, 'fork-next', 8);
  const nextText = next === 0n ? '0 (no fork planned)' : `${next}`;
  const rel = (it: RlpItem) => it.offset - item.offset;
  return {
    text: `fork-hash 0x${toHex(hash)}, fork-next ${nextText}`,
    parts: [
      { name: 'fork-hash', offset: rel(f.hash), length: f.hash.length, value: `0x${toHex(hash)}`, meaning: 'CRC32 of the genesis hash and the fork blocks/times already passed (EIP-2124).' },
      { name: 'fork-next', offset: rel(f.next), length: f.next.length, value: nextText, meaning: 'Block number or timestamp of the next planned fork, 0 when none is known.' },
    ],
  };
}

// The eth sub-protocol's Status (devp2p caps/eth.md), the first message each side sends after
// Hello: eth/68 [version, networkid, td, blockhash, genesis, forkid]; eth/69 (EIP-7642) [version,
// networkid, genesis, forkid, earliest, latest, latest-hash]. forkid = [fork-hash (4), fork-next].
import { bigintToBytes, fromHex, toHex } from '../bytes.ts';
import { attempt, fail, type Result } from '../errors.ts';
import type { Field } from '../dissect.ts';
import { asBigint, asBytes, asList, decodeRlp, encodeRlp, rlpUint, type RlpItem } from '../rlp.ts';
import { EXTRA_ELEMENT, namedList, type ElementDoc } from '../rlpx/rlp-fields.ts';
import { chainByGenesis, type Chain } from './chains.ts';
import { EIP_2124, forkIdOf, type ForkId, type Head } from './forkid.ts';

export const ETH_MD = 'https://github.com/ethereum/devp2p/blob/master/caps/eth.md';
export const ETH_SPEC = { status: `${ETH_MD}#status-0x00`, eip7642: 'https://eips.ethereum.org/EIPS/eip-7642', blockRange: `${ETH_MD}#blockrangeupdate-0x11` } as const;

/** eth message names by id (caps/eth.md); how many ids each version takes (go-ethereum protocolLengths). */
export const ETH_MESSAGES: Record<number, string> = {
  0x00: 'Status', 0x01: 'NewBlockHashes', 0x02: 'Transactions', 0x03: 'GetBlockHeaders', 0x04: 'BlockHeaders', 0x05: 'GetBlockBodies',
  0x06: 'BlockBodies', 0x07: 'NewBlock', 0x08: 'NewPooledTransactionHashes', 0x09: 'GetPooledTransactions', 0x0a: 'PooledTransactions',
  0x0d: 'GetNodeData', 0x0e: 'NodeData', 0x0f: 'GetReceipts', 0x10: 'Receipts', 0x11: 'BlockRangeUpdate',
};
export const ethMessageCount = (version: number): number => (version >= 69 ? 18 : 17);

export type Status = Status68 | Status69;
export interface Status68 {
  version: number;
  networkId: bigint;
  td: bigint;
  blockHash: Uint8Array;
  genesis: Uint8Array;
  forkId: ForkId;
}
export interface Status69 {
  version: number;
  networkId: bigint;
  genesis: Uint8Array;
  forkId: ForkId;
  earliest: bigint;
  latest: bigint;
  latestHash: Uint8Array;
}
export const isStatus69 = (s: Status): s is Status69 => 'latestHash' in s;

/** Our Status for `version` on `chain`, as a node that holds only the genesis block (what a handshake tool is). */
export function genesisStatus(chain: Chain, version: number, head: Head = { number: 0, time: 0 }): Status {
  const genesis = fromHex(chain.genesisHash);
  const forkId = forkIdOf(chain, head);
  if (version >= 69) return { version, networkId: chain.networkId, genesis, forkId, earliest: 0n, latest: 0n, latestHash: genesis };
  return { version, networkId: chain.networkId, td: chain.genesisDifficulty, blockHash: genesis, genesis, forkId };
}

const forkIdRlp = (f: ForkId) => [f.hash, rlpUint(f.next)];

export function encodeStatus(s: Status): Uint8Array {
  if (isStatus69(s)) return encodeRlp([rlpUint(s.version), rlpUint(s.networkId), s.genesis, forkIdRlp(s.forkId), rlpUint(s.earliest), rlpUint(s.latest), s.latestHash]);
  return encodeRlp([rlpUint(s.version), rlpUint(s.networkId), bigintToBytes(s.td), s.blockHash, s.genesis, forkIdRlp(s.forkId)]);
}

const hash32 = (item: RlpItem, field: string): Uint8Array => {
  const b = asBytes(item, field);
  if (b.length !== 32) fail('bad-length', field, `a hash is 32 bytes, got ${b.length}`);
  return b.slice();
};

function readForkId(item: RlpItem): ForkId {
  const l = asList(item, 'forkid');
  if (l.length < 2) fail('truncated', 'forkid', `forkid is [fork-hash, fork-next], got ${l.length} elements`);
  const hash = asBytes(l[0], 'fork-hash');
  if (hash.length !== 4) fail('bad-length', 'fork-hash', `fork-hash is 4 bytes, got ${hash.length}`);
  return { hash: hash.slice(), next: asBigint(l[1], 'fork-next', 8) };
}

/** Reads a Status; the field order is the negotiated version's (the vsn inside must agree). Never throws. */
export function decodeStatus(payload: Uint8Array, negotiated: number): Result<Status> {
  return attempt(() => readStatus(decodeRlp(payload, 'status'), negotiated));
}

export function readStatus(item: RlpItem, negotiated: number): Status {
  const l = asList(item, 'status');
  const want = negotiated >= 69 ? 7 : 6;
  if (l.length < want) fail('truncated', 'status', `an eth/${negotiated} Status has ${want} elements, got ${l.length}`);
  const version = Number(asBigint(l[0], 'version', 4));
  if (version !== negotiated) fail('bad-version', 'version', `Status says eth/${version}, the connection negotiated eth/${negotiated}`);
  const networkId = asBigint(l[1], 'networkid', 8);
  if (negotiated >= 69) return { version, networkId, genesis: hash32(l[2], 'genesis'), forkId: readForkId(l[3]), earliest: asBigint(l[4], 'earliest', 8), latest: asBigint(l[5], 'latest', 8), latestHash: hash32(l[6], 'latest-hash') };
  return { version, networkId, td: asBigint(l[2], 'td', 32), blockHash: hash32(l[3], 'blockhash'), genesis: hash32(l[4], 'genesis'), forkId: readForkId(l[5]) };
}

export function summarizeStatus(s: Status): string {
  const chain = chainByGenesis(toHex(s.genesis));
  const fork = `forkid 0x${toHex(s.forkId.hash)}/${s.forkId.next}`;
  const where = isStatus69(s) ? `blocks ${s.earliest}–${s.latest}` : `td ${s.td}`;
  return `Status eth/${s.version} network ${s.networkId}${chain ? ` (${chain.name})` : ''} ${where} ${fork}`;
}

const NETWORKS: Record<string, string> = { '1': 'mainnet', '11155111': 'sepolia', '17000': 'holesky', '560048': 'hoodi' };

/** The Status's RLP as named fields (offsets within the payload). */
export function statusFields(item: RlpItem, negotiated: number, base = 0): Field {
  const v69 = negotiated >= 69;
  const spec = v69 ? ETH_SPEC.eip7642 : ETH_SPEC.status;
  const int = (it: RlpItem) => (it.kind === 'bytes' && it.value.length <= 32 ? String(it.value.reduce((a, b) => (a << 8n) | BigInt(b), 0n)) : '?');
  const hex = (it: RlpItem) => (it.kind === 'bytes' ? `0x${toHex(it.value)}` : 'list');
  const genesisName = (it: RlpItem) => {
    const c = it.kind === 'bytes' ? chainByGenesis(toHex(it.value)) : undefined;
    return `${hex(it)}${c ? ` (${c.name} genesis)` : ''}`;
  };
  const bigText = (it: RlpItem) => (it.kind === 'bytes' ? String(it.value.reduce((x, y) => (x << 8n) | BigInt(y), 0n)) : 'list');
  const forkIdDoc = (it: RlpItem, base: number): ElementDoc => ({
    name: 'forkid',
    meaning: 'EIP-2124 fork identifier [fork-hash, fork-next]: which forks this node has passed, and the next it knows of.',
    spec: EIP_2124,
    field: namedList(it, { name: 'forkid', meaning: 'EIP-2124 fork identifier [fork-hash, fork-next]: which forks this node has passed, and the next it knows of.', spec: EIP_2124 }, (j, x) =>
      j === 0 ? { name: 'fork-hash', value: hex(x), meaning: 'CRC32 of the genesis hash and of every fork block or time passed.', spec: EIP_2124 }
      : j === 1 ? { name: 'fork-next', value: bigText(x), meaning: 'The next fork this node knows of (a block number, or a Unix time after the Merge); 0 if none.', spec: EIP_2124 }
      : EXTRA_ELEMENT(j, EIP_2124), base),
  });
  const docs68: ((it: RlpItem, base: number) => ElementDoc)[] = [
    (it: RlpItem) => ({ name: 'version', value: int(it), meaning: 'The eth protocol version: must equal the version both Hellos negotiated.', spec }),
    (it) => ({ name: 'networkid', value: `${int(it)}${NETWORKS[int(it)] ? ` (${NETWORKS[int(it)]})` : ''}`, meaning: 'The network id: 1 is mainnet. Peers on different networks disconnect.', spec }),
    (it) => ({ name: 'td', value: int(it), meaning: 'Total difficulty of the best block (eth/68 and before; meaningless since the Merge).', spec }),
    (it) => ({ name: 'blockhash', value: hex(it), meaning: 'Hash of the sender\'s best (head) block.', spec }),
    (it) => ({ name: 'genesis', value: genesisName(it), meaning: 'Hash of the genesis block: a different one means a different chain.', spec }),
    forkIdDoc,
  ];
  const docs69: ((it: RlpItem, base: number) => ElementDoc)[] = [
    docs68[0], docs68[1], docs68[4], forkIdDoc,
    (it) => ({ name: 'earliest', value: int(it), meaning: 'The oldest block whose history the sender serves (EIP-7642).', spec }),
    (it) => ({ name: 'latest', value: int(it), meaning: 'The sender\'s newest block (EIP-7642).', spec }),
    (it) => ({ name: 'latest-hash', value: hex(it), meaning: 'Hash of that newest block.', spec }),
  ];
  const docs = v69 ? docs69 : docs68;
  return namedList(item, { name: 'Status', meaning: `eth/${negotiated} Status: the first eth message each side sends.`, spec }, (i, it) => docs[i]?.(it, base) ?? EXTRA_ELEMENT(i, spec), base);
}

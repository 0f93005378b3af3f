// The chains the eth Status speaks of: network id, genesis hash and difficulty, and the fork
// schedule that EIP-2124's fork identifier is computed from. Source: go-ethereum params/config.go
// and core/genesis.go at 02b73d4 (test/vectors/forkid.json, which also checks the hashes). Forks
// that activate at the same block count once; forks at block 0 (or at or before genesis time) are
// not counted, as go-ethereum's gatherForks does.

export interface Fork {
  name: string;
  /** A block number, or a Unix time for forks after the Merge. */
  at: number;
  by: 'block' | 'time';
}

export interface Chain {
  name: ChainName;
  networkId: bigint;
  genesisHash: string;
  /** The genesis block's difficulty: an eth/68 Status at genesis announces it as td. */
  genesisDifficulty: bigint;
  forks: Fork[];
}

export type ChainName = 'mainnet' | 'sepolia';

const block = (name: string, at: number): Fork => ({ name, at, by: 'block' });
const time = (name: string, at: number): Fork => ({ name, at, by: 'time' });

export const CHAINS: Record<ChainName, Chain> = {
  mainnet: {
    name: 'mainnet',
    networkId: 1n,
    genesisHash: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
    genesisDifficulty: 17179869184n,
    forks: [
      block('Homestead', 1150000), block('DAO', 1920000), block('Tangerine Whistle (EIP-150)', 2463000), block('Spurious Dragon (EIP-155/158)', 2675000),
      block('Byzantium', 4370000), block('Constantinople/Petersburg', 7280000), block('Istanbul', 9069000), block('Muir Glacier', 9200000),
      block('Berlin', 12244000), block('London', 12965000), block('Arrow Glacier', 13773000), block('Gray Glacier', 15050000),
      time('Shanghai', 1681338455), time('Cancun', 1710338135), time('Prague', 1746612311), time('Osaka', 1764798551),
      time('BPO1', 1765290071), time('BPO2', 1767747671),
    ],
  },
  sepolia: {
    name: 'sepolia',
    networkId: 11155111n,
    genesisHash: '25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9',
    genesisDifficulty: 0x20000n,
    forks: [
      block('Merge netsplit', 1735371),
      time('Shanghai', 1677557088), time('Cancun', 1706655072), time('Prague', 1741159776), time('Osaka', 1760427360),
      time('BPO1', 1761017184), time('BPO2', 1761607008),
    ],
  },
};

export const isChainName = (s: string): s is ChainName => Object.hasOwn(CHAINS, s);

export function chainByGenesis(hashHex: string): Chain | undefined {
  return Object.values(CHAINS).find((c) => c.genesisHash === hashHex);
}

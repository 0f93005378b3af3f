// Bitcoin P2P constants. Sources (see test/vectors/bitcoin.json): Bitcoin Core
// src/kernel/chainparams.cpp (magic, ports), src/node/protocol_version.h (versions),
// src/net.h (MAX_PROTOCOL_MESSAGE_LENGTH, MAX_SUBVERSION_LENGTH), the BIPs (service bits).
export const REF = 'https://developer.bitcoin.org/reference/p2p_networking.html';
export const SPEC = {
  header: `${REF}#message-headers`,
  version: `${REF}#version`,
  verack: `${REF}#verack`,
  ping: `${REF}#ping`,
  pong: `${REF}#pong`,
  alert: `${REF}#alert`,
  feefilter: 'https://github.com/bitcoin/bips/blob/master/bip-0133.mediawiki',
  sendheaders: 'https://github.com/bitcoin/bips/blob/master/bip-0130.mediawiki',
  sendcmpct: 'https://github.com/bitcoin/bips/blob/master/bip-0152.mediawiki',
  wtxidrelay: 'https://github.com/bitcoin/bips/blob/master/bip-0339.mediawiki',
  sendaddrv2: 'https://github.com/bitcoin/bips/blob/master/bip-0155.mediawiki',
  sendtxrcncl: 'https://github.com/bitcoin/bips/blob/master/bip-0330.mediawiki',
  compactSize: `${REF.replace('p2p_networking', 'transactions')}#compactsize-unsigned-integers`,
  services: `${REF}#version`,
} as const;

export interface Network {
  name: NetworkName;
  /** pchMessageStart, in wire order. */
  magic: Uint8Array;
  defaultPort: number;
}

export type NetworkName = 'main' | 'testnet3' | 'testnet4' | 'signet' | 'regtest';

const net = (name: NetworkName, magic: number[], defaultPort: number): Network => ({ name, magic: Uint8Array.from(magic), defaultPort });

export const NETWORKS: Record<NetworkName, Network> = {
  main: net('main', [0xf9, 0xbe, 0xb4, 0xd9], 8333),
  testnet3: net('testnet3', [0x0b, 0x11, 0x09, 0x07], 18333),
  testnet4: net('testnet4', [0x1c, 0x16, 0x3f, 0x28], 48333),
  // Signet's magic is the first 4 bytes of SHA256d of the default challenge (chainparams.cpp).
  signet: net('signet', [0x0a, 0x03, 0xcf, 0x40], 38333),
  regtest: net('regtest', [0xfa, 0xbf, 0xb5, 0xda], 18444),
};

export const isNetworkName = (s: string): s is NetworkName => Object.hasOwn(NETWORKS, s);

export function networkByMagic(magic: Uint8Array): Network | undefined {
  return Object.values(NETWORKS).find((n) => n.magic.every((b, i) => magic[i] === b));
}

export const HEADER_SIZE = 24;
export const COMMAND_SIZE = 12;
/** Bitcoin Core refuses larger messages (net.h MAX_PROTOCOL_MESSAGE_LENGTH, 4 MB). */
export const MAX_MESSAGE_LENGTH = 4_000_000;
/** Longest user agent a node accepts (net.h MAX_SUBVERSION_LENGTH). */
export const MAX_USER_AGENT = 256;

export const PROTOCOL_VERSION = 70016;
/** Peers below this are refused (protocol_version.h MIN_PEER_PROTO_VERSION). */
export const MIN_PEER_PROTO_VERSION = 31800;
/** From this version on, `wtxidrelay` and `sendaddrv2` are sent between version and verack. */
export const WTXID_RELAY_VERSION = 70016;
/** Version messages carry addr_from, nonce, user agent and height from 106; relay from 70001. */
export const VERSION_WITH_NONCE = 106;
export const VERSION_WITH_RELAY = 70001;

/** Service bits (developer reference; BIPs 64, 111, 144, 158, 159, 324). */
export const SERVICE_BITS: { bit: number; name: string; meaning: string }[] = [
  { bit: 0, name: 'NODE_NETWORK', meaning: 'serves the full block chain' },
  { bit: 1, name: 'NODE_GETUTXO', meaning: 'answers getutxo (BIP 64; no maintained node does)' },
  { bit: 2, name: 'NODE_BLOOM', meaning: 'serves bloom-filtered blocks (BIP 111)' },
  { bit: 3, name: 'NODE_WITNESS', meaning: 'serves blocks and transactions with witnesses (BIP 144)' },
  { bit: 6, name: 'NODE_COMPACT_FILTERS', meaning: 'serves compact block filters (BIP 157/158)' },
  { bit: 10, name: 'NODE_NETWORK_LIMITED', meaning: 'serves the last 288 blocks (BIP 159)' },
  { bit: 11, name: 'NODE_P2P_V2', meaning: 'speaks the encrypted v2 transport (BIP 324)' },
];

export const NODE_NETWORK = 1n;
export const NODE_WITNESS = 8n;

/** "NODE_NETWORK | NODE_WITNESS", "NONE", or with unknown bits as "bit 24". */
export function describeServices(services: bigint): string {
  if (services === 0n) return 'NONE';
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if (!((services >> BigInt(bit)) & 1n)) continue;
    names.push(SERVICE_BITS.find((s) => s.bit === bit)?.name ?? `bit ${bit}`);
  }
  return names.join(' | ');
}

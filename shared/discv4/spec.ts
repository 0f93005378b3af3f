// Constants of Node Discovery Protocol v4 (ethereum/devp2p discv4.md, EIP-8, EIP-868) and links
// to the sections that define them.

/** packet = packet-header ‖ packet-data; packet-header = hash(32) ‖ signature(65) ‖ packet-type(1). */
export const HASH_SIZE = 32;
export const SIGNATURE_SIZE = 65;
export const HEADER_SIZE = HASH_SIZE + SIGNATURE_SIZE + 1;
/** discv4.md: "The maximum size of any packet is 1280 bytes." */
export const MAX_PACKET_SIZE = 1280;
/** The version a PING announces (discv4.md: "version = 4"). */
export const PING_VERSION = 4;
/** How far ahead we set expiration, seconds (go-ethereum's expiration = 20 s). */
export const EXPIRATION_SECONDS = 20;
/** discv4.md "Endpoint Proof": a PONG within the last 12 hours proves the endpoint. */
export const BOND_EXPIRATION_MS = 12 * 60 * 60 * 1000;
/** FINDNODE answers carry at most k = 16 nodes (the bucket size), over one or more NEIGHBORS. */
export const MAX_NEIGHBORS = 16;
/** A FINDNODE target / NEIGHBORS node key: the 64-byte uncompressed public key x ‖ y. */
export const PUBKEY_SIZE = 64;

export const PING = 0x01;
export const PONG = 0x02;
export const FINDNODE = 0x03;
export const NEIGHBORS = 0x04;
export const ENR_REQUEST = 0x05;
export const ENR_RESPONSE = 0x06;
export type PacketType = typeof PING | typeof PONG | typeof FINDNODE | typeof NEIGHBORS | typeof ENR_REQUEST | typeof ENR_RESPONSE;

export const TYPE_NAMES: Record<PacketType, string> = {
  1: 'PING',
  2: 'PONG',
  3: 'FINDNODE',
  4: 'NEIGHBORS',
  5: 'ENRRequest',
  6: 'ENRResponse',
};

export const isPacketType = (t: number): t is PacketType => t >= PING && t <= ENR_RESPONSE;

const DISCV4 = 'https://github.com/ethereum/devp2p/blob/master/discv4.md';
export const SPEC = {
  wire: `${DISCV4}#wire-protocol`,
  ping: `${DISCV4}#ping-packet-0x01`,
  pong: `${DISCV4}#pong-packet-0x02`,
  findnode: `${DISCV4}#findnode-packet-0x03`,
  neighbors: `${DISCV4}#neighbors-packet-0x04`,
  enrRequest: `${DISCV4}#enrrequest-packet-0x05`,
  enrResponse: `${DISCV4}#enrresponse-packet-0x06`,
  endpointProof: `${DISCV4}#endpoint-proof`,
  kademlia: `${DISCV4}#kademlia-table`,
  recursiveLookup: `${DISCV4}#recursive-lookup`,
  eip8: 'https://eips.ethereum.org/EIPS/eip-8#rlpx-discovery-protocol',
  eip868: 'https://eips.ethereum.org/EIPS/eip-868',
} as const;

export const TYPE_SPEC: Record<PacketType, string> = {
  1: SPEC.ping,
  2: SPEC.pong,
  3: SPEC.findnode,
  4: SPEC.neighbors,
  5: SPEC.enrRequest,
  6: SPEC.enrResponse,
};

/** Trace step names (the key-schedule view groups them by handshake id). */
export const DISCV4_STEPS = { sign: 'packet-sign', recover: 'signature-recover' } as const;

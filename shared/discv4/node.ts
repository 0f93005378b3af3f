// A discv4 node as the engine keeps it: identity (node id, key) and endpoint. Contacts come from
// enode URLs, records and NEIGHBORS entries; all name the node by its public key.
import { toHex } from '../bytes.ts';
import { keccak256 } from '../crypto/hashes.ts';
import { convertPublicKey } from '../crypto/secp256k1.ts';
import { attempt, type Result } from '../errors.ts';
import type { Endpoint } from '../transport.ts';
import type { NeighborNode } from './packet.ts';

export interface Discv4Node {
  /** keccak256 of the uncompressed public key x ‖ y. */
  nodeId: Uint8Array;
  /** compressed, 33 bytes */
  publicKey: Uint8Array;
  ip: string;
  udp: number;
  /** RLPx port (0 when unknown). */
  tcp: number;
}

export const udpOf = (n: Discv4Node): Endpoint => ({ ip: n.ip, port: n.udp });

/** The 64-byte x ‖ y form discv4 puts on the wire (FINDNODE target, NEIGHBORS node-id). */
export const wireKey = (publicKey: Uint8Array): Uint8Array => convertPublicKey(publicKey, false).subarray(1);

/** A NEIGHBORS entry as a node; fails for a key that is not a curve point. */
export function nodeFromNeighbor(n: NeighborNode): Result<Discv4Node> {
  return attempt(() => {
    const full = new Uint8Array(65);
    full[0] = 4;
    full.set(n.publicKey, 1);
    return { nodeId: keccak256(n.publicKey), publicKey: convertPublicKey(full, true), ip: n.ip, udp: n.udp, tcp: n.tcp };
  });
}

export const nodeLabel = (n: { nodeId: Uint8Array }): string => `0x${toHex(n.nodeId).slice(0, 16)}…`;

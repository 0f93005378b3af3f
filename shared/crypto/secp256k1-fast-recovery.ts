// @noble/curves' public-key recovery: its multiplication of an arbitrary point uses the GLV
// endomorphism and a window, about 2.5× faster than @noble/secp256k1's double-and-add. Installed
// where recovery is hot (every discv4 packet, every RLPx auth): the CLI and the page's discv4 and
// RLPx hosts. Results are the same bytes either way (test/crypto-secp256k1.test.ts).
import { secp256k1 as curves } from '@noble/curves/secp256k1.js';
import { useRecovery } from './secp256k1.ts';

export function installFastRecovery(): void {
  useRecovery((vrs, hash, compressed) => curves.Signature.fromBytes(vrs, 'recovered').recoverPublicKey(hash).toBytes(compressed));
}

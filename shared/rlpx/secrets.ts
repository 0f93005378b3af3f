// The session secrets (rlpx.md "Initial Handshake", end): both sides compute the same values
// from the two ephemeral keys and the two nonces, then seed the keccak MAC states with the
// handshake packets exactly as sent (size prefix and padding included).
//   ephemeral-key = ecdh(ephemeral-privkey, remote-ephemeral-pubk)
//   shared-secret = keccak256(ephemeral-key ‖ keccak256(recipient-nonce ‖ initiator-nonce))
//   aes-secret    = keccak256(ephemeral-key ‖ shared-secret)
//   mac-secret    = keccak256(ephemeral-key ‖ aes-secret)
//   egress-mac  = keccak256.init((mac-secret ⊕ remote-nonce) ‖ packet we sent)
//   ingress-mac = keccak256.init((mac-secret ⊕ our-nonce) ‖ packet we received)
import { concat } from '../bytes.ts';
import { keccak256, keccakState, type KeccakState } from '../crypto/hashes.ts';
import { ecdhX } from '../crypto/secp256k1.ts';
import { xor32 } from './handshake.ts';

export interface Secrets {
  ephemeralKey: Uint8Array;
  sharedSecret: Uint8Array;
  aesSecret: Uint8Array;
  macSecret: Uint8Array;
  egressMac: KeccakState;
  ingressMac: KeccakState;
  /** The two MAC states' first digests (what the key-schedule view shows). */
  egressMacDigest: Uint8Array;
  ingressMacDigest: Uint8Array;
}

export function deriveSecrets(o: {
  initiator: boolean;
  ephemeralPrivateKey: Uint8Array;
  /** 65-byte (or 33-byte) form. */
  remoteEphemeralKey: Uint8Array;
  initiatorNonce: Uint8Array;
  recipientNonce: Uint8Array;
  /** The auth and ack packets exactly as they went over the wire. */
  auth: Uint8Array;
  ack: Uint8Array;
}): Secrets {
  const ephemeralKey = ecdhX(o.ephemeralPrivateKey, o.remoteEphemeralKey);
  const sharedSecret = keccak256(concat(ephemeralKey, keccak256(concat(o.recipientNonce, o.initiatorNonce))));
  const aesSecret = keccak256(concat(ephemeralKey, sharedSecret));
  const macSecret = keccak256(concat(ephemeralKey, aesSecret));
  const [ourNonce, remoteNonce] = o.initiator ? [o.initiatorNonce, o.recipientNonce] : [o.recipientNonce, o.initiatorNonce];
  const [sent, received] = o.initiator ? [o.auth, o.ack] : [o.ack, o.auth];
  const egressMac = keccakState().update(xor32(macSecret, remoteNonce)).update(sent);
  const ingressMac = keccakState().update(xor32(macSecret, ourNonce)).update(received);
  return { ephemeralKey, sharedSecret, aesSecret, macSecret, egressMac, ingressMac, egressMacDigest: egressMac.peek(), ingressMacDigest: ingressMac.peek() };
}

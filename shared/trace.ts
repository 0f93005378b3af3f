// Crypto steps as records, so a key-schedule panel is a view over the trace. Any protocol
// emits them: the step name is open, and `handshake` groups the steps of one handshake.

/** A step's name: spec spelling where there is one ("ecdh", "hkdf", "auth-ack"…). */
export type CryptoStep = string;

/** The steps discv5 emits (discv5-theory.md). */
export const DISCV5_STEPS = {
  ephemeralKey: 'ephemeral-key',
  ecdh: 'ecdh',
  hkdf: 'hkdf',
  idSign: 'id-sign',
  idVerify: 'id-verify',
  aesGcmSeal: 'aes-gcm-seal',
  aesGcmOpen: 'aes-gcm-open',
  mask: 'mask',
  unmask: 'unmask',
  enrSign: 'enr-sign',
  enrVerify: 'enr-verify',
} as const;

export interface TraceValue {
  /** Spec spelling: "challenge-data", "initiator-key", "id-signature-input". */
  name: string;
  hex: string;
  secret?: boolean;
  note?: string;
}

export interface TraceRecord {
  step: CryptoStep;
  /** One line for the UI: "ECDH: our ephemeral key × their static key". */
  title: string;
  inputs: TraceValue[];
  outputs: TraceValue[];
  /** For checks (signature verify, AEAD open): did it pass? */
  ok?: boolean;
  spec?: string;
  /**
   * The handshake this step belongs to, the same id for all its steps (discv5: `<peer node id>:
   * <seq of its WHOAREYOU>`). Absent for steps outside a handshake (a message in a session).
   */
  handshake?: string;
  /** Which peer (node id hex) the step belongs to. */
  peer?: string;
  /** The packet this step belongs to, when there is one (its sequence number in the engine). */
  packet?: number;
}

export type Tracer = (record: TraceRecord) => void;

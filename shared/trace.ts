// Crypto steps as records, so a key-schedule panel is a view over the trace.
export type CryptoStep =
  | 'ephemeral-key'
  | 'ecdh'
  | 'hkdf'
  | 'id-sign'
  | 'id-verify'
  | 'aes-gcm-seal'
  | 'aes-gcm-open'
  | 'mask'
  | 'unmask'
  | 'enr-sign'
  | 'enr-verify';

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
  /** Which peer (node id hex) the step belongs to. */
  peer?: string;
  /** The packet this step belongs to, when there is one (its sequence number in the engine). */
  packet?: number;
}

export type Tracer = (record: TraceRecord) => void;

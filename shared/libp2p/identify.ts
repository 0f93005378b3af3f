// Identify (/ipfs/id/1.0.0, identify/README.md): the side that opens the stream reads; the
// other writes one Identify protobuf, varint-length-prefixed, and closes its side.
import { attempt, type Result } from '../errors.ts';
import type { Field } from '../dissect.ts';
import { PUBLIC_KEY_SCHEMA } from './keys.ts';
import { bytesField, encodeProto, readProto, stringsField, type ProtoSchema } from './protobuf.ts';
import { describeMultiaddrBytes } from './address.ts';
import { SPEC } from './spec.ts';

export const IDENTIFY_SCHEMA: ProtoSchema = {
  5: { name: 'protocolVersion', type: 'string', meaning: 'The family of protocols the peer speaks ("ipfs/0.1.0", "eth2/1.0.0", …).', spec: SPEC.identify },
  6: { name: 'agentVersion', type: 'string', meaning: 'The peer’s software and version, like a user agent.', spec: SPEC.identify },
  1: { name: 'publicKey', type: 'message', message: PUBLIC_KEY_SCHEMA, meaning: 'The peer’s identity key (PublicKey protobuf).', spec: SPEC.identify },
  2: { name: 'listenAddrs', type: 'bytes', meaning: 'A multiaddr (binary form) the peer listens on.', spec: SPEC.identify, show: describeMultiaddrBytes },
  4: { name: 'observedAddr', type: 'bytes', meaning: 'The address the peer sees this connection coming from (binary multiaddr): how NATs are discovered.', spec: SPEC.identify, show: describeMultiaddrBytes },
  3: { name: 'protocols', type: 'string', meaning: 'A protocol id the peer answers on a new stream.', spec: SPEC.identify },
  8: { name: 'signedPeerRecord', type: 'bytes', meaning: 'A signed envelope with the peer’s addresses (RFC 0003); shown as bytes.', spec: SPEC.identify },
};

export interface IdentifyInfo {
  protocolVersion?: string;
  agentVersion?: string;
  protocols: string[];
  listenAddrs: string[];
  observedAddr?: string;
  publicKey?: Uint8Array;
}

export function decodeIdentify(bytes: Uint8Array, fields?: Field[]): Result<IdentifyInfo> {
  return attempt(() => {
    const m = readProto(bytes, IDENTIFY_SCHEMA, fields);
    const s = (n: number) => stringsField(m, n).at(-1);
    const observed = bytesField(m, 4);
    const publicKey = bytesField(m, 1);
    return {
      ...(s(5) !== undefined ? { protocolVersion: s(5) } : {}),
      ...(s(6) !== undefined ? { agentVersion: s(6) } : {}),
      protocols: stringsField(m, 3),
      listenAddrs: (m.fields.get(2) ?? []).map((b) => describeMultiaddrBytes(b as Uint8Array)),
      ...(observed ? { observedAddr: describeMultiaddrBytes(observed) } : {}),
      ...(publicKey ? { publicKey } : {}),
    };
  });
}

export function encodeIdentify(o: { protocolVersion: string; agentVersion: string; publicKey: Uint8Array; protocols: string[]; observedAddr?: Uint8Array }): Uint8Array {
  return encodeProto([
    [5, o.protocolVersion],
    [6, o.agentVersion],
    [1, o.publicKey],
    ...(o.observedAddr ? [[4, o.observedAddr] as [number, Uint8Array]] : []),
    ...o.protocols.map((p) => [3, p] as [number, string]),
  ]);
}

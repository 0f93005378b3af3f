// Every byte of a discv5 packet, layer by layer: the datagram as sent → the unmasked header →
// authdata → the decrypted message (RLP) → its fields. The UI renders this generically.
import { toHex } from '../bytes.ts';
import type { Dissection, Field, Layer } from '../dissect.ts';
import { enrFields } from '../enr/index.ts';
import { dissectMessage, summarizeMessage } from './messages.ts';
import { decodePacket, maskingKey, type Packet } from './packet.ts';
import { FLAG_NAMES, MASKING_IV_SIZE, SPEC, STATIC_HEADER_SIZE, TAG_SIZE } from './spec.ts';

export interface DissectOptions {
  /** The decrypted message-pt, when the keys were known. */
  plaintext?: Uint8Array;
  /** Set for the first packet without a session: its message is sealed with a throw-away key. */
  random?: boolean;
}

const hex = (b: Uint8Array, max = 40) => `0x${toHex(b.subarray(0, max))}${b.length > max ? '…' : ''}`;

/** Dissects a datagram addressed to `destId` (our id for packets in, the peer's for packets out). */
export function dissectDiscv5(raw: Uint8Array, destId: Uint8Array, options: DissectOptions = {}): Dissection {
  const decoded = decodePacket(destId, raw);
  if (!decoded.ok) {
    return {
      protocol: 'discv5',
      kind: 'rejected',
      summary: `rejected: ${decoded.error.reason}`,
      layers: [{ name: 'datagram', bytes: raw, fields: raw.length ? [{ name: 'datagram', offset: 0, length: raw.length, value: `${raw.length} bytes`, meaning: 'Bytes that do not form a discv5 packet for this node.' }] : [] }],
      error: decoded.error.reason,
    };
  }
  const p = decoded.value;
  const layers: Layer[] = [datagramLayer(p, destId), headerLayer(p, destId), authdataLayer(p)];
  let summary = FLAG_NAMES[p.flag];
  let error: string | undefined;
  if (options.plaintext) {
    const m = dissectMessage(options.plaintext);
    layers.push(...m.layers);
    if (m.message) summary = `${summary}: ${summarizeMessage(m.message)}`;
    if (m.error) error = m.error;
  } else if (p.flag !== 1) {
    summary = `${summary}: message not decrypted`;
  }
  const kind = options.random ? 'random packet' : FLAG_NAMES[p.flag];
  return { protocol: 'discv5', kind, summary, layers, ...(error ? { error } : {}) };
}

function datagramLayer(p: Packet, destId: Uint8Array): Layer {
  const headerLength = p.header.length;
  const fields: Field[] = [
    { name: 'masking-iv', offset: 0, length: MASKING_IV_SIZE, value: hex(p.maskingIv), meaning: 'Random IV for masking the header; sent in the clear.', spec: SPEC.header },
    { name: 'masked-header', offset: MASKING_IV_SIZE, length: headerLength, value: `${headerLength} bytes`, meaning: `The header, AES-128-CTR encrypted with masking-key = dest-id[:16] (${toHex(maskingKey(destId))}) so it looks random on the wire.`, spec: SPEC.header },
  ];
  if (p.message.length > 0) {
    const at = MASKING_IV_SIZE + headerLength;
    const ctLength = Math.max(0, p.message.length - TAG_SIZE);
    const children: Field[] = [];
    if (ctLength > 0) children.push({ name: 'ciphertext', offset: at, length: ctLength, value: `${ctLength} bytes`, meaning: 'The message, AES-128-GCM encrypted with the session key.', spec: SPEC.header });
    children.push({ name: 'tag', offset: at + ctLength, length: Math.min(TAG_SIZE, p.message.length), value: hex(p.message.subarray(ctLength)), meaning: 'GCM authentication tag: proves the message and header were not altered and the sender has the key.', spec: SPEC.header });
    fields.push({ name: 'message', offset: at, length: p.message.length, value: `${p.message.length} bytes (ciphertext ‖ tag)`, meaning: 'aesgcm_encrypt(key, nonce, message-pt, message-ad), message-ad = masking-iv ‖ header.', spec: SPEC.header, children });
  }
  return { name: 'datagram', bytes: p.raw, fields, note: 'The bytes as they travel in one UDP datagram.' };
}

function headerLayer(p: Packet, destId: Uint8Array): Layer {
  const authdataSize = p.header.length - STATIC_HEADER_SIZE;
  const fields: Field[] = [
    { name: 'protocol-id', offset: 0, length: 6, value: '"discv5"', meaning: 'Unmasking with our id must give "discv5": otherwise the packet is not for us.', spec: SPEC.header },
    { name: 'version', offset: 6, length: 2, value: '0x0001', meaning: 'Protocol version 5.1.', spec: SPEC.header },
    { name: 'flag', offset: 8, length: 1, value: `${p.flag} (${FLAG_NAMES[p.flag]})`, meaning: 'Packet kind: 0 message (the spec: ordinary message packet), 1 WHOAREYOU, 2 handshake; decides the authdata layout.', spec: SPEC.header },
    {
      name: 'nonce', offset: 9, length: 12, value: hex(p.nonce),
      meaning: p.flag === 1 ? 'The request-nonce: the nonce of the packet this WHOAREYOU answers.' : '96-bit AES-GCM nonce of this message; never reused under one key.',
      spec: p.flag === 1 ? SPEC.whoareyou : SPEC.header,
    },
    { name: 'authdata-size', offset: 21, length: 2, value: String(authdataSize), meaning: 'Length of the authdata that follows.', spec: SPEC.header },
    { name: 'authdata', offset: STATIC_HEADER_SIZE, length: authdataSize, value: `${authdataSize} bytes`, meaning: 'Flag-specific data: see the authdata layer.', spec: SPEC.header },
  ];
  return { name: 'unmasked header', bytes: p.header, fields, note: `static-header ‖ authdata, after AES-CTR with key dest-id[:16] = ${toHex(maskingKey(destId))} and IV masking-iv.` };
}

function authdataLayer(p: Packet): Layer {
  const bytes = p.header.subarray(STATIC_HEADER_SIZE);
  const a = p.authdata;
  const fields: Field[] = [];
  switch (a.flag) {
    case 0:
      fields.push({ name: 'src-id', offset: 0, length: 32, value: hex(a.srcId, 32), meaning: 'Node id of the sender, so the recipient can find the session keys.', spec: SPEC.ordinary });
      break;
    case 1:
      fields.push(
        { name: 'id-nonce', offset: 0, length: 16, value: hex(a.idNonce), meaning: 'Random challenge the other side must sign, so an old handshake cannot be replayed.', spec: SPEC.whoareyou },
        { name: 'enr-seq', offset: 16, length: 8, value: a.enrSeq.toString(), meaning: a.enrSeq === 0n ? 'We have no record of yours: include it in the handshake.' : 'Sequence number of your record we already have; send a newer one if it exists.', spec: SPEC.whoareyou },
      );
      break;
    case 2: {
      fields.push(
        { name: 'src-id', offset: 0, length: 32, value: hex(a.srcId, 32), meaning: 'Node id of the sender (the initiator).', spec: SPEC.handshake },
        { name: 'sig-size', offset: 32, length: 1, value: String(a.idSignature.length), meaning: 'Length of id-signature (64 for "v4").', spec: SPEC.handshake },
        { name: 'eph-key-size', offset: 33, length: 1, value: String(a.ephPubkey.length), meaning: 'Length of eph-pubkey (33: a compressed secp256k1 key).', spec: SPEC.handshake },
        { name: 'id-signature', offset: 34, length: a.idSignature.length, value: hex(a.idSignature, 64), meaning: 'Signature over the challenge by the key in the sender’s ENR: proves its identity.', spec: SPEC.step3 },
        { name: 'eph-pubkey', offset: 34 + a.idSignature.length, length: a.ephPubkey.length, value: hex(a.ephPubkey, 33), meaning: 'Fresh public key for this handshake; ECDH with it gives the session keys.', spec: SPEC.step3 },
      );
      if (a.record) {
        const at = 34 + a.idSignature.length + a.ephPubkey.length;
        const children = enrFields(a.record, at);
        fields.push({ name: 'record', offset: at, length: a.record.length, value: `ENR, ${a.record.length} bytes`, meaning: 'The sender’s node record, sent because the recipient’s copy was missing or older.', spec: SPEC.handshake, ...(children.length ? { children } : {}) });
      }
      break;
    }
  }
  return { name: 'authdata', bytes, fields };
}

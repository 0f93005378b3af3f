// Every byte of a libp2p message, layer by layer: the multistream lines on the raw TCP stream;
// a Noise handshake message token by token, and the handshake payload inside it (protobuf,
// identity key, DER signature, extensions); a Noise transport message, and inside it the
// yamux frames with the multistream lines and ping / identify bytes they carry.
import { attempt } from '../errors.ts';
import type { Dissection, Field, Layer } from '../dissect.ts';
import { hexOf, Reader } from '../bitcoin/wire.ts';
import { derFields, derToCompact } from './der.ts';
import { IDENTIFY_SCHEMA } from './identify.ts';
import { decodeLine, dissectLines } from './multistream.ts';
import { readProto } from './protobuf.ts';
import { PAYLOAD_SCHEMA } from './payload-schema.ts';
import { IDENTIFY_PROTOCOL, NOISE_TAG, PING_PROTOCOL, PING_SIZE, SPEC, YAMUX_HEADER } from './spec.ts';
import { peekUvarint } from './varint.ts';
import { describeYamux, readYamuxHeader } from './yamux.ts';

export interface DissectInput {
  raw: Uint8Array;
  kind?: string;
  plaintext?: Uint8Array;
  noiseStatic?: Uint8Array;
  continues?: number;
  streams?: Record<number, string>;
  rejected?: string;
}

const NOISE_LAYOUT: Record<string, { tokens: { name: string; size: number; meaning: string }[]; message: number }> = {
  'noise-e': { message: 1, tokens: [{ name: 'e', size: 32, meaning: 'The initiator’s ephemeral X25519 public key, in clear (no key exists yet). MixHash(e).' }] },
  'noise-e-ee-s-es': {
    message: 2,
    tokens: [
      { name: 'e', size: 32, meaning: 'The responder’s ephemeral X25519 public key, in clear. Then ee: both sides compute DH(e, re) and MixKey it — the first cipher key.' },
      { name: 's (encrypted)', size: 48, meaning: 'The responder’s static X25519 key, encrypted under the key from ee (32 bytes + 16-byte tag), with h as associated data. Then es: MixKey(DH(e, rs)).' },
    ],
  },
  'noise-s-se': { message: 3, tokens: [{ name: 's (encrypted)', size: 48, meaning: 'The initiator’s static X25519 key, encrypted (32 + 16-byte tag). Then se: MixKey(DH(s, re)).' }] },
};

export function dissectLibp2p(r: DissectInput): Dissection {
  const layers: Layer[] = [];
  let error: string | undefined;
  const kind = r.kind ?? 'message';
  if (kind === 'multistream' || (kind === 'refused' && looksLikeLine(r.raw))) {
    const d = dissectLines(r.raw);
    layers.push({ name: 'multistream-select', bytes: r.raw, fields: d.fields });
    error = d.error;
    return { protocol: 'libp2p', kind, summary: d.lines.join(' · '), layers, ...(error ? { error } : {}) };
  }
  // Everything after multistream is a Noise message: length, then the message.
  const len = r.raw.length >= 2 ? (r.raw[0] << 8) | r.raw[1] : 0;
  const fields: Field[] = [];
  if (r.raw.length < 2) {
    if (r.raw.length) fields.push({ name: 'bytes', offset: 0, length: r.raw.length, value: hexOf(r.raw), meaning: 'Too short for a Noise length prefix.' });
    layers.push({ name: 'noise frame', bytes: r.raw, fields });
    return { protocol: 'libp2p', kind, layers, error: r.rejected ?? 'truncated' };
  }
  fields.push({ name: 'noise_message_len', offset: 0, length: 2, value: `${len} bytes`, meaning: 'libp2p prefixes every Noise message with its length, 2 bytes big-endian (at most 65535).', spec: SPEC.noiseWire });
  const layout = NOISE_LAYOUT[kind];
  let at = 2;
  if (layout) {
    for (const t of layout.tokens) {
      const n = Math.min(t.size, r.raw.length - at);
      if (n <= 0) break;
      fields.push({ name: t.name, offset: at, length: n, value: hexOf(r.raw.subarray(at, at + n)), meaning: t.meaning, spec: SPEC.noiseTokens, ...(t.name.startsWith('s') ? { children: sChildren(at, n, r.raw) } : {}) });
      at += n;
    }
    if (at < r.raw.length) {
      const rest = r.raw.length - at;
      const encrypted = layout.message > 1;
      fields.push(
        encrypted && rest >= NOISE_TAG
          ? {
              name: 'payload (encrypted)', offset: at, length: rest, value: `${rest - NOISE_TAG} bytes + tag`, meaning: 'The libp2p handshake payload, encrypted with EncryptAndHash (ChaCha20-Poly1305, h as associated data). The next layer shows it decrypted.', spec: SPEC.noisePayload,
              children: [
                { name: 'ciphertext', offset: at, length: rest - NOISE_TAG, value: hexOf(r.raw.subarray(at, r.raw.length - NOISE_TAG)), meaning: 'ChaCha20 ciphertext of the payload.', spec: SPEC.noiseCipher },
                { name: 'tag', offset: r.raw.length - NOISE_TAG, length: NOISE_TAG, value: hexOf(r.raw.subarray(r.raw.length - NOISE_TAG)), meaning: 'Poly1305 tag: proves the bytes and the handshake so far (h) are the sender’s.', spec: SPEC.noiseCipher },
              ].filter((f) => f.length > 0),
            }
          : { name: 'payload', offset: at, length: rest, value: hexOf(r.raw.subarray(at)), meaning: encrypted ? 'Encrypted payload (too short for a tag).' : 'Message 1’s payload, in clear: libp2p sends none.', spec: SPEC.noiseXX },
      );
    }
    layers.push({ name: `noise message ${layout.message}`, bytes: r.raw, fields });
    if (r.plaintext && r.plaintext.length > 0) {
      const pf: Field[] = [];
      const p = attempt(() => readProto(r.plaintext!, PAYLOAD_SCHEMA, pf));
      if (p.ok) addDer(pf, r.plaintext);
      else error = `handshake payload: ${p.error.reason}`;
      layers.push({ name: 'handshake payload', bytes: r.plaintext, fields: fillRest(pf, r.plaintext), note: 'NoiseHandshakePayload (protobuf), decrypted.' });
    }
    return { protocol: 'libp2p', kind, summary: `Noise message ${layout.message}`, layers, ...(error || r.rejected ? { error: error ?? r.rejected } : {}) };
  }
  // A transport message: ciphertext and tag, then the plaintext inside.
  const body = r.raw.length - 2;
  if (body >= NOISE_TAG) {
    if (body > NOISE_TAG) fields.push({ name: 'ciphertext', offset: 2, length: body - NOISE_TAG, value: `${body - NOISE_TAG} bytes`, meaning: 'ChaCha20-Poly1305 under this direction’s transport key (k1 from the initiator, k2 from the responder), nonce = a counter per message, no associated data.', spec: SPEC.noiseCipher });
    fields.push({ name: 'tag', offset: r.raw.length - NOISE_TAG, length: NOISE_TAG, value: hexOf(r.raw.subarray(r.raw.length - NOISE_TAG)), meaning: 'Poly1305 tag: a flipped bit or a message out of order fails here.', spec: SPEC.noiseCipher });
  } else if (body > 0) fields.push({ name: 'bytes', offset: 2, length: body, value: hexOf(r.raw.subarray(2)), meaning: 'Shorter than a tag: not a Noise message.' });
  layers.push({ name: 'noise transport message', bytes: r.raw, fields });
  if (r.plaintext) layers.push({ name: 'plaintext (yamux)', bytes: r.plaintext, fields: yamuxFields(r.plaintext, r.continues ?? 0, r.streams ?? {}) });
  return { protocol: 'libp2p', kind, layers, ...(r.rejected ? { error: r.rejected } : {}) };
}

const looksLikeLine = (raw: Uint8Array) => decodeLine(raw).ok;

function sChildren(at: number, n: number, raw: Uint8Array): Field[] {
  if (n < 48) return [];
  return [
    { name: 'encrypted key', offset: at, length: 32, value: hexOf(raw.subarray(at, at + 32)), meaning: 'The static key, ChaCha20-encrypted.', spec: SPEC.noiseCipher },
    { name: 'tag', offset: at + 32, length: 16, value: hexOf(raw.subarray(at + 32, at + 48)), meaning: 'Poly1305 tag over the key, with h as associated data.', spec: SPEC.noiseCipher },
  ];
}

/** The DER signature inside identity_sig, broken down. */
function addDer(fields: Field[], bytes: Uint8Array): void {
  for (const f of fields) {
    if (f.name !== 'identity_sig') continue;
    const value = f.children?.find((c) => c.name === 'identity_sig');
    if (!value) continue;
    const der = bytes.subarray(value.offset, value.offset + value.length);
    if (derToCompact(der).ok) value.children = derFields(der, value.offset);
  }
}

/** Bytes a decoder stopped before, as one field, so the layer is tiled. */
function fillRest(fields: Field[], bytes: Uint8Array): Field[] {
  const end = fields.reduce((m, f) => Math.max(m, f.offset + f.length), 0);
  if (end < bytes.length) fields.push({ name: 'undecodable', offset: end, length: bytes.length - end, value: hexOf(bytes.subarray(end)), meaning: 'Bytes the decoder could not read.' });
  return fields;
}

/** yamux frames in a plaintext, with what their data carries. */
function yamuxFields(p: Uint8Array, continues: number, streams: Record<number, string>): Field[] {
  const fields: Field[] = [];
  let at = 0;
  if (continues > 0) {
    const n = Math.min(continues, p.length);
    fields.push({ name: 'continued data', offset: 0, length: n, value: `${n} bytes`, meaning: 'The rest of a yamux frame that began in an earlier Noise message: yamux runs over the decrypted byte stream, not over Noise messages.', spec: SPEC.yamuxHeader });
    at = n;
  }
  while (at < p.length) {
    if (p.length - at < YAMUX_HEADER) {
      fields.push({ name: 'partial header', offset: at, length: p.length - at, value: hexOf(p.subarray(at)), meaning: 'The start of a yamux header; the rest comes in the next Noise message.', spec: SPEC.yamuxHeader });
      break;
    }
    const hf: Field[] = [];
    const r = new Reader(p.subarray(0, at + YAMUX_HEADER), hf);
    r.at = at;
    const h = attempt(() => readYamuxHeader(r));
    if (!h.ok) {
      fields.push({ name: 'undecodable', offset: at, length: p.length - at, value: hexOf(p.subarray(at)), meaning: `Not a yamux frame: ${h.error.reason}.`, spec: SPEC.yamuxHeader });
      break;
    }
    const f = h.value;
    const dataLen = f.type === 'Data' ? Math.min(f.length, p.length - at - YAMUX_HEADER) : 0;
    const children: Field[] = [{ name: 'header', offset: at, length: YAMUX_HEADER, value: describeYamux(f), meaning: 'The 12-byte yamux header.', spec: SPEC.yamuxHeader, children: hf }];
    if (dataLen > 0) children.push(dataField(p, at + YAMUX_HEADER, dataLen, streams[f.streamId], f.length > dataLen));
    fields.push({ name: `frame: ${f.type}`, offset: at, length: YAMUX_HEADER + dataLen, value: describeYamux(f), meaning: FRAME_MEANING[f.type], spec: SPEC.yamux, children });
    at += YAMUX_HEADER + dataLen;
  }
  return fields;
}

const FRAME_MEANING: Record<string, string> = {
  Data: 'Bytes for one stream (SYN on the first frame opens it).',
  'Window Update': 'Flow control: the sender may send this many more bytes on the stream (also opens with SYN, accepts with ACK, closes with FIN).',
  Ping: 'A keep-alive on the session: SYN asks, ACK answers with the same value.',
  'Go Away': 'The session ends: no new streams.',
};

/** A Data frame's bytes: multistream lines first, then the stream's protocol. */
function dataField(p: Uint8Array, at: number, n: number, protocol: string | undefined, partial: boolean): Field {
  const bytes = p.subarray(at, at + n);
  const children: Field[] = [];
  // Multistream lines at the front of the data, as many as read cleanly.
  let used = 0;
  for (;;) {
    const v = peekUvarint(bytes.subarray(used), 2);
    if (!v || v === -1 || used + v.size + v.value > n || v.value === 0) break;
    const line = decodeLine(bytes.subarray(used, used + v.size + v.value));
    if (!line.ok) break;
    const d = dissectLines(bytes.subarray(used, used + v.size + v.value));
    for (const f of d.fields) children.push(shift(f, at + used));
    used += v.size + v.value;
  }
  if (used < n) {
    const rest = bytes.subarray(used);
    const base = at + used;
    if (protocol === PING_PROTOCOL && rest.length % PING_SIZE === 0) children.push({ name: 'ping payload', offset: base, length: rest.length, value: hexOf(rest), meaning: 'Ping: 32 random bytes; the other side sends the same 32 bytes back, and the time between is the round trip.', spec: SPEC.ping });
    else if (protocol === IDENTIFY_PROTOCOL && !partial) children.push(identifyField(rest, base));
    else children.push({ name: 'stream data', offset: base, length: rest.length, value: hexOf(rest), meaning: `Bytes of ${protocol ?? 'the stream'}${partial ? ' (the frame continues in the next Noise message)' : ''}.`, spec: SPEC.yamux });
  }
  return { name: 'data', offset: at, length: n, value: `${n} bytes${protocol ? ` (${protocol})` : ''}`, meaning: 'The frame’s data.', spec: SPEC.yamux, children };
}

function identifyField(bytes: Uint8Array, base: number): Field {
  const v = peekUvarint(bytes, 3);
  const whole = { name: 'identify', offset: base, length: bytes.length, value: `${bytes.length} bytes`, meaning: 'Identify: a varint length, then the Identify protobuf.', spec: SPEC.identify };
  if (!v || v === -1 || v.size + v.value !== bytes.length) return { ...whole, meaning: 'Identify bytes (not one whole message here).' };
  const inner: Field[] = [];
  const m = attempt(() => readProto(bytes, IDENTIFY_SCHEMA, inner, v.size));
  const lenField: Field = { name: 'length', offset: base, length: v.size, value: `${v.value} bytes`, meaning: 'Unsigned varint: the protobuf’s length.', spec: SPEC.varint };
  if (!m.ok) return { ...whole, children: [lenField, { name: 'message', offset: base + v.size, length: v.value, value: 'undecodable', meaning: m.error.reason }] };
  return { ...whole, children: [lenField, ...inner.map((f) => shift(f, base))] };
}

function shift(f: Field, by: number): Field {
  return { ...f, offset: f.offset + by, ...(f.children ? { children: f.children.map((c) => shift(c, by)) } : {}) };
}

// Every byte of an RLPx record, layer by layer: an auth or ack as its ECIES envelope, then the
// decrypted body (RLP fields and padding, or the fixed pre-EIP-8 layout); a frame as header and
// body ciphertexts with their MACs, then the decrypted header, the decrypted frame-data (msg-id,
// msg-data, padding), the snappy block, and the message's fields. The decrypted bytes come with
// the record (the engine had the keys); the layers show what each step turned them into.
import { toHex } from '../bytes.ts';
import type { Dissection, Field, Layer } from '../dissect.ts';
import { rlpStructure } from '../dissect.ts';
import { asWireError } from '../errors.ts';
import { decodeRlp, decodeRlpPrefix, type RlpItem } from '../rlp.ts';
import { statusFields } from '../eth/status.ts';
import type { RlpxDetail } from './engine.ts';
import { decodeFrameData, locate, readMessageId, summarizeMessage } from './messages.ts';
import { disconnectFields, helloFields } from './p2p.ts';
import { EXTRA_ELEMENT, namedList } from './rlp-fields.ts';
import { snappyLength } from './snappy.ts';
import { ECIES_OVERHEAD, SPEC } from './spec.ts';

const field = (name: string, offset: number, length: number, value: string, meaning: string, spec?: string, secret?: boolean): Field => ({ name, offset, length, value, meaning, ...(spec ? { spec } : {}), ...(secret ? { secret } : {}) });
const hexv = (b: Uint8Array) => (b.length === 0 ? '(empty)' : `0x${toHex(b)}`);

/** Leaves past the last field of a layer as one "unread" field, so the layer still tiles. */
function fillUnread(layer: Layer, why = 'Not decoded: reading stopped before this point.'): void {
  const end = layer.fields.reduce((m, f) => Math.max(m, f.offset + f.length), 0);
  if (end < layer.bytes.length) layer.fields.push(field('unread', end, layer.bytes.length - end, `${layer.bytes.length - end} bytes`, why));
}

function eciesLayer(raw: Uint8Array, kind: string, eip8: boolean): Layer {
  const fields: Field[] = [];
  let at = 0;
  if (eip8 && raw.length >= 2) {
    fields.push(field(`${kind}-size`, 0, 2, `${(raw[0] << 8) | raw[1]} bytes follow`, 'EIP-8: the size of the ECIES message after it (2 bytes, big-endian); also the ECIES shared-mac-data, so the tag covers it.', SPEC.eip8));
    at = 2;
  }
  const body = raw.length - at;
  if (body >= ECIES_OVERHEAD) {
    fields.push(field('R (one-off public key)', at, 65, hexv(raw.subarray(at, at + 65)), 'The sender\'s ECIES ephemeral key (uncompressed, 0x04 ‖ x ‖ y): with the recipient\'s static key it gives the shared secret S.', SPEC.ecies));
    fields.push(field('iv', at + 65, 16, hexv(raw.subarray(at + 65, at + 81)), 'The random AES-128-CTR initial counter.', SPEC.ecies));
    fields.push(field('ciphertext', at + 81, body - ECIES_OVERHEAD, `${body - ECIES_OVERHEAD} bytes`, `The ${kind} body, AES-128-CTR-encrypted under kE (the next layer shows it decrypted).`, SPEC.ecies));
    fields.push(field('d (HMAC-SHA256 tag)', raw.length - 32, 32, hexv(raw.subarray(raw.length - 32)), 'HMAC-SHA256 under SHA256(kM) over iv ‖ ciphertext ‖ size prefix: checked before anything is decrypted.', SPEC.ecies));
  }
  const layer: Layer = { name: 'ECIES envelope', bytes: raw, fields };
  fillUnread(layer);
  return layer;
}

function authBodyLayer(d: Extract<RlpxDetail, { layer: 'handshake' }>): Layer {
  const p = d.plaintext;
  const fields: Field[] = [];
  const name = `${d.kind} body (decrypted)`;
  if (d.format === 'pre-eip8') {
    const parts: [string, number, string][] = d.kind === 'auth'
      ? [['sig', 65, 'r ‖ s ‖ v over static-shared-secret ⊕ initiator-nonce, by the initiator\'s ephemeral key.'], ['ephemeral-pubk hash', 32, 'keccak256 of the initiator\'s ephemeral public key (pre-EIP-8 only).'], ['initiator-pubk', 64, 'The initiator\'s static public key.'], ['initiator-nonce', 32, 'Random: mixed into the secrets.'], ['token-flag', 1, '0x00: no session token (always).']]
      : [['recipient-ephemeral-pubk', 64, 'The recipient\'s ephemeral public key.'], ['recipient-nonce', 32, 'Random: mixed into the secrets.'], ['token-flag', 1, '0x00: no session token (always).']];
    let at = 0;
    for (const [n, len, meaning] of parts) {
      if (at + len > p.length) break;
      fields.push(field(n, at, len, hexv(p.subarray(at, at + len)), meaning, SPEC.handshake));
      at += len;
    }
    const layer: Layer = { name, bytes: p, fields, note: 'The pre-EIP-8 form: fixed sizes, no RLP (go-ethereum stopped accepting it in 2021).' };
    fillUnread(layer);
    return layer;
  }
  try {
    const list = decodeRlpPrefix(p, 0, 'body');
    const docs = d.kind === 'auth'
      ? [['sig', 'r ‖ s ‖ v over static-shared-secret ⊕ initiator-nonce, made with the initiator\'s ephemeral key: the recipient recovers that key from it.'], ['initiator-pubk', 'The initiator\'s static public key (64 bytes).'], ['initiator-nonce', 'Random, 32 bytes: mixed into the secrets.'], ['auth-vsn', 'Handshake version: 4. A higher one is accepted (EIP-8).']]
      : [['recipient-ephemeral-pubk', 'The recipient\'s ephemeral public key (64 bytes): ECDH with the initiator\'s gives ephemeral-key.'], ['recipient-nonce', 'Random, 32 bytes: mixed into the secrets.'], ['ack-vsn', 'Handshake version: 4. A higher one is accepted (EIP-8).']];
    const body = namedList(list, { name: d.kind, meaning: `The ${d.kind} as an RLP list (EIP-8).`, spec: SPEC.eip8 }, (i, it) => {
      const doc = docs[i];
      if (!doc) return EXTRA_ELEMENT(i, SPEC.eip8);
      return { name: doc[0], meaning: doc[1], spec: SPEC.handshake, ...(it.kind === 'bytes' ? { value: doc[0].endsWith('vsn') ? String(it.value.reduce((a, b) => a * 256 + b, 0)) : hexv(it.value) } : {}) };
    });
    fields.push(...(body.children ?? [body]));
    if (list.length < p.length) fields.push(field('padding', list.length, p.length - list.length, `${p.length - list.length} bytes`, 'EIP-8: random padding (at least 100 bytes) so the message size gives nothing away; ignored by the reader.', SPEC.eip8));
  } catch {
    // fall through: shown as unread
  }
  const layer: Layer = { name, bytes: p, fields };
  fillUnread(layer);
  return layer;
}

function headerLayer(h: Uint8Array): Layer {
  const fields: Field[] = [field('frame-size', 0, 3, `${(h[0] << 16) | (h[1] << 8) | h[2]} bytes`, 'The size of frame-data (before padding), 3 bytes big-endian.', SPEC.framing)];
  let at = 3;
  try {
    const hd = decodeRlpPrefix(h.subarray(0, 16), 3, 'header-data');
    fields.push(namedList(hd, { name: 'header-data', meaning: 'rlp [capability-id, context-id]: both unused, always c2 80 80.', spec: SPEC.framing }, (i) => ({ name: i === 0 ? 'capability-id' : i === 1 ? 'context-id' : `[${i}]`, meaning: 'Unused (zero).', spec: SPEC.framing })));
    at = 3 + hd.length;
  } catch {
    // unread
  }
  if (at < 16) fields.push(field('header-padding', at, 16 - at, hexv(h.subarray(at, 16)), 'Zero bytes filling the header to 16.', SPEC.framing));
  return { name: 'header (decrypted)', bytes: h, fields };
}

function frameLayer(raw: Uint8Array): Layer {
  const fields: Field[] = [];
  if (raw.length >= 16) fields.push(field('header-ciphertext', 0, 16, hexv(raw.subarray(0, 16)), 'The 16-byte header, AES-256-CTR-encrypted (one running keystream per direction, key aes-secret).', SPEC.framing));
  if (raw.length >= 32) fields.push(field('header-mac', 16, 16, hexv(raw.subarray(16, 32)), 'keccak MAC over the header ciphertext: checked before the header is decrypted.', SPEC.mac));
  if (raw.length > 48) {
    fields.push(field('frame-ciphertext', 32, raw.length - 48, `${raw.length - 48} bytes`, 'frame-data padded to 16 bytes, AES-256-CTR-encrypted with the same running keystream.', SPEC.framing));
    fields.push(field('frame-mac', raw.length - 16, 16, hexv(raw.subarray(raw.length - 16)), 'keccak MAC after absorbing the frame ciphertext: checked before decrypting.', SPEC.mac));
  }
  const layer: Layer = { name: 'frame', bytes: raw, fields };
  fillUnread(layer);
  return layer;
}

function messageLayer(name: string, item: RlpItem, payload: Uint8Array, negotiated?: number): Layer {
  let f: Field;
  if (name === 'Hello') f = helloFields(item);
  else if (name === 'Disconnect') f = disconnectFields(item);
  else if (name === 'Status' && negotiated) f = statusFields(item, negotiated);
  else f = rlpStructure(item, name);
  // The list's prefix and elements are the layer's top-level fields (each element unfolds further).
  return { name: 'message (RLP)', bytes: payload, fields: f.children?.length ? f.children : [f], note: `${name}: ${f.value}` };
}

export function dissectRlpx(raw: Uint8Array, detail?: RlpxDetail, kind?: string): Dissection {
  const layers: Layer[] = [];
  try {
    if (!detail) {
      // A refused record: what was on the wire, by size.
      const k = kind ?? 'bytes';
      layers.push(k === 'auth' || k === 'ack' ? eciesLayer(raw, k, raw[0] !== 0x04) : frameLayer(raw));
      return { protocol: 'rlpx', kind: k, layers };
    }
    if (detail.layer === 'handshake') {
      layers.push(eciesLayer(raw, detail.kind, detail.format === 'eip8'));
      layers.push(authBodyLayer(detail));
      return { protocol: 'rlpx', kind: detail.kind, summary: `${detail.kind} (${detail.format === 'eip8' ? 'EIP-8' : 'pre-EIP-8'}), ${raw.length} bytes`, layers };
    }
    layers.push(frameLayer(raw));
    layers.push(headerLayer(detail.headerPlain));
    const fp = detail.framePlain;
    const declared = (detail.headerPlain[0] << 16) | (detail.headerPlain[1] << 8) | detail.headerPlain[2];
    const size = Math.min(declared, fp.length);
    if (declared > fp.length) throw new Error(`frame-size ${declared} is larger than the ${fp.length} bytes of frame-data`);
    const frameFields: Field[] = [];
    const frameDataLayer: Layer = { name: 'frame-data (decrypted)', bytes: fp, fields: frameFields };
    layers.push(frameDataLayer);
    const { id, idLength } = readMessageId(fp.subarray(0, size));
    const where = locate(id, detail.ctx.caps);
    frameFields.push(field('msg-id', 0, idLength, `0x${id.toString(16).padStart(2, '0')} → ${where.capability ? `${where.capability} ` : ''}${where.name}${where.capability && where.capability !== 'p2p' ? ` (0x${id.toString(16)} − offset 0x${(id - where.code).toString(16)} = 0x${where.code.toString(16)})` : ''}`, 'rlp(msg-id): p2p owns 0x00–0x0f, each shared capability the ids after (alphabetical, offsets from Hello).', SPEC.capabilities));
    if (size > idLength) frameFields.push(field('msg-data', idLength, size - idLength, `${size - idLength} bytes`, detail.ctx.compressed && id !== 0 ? 'The message, snappy-compressed (both Hellos said p2p ≥ 5).' : 'The message\'s RLP (Hello is never compressed).', SPEC.messages));
    if (fp.length > size) frameFields.push(field('frame-padding', size, fp.length - size, `${fp.length - size} bytes`, 'Zeros to a multiple of 16 bytes.', SPEC.framing));
    const m = decodeFrameData(fp.subarray(0, size), detail.ctx);
    if (!m.ok) return { protocol: 'rlpx', kind: where.name, layers, error: m.error.reason };
    const msg = m.value;
    if (msg.wasCompressed) {
      const len = snappyLength(msg.data);
      const vb = len.ok ? len.value.varintBytes : 0;
      const sf: Field[] = [];
      if (vb) sf.push(field('uncompressed-length', 0, vb, `${len.ok ? len.value.length : '?'} bytes`, 'Snappy varint: the size after decompression, checked against the 16 MiB cap before anything is allocated.', SPEC.snappyFormat));
      if (msg.data.length > vb) sf.push(field('snappy elements', vb, msg.data.length - vb, `${msg.data.length - vb} bytes`, 'Literals and back-references (tag byte, lengths, offsets) that rebuild the message.', SPEC.snappyFormat));
      layers.push({ name: 'msg-data (snappy)', bytes: msg.data, fields: sf });
    }
    if (msg.payload.length > 0) {
      const item = decodeRlp(msg.payload, 'message');
      layers.push(messageLayer(msg.name, item, msg.payload, where.version));
    }
    return { protocol: 'rlpx', kind: msg.name, summary: summarizeMessage(msg), layers };
  } catch (e) {
    for (const l of layers) fillUnread(l);
    return { protocol: 'rlpx', kind: kind ?? 'frame', layers, error: asWireError(e).reason };
  }
}

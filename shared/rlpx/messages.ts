// Messages inside frames (rlpx.md "Message Encoding"): frame-data = rlp(msg-id) ‖ msg-data. Ids
// 0x00–0x0f are p2p's; each shared capability owns a range after them. After Hello, msg-data is
// snappy-compressed when both Hellos say protocolVersion ≥ 5 (Hello itself never is; Disconnect
// is accepted either way, since a peer may send it before it has seen our Hello).
import { attempt, fail, type Result } from '../errors.ts';
import { asNumber, decodeRlp, decodeRlpPrefix, encodeRlp, rlpUint } from '../rlp.ts';
import { decodeStatus, ETH_MESSAGES, summarizeStatus, type Status } from '../eth/status.ts';
import { decodeDisconnect, decodeHello, type Hello, type SharedCapability } from './p2p.ts';
import { snappyCompress, snappyDecompress } from './snappy.ts';
import { disconnectReasonText, P2P_IDS } from './spec.ts';

export interface MessageContext {
  /** Snappy on: both Hellos said protocolVersion ≥ 5. */
  compressed: boolean;
  caps: SharedCapability[];
}

export type Decoded =
  | { name: 'Hello'; hello: Hello }
  | { name: 'Disconnect'; reason: number; form: 'list' | 'bare' | 'empty' }
  | { name: 'Ping' | 'Pong' }
  | { name: 'Status'; status: Status }
  | { name: string; other: true };

export interface FrameMessage {
  /** The id on the wire. */
  id: number;
  /** 'p2p', 'eth/68', … or undefined for an id no shared capability owns. */
  capability?: string;
  /** The id within its capability. */
  code: number;
  name: string;
  /** msg-data as it came (compressed or not). */
  data: Uint8Array;
  /** msg-data after snappy (the RLP). */
  payload: Uint8Array;
  wasCompressed: boolean;
  decoded: Decoded;
}

const P2P_NAMES: Record<number, string> = { 0: 'Hello', 1: 'Disconnect', 2: 'Ping', 3: 'Pong' };

/** Which capability owns a message id, and the id within it. */
export function locate(id: number, caps: SharedCapability[]): { capability?: string; code: number; name: string; version?: number } {
  if (id < 0x10) return { capability: 'p2p', code: id, name: P2P_NAMES[id] ?? `p2p 0x${id.toString(16).padStart(2, '0')}` };
  const c = caps.find((x) => id >= x.offset && id < x.offset + x.length);
  if (!c) return { code: id, name: `unknown id 0x${id.toString(16)}` };
  const code = id - c.offset;
  const name = c.name === 'eth' ? (ETH_MESSAGES[code] ?? `eth 0x${code.toString(16).padStart(2, '0')}`) : `${c.name} 0x${code.toString(16).padStart(2, '0')}`;
  return { capability: `${c.name}/${c.version}`, code, name, version: c.version };
}

/** frame-data for a message: rlp(id) ‖ msg-data, snappy-compressed unless it is Hello or compression is off. */
export function encodeFrameData(id: number, payload: Uint8Array, compressed: boolean): Uint8Array {
  const data = compressed && id !== P2P_IDS.hello ? snappyCompress(payload) : payload;
  const idBytes = encodeRlp(rlpUint(id));
  const out = new Uint8Array(idBytes.length + data.length);
  out.set(idBytes);
  out.set(data, idBytes.length);
  return out;
}

/** Reads the message-id prefix of frame-data. Throws WireError. */
export function readMessageId(frameData: Uint8Array): { id: number; idLength: number } {
  const item = decodeRlpPrefix(frameData, 0, 'msg-id');
  if (item.kind !== 'bytes') fail('bad-type', 'msg-id', 'the message id must be an RLP integer, not a list');
  return { id: asNumber(item, 'msg-id', 4), idLength: item.length };
}

/** Reads one message from decrypted frame-data. Never throws. */
export function decodeFrameData(frameData: Uint8Array, ctx: MessageContext): Result<FrameMessage> {
  return attempt(() => {
    const { id, idLength } = readMessageId(frameData);
    const where = locate(id, ctx.caps);
    const data = frameData.subarray(idLength);
    let payload = data;
    let wasCompressed = false;
    if (ctx.compressed && id !== P2P_IDS.hello) {
      const d = snappyDecompress(data);
      if (d.ok) {
        payload = d.value;
        wasCompressed = true;
      } else if (id !== P2P_IDS.disconnect) throw d.error;
    }
    let decoded: Decoded;
    if (id === P2P_IDS.hello) {
      const h = decodeHello(payload);
      if (!h.ok) throw h.error;
      decoded = { name: 'Hello', hello: h.value };
    } else if (id === P2P_IDS.disconnect) {
      let d = decodeDisconnect(payload);
      // Compressed bytes that happen to decompress but are not the reason: try them as sent.
      if (!d.ok && wasCompressed) {
        d = decodeDisconnect(data);
        if (d.ok) {
          payload = data;
          wasCompressed = false;
        }
      }
      if (!d.ok) throw d.error;
      decoded = { name: 'Disconnect', ...d.value };
    } else if (id === P2P_IDS.ping || id === P2P_IDS.pong) {
      decodeRlp(payload, where.name); // an empty list by the spec; any one RLP item is accepted
      decoded = { name: where.name as 'Ping' | 'Pong' };
    } else if (where.capability?.startsWith('eth/') && where.code === 0) {
      const s = decodeStatus(payload, where.version!);
      if (!s.ok) throw s.error;
      decoded = { name: 'Status', status: s.value };
    } else decoded = { name: where.name, other: true };
    return { id, ...(where.capability ? { capability: where.capability } : {}), code: where.code, name: where.name, data, payload, wasCompressed, decoded };
  });
}

export function summarizeMessage(m: FrameMessage): string {
  const d = m.decoded;
  if ('hello' in d) return `Hello p2p/${d.hello.protocolVersion} ${d.hello.clientId} [${d.hello.capabilities.map((c) => `${c.name}/${c.version}`).join(' ')}]`;
  if ('reason' in d) return `Disconnect ${disconnectReasonText(d.reason)}${d.form !== 'list' ? ` (${d.form} form)` : ''}`;
  if ('status' in d) return summarizeStatus(d.status);
  if ('other' in d) return `${m.capability ?? ''} ${m.name}, ${m.payload.length} bytes`.trim();
  return m.name;
}

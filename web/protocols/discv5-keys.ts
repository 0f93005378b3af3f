// discv5's key schedule as the page shows it, over the trace: crypto records grouped into
// handshakes (one per peer and challenge), plus, per message, the AES-GCM key, nonce and
// associated data re-read from the packet itself. The registry hands it to the generic view.
import { toHex } from '../../shared/bytes.ts';
import { decodePacket, messageAd } from '../../shared/discv5/packet.ts';
import { parseHex } from '../../shared/bytes.ts';
import type { TraceRecord, TraceValue } from '../../shared/trace.ts';
import type { PacketInfo } from '../lib/protocol.ts';

export interface HandshakeView {
  /** Remote node id (hex) as the trace names it. */
  peer: string;
  /** Our role: initiator (we answered a WHOAREYOU) or recipient (we verified their handshake). */
  role: 'initiator' | 'recipient';
  /** Seq of the packet that started it on our side (WHOAREYOU in, or handshake in). */
  packet: number;
  steps: TraceRecord[];
  ok: boolean;
  initiatorKey?: string;
  recipientKey?: string;
}

const HANDSHAKE_STEPS = new Set(['unmask', 'ephemeral-key', 'ecdh', 'hkdf', 'id-sign', 'id-verify']);

/**
 * Handshakes in the order they started. A group is the records of one handshake id (the engine
 * names it on every handshake step); a record without one (the first message opened with the new
 * keys) joins the handshake of its packet.
 */
export function handshakesOf(traces: TraceRecord[]): HandshakeView[] {
  const idOfPacket = new Map<string, string>();
  for (const t of traces) if (t.handshake && t.packet !== undefined) idOfPacket.set(`${t.peer ?? ''}:${t.packet}`, t.handshake);
  const groups = new Map<string, TraceRecord[]>();
  for (const t of traces) {
    if (t.packet === undefined) continue;
    const byPacket = `${t.peer ?? ''}:${t.packet}`;
    const key = t.handshake ?? idOfPacket.get(byPacket) ?? byPacket;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(t);
  }
  const out: HandshakeView[] = [];
  for (const steps of groups.values()) {
    if (!steps.some((s) => HANDSHAKE_STEPS.has(s.step))) continue;
    const hkdf = steps.find((s) => s.step === 'hkdf');
    const key = (name: string) => hkdf?.outputs.find((o) => o.name === name)?.hex;
    const role = steps.some((s) => s.step === 'id-verify') ? 'recipient' : 'initiator';
    const initiatorKey = key('initiator-key');
    const recipientKey = key('recipient-key');
    out.push({
      peer: steps[0].peer ?? '',
      role,
      packet: Math.min(...steps.map((x) => x.packet!)),
      steps,
      ok: steps.every((s) => s.ok !== false) && !!hkdf,
      ...(initiatorKey ? { initiatorKey } : {}),
      ...(recipientKey ? { recipientKey } : {}),
    });
  }
  return out.sort((a, b) => a.packet - b.packet);
}

/**
 * The handshake that explains a packet: the latest one with its peer at or before it; for a
 * packet that provokes a handshake (a random packet, a challenge we send) the next one.
 */
export function handshakeFor(all: HandshakeView[], peer: string | undefined, seq: number, provokes = false): HandshakeView | undefined {
  const mine = all.filter((h) => h.peer === peer);
  if (provokes) return mine.find((h) => h.packet > seq);
  let best: HandshakeView | undefined;
  for (const h of mine) if (h.packet <= seq && (!best || h.packet > best.packet)) best = h;
  return best ?? mine.find((h) => h.packet > seq);
}

/** Packets that come before their handshake: our random packet, a peer's unreadable one, a WHOAREYOU we send. */
export const provokesHandshake = (p: { kind?: string; direction: 'in' | 'out'; message?: unknown }): boolean =>
  p.kind === 'random' || (p.direction === 'in' && p.kind === 'ordinary' && !p.message) || (p.direction === 'out' && p.kind === 'WHOAREYOU');

export interface MessageCrypto {
  seq: number;
  direction: 'in' | 'out';
  kind: string;
  message: string;
  /** Which key sealed it, in the spec's words. */
  keyName: string;
  key: TraceValue;
  nonce: TraceValue;
  ad: TraceValue;
  /** message-pt: what was sealed (when the page knows it). */
  plaintext?: TraceValue;
  /** What went on the wire: ciphertext ‖ tag (16 bytes). */
  sealed: TraceValue;
}

/** AES-GCM inputs of one packet's message (none for WHOAREYOU or when the key is unknown). */
export function messageCrypto(p: PacketInfo, hs?: HandshakeView): MessageCrypto | undefined {
  if (!p.messageKey || p.kind === 'WHOAREYOU') return undefined;
  const destId = parseHex(p.destId);
  if (!destId) return undefined;
  const decoded = decodePacket(destId, p.raw);
  if (!decoded.ok) return undefined;
  const k = toHex(p.messageKey);
  const keyName =
    p.kind === 'random' ? 'random key (thrown away)' : k === hs?.initiatorKey ? 'initiator-key' : k === hs?.recipientKey ? 'recipient-key' : 'session key';
  return {
    seq: p.seq,
    direction: p.direction,
    // The timeline's names: one name per kind everywhere on the page.
    kind: p.kind === 'ordinary' ? 'message' : p.kind === 'random' ? 'random packet' : (p.kind ?? '?'),
    message: p.message?.type ?? '?',
    keyName,
    key: { name: keyName, hex: k, secret: true },
    nonce: { name: 'nonce', hex: toHex(decoded.value.nonce), note: '96 bits from the header; unique per message under one key' },
    ad: { name: 'message-ad', hex: toHex(messageAd(decoded.value.maskingIv, decoded.value.header)), note: 'masking-iv ‖ header (unmasked)' },
    ...(p.plaintext ? { plaintext: { name: 'message-pt', hex: toHex(p.plaintext), note: 'message-type ‖ RLP(message-data)' } } : {}),
    sealed: { name: 'ciphertext ‖ tag', hex: toHex(decoded.value.message), note: 'the last 16 bytes are the GCM tag' },
  };
}

/**
 * Messages that belong to a handshake: those sealed with its keys, and our random packets to the
 * peer sent after the previous handshake with it and before this one (they provoked the WHOAREYOU).
 */
export function messagesOf(packets: PacketInfo[], all: HandshakeView[], hs: HandshakeView): MessageCrypto[] {
  const earlier = all.filter((h) => h.peer === hs.peer && h.packet < hs.packet).map((h) => h.packet);
  const after = earlier.length ? Math.max(...earlier) : -1;
  const rows: MessageCrypto[] = [];
  for (const p of packets) {
    const peer = p.direction === 'out' ? p.destId : p.peerId;
    if (peer !== hs.peer || !p.messageKey) continue;
    const k = toHex(p.messageKey);
    const sealedWithIt = k === hs.initiatorKey || k === hs.recipientKey;
    const provoked = p.kind === 'random' && p.direction === 'out' && p.seq > after && p.seq < hs.packet;
    if (!sealedWithIt && !provoked) continue;
    const row = messageCrypto(p, hs);
    if (row) rows.push(row);
  }
  return rows;
}

/** What each step of the key schedule is for (the key-schedule panel shows it above the values). */
export const STEP_NOTES: Record<string, { label: string; why: string }> = {
  unmask: {
    label: 'The challenge',
    why: 'The WHOAREYOU, unmasked, is challenge-data. It salts the keys and the signature covers it, so keys and proof belong to this one challenge.',
  },
  'ephemeral-key': {
    label: 'Ephemeral key pair',
    why: 'Made for this handshake only and then forgotten: a later leak of a long-term key cannot decrypt this session.',
  },
  ecdh: {
    label: 'ECDH shared secret',
    why: 'Both sides reach the same point: the initiator from its ephemeral key and the recipient’s public key, the recipient from its own key and the ephemeral public key. No one else can.',
  },
  hkdf: {
    label: 'HKDF: the session keys',
    why: 'Stretches the secret into two 16-byte AES keys, one per direction, salted with challenge-data and bound to both node ids.',
  },
  'id-sign': {
    label: 'id-signature, made',
    why: 'Proves the initiator holds the key of its ENR, bound to this challenge and this ephemeral key, so it cannot be replayed.',
  },
  'id-verify': {
    label: 'id-signature, verified',
    why: 'The recipient checks the signature with the public key in the initiator’s record.',
  },
  'aes-gcm-open': {
    label: 'First message decrypted',
    why: 'The message in the handshake packet opens with initiator-key: both sides derived the same keys.',
  },
};

// Codec benchmark pieces: one ordinary message packet (PING or PONG) encoded and decoded with
// AES-GCM, by our shared/ code and by @chainsafe/discv5's exported functions, the same work each:
// header + authdata, message RLP, seal, mask → unmask, parse, open, message RLP.
import { encodeChallengeData, encodePacket as csEncodePacket, decodePacket as csDecodePacket, createHeader, encodeMessageAuthdata, PacketType } from '@chainsafe/discv5/packet';
import { decryptMessage, encryptMessage } from '@chainsafe/discv5';
// Not in the package's exports map: loaded by path (the same module chainsafe's session layer uses).
import { decode as csDecodeMessage, encode as csEncodeMessage, MessageType } from '../node_modules/@chainsafe/discv5/lib/message/index.js';
import { toHex } from '../shared/bytes.ts';
import { aesGcmKey, aesGcmOpen, aesGcmSeal, type AesGcmKey } from '../shared/crypto/aes.ts';
import { decodeMessage, encodeMessage, type Message } from '../shared/discv5/messages.ts';
import { decodePacket, encodeAuthdata, encodeHeader, encodePacket, messageAd } from '../shared/discv5/packet.ts';
import { FLAG_MESSAGE } from '../shared/discv5/spec.ts';

export interface CodecCase {
  name: string;
  /** As the engine runs it: the session's keyed GCM (key schedule and GHASH tables made once). */
  ours: () => void;
  /** The same with the one-shot aesGcmSeal/aesGcmOpen (key setup on every call). */
  oursOneShot: () => void;
  theirs: () => void;
  /** Both round-trip the message and agree on the bytes when given the same nonce and IV. */
  check: () => void;
}

export function codecCases(random: (n: number) => Uint8Array): CodecCase[] {
  const srcId = random(32);
  const destId = random(32);
  const srcHex = toHex(srcId);
  const destHex = toHex(destId);
  const key = random(16);
  const requestId = Uint8Array.of(0x81, 2, 3, 4, 5, 6, 7, 8);
  const requestIdBig = BigInt(`0x${toHex(requestId)}`);

  const messages: { name: string; ours: Message; theirs: Parameters<typeof csEncodeMessage>[0] }[] = [
    { name: 'PING', ours: { type: 'PING', requestId, enrSeq: 7n }, theirs: { type: MessageType.PING, id: requestIdBig, enrSeq: 7n } },
    {
      name: 'PONG',
      ours: { type: 'PONG', requestId, enrSeq: 7n, recipientIp: '127.0.0.1', recipientPort: 30303 },
      theirs: { type: MessageType.PONG, id: requestIdBig, enrSeq: 7n, addr: { ip: { type: 4, octets: Uint8Array.of(127, 0, 0, 1) }, port: 30303 } } as Parameters<typeof csEncodeMessage>[0],
    },
  ];

  const session = aesGcmKey(key);
  const oneShot: AesGcmKey = { seal: (n, pt, ad) => aesGcmSeal(key, n, pt, ad), open: (n, c, ad) => aesGcmOpen(key, n, c, ad) };
  const ourEncode = (m: Message, nonce: Uint8Array, iv: Uint8Array, gcm = session): Uint8Array => {
    const header = encodeHeader(FLAG_MESSAGE, nonce, encodeAuthdata({ flag: FLAG_MESSAGE, srcId }));
    return encodePacket(destId, iv, header, gcm.seal(nonce, encodeMessage(m), messageAd(iv, header)));
  };
  const ourDecode = (raw: Uint8Array, gcm = session): Message => {
    const p = decodePacket(destId, raw);
    if (!p.ok) throw new Error(p.error.reason);
    const pt = gcm.open(p.value.nonce, p.value.message, messageAd(p.value.maskingIv, p.value.header));
    if (!pt) throw new Error('does not open');
    const m = decodeMessage(pt);
    if (!m.ok) throw new Error(m.error.reason);
    return m.value;
  };
  const theirEncode = (m: Parameters<typeof csEncodeMessage>[0], nonce: Uint8Array, iv: Uint8Array): Uint8Array => {
    const header = createHeader(PacketType.Message, encodeMessageAuthdata({ srcId: srcHex }), nonce);
    const message = encryptMessage(key, header.nonce, csEncodeMessage(m), encodeChallengeData(iv, header));
    return csEncodePacket(destHex, { maskingIv: iv, header, message });
  };
  const theirDecode = (raw: Uint8Array) => {
    const p = csDecodePacket(destHex, raw);
    return csDecodeMessage(decryptMessage(key, p.header.nonce, p.message, p.messageAd!));
  };

  // A fresh nonce and masking-iv per packet, as on the wire, drawn from a pool made in advance:
  // the benchmark measures the codecs, not the system's random number generator.
  const POOL = 1024;
  const nonces = Array.from({ length: POOL }, () => random(12));
  const ivs = Array.from({ length: POOL }, () => random(16));
  let i = 0;
  const next = () => (i = (i + 1) % POOL);
  return messages.map(({ name, ours, theirs }) => ({
    name,
    ours: () => void ourDecode(ourEncode(ours, nonces[next()], ivs[i])),
    oursOneShot: () => void ourDecode(ourEncode(ours, nonces[next()], ivs[i], oneShot), oneShot),
    theirs: () => void theirDecode(theirEncode(theirs, nonces[next()], ivs[i])),
    check: () => {
      const nonce = random(12);
      const iv = random(16);
      const a = ourEncode(ours, nonce, iv);
      const b = theirEncode(theirs, nonce, iv);
      if (toHex(a) !== toHex(b)) throw new Error(`${name}: the two codecs disagree on the bytes`);
      if (ourDecode(b).type !== ours.type || Number(theirDecode(a).type) !== Number(theirs.type)) throw new Error(`${name}: round trip failed`);
    },
  }));
}

// The discv5 v5.1 wire test vectors (test/vectors/discv5-wire.json, from ethereum/devp2p
// discv5/discv5-wire-test-vectors.md), byte for byte, in both directions.
import { describe, expect, it } from 'vitest';
import vectors from './vectors/discv5-wire.json' with { type: 'json' };
import { fromHex, toHex } from '../shared/bytes.ts';
import { aesGcmOpen, aesGcmSeal } from '../shared/crypto/aes.ts';
import { publicKeyOf } from '../shared/crypto/secp256k1.ts';
import { nodeIdOf } from '../shared/enr/index.ts';
import { decodePacket, encodeAuthdata, encodeHeader, encodePacket, messageAd } from '../shared/discv5/packet.ts';
import { decodeMessage, encodeMessage } from '../shared/discv5/messages.ts';
import { deriveKeys, ecdh, idSignatureInput, signId, verifyId } from '../shared/discv5/handshake-crypto.ts';
import { replaySpecHandshake, replaySpecPingMessage, replaySpecWhoareyou } from '../shared/discv5/replay.ts';

const keyA = fromHex(vectors.nodeKeys.nodeAKey);
const keyB = fromHex(vectors.nodeKeys.nodeBKey);
const idA = fromHex(vectors.derivedNodeKeys.nodeAId);
const idB = fromHex(vectors.derivedNodeKeys.nodeBId);
const packet = (name: string) => vectors.packets.find((p) => p.name === name)!;

describe('discv5 wire vectors: keys', () => {
  it('node ids are keccak256 of the public keys', () => {
    expect(toHex(nodeIdOf(publicKeyOf(keyA)))).toBe(vectors.derivedNodeKeys.nodeAId);
    expect(toHex(nodeIdOf(publicKeyOf(keyB)))).toBe(vectors.derivedNodeKeys.nodeBId);
  });
});

describe('discv5 wire vectors: decode (node B reads each packet)', () => {
  for (const v of vectors.packets) {
    it(`${v.name}: unmasks, parses and decrypts`, () => {
      const r = decodePacket(idB, fromHex(v.packet));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const p = r.value;
      expect(p.flag).toBe(v.flag);
      expect(toHex(p.maskingIv)).toBe(v.derived.maskingIv);
      expect(toHex(p.header.subarray(0, 23))).toBe(v.derived.staticHeader);
      expect(toHex(p.header.subarray(23))).toBe(v.derived.authdata);
      if (v.flag === 1) {
        const w = (v as { whoareyou: { idNonce: string; enrSeq: number; requestNonce: string; challengeData: string } }).whoareyou;
        expect(p.authdata.flag).toBe(1);
        if (p.authdata.flag !== 1) return;
        expect(toHex(p.authdata.idNonce)).toBe(w.idNonce);
        expect(p.authdata.enrSeq).toBe(BigInt(w.enrSeq));
        expect(toHex(p.nonce)).toBe(w.requestNonce);
        expect(toHex(messageAd(p.maskingIv, p.header))).toBe(w.challengeData);
        expect(p.message.length).toBe(0);
        return;
      }
      const readKey = fromHex((v as { readKey: string }).readKey);
      expect(toHex(messageAd(p.maskingIv, p.header))).toBe((v.derived as { messageAd: string }).messageAd);
      const pt = aesGcmOpen(readKey, p.nonce, p.message, messageAd(p.maskingIv, p.header));
      expect(pt && toHex(pt)).toBe((v.derived as { messagePlaintext: string }).messagePlaintext);
      const m = decodeMessage(pt!);
      expect(m.ok && m.value.type).toBe('PING');
      if (!m.ok || m.value.type !== 'PING') return;
      const ping = (v as { ping: { reqId: string; enrSeq: number } }).ping;
      expect(toHex(m.value.requestId)).toBe(ping.reqId);
      expect(m.value.enrSeq).toBe(BigInt(ping.enrSeq));
      if (p.authdata.flag === 2) {
        const d = v.derived as { idSignature: string; ephemeralPubkey: string; record: string | null };
        expect(toHex(p.authdata.srcId)).toBe(vectors.derivedNodeKeys.nodeAId);
        expect(toHex(p.authdata.idSignature)).toBe(d.idSignature);
        expect(toHex(p.authdata.ephPubkey)).toBe(d.ephemeralPubkey);
        expect(p.authdata.record ? toHex(p.authdata.record) : null).toBe(d.record);
      }
    });
  }
});

describe('discv5 wire vectors: encode (the codec rebuilds each packet)', () => {
  for (const v of vectors.packets) {
    it(`${v.name}: byte for byte`, () => {
      const iv = fromHex(v.derived.maskingIv);
      const header = fromHex(v.derived.staticHeader + v.derived.authdata);
      let message: Uint8Array = new Uint8Array(0);
      if (v.flag !== 1) {
        const ping = (v as { ping: { reqId: string; enrSeq: number } }).ping;
        const pt = encodeMessage({ type: 'PING', requestId: fromHex(ping.reqId), enrSeq: BigInt(ping.enrSeq) });
        expect(toHex(pt)).toBe((v.derived as { messagePlaintext: string }).messagePlaintext);
        message = aesGcmSeal(fromHex((v as { readKey: string }).readKey), fromHex((v as { nonce: string }).nonce), pt, messageAd(iv, header));
      }
      expect(toHex(encodePacket(idB, iv, header, message))).toBe(v.packet);
    });
  }

  it('authdata encoders rebuild the spec authdata', () => {
    const w = packet('whoareyou');
    expect(toHex(encodeAuthdata({ flag: 1, idNonce: fromHex(w.whoareyou!.idNonce), enrSeq: 0n }))).toBe(w.derived.authdata);
    expect(toHex(encodeHeader(1, fromHex(w.whoareyou!.requestNonce), fromHex(w.derived.authdata)))).toBe(w.derived.staticHeader + w.derived.authdata);
    const h = packet('ping-handshake-enr');
    const d = h.derived as { idSignature: string; ephemeralPubkey: string; record: string };
    expect(toHex(encodeAuthdata({ flag: 2, srcId: idA, idSignature: fromHex(d.idSignature), ephPubkey: fromHex(d.ephemeralPubkey), record: fromHex(d.record) }))).toBe(h.derived.authdata);
  });
});

describe('discv5 wire vectors: handshake crypto', () => {
  for (const name of ['ping-handshake', 'ping-handshake-enr']) {
    it(`${name}: ECDH, HKDF and id-signature`, () => {
      const v = packet(name) as (typeof vectors.packets)[number] & { handshake: { whoareyou: { challengeData: string }; ephemeralKey: string; ephemeralPubkey: string } };
      const d = v.derived as { ecdhSharedSecret: string; initiatorKey: string; recipientKey: string; idSignature: string };
      const challengeData = fromHex(v.handshake.whoareyou.challengeData);
      const eph = fromHex(v.handshake.ephemeralKey);
      expect(toHex(publicKeyOf(eph))).toBe(v.handshake.ephemeralPubkey);
      const secretA = ecdh(eph, publicKeyOf(keyB), 'initiator');
      expect(toHex(secretA)).toBe(d.ecdhSharedSecret);
      // The recipient reaches the same secret from its static key and the ephemeral pubkey.
      expect(toHex(ecdh(keyB, publicKeyOf(eph), 'recipient'))).toBe(d.ecdhSharedSecret);
      const keys = deriveKeys(secretA, challengeData, idA, idB);
      expect(toHex(keys.initiatorKey)).toBe(d.initiatorKey);
      expect(toHex(keys.recipientKey)).toBe(d.recipientKey);
      const sig = signId(keyA, challengeData, publicKeyOf(eph), idB);
      expect(toHex(sig)).toBe(d.idSignature);
      expect(verifyId(publicKeyOf(keyA), sig, challengeData, publicKeyOf(eph), idB)).toBe(true);
      expect(verifyId(publicKeyOf(keyB), sig, challengeData, publicKeyOf(eph), idB)).toBe(false);
    });
  }

  it('primitive vectors from the spec (ecdh, key-derivation, id-nonce-signing, aes-gcm)', () => {
    type Prim = Record<string, string> & { name: string; expected: Record<string, string> };
    const prim = (vectors as unknown as { cryptoPrimitives: Prim[] }).cryptoPrimitives;
    const get = (name: string) => prim.find((x) => x.name === name)!;
    expect(prim.map((x) => x.name)).toEqual(['ecdh', 'key-derivation', 'id-nonce-signing', 'aes-gcm']);
    const e = get('ecdh');
    expect(toHex(ecdh(fromHex(e.secretKey), fromHex(e.publicKey), 'recipient'))).toBe(e.expected.sharedSecret);
    const k = get('key-derivation');
    const secret = ecdh(fromHex(k.ephemeralKey), fromHex(k.destPubkey), 'initiator');
    const keys = deriveKeys(secret, fromHex(k.challengeData), fromHex(k.nodeIdA), fromHex(k.nodeIdB));
    expect(toHex(keys.initiatorKey)).toBe(k.expected.initiatorKey);
    expect(toHex(keys.recipientKey)).toBe(k.expected.recipientKey);
    const s = get('id-nonce-signing');
    const sig = signId(fromHex(s.staticKey), fromHex(s.challengeData), fromHex(s.ephemeralPubkey), fromHex(s.nodeIdB));
    expect(toHex(sig)).toBe(s.expected.idSignature);
    expect(verifyId(publicKeyOf(fromHex(s.staticKey)), sig, fromHex(s.challengeData), fromHex(s.ephemeralPubkey), fromHex(s.nodeIdB))).toBe(true);
    expect(idSignatureInput(fromHex(s.challengeData), fromHex(s.ephemeralPubkey), fromHex(s.nodeIdB)).length).toBe(27 + 63 + 33 + 32);
    const g = get('aes-gcm');
    const sealed = aesGcmSeal(fromHex(g.encryptionKey), fromHex(g.nonce), fromHex(g.pt), fromHex(g.ad));
    expect(toHex(sealed)).toBe(Object.values(g.expected)[0]);
    expect(toHex(aesGcmOpen(fromHex(g.encryptionKey), fromHex(g.nonce), sealed, fromHex(g.ad))!)).toBe(g.pt);
  });
});

describe('engine replay: two engines with the spec values injected produce the spec packets', () => {
  it('cold handshake, B does not know A: WHOAREYOU and ping-handshake-enr', () => {
    const r = replaySpecHandshake();
    expect(r.packets.map((p) => `${p.sender}:${p.record.kind}`)).toEqual(['A:random', 'B:WHOAREYOU', 'A:handshake', 'B:ordinary']);
    // B → A WHOAREYOU is masked for A; unmasked, it is the spec's challenge-data.
    expect(r.packets[1].vector?.part).toBe('challenge-data');
    expect(toHex(r.packets[1].vector!.bytes)).toBe(packet('ping-handshake-enr').handshake!.whoareyou.challengeData);
    expect(r.packets[1].vector?.matches).toBe(true);
    expect(toHex(r.packets[2].record.raw)).toBe(packet('ping-handshake-enr').packet);
    expect(r.packets[3].record.message?.type).toBe('PONG');
    expect(r.allMatch).toBe(true);
    // The record A sent equals the spec's record of node A.
    expect(toHex(r.nodeA.enr.raw)).toBe((packet('ping-handshake-enr').derived as { record: string }).record);
  });

  it('cold handshake, B knows A at seq 1: ping-handshake (no record)', () => {
    const r = replaySpecHandshake({ bKnowsA: true });
    expect(toHex(r.packets[2].record.raw)).toBe(packet('ping-handshake').packet);
    expect(r.packets[3].record.message?.type).toBe('PONG');
  });

  it('whoareyou: A challenging an unknown B with the spec draws is the spec packet', () => {
    const r = replaySpecWhoareyou();
    expect(toHex(r.record.raw)).toBe(packet('whoareyou').packet);
    expect(r.matches).toBe(true);
  });

  it('ping-message: the random packet with the spec draws is the spec packet', () => {
    const r = replaySpecPingMessage();
    expect(toHex(r.record.raw)).toBe(packet('ping-message').packet);
    expect(r.matches).toBe(true);
  });
});

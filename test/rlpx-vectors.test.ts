// RLPx against the spec's vectors (test/vectors/rlpx.json from EIP-8, rlpx-frames.json from
// go-ethereum's TestFrameReadWrite): all six auth/ack packets (pre-EIP-8, EIP-8 v4, EIP-8 with a
// higher version and extra elements) decrypt and read; the (Auth2, Ack2) secrets and B's
// ingress-mac("foo") come out as the EIP states; the frame golden vector is reproduced byte for
// byte; EIP-8 Hello reads with its extra elements.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8 } from '../shared/bytes.ts';
import { publicKeyFrom64 } from '../shared/crypto/secp256k1.ts';
import type { KeccakState } from '../shared/crypto/hashes.ts';
import { FrameCodec } from '../shared/rlpx/frame.ts';
import { handshakeFramer, readHandshake, verifyAuth, type Ack, type Auth, type HandshakeFormat } from '../shared/rlpx/handshake.ts';
import { decodeHello } from '../shared/rlpx/p2p.ts';
import { deriveSecrets } from '../shared/rlpx/secrets.ts';
import { ByteQueue } from '../shared/framing.ts';
import { encodeFrameData } from '../shared/rlpx/messages.ts';
import vectors from './vectors/rlpx.json';
import frames from './vectors/rlpx-frames.json';

const K = vectors.keys;
const msg = (name: string) => vectors.handshakeMessages.find((m) => m.name === name)!;
const format = (f: string): HandshakeFormat => (f === 'pre-EIP-8' ? 'pre-eip8' : 'eip8');

describe('EIP-8 auth and ack vectors', () => {
  for (const m of vectors.handshakeMessages) {
    it(`${m.name} (${m.format}) decrypts with the recipient's key and reads`, () => {
      const key = fromHex(m.kind === 'auth' ? K.staticKeyB : K.staticKeyA);
      const packet = fromHex(m.packet);
      const r = readHandshake(m.kind as 'auth' | 'ack', key, packet, format(m.format));
      if (!r.ok) throw r.error;
      expect(toHex(r.value.plaintext)).toBe(m.derived.plaintext);
      expect(toHex(r.value.ecies.ephemeralPublicKey)).toBe(m.derived.eciesEphemeralPubkey);
      expect(toHex(r.value.ecies.iv)).toBe(m.derived.eciesIv);
      if (m.kind === 'auth') {
        const a = r.value.message as Auth;
        expect(toHex(a.signature)).toBe(m.derived.signature);
        expect(toHex(a.initiatorPublicKey)).toBe(m.derived.initiatorPubkey);
        expect(toHex(a.initiatorNonce)).toBe(m.derived.initiatorNonce);
        // The recipient recovers A's ephemeral key from the signature.
        const v = verifyAuth(key, a, (r.value as { ephemeralKeyHash?: Uint8Array }).ephemeralKeyHash);
        expect(toHex(v.staticShared)).toBe(m.derived.staticSharedSecret);
        expect(toHex(v.remoteEphemeralKey)).toBe(vectors.derivedKeys.ephemeralPubkeyA);
      } else {
        const a = r.value.message as Ack;
        expect(toHex(a.recipientEphemeralKey)).toBe(m.derived.recipientEphemeralPubkey);
        expect(toHex(a.recipientNonce)).toBe(m.derived.recipientNonce);
      }
      if (m.derived.version !== null) expect(r.value.message.version).toBe(m.derived.version);
    });

    it(`${m.name}: the stream framer picks its form and takes exactly its bytes`, () => {
      const key = fromHex(m.kind === 'auth' ? K.staticKeyB : K.staticKeyA);
      const packet = fromHex(m.packet);
      const q = new ByteQueue(70_000);
      const framer = handshakeFramer(m.kind as 'auth' | 'ack', key);
      // Arrives in two pieces, with a frame's first bytes right behind it.
      q.push(packet.subarray(0, 100));
      expect(framer(q).type).toBe('need-more');
      q.push(packet.subarray(100));
      q.push(Uint8Array.of(1, 2, 3));
      const r = framer(q);
      expect(r.type).toBe('frame');
      if (r.type === 'frame') expect(r.frame.format).toBe(format(m.format));
      expect(q.length).toBe(3);
    });
  }

  it('a flipped bit in the EIP-8 size prefix fails the HMAC (the prefix is authenticated)', () => {
    const packet = fromHex(msg('auth2').packet);
    packet[1] ^= 0; // the same size: still fine
    expect(readHandshake('auth', fromHex(K.staticKeyB), packet, 'eip8').ok).toBe(true);
    const body = packet.subarray(2);
    const forged = new Uint8Array(packet.length + 1);
    forged.set(packet);
    forged[1] += 1; // says one byte more, and one more byte is there
    const r = readHandshake('auth', fromHex(K.staticKeyB), forged, 'eip8');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe('ecies-mac');
    expect(body.length).toBe(packet.length - 2);
  });

  it('(Auth2, Ack2): aes-secret, mac-secret and ingress-mac("foo") as EIP-8 gives them', () => {
    const s = vectors.secrets[0];
    const auth = fromHex(msg('auth2').packet);
    const ack = fromHex(msg('ack2').packet);
    // B derives: B is the recipient, its ephemeral key and nonce are B's.
    const secrets = deriveSecrets({
      initiator: false, ephemeralPrivateKey: fromHex(K.ephemeralKeyB), remoteEphemeralKey: publicKeyFrom64(fromHex(vectors.derivedKeys.ephemeralPubkeyA))!,
      initiatorNonce: fromHex(K.nonceA), recipientNonce: fromHex(K.nonceB), auth, ack,
    });
    expect(toHex(secrets.ephemeralKey)).toBe(s.derived.ephemeralSharedSecret);
    expect(toHex(secrets.sharedSecret)).toBe(s.derived.sharedSecret);
    expect(toHex(secrets.aesSecret)).toBe(s.expected.aesSecret);
    expect(toHex(secrets.macSecret)).toBe(s.expected.macSecret);
    expect(toHex(secrets.ingressMac.update(utf8('foo')).peek())).toBe(s.expected.ingressMacFoo);
    // A, the initiator, derives the same secrets; its egress state is B's ingress state.
    const a = deriveSecrets({
      initiator: true, ephemeralPrivateKey: fromHex(K.ephemeralKeyA), remoteEphemeralKey: publicKeyFrom64(fromHex(vectors.derivedKeys.ephemeralPubkeyB))!,
      initiatorNonce: fromHex(K.nonceA), recipientNonce: fromHex(K.nonceB), auth, ack,
    });
    expect(toHex(a.aesSecret)).toBe(s.expected.aesSecret);
    expect(toHex(a.egressMac.update(utf8('foo')).peek())).toBe(s.expected.ingressMacFoo);
    expect(toHex(a.egressMacDigest)).toBe(frames.derivedRealMacFrames.egressMacDigestInitial);
  });

  it('the EIP-8 Hello reads, extra list elements accepted', () => {
    const h = decodeHello(fromHex(vectors.hello[0].payload));
    if (!h.ok) throw h.error;
    const d = vectors.hello[0].derived;
    expect(h.value).toMatchObject({ protocolVersion: d.protocolVersion, clientId: d.clientId, capabilities: d.capabilities, listenPort: d.listenPort });
    expect(toHex(h.value.nodeId)).toBe(d.nodeId);
  });
});

/** go's fakeHash: writes ignored, the digest always 32 bytes of 0x01. */
const fakeMac = (): KeccakState => {
  const self: KeccakState = { update: () => self, peek: (out = new Uint8Array(32)) => out.fill(1), copy: () => self, copyTo: () => self };
  return self;
};

describe('frame vectors', () => {
  it('TestFrameReadWrite: the 64-byte golden frame, written and read back', () => {
    const v = frames.frameReadWrite;
    const keys = { aesSecret: fromHex(v.secrets.aesSecret), macSecret: fromHex(v.secrets.macSecret) };
    const writer = new FrameCodec({ ...keys, egressMac: fakeMac(), ingressMac: fakeMac() });
    const frameData = encodeFrameData(v.msgCode, fromHex(v.msgData), false);
    expect(toHex(frameData)).toBe(v.wantContent);
    const w = writer.write(frameData, true);
    expect(toHex(w.bytes)).toBe(v.golden);
    expect(toHex(w.crypto!.headerPlain)).toBe(v.derived.headerPlaintext);
    const reader = new FrameCodec({ ...keys, egressMac: fakeMac(), ingressMac: fakeMac() });
    const golden = fromHex(v.golden);
    const h = reader.readHeader(golden.subarray(0, 32));
    if (!h.ok) throw h.error;
    expect(h.value.size).toBe(v.derived.frameSize);
    const b = reader.readBody(golden.subarray(32));
    if (!b.ok) throw b.error;
    expect(toHex(b.value.frameData)).toBe(v.wantContent);
  });

  it('(Auth2, Ack2) session: A writes Hello then a compressed Ping, real keccak MACs, as derived', () => {
    const d = frames.derivedRealMacFrames;
    const auth = fromHex(msg('auth2').packet);
    const ack = fromHex(msg('ack2').packet);
    const a = deriveSecrets({ initiator: true, ephemeralPrivateKey: fromHex(K.ephemeralKeyA), remoteEphemeralKey: publicKeyFrom64(fromHex(vectors.derivedKeys.ephemeralPubkeyB))!, initiatorNonce: fromHex(K.nonceA), recipientNonce: fromHex(K.nonceB), auth, ack });
    const b = deriveSecrets({ initiator: false, ephemeralPrivateKey: fromHex(K.ephemeralKeyB), remoteEphemeralKey: publicKeyFrom64(fromHex(vectors.derivedKeys.ephemeralPubkeyA))!, initiatorNonce: fromHex(K.nonceA), recipientNonce: fromHex(K.nonceB), auth, ack });
    const writer = new FrameCodec(a);
    const reader = new FrameCodec(b);
    for (const f of d.frames) {
      const frameData = encodeFrameData(f.msgId, fromHex(f.compressed ? (f as { msgDataUncompressed?: string }).msgDataUncompressed! : f.msgData), f.compressed);
      expect(toHex(frameData.subarray(1))).toBe(f.msgData);
      const w = writer.write(frameData, true);
      expect(toHex(w.bytes)).toBe(f.frame);
      expect(toHex(w.crypto!.headerMac)).toBe(f.headerMac);
      expect(toHex(w.crypto!.frameMac)).toBe(f.frameMac);
      const h = reader.readHeader(w.bytes.subarray(0, 32));
      if (!h.ok) throw h.error;
      const body = reader.readBody(w.bytes.subarray(32));
      if (!body.ok) throw body.error;
      expect(toHex(body.value.frameData)).toBe(toHex(frameData));
    }
  });

  it('a frame with one bit flipped is refused with a MAC error, and the session reads the true frame after it', () => {
    const keys = { aesSecret: new Uint8Array(32).fill(7), macSecret: new Uint8Array(32).fill(9) };
    const st = () => deriveSecrets({ initiator: true, ephemeralPrivateKey: fromHex(K.ephemeralKeyA), remoteEphemeralKey: publicKeyFrom64(fromHex(vectors.derivedKeys.ephemeralPubkeyB))!, initiatorNonce: fromHex(K.nonceA), recipientNonce: fromHex(K.nonceB), auth: new Uint8Array(1), ack: new Uint8Array(1) });
    const s1 = st();
    const s2 = st();
    const writer = new FrameCodec({ ...keys, egressMac: s1.egressMac, ingressMac: s1.ingressMac });
    const reader = new FrameCodec({ ...keys, egressMac: s2.ingressMac, ingressMac: s2.egressMac });
    const w = writer.write(Uint8Array.of(0x80, 0xc0)).bytes;
    for (const at of [0, 17, 33, w.length - 1]) {
      const bad = w.slice();
      bad[at] ^= 0x10;
      const h = reader.readHeader(bad.subarray(0, 32));
      if (at < 32) {
        expect(h.ok).toBe(false);
        if (!h.ok) expect(h.error.field).toBe('header-mac');
        continue;
      }
      if (!h.ok) throw h.error;
      const b = reader.readBody(bad.subarray(32));
      expect(b.ok).toBe(false);
      if (!b.ok) expect(b.error.field).toBe('frame-mac');
      // The header was accepted; the body is still due: the true body now reads.
      const good = reader.readBody(w.subarray(32));
      expect(good.ok).toBe(true);
      break;
    }
  });
});

// libp2p codecs against the reference implementation (@libp2p/crypto, @libp2p/peer-id) and the
// specs' rules: peer ids from secp256k1 keys, identity signatures both ways (DER), strict DER,
// multistream lines, yamux headers, the handshake payload, multiaddr and ENR targets.
import { generateKeyPair, privateKeyFromRaw, publicKeyFromProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../shared/bytes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { secureRandom } from '../shared/random.ts';
import { compactToDer, derToCompact } from '../shared/libp2p/der.ts';
import { decodePublicKey, parsePeerId, peerIdBytes, secp256k1Identity } from '../shared/libp2p/keys.ts';
import { signIdentity, verifyIdentity } from '../shared/libp2p/identity-signature.ts';
import { decodeLine, encodeLine } from '../shared/libp2p/multistream.ts';
import { decodePayload, encodePayload, signedData, verifyPayload } from '../shared/libp2p/payload.ts';
import { decodeYamuxHeader, encodeYamux, FLAG } from '../shared/libp2p/yamux.ts';
import { describeMultiaddrBytes, multiaddrBytes, parseDialTarget } from '../shared/libp2p/address.ts';

describe('identities match js-libp2p', () => {
  it('peer ids of secp256k1 keys are the reference implementation’s (16Uiu2…)', async () => {
    for (let i = 0; i < 5; i++) {
      const key = await generateKeyPair('secp256k1');
      const ours = secp256k1Identity(key.raw);
      // Two copies of @libp2p/interface are installed; the key is the same object either way.
      expect(ours.peerId).toBe(peerIdFromPrivateKey(key as never).toString());
      expect(ours.peerId.startsWith('16Uiu2')).toBe(true);
      expect(toHex(ours.publicKey.encoded)).toBe(toHex(publicKeyToProto(key)));
      const parsed = parsePeerId(ours.peerId);
      expect(parsed.ok && toHex(parsed.value)).toBe(toHex(peerIdBytes(ours.publicKey.encoded)));
    }
  });

  it('identity signatures verify both ways: ours by @libp2p/crypto, theirs by ours', async () => {
    const data = signedData(secureRandom(32));
    const me = secp256k1Identity(randomPrivateKey(secureRandom));
    const sig = signIdentity(me, data);
    const theirView = privateKeyFromRaw(me.privateKey).publicKey;
    expect(await theirView.verify(data, sig)).toBe(true);
    const them = await generateKeyPair('secp256k1');
    const theirSig = await them.sign(data);
    const key = decodePublicKey(publicKeyToProto(them));
    if (!key.ok) throw key.error;
    expect(verifyIdentity(key.value, data, theirSig).ok).toBe(true);
    expect(verifyIdentity(key.value, utf8('something else'), theirSig)).toMatchObject({ ok: false, error: { code: 'bad-signature' } });
  });

  it('Ed25519 identities (js-libp2p’s default) verify too', async () => {
    const k = await generateKeyPair('Ed25519');
    const data = signedData(secureRandom(32));
    const key = decodePublicKey(publicKeyToProto(k));
    if (!key.ok) throw key.error;
    expect(key.value.type).toBe('Ed25519');
    expect(verifyIdentity(key.value, data, await k.sign(data)).ok).toBe(true);
  });

  it('the handshake payload round trips and binds the static key', () => {
    const me = secp256k1Identity(randomPrivateKey(secureRandom));
    const s = secureRandom(32);
    const p = decodePayload(encodePayload(me, s, ['/yamux/1.0.0']));
    if (!p.ok) throw p.error;
    expect(p.value.streamMuxers).toEqual(['/yamux/1.0.0']);
    expect(verifyPayload(p.value, s)).toMatchObject({ ok: true, value: { peerId: me.peerId } });
    // The same payload presented with another Noise key: the signature does not cover it.
    expect(verifyPayload(p.value, secureRandom(32))).toMatchObject({ ok: false, error: { code: 'bad-signature' } });
    expect(verifyPayload({ streamMuxers: [] }, s)).toMatchObject({ ok: false, error: { field: 'identity_key' } });
  });
});

function publicKeyToProto(k: { publicKey: { type: string; raw: Uint8Array } }): Uint8Array {
  const type = k.publicKey.type === 'secp256k1' ? 2 : 1;
  const raw = k.publicKey.raw;
  const proto = Uint8Array.from([0x08, type, 0x12, raw.length, ...raw]);
  // Cross-check the hand-made encoding with the reference decoder.
  expect(toHex(publicKeyFromProtobuf(proto).raw)).toBe(toHex(raw));
  return proto;
}

describe('strict DER', () => {
  it('round trips r ‖ s, with and without the sign padding', () => {
    for (const [r0, s0] of [[0x80, 0x01], [0x00, 0x7f], [0x00, 0x00], [0xff, 0xff]]) {
      const sig = secureRandom(64);
      sig[0] = r0;
      sig[32] = s0;
      if (r0 === 0) sig[1] = 0x05; // a shorter r
      const der = compactToDer(sig);
      const back = derToCompact(der);
      expect(back.ok && toHex(back.value)).toBe(toHex(sig));
    }
  });

  it('refuses what DER does not allow', () => {
    const good = compactToDer(Uint8Array.from({ length: 64 }, (_, i) => (i === 0 || i === 32 ? 0x11 : i)));
    const cases: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
      ['not a SEQUENCE', (b) => Uint8Array.from([0x31, ...b.subarray(1)]), /SEQUENCE/],
      ['a wrong SEQUENCE length', (b) => Uint8Array.from([0x30, b[1] + 1, ...b.subarray(2)]), /SEQUENCE length/],
      ['a trailing byte', (b) => Uint8Array.from([0x30, b[1] + 1, ...b.subarray(2), 0]), /after s/],
      ['an unneeded leading zero', (b) => Uint8Array.from([0x30, b[1] + 1, 0x02, b[3] + 1, 0x00, ...b.subarray(4)]), /leading zero/],
      ['a negative r', (b) => Uint8Array.from([0x30, b[1], 0x02, b[3], 0x80 | b[4], ...b.subarray(5)]), /negative/],
      ['the long length form', (b) => Uint8Array.from([0x30, 0x81, b[1], ...b.subarray(2)]), /long-form|SEQUENCE length/],
    ];
    for (const [what, edit, re] of cases) {
      const r = derToCompact(edit(good));
      expect(r.ok, what).toBe(false);
      if (!r.ok) expect(r.error.message, what).toMatch(re);
    }
  });
});

describe('multistream and yamux', () => {
  it('a line is a varint length, the text and "\\n"', () => {
    expect(toHex(encodeLine('/noise'))).toBe('072f6e6f6973650a');
    expect(decodeLine(encodeLine('/multistream/1.0.0'))).toEqual({ ok: true, value: '/multistream/1.0.0' });
    expect(decodeLine(Uint8Array.from([0x02, 0x6e, 0x61]))).toMatchObject({ ok: false, error: { field: 'newline' } });
    expect(decodeLine(Uint8Array.from([0x80, 0x00]))).toMatchObject({ ok: false, error: { code: 'non-canonical' } });
    expect(decodeLine(Uint8Array.from([0x81, 0x10]))).toMatchObject({ ok: false, error: { code: 'too-large' } });
  });

  it('yamux headers: 12 bytes, big-endian, the spec’s types and flags', () => {
    const f = encodeYamux('Window Update', FLAG.SYN | FLAG.ACK, 3, 262144);
    expect(toHex(f)).toBe('000100030000000300040000');
    expect(decodeYamuxHeader(f)).toEqual({ ok: true, value: { type: 'Window Update', flags: 3, streamId: 3, length: 262144 } });
    expect(decodeYamuxHeader(Uint8Array.from([1, ...f.subarray(1)]))).toMatchObject({ ok: false, error: { code: 'bad-version' } });
    expect(decodeYamuxHeader(Uint8Array.from([0, 4, ...f.subarray(2)]))).toMatchObject({ ok: false, error: { field: 'type' } });
    expect(decodeYamuxHeader(encodeYamux('Ping', 0, 5, 1))).toMatchObject({ ok: false, error: { field: 'stream id' } });
  });
});

describe('dial targets', () => {
  it('multiaddrs with and without a peer id; binary multiaddrs read back', () => {
    const me = secp256k1Identity(randomPrivateKey(secureRandom));
    expect(parseDialTarget(`/ip4/127.0.0.1/tcp/9000/p2p/${me.peerId}`)).toMatchObject({ endpoint: { ip: '127.0.0.1', port: 9000 }, peerIdText: me.peerId });
    expect(parseDialTarget('/ip6/::1/tcp/1')).toMatchObject({ endpoint: { ip: '::1', port: 1 } });
    expect(parseDialTarget('/ip4/::1/tcp/1')).toMatchObject({ error: /not an IPv4/ });
    expect(describeMultiaddrBytes(multiaddrBytes({ ip: '127.0.0.1', port: 4001 }))).toBe('/ip4/127.0.0.1/tcp/4001');
    expect(describeMultiaddrBytes(multiaddrBytes({ ip: '::1', port: 4001 }))).toBe('/ip6/::1/tcp/4001');
  });
});

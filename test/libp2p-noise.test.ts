// Noise XX against the cacophony and snow vectors (test/vectors/noise-xx.json, from
// haskell-cryptography/cacophony vectors/cacophony.txt and mcginty/snow tests/vectors/snow.txt):
// every message byte for byte, h/ck/k/n after every token, the handshake hash and the split keys.
import { describe, expect, it } from 'vitest';
import vectors from './vectors/noise-xx.json' with { type: 'json' };
import { fromHex, toHex } from '../shared/bytes.ts';
import { HandshakeState, keyPairOf, type NoiseStep } from '../shared/libp2p/noise.ts';

type Vector = (typeof vectors.vectors)[number];

function run(v: Vector) {
  const init = new HandshakeState(true, keyPairOf(fromHex(v.initStatic)), fromHex(v.initEphemeral), fromHex(v.initPrologue));
  const resp = new HandshakeState(false, keyPairOf(fromHex(v.respStatic)), fromHex(v.respEphemeral), fromHex(v.respPrologue));
  const steps: NoiseStep[][] = [];
  const readerSteps: NoiseStep[][] = [];
  const msgs = v.messages;
  for (const m of msgs.slice(0, 3)) {
    const [w, r] = m.sender === 'initiator' ? [init, resp] : [resp, init];
    const out = w.writeMessage(fromHex(m.payload));
    expect(toHex(out.message)).toBe(m.ciphertext);
    steps.push(out.steps);
    const got = r.readMessage(out.message);
    expect(got.ok).toBe(true);
    if (got.ok) expect(toHex(got.value.payload)).toBe(m.payload);
    readerSteps.push(got.steps);
  }
  const si = init.split();
  const sr = resp.split();
  for (const m of msgs.slice(3)) {
    const [w, r] = m.sender === 'initiator' ? [si, sr] : [sr, si];
    const c = w.send.encryptWithAd(new Uint8Array(0), fromHex(m.payload));
    expect(toHex(c)).toBe(m.ciphertext);
    expect(toHex(r.recv.decryptWithAd(new Uint8Array(0), c)!)).toBe(m.payload);
  }
  return { si, sr, steps, readerSteps };
}

describe('Noise_XX_25519_ChaChaPoly_SHA256 vectors', () => {
  it('cacophony: every message, every token state, the handshake hash and split keys', () => {
    const v = vectors.vectors[0];
    const { si, sr, steps, readerSteps } = run(v);
    expect(toHex(si.handshakeHash)).toBe(v.handshakeHash);
    expect(toHex(sr.handshakeHash)).toBe(v.handshakeHash);
    const d = (v as unknown as { derived: Record<string, string> }).derived;
    expect(toHex(si.k1)).toBe(d.splitK1InitiatorToResponder);
    expect(toHex(si.k2)).toBe(d.splitK2ResponderToInitiator);
    v.messages.slice(0, 3).forEach((m, i) => {
      const expected = (m as unknown as { derivedSteps: { token: string; h: string; ck: string; k: string | null; n: number | null; dh?: string; wrote?: string }[] }).derivedSteps;
      // The writer's and the reader's states agree token by token.
      for (const side of [steps[i], readerSteps[i]]) {
        expect(side.map((s) => s.token)).toEqual(expected.map((s) => s.token));
        side.forEach((s, j) => {
          const e = expected[j];
          expect(toHex(s.h)).toBe(e.h);
          expect(toHex(s.ck)).toBe(e.ck);
          expect(s.k ? toHex(s.k) : null).toBe(e.k);
          expect(s.n ?? null).toBe(e.n);
          if (e.dh) expect(toHex(s.dh!.output)).toBe(e.dh);
          if (e.wrote) expect(toHex(s.bytes!)).toBe(e.wrote);
        });
      }
    });
  });

  it('snow: every message and the derived handshake hash', () => {
    const v = vectors.vectors[1];
    const { si } = run(v);
    expect(toHex(si.handshakeHash)).toBe((v as { derivedHandshakeHash: string }).derivedHandshakeHash);
  });

  it('a flipped bit in message 2 is refused at the token it breaks, with the steps up to there', () => {
    const v = vectors.vectors[0];
    const init = new HandshakeState(true, keyPairOf(fromHex(v.initStatic)), fromHex(v.initEphemeral), fromHex(v.initPrologue));
    const resp = new HandshakeState(false, keyPairOf(fromHex(v.respStatic)), fromHex(v.respEphemeral), fromHex(v.respPrologue));
    resp.readMessage(init.writeMessage(new Uint8Array(0)).message);
    const m2 = resp.writeMessage(new Uint8Array(0)).message;
    m2[40] ^= 1; // inside the encrypted s
    const r = init.readMessage(m2);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe('s');
    expect(r.steps.map((s) => s.token)).toEqual(['e', 'ee']);
  });
});

describe('HandshakeState.clone', () => {
  it('a clone goes on independently: the same next message, and the original is untouched', () => {
    const v = vectors.vectors[0];
    const init = new HandshakeState(true, keyPairOf(fromHex(v.initStatic)), fromHex(v.initEphemeral), fromHex(v.initPrologue));
    const resp = new HandshakeState(false, keyPairOf(fromHex(v.respStatic)), fromHex(v.respEphemeral), fromHex(v.respPrologue));
    resp.readMessage(init.writeMessage(fromHex(v.messages[0].payload)).message);
    const copy = resp.clone();
    expect(toHex(copy.writeMessage(fromHex(v.messages[1].payload)).message)).toBe(v.messages[1].ciphertext);
    expect(resp.message).toBe(1);
    expect(toHex(resp.writeMessage(fromHex(v.messages[1].payload)).message)).toBe(v.messages[1].ciphertext);
  });
});

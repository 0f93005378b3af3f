// The Noise Protocol Framework's XX pattern, Noise_XX_25519_ChaChaPoly_SHA256, as libp2p uses
// it: CipherState, SymmetricState and HandshakeState with the spec's names. Every token
// leaves a step (h, ck, k, n after it) so a page can show the state machine as it reads.
//   XX:  -> e
//        <- e, ee, s, es
//        -> s, se
import { x25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '../crypto/hashes.ts';
import { concat, utf8 } from '../bytes.ts';
import { err, ok, type Result } from '../errors.ts';
import { NOISE_NAME } from './spec.ts';

export const DHLEN = 32;
const TAG = 16;

export type Token = 'e' | 's' | 'ee' | 'es' | 'se';
export const XX: Token[][] = [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']];

/** The state after one token (or the payload) of a handshake message. */
export interface NoiseStep {
  token: Token | 'payload';
  /** Bytes this token put in (or took from) the message. */
  bytes?: Uint8Array;
  /** The public key a DH token used from each side, and its output. */
  dh?: { local: Uint8Array; remote: Uint8Array; output: Uint8Array };
  /** For e/s/payload: the plaintext (public key or payload) behind `bytes`. */
  plain?: Uint8Array;
  h: Uint8Array;
  ck: Uint8Array;
  /** Cipher key, absent until the first DH. */
  k?: Uint8Array;
  /** The next nonce under k. */
  n?: number;
}

export interface KeyPair {
  priv: Uint8Array;
  pub: Uint8Array;
}

/** X25519 as the handshake uses it: noble's by default; a caller may pass another (tests memoize). */
export interface X25519 {
  publicKey(priv: Uint8Array): Uint8Array;
  /** Throws on a low-order point (an all-zero output). */
  sharedSecret(priv: Uint8Array, pub: Uint8Array): Uint8Array;
}

export const nobleX25519: X25519 = {
  publicKey: (priv) => x25519.getPublicKey(priv),
  sharedSecret: (priv, pub) => x25519.getSharedSecret(priv, pub),
};

export const keyPairOf = (priv: Uint8Array, dh: X25519 = nobleX25519): KeyPair => ({ priv, pub: dh.publicKey(priv) });

/** ChaChaPoly's 96-bit nonce: 32 zero bits, then n as 64-bit little-endian. */
function nonceBytes(n: number): Uint8Array {
  const out = new Uint8Array(12);
  let v = n;
  for (let i = 4; i < 12; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** HKDF as Noise defines it (HMAC-SHA256, two outputs). */
export function hkdf2(ck: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const temp = hmac(sha256, ck, ikm);
  const out1 = hmac(sha256, temp, Uint8Array.of(1));
  const out2 = hmac(sha256, temp, concat(out1, Uint8Array.of(2)));
  return [out1, out2];
}

/** A key and a nonce counter: one direction of the transport, or the handshake's current key. */
export class CipherState {
  n = 0;
  constructor(public k?: Uint8Array) {}

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.k) return plaintext;
    const out = chacha20poly1305(this.k, nonceBytes(this.n), ad).encrypt(plaintext);
    this.n++;
    return out;
  }

  /** Undefined when the tag does not match (n does not advance then). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
    if (!this.k) return ciphertext;
    if (ciphertext.length < TAG) return undefined;
    try {
      const out = chacha20poly1305(this.k, nonceBytes(this.n), ad).decrypt(ciphertext);
      this.n++;
      return out;
    } catch {
      return undefined;
    }
  }
}

class SymmetricState {
  h: Uint8Array;
  ck: Uint8Array;
  readonly cipher = new CipherState();

  constructor(prologue: Uint8Array) {
    // The name is exactly HASHLEN bytes: h is the name itself, not its hash.
    this.h = utf8(NOISE_NAME);
    this.ck = this.h;
    this.mixHash(prologue);
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(concat(this.h, data));
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, ikm);
    this.ck = ck;
    this.cipher.k = k;
    this.cipher.n = 0;
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const c = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(c);
    return c;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array | undefined {
    const p = this.cipher.decryptWithAd(this.h, ciphertext);
    if (p) this.mixHash(ciphertext);
    return p;
  }

  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.ck, new Uint8Array(0));
    return [new CipherState(k1), new CipherState(k2)];
  }

  clone(): SymmetricState {
    const c: SymmetricState = Object.create(SymmetricState.prototype);
    const cipher = new CipherState(this.cipher.k);
    cipher.n = this.cipher.n;
    return Object.assign(c, { h: this.h, ck: this.ck, cipher });
  }
}

export interface SplitResult {
  /** Our sending and receiving keys (the initiator sends with k1, the responder with k2). */
  send: CipherState;
  recv: CipherState;
  k1: Uint8Array;
  k2: Uint8Array;
  handshakeHash: Uint8Array;
}

/** One side of an XX handshake. The ephemeral private key is given (randomness is injected). */
export class HandshakeState {
  private readonly ss: SymmetricState;
  private readonly e: KeyPair;
  /** The peer's ephemeral and static X25519 keys, once read. */
  re?: Uint8Array;
  rs?: Uint8Array;
  /** Index of the next message of the pattern. */
  message = 0;

  constructor(
    readonly initiator: boolean,
    readonly s: KeyPair,
    ephemeralPriv: Uint8Array,
    prologue: Uint8Array = new Uint8Array(0),
    private readonly x: X25519 = nobleX25519,
  ) {
    this.ss = new SymmetricState(prologue);
    this.e = keyPairOf(ephemeralPriv, x);
  }

  get ephemeral(): Uint8Array {
    return this.e.pub;
  }

  get h(): Uint8Array {
    return this.ss.h;
  }

  get ck(): Uint8Array {
    return this.ss.ck;
  }

  /** Whose turn: message 0 and 2 are the initiator's. */
  get ourTurn(): boolean {
    return this.message < 3 && (this.message % 2 === 0) === this.initiator;
  }

  get done(): boolean {
    return this.message >= 3;
  }

  private step(token: NoiseStep['token'], extra: Partial<NoiseStep>): NoiseStep {
    return { token, ...extra, h: this.ss.h, ck: this.ss.ck, ...(this.ss.cipher.k ? { k: this.ss.cipher.k, n: this.ss.cipher.n } : {}) };
  }

  /** DH for a token: which of our keys meets which of theirs depends on the role. */
  private dh(token: 'ee' | 'es' | 'se'): { local: Uint8Array; remote: Uint8Array; output: Uint8Array } | string {
    const [ours, theirs] =
      token === 'ee' ? [this.e, this.re] : token === 'es' ? (this.initiator ? [this.e, this.rs] : [this.s, this.re]) : this.initiator ? [this.s, this.re] : [this.e, this.rs];
    if (!theirs) return `${token}: the peer's key is not known yet`;
    try {
      const output = this.x.sharedSecret(ours.priv, theirs);
      return { local: ours.pub, remote: theirs, output };
    } catch {
      return `${token}: X25519 with the peer's key fails (a low-order point)`;
    }
  }

  /** WriteMessage: the tokens of the next message, then the payload. */
  writeMessage(payload: Uint8Array): { message: Uint8Array; steps: NoiseStep[] } {
    if (!this.ourTurn) throw new Error('writeMessage: not our turn');
    const parts: Uint8Array[] = [];
    const steps: NoiseStep[] = [];
    for (const token of XX[this.message]) {
      if (token === 'e') {
        parts.push(this.e.pub);
        this.ss.mixHash(this.e.pub);
        steps.push(this.step('e', { bytes: this.e.pub, plain: this.e.pub }));
      } else if (token === 's') {
        const c = this.ss.encryptAndHash(this.s.pub);
        parts.push(c);
        steps.push(this.step('s', { bytes: c, plain: this.s.pub }));
      } else {
        const d = this.dh(token);
        if (typeof d === 'string') throw new Error(d);
        this.ss.mixKey(d.output);
        steps.push(this.step(token, { dh: d }));
      }
    }
    const c = this.ss.encryptAndHash(payload);
    parts.push(c);
    steps.push(this.step('payload', { bytes: c, plain: payload }));
    this.message++;
    return { message: concat(...parts), steps };
  }

  /** ReadMessage: the steps so far are returned even when it fails (the page shows where). */
  readMessage(message: Uint8Array): Result<{ payload: Uint8Array; steps: NoiseStep[] }> & { steps: NoiseStep[] } {
    const steps: NoiseStep[] = [];
    const fail = (field: string, why: string) => ({ ...err<{ payload: Uint8Array; steps: NoiseStep[] }>('decrypt-failed', field, why), steps });
    if (this.ourTurn || this.done) return { ...err('unexpected', 'noise', 'a handshake message out of turn'), steps };
    let at = 0;
    for (const token of XX[this.message]) {
      if (token === 'e') {
        if (message.length - at < DHLEN) return { ...err('truncated', 'e', `needs ${DHLEN} bytes, ${message.length - at} left`), steps };
        this.re = message.slice(at, at + DHLEN);
        at += DHLEN;
        this.ss.mixHash(this.re);
        steps.push(this.step('e', { bytes: this.re, plain: this.re }));
      } else if (token === 's') {
        const len = DHLEN + (this.ss.cipher.k ? TAG : 0);
        if (message.length - at < len) return { ...err('truncated', 's', `needs ${len} bytes, ${message.length - at} left`), steps };
        const c = message.subarray(at, at + len);
        at += len;
        const p = this.ss.decryptAndHash(c);
        if (!p) return fail('s', 'the encrypted static key does not authenticate (ChaChaPoly tag mismatch)');
        this.rs = p;
        steps.push(this.step('s', { bytes: c, plain: p }));
      } else {
        const d = this.dh(token);
        if (typeof d === 'string') return { ...err('bad-value', token, d), steps };
        this.ss.mixKey(d.output);
        steps.push(this.step(token, { dh: d }));
      }
    }
    const c = message.subarray(at);
    if (this.ss.cipher.k && c.length < TAG) return { ...err('truncated', 'payload', `needs at least the ${TAG}-byte tag, ${c.length} bytes left`), steps };
    const payload = this.ss.decryptAndHash(c);
    if (!payload) return fail('payload', 'the encrypted payload does not authenticate (ChaChaPoly tag mismatch)');
    steps.push(this.step('payload', { bytes: c, plain: payload }));
    this.message++;
    return { ...ok({ payload, steps }), steps };
  }

  /** An independent copy at this point of the handshake (a test tries many next messages from one state). */
  clone(): HandshakeState {
    const c: HandshakeState = Object.create(HandshakeState.prototype);
    return Object.assign(c, this, { ss: this.ss.clone() });
  }

  /** Split(): the transport keys, after the last message. */
  split(): SplitResult {
    if (!this.done) throw new Error('split before the handshake is done');
    const [c1, c2] = this.ss.split();
    return { send: this.initiator ? c1 : c2, recv: this.initiator ? c2 : c1, k1: c1.k!, k2: c2.k!, handshakeHash: this.ss.h };
  }
}

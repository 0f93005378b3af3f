#!/usr/bin/env node
// Recomputes a discv5 session's key schedule from a Handshake Lab export, with Node's own
// crypto only (node:crypto, none of Handshake Lab's code), and says ✓ or ✗ for each value:
//   - HKDF-extract: PRK = HMAC-SHA256(key = salt (challenge-data), data = IKM (the ECDH secret))
//   - HKDF-expand:  T1 = HMAC(PRK, kdf-info ‖ 01), T2 = HMAC(PRK, T1 ‖ kdf-info ‖ 02);
//                   initiator-key ‖ recipient-key = (T1 ‖ T2)[0:32]
//   - each sealed message: header unmasked with AES-128-CTR (key = dest-id[:16], iv = masking-iv),
//     then AES-128-GCM(key, nonce, message-pt, ad = masking-iv ‖ header) = ciphertext ‖ tag
// Usage: node docs/recompute-keys.mjs session.json      (exit code 1 when anything differs)
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node docs/recompute-keys.mjs <exported session.json>');
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, 'utf8'));
const hex = (b) => Buffer.from(b).toString('hex');
const buf = (h) => Buffer.from(h ?? '', 'hex');
const hmac = (key, ...data) => createHmac('sha256', key).update(Buffer.concat(data)).digest();
let bad = 0;
let checked = 0;
const report = (what, want, got) => {
  checked++;
  const ok = want === got;
  if (!ok) bad++;
  console.log(`${ok ? '✓' : '✗'} ${what}: ${got}${ok ? '' : ` (the file says ${want})`}`);
};

// 1. HKDF, per handshake step of the trace.
for (const t of doc.trace ?? []) {
  if (t.step !== 'hkdf') continue;
  const val = (list, name) => list.find((v) => v.name.startsWith(name))?.hex;
  const salt = buf(val(t.inputs, 'salt'));
  const ikm = buf(val(t.inputs, 'IKM'));
  const info = buf(val(t.inputs, 'kdf-info'));
  console.log(`handshake with ${t.peer?.slice(0, 12) ?? '?'}… (packet #${t.packet}):`);
  const prk = hmac(salt, ikm);
  if (val(t.outputs, 'PRK')) report('  PRK = HKDF-extract(salt, IKM)', val(t.outputs, 'PRK'), hex(prk));
  const t1 = hmac(prk, info, Buffer.from([1]));
  const t2 = hmac(prk, t1, info, Buffer.from([2]));
  const keyData = Buffer.concat([t1, t2]).subarray(0, 32);
  report('  initiator-key = HKDF-expand(PRK, kdf-info)[0:16]', val(t.outputs, 'initiator-key'), hex(keyData.subarray(0, 16)));
  report('  recipient-key = HKDF-expand(PRK, kdf-info)[16:32]', val(t.outputs, 'recipient-key'), hex(keyData.subarray(16, 32)));
}

// 2. AES-GCM, per sealed discv5 message the file has the key and plaintext of.
for (const p of doc.packets ?? []) {
  if ((p.protocol ?? 'discv5') !== 'discv5' || !p.messageKey || !p.plaintext || p.kind === 'WHOAREYOU' || !p.destId) continue;
  const raw = buf(p.raw);
  const maskingIv = raw.subarray(0, 16);
  const unmask = createDecipheriv('aes-128-ctr', buf(p.destId).subarray(0, 16), maskingIv);
  const rest = unmask.update(raw.subarray(16));
  // static-header: protocol-id (6) ‖ version (2) ‖ flag (1) ‖ nonce (12) ‖ authdata-size (2)
  if (rest.subarray(0, 6).toString('latin1') !== 'discv5') {
    console.log(`✗ packet #${p.seq}: the header does not unmask to "discv5"`);
    bad++;
    continue;
  }
  const nonce = rest.subarray(9, 21);
  const header = rest.subarray(0, 23 + rest.readUInt16BE(21));
  const ad = Buffer.concat([maskingIv, header]);
  const gcm = createCipheriv('aes-128-gcm', buf(p.messageKey), nonce);
  gcm.setAAD(ad);
  const sealed = Buffer.concat([gcm.update(buf(p.plaintext)), gcm.final(), gcm.getAuthTag()]);
  console.log(`packet #${p.seq} (${p.kind}, ${p.direction}): nonce ${hex(nonce)}, ad ${ad.length} bytes`);
  report('  AES-128-GCM(key, nonce, message-pt, ad) = ciphertext ‖ tag', hex(raw.subarray(16 + header.length)), hex(sealed));
}

console.log(checked ? `${checked - bad} of ${checked} values recomputed equal${bad ? `, ${bad} differ` : ''}.` : 'Nothing to recompute: no hkdf step and no sealed discv5 message with its key in this file.');
if (doc.privateKey === 'left out') console.log('(Your node’s private key was left out of this export; nothing here needs it.)');
process.exit(bad || !checked ? 1 : 0);

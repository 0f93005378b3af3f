// docs/recompute-keys.mjs recomputes an exported session's key schedule with node:crypto alone:
// on the spec's handshake (replayed, exported as the page does) every value agrees; one changed
// byte in the file is caught.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { replaySpecHandshake } from '../shared/discv5/replay.ts';
import { exportSession } from '../web/lib/session-file.ts';
import type { PacketInfo } from '../web/lib/protocol.ts';
import { dissectPacket } from '../web/state/playground.svelte.ts';

const run = promisify(execFile);
const SCRIPT = path.resolve(import.meta.dirname, '../docs/recompute-keys.mjs');

function specExport(options: { includePrivateKey?: boolean } = {}): Record<string, any> {
  const r = replaySpecHandshake();
  const idA = toHex(r.nodeA.enr.nodeId);
  const idB = toHex(r.nodeB.enr.nodeId);
  const packets: PacketInfo[] = r.packets.map((p, i) => {
    const { packet: _p, ...rest } = p.record;
    return { ...rest, seq: i + 1, direction: p.sender === 'A' ? 'out' : 'in', destId: p.sender === 'A' ? idB : idA, peerId: idB };
  });
  const trace = [...new Set(r.packets.flatMap((p) => p.trace))];
  return JSON.parse(exportSession({ local: { nodeId: idA }, names: {}, packets, trace, notes: [] }, dissectPacket, new Date(0), options));
}

async function recompute(doc: unknown): Promise<{ code: number; out: string }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'recompute-')), 'session.json');
  writeFileSync(file, JSON.stringify(doc));
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, file]);
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string };
    return { code: err.code, out: err.stdout };
  }
}

describe('docs/recompute-keys.mjs', () => {
  it('recomputes PRK, both keys and every sealed message of the spec handshake from an export', async () => {
    const { code, out } = await recompute(specExport());
    expect(code).toBe(0);
    expect(out).not.toContain('✗');
    // Two handshakes (A as initiator, B as recipient): PRK and two keys each; three sealed messages.
    expect(out.match(/✓ +PRK/g)).toHaveLength(2);
    expect(out.match(/✓ +AES-128-GCM/g)?.length).toBeGreaterThanOrEqual(3);
    // Both sides derived the same keys: each key line appears twice with one value.
    const initiatorKeys = new Set([...out.matchAll(/initiator-key = HKDF-expand\(PRK, kdf-info\)\[0:16\]: ([0-9a-f]{32})/g)].map((m) => m[1]));
    expect(initiatorKeys.size).toBe(1);
    expect(out).toContain('(Your node’s private key was left out of this export');
  });

  it('says ✗ and exits 1 when a value in the file is not what its inputs give', async () => {
    const doc = specExport();
    const hkdf = doc.trace.find((t: { step: string }) => t.step === 'hkdf');
    const key = hkdf.outputs.find((o: { name: string }) => o.name === 'recipient-key');
    key.hex = `${key.hex.slice(0, -2)}${key.hex.endsWith('00') ? '01' : '00'}`;
    const sealed = doc.packets.find((p: { kind: string; direction: string }) => p.kind === 'ordinary');
    sealed.raw = `${sealed.raw.slice(0, -2)}${sealed.raw.endsWith('00') ? '01' : '00'}`;
    const { code, out } = await recompute(doc);
    expect(code).toBe(1);
    expect(out).toMatch(/✗ +recipient-key/);
    expect(out).toMatch(/✗ +AES-128-GCM/);
  });

  it('an export leaves out the node’s private key (static-key) unless asked, and says so', () => {
    const without = specExport();
    expect(without.privateKey).toBe('left out');
    const statics = without.trace.flatMap((t: { inputs: { name: string; hex: string; note?: string }[] }) => t.inputs).filter((v: { name: string }) => v.name === 'static-key');
    expect(statics.length).toBeGreaterThan(0);
    expect(statics.every((v: { hex: string; note?: string }) => v.hex === '' && v.note?.includes('left out'))).toBe(true);
    const withKey = specExport({ includePrivateKey: true });
    expect(withKey.privateKey).toBe('included');
    const kept = withKey.trace.flatMap((t: { inputs: { name: string; hex: string }[] }) => t.inputs).filter((v: { name: string }) => v.name === 'static-key');
    expect(kept.every((v: { hex: string }) => /^[0-9a-f]{64}$/.test(v.hex))).toBe(true);
  });
});

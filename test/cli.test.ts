// The CLI as a user runs it: real processes, real UDP on loopback, exit codes and output.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import vectors from './vectors/enr.json' with { type: 'json' };
import { startLab } from '../bridge/lab.ts';
import { CLI, runCli as run } from './helpers/cli-process.ts';

const children: ChildProcess[] = [];

/** Starts `discv5 listen` and resolves with its ENR (its first line). */
function listen(args: string[] = []): Promise<{ enr: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'discv5', 'listen', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`listen did not start: ${buf}`)), 20_000);
    child.stdout.on('data', (d) => {
      buf += d;
      const first = buf.split('\n')[0];
      if (buf.includes('\n') && first.startsWith('enr:')) {
        clearTimeout(timer);
        resolve({ enr: first.trim(), child });
      }
    });
  });
}

afterAll(() => {
  for (const c of children) c.kill('SIGTERM');
});

describe('handshake-lab enr', () => {
  it('decodes and verifies the spec record', async () => {
    const v = vectors.vectors[0];
    const r = await run(['enr', v.text]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(v.expected.nodeId);
    expect(r.stdout).toMatch(/ip\s+127\.0\.0\.1/);
    expect(r.stdout).toMatch(/udp\s+30303/);
    expect(r.stdout).toMatch(/seq\s+1/);
    const j = await run(['enr', v.text, '--json']);
    const o = JSON.parse(j.stdout.trim());
    expect(o.nodeId).toBe(v.expected.nodeId);
    expect(o.udp).toBe(30303);
  });

  it.each([
    [['enr', 'enr:not-base64!'], /invalid ENR/],
    [['enr', 'hello'], /invalid ENR/],
    [['discv5', 'ping', 'nonsense'], /invalid target/],
    [['discv5', 'findnode', vectors.vectors[0].text, '257'], /bad distance/],
    [['discv5', 'findnode', vectors.vectors[0].text, '-1'], /./],
    [['discv5', 'talkreq', vectors.vectors[0].text, 'p', 'zz'], /bad hex/],
    [['discv5', 'listen', '--key', '00'], /bad --key/],
    [['discv5', 'ping', vectors.vectors[0].text, '--timeout', 'soon'], /bad --timeout/],
    [['bogus'], /unknown command/],
    [['discv5', 'test', 'nonsense'], /invalid target/],
    [['discv5', 'test', vectors.vectors[0].text, '--only', 'Ping,Pong'], /unknown scenario "Pong"/],
    [['discv5', 'test', vectors.vectors[0].text, '--listen2', 'localhost'], /bad --listen2/],
  ])('invalid input %j: one line on stderr, exit 2, no stack trace', async (args, message) => {
    const r = await run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('handshake-lab discv5 (CLI ↔ CLI over loopback)', () => {
  it('ping: cold handshake, every packet printed, SUCCESS', async () => {
    const { enr } = await listen();
    const r = await run(['discv5', 'ping', enr]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/random packet/);
    expect(r.stdout).toMatch(/WHOAREYOU/);
    expect(r.stdout).toMatch(/handshake/);
    expect(r.stdout).toMatch(/PONG/);
    expect(r.stdout).toMatch(/initiator-key/);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^SUCCESS/);
  });

  it('ping --json: one object per line, packets with dissections, last line the result with the time', async () => {
    const { enr } = await listen();
    const r = await run(['discv5', 'ping', enr, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const packets = lines.filter((l) => l.type === 'packet');
    expect(packets.map((p) => p.kind)).toEqual(['random packet', 'WHOAREYOU', 'handshake', 'message']);
    for (const p of packets) expect(p.dissection.layers.length).toBeGreaterThanOrEqual(3);
    const last = lines.at(-1);
    expect(last.type).toBe('result');
    expect(last.ok).toBe(true);
    expect(last.rttMs).toBeGreaterThan(0);
    expect(last.response.type).toBe('PONG');
  });

  it('findnode 0 returns the listener’s record; talkreq gets an empty TALKRESP', async () => {
    const { enr } = await listen();
    const f = await run(['discv5', 'findnode', enr, '0']);
    expect(f.code).toBe(0);
    expect(f.stdout).toContain(enr);
    const t = await run(['discv5', 'talkreq', enr, 'unknown-proto', '0102']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/TALKRESP empty/);
  });

  it('a silent target ends in FAILED with exit 1 (no hang)', async () => {
    const { enr, child } = await listen();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    const r = await run(['discv5', 'ping', enr, '--timeout', '200', '--retries', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^FAILED: timeout/);
  });
});

describe('handshake-lab discv5 lookup (CLI → a lab of @chainsafe/discv5 nodes)', () => {
  it('prints the steps and the 16 closest nodes, which are the true 16 closest of the lab', async () => {
    const lab = await startLab({ size: 20 });
    try {
      const target = 'ab'.repeat(32);
      const r = await run(['discv5', 'lookup', lab.peers[0].enr, target, '--json'], 60_000);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.type === 'lookup' && l.event === 'queried').length).toBeGreaterThan(1);
      const result = lines.at(-1);
      expect(result.type).toBe('result');
      const xor = (id: string) => BigInt(`0x${id}`) ^ BigInt(`0x${target}`);
      const truth = lab.peers.map((p) => p.nodeId).sort((a, b) => (xor(a) < xor(b) ? -1 : 1)).slice(0, 16);
      expect(result.closest.map((c: { nodeId: string }) => c.nodeId)).toEqual(truth);
    } finally {
      await lab.close();
    }
  }, 90_000);
});

describe('handshake-lab discv5 test (go-ethereum’s conformance scenarios, CLI ↔ CLI)', () => {
  it('against discv5 listen: 7 passed, each scenario with what it checks and why it passed; exit 0', async () => {
    const { enr } = await listen();
    const r = await run(['discv5', 'test', enr], 60_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const name of ['Ping', 'PingLargeRequestID', 'PingMultiIP', 'HandshakeResend', 'TalkRequest', 'FindnodeZeroDistance', 'FindnodeResults'])
      expect(r.stdout).toMatch(new RegExp(`\\n${name} — .{20,}\\n`));
    expect(r.stdout.match(/^ {2}PASS: /gm)).toHaveLength(7);
    expect(r.stdout).toMatch(/sending from 127\.0\.0\.1 and 127\.0\.0\.2/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('7 passed');
  }, 70_000);

  it('--json: scenarios, packets with dissections, results, and a summary last', async () => {
    const { enr } = await listen();
    const r = await run(['discv5', 'test', enr, '--json', '--only', 'HandshakeResend,TalkRequest'], 30_000);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === 'scenario').map((l) => l.name)).toEqual(['HandshakeResend', 'TalkRequest']);
    const resend = lines.filter((l) => l.type === 'packet' && l.scenario === 'HandshakeResend');
    expect(resend.map((p) => p.kind)).toEqual(['random packet', 'WHOAREYOU', 'random packet', 'WHOAREYOU', 'handshake', 'message']);
    expect(resend[1].raw).toBe(resend[3].raw); // the very same challenge, byte for byte
    for (const p of resend) expect(p.dissection.layers.length).toBeGreaterThanOrEqual(2);
    const last = lines.at(-1);
    expect(last).toMatchObject({ type: 'summary', ok: true, passed: 2, failed: 0, skipped: 0 });
  }, 40_000);

  it('a target that does not answer: the scenarios FAIL with their reasons (none hangs), exit 1', async () => {
    const { enr, child } = await listen();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    const r = await run(['discv5', 'test', enr, '--timeout', '100', '--bystander-wait', '1000', '--json'], 30_000);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    // A silent node also sends no PONG to the 9-byte request-id: that one passes.
    expect(summary).toMatchObject({ ok: false, passed: 1, failed: 6 });
    expect(summary.results.find((x: { name: string }) => x.name === 'Ping').reason).toMatch(/no PONG: no answer within 100 ms/);
  }, 40_000);
});

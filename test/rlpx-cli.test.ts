// `handshake-lab rlpx` as a user runs it: real processes, real TCP on loopback with the lab's
// ethereumjs nodes, both directions; exit codes, output, --json; bad input is one line, exit 2.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecutionLab, type ExecutionLab } from '../bridge/lab-execution.ts';
import { parseEnode } from '../shared/enr/index.ts';
import { CLI, runCli as run } from './helpers/cli-process.ts';

let lab: ExecutionLab;
const children: ChildProcess[] = [];
beforeAll(async () => {
  lab = await startExecutionLab({ size: 1 });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await lab?.close();
});

describe('handshake-lab rlpx', () => {
  it('status with a lab node: every packet with its keys, the peer Hello and Status, SUCCESS, exit 0', async () => {
    const r = await run(['rlpx', 'status', lab.peers[0].enode]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const want of ['→ #1 auth', '← #2 ack', 'kE (AES-128-CTR key)', 'aes-secret (secret)', 'mac-secret (secret)', 'egress-mac digest', '→ #3 Hello', '← #4 Hello', 'Status eth/68 network 1 (mainnet)', 'fork id: ACCEPTED — Rule', 'SUCCESS in'])
      expect(r.stdout).toContain(want);
    expect(r.stdout).toContain(`peer Hello: ${lab.peers[0].clientId}`);
  });

  it('ping --json: one object per line, packets dissected, a SUCCESS result', async () => {
    const r = await run(['rlpx', 'ping', lab.peers[0].enode, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const packets = lines.filter((l) => l.type === 'packet');
    expect(packets.map((p) => p.kind)).toEqual(expect.arrayContaining(['auth', 'ack', 'Hello', 'Ping', 'Pong']));
    expect(packets.find((p) => p.kind === 'Pong').dissection.layers.map((l: { name: string }) => l.name)).toContain('msg-data (snappy)');
    expect(lines.some((l) => l.type === 'trace' && l.step === 'secrets')).toBe(true);
    const result = lines.at(-1);
    expect(result).toMatchObject({ type: 'result', outcome: 'SUCCESS', goal: 'ping', hello: { clientId: lab.peers[0].clientId } });
  });

  it('a node that is not there: FAILED, exit 1', async () => {
    const e = parseEnode(lab.peers[0].enode);
    if (!e.ok) throw e.error;
    const closed = lab.peers[0].enode.replace(`:${e.value.tcp}`, ':1');
    const r = await run(['rlpx', 'ping', closed, '--timeout', '2000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: connect: refused/);
  });

  it('--network sepolia against a mainnet node: FAILED on the network id, exit 1', async () => {
    const r = await run(['rlpx', 'status', lab.peers[0].enode, '--network', 'sepolia']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED: network 1, ours is 11155111 \(sepolia\)/);
    expect(r.stdout).toMatch(/Disconnect 0x10/);
  });

  it('listen --once: a lab node dials it, auth in, ack out, Hello and Status both ways, exit 0', async () => {
    const child = spawn(process.execPath, [...CLI, 'rlpx', 'listen', '--port', '0', '--once'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const enode = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listen did not start: ${out}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /as (enode:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    const e = parseEnode(enode);
    if (!e.ok) throw e.error;
    const { convertPublicKey } = await import('../shared/crypto/secp256k1.ts');
    await lab.nodes[0].rlpx.connect({ id: convertPublicKey(e.value.publicKey, false).subarray(1), address: e.value.ip, tcpPort: e.value.tcp });
    expect(await code, out).toBe(0);
    expect(out).toMatch(/← #1 auth/);
    expect(out).toMatch(/→ #2 ack/);
    expect(out).toContain('SUCCESS in');
  });

  it.each([
    [['rlpx', 'ping'], /missing target/],
    [['rlpx', 'ping', 'nonsense'], /invalid target/],
    [['rlpx', 'ping', 'enode://1234@127.0.0.1:30303'], /invalid target: public-key/],
    [['rlpx', 'status', 'enode://x', '--network', 'goerli'], /unknown --network "goerli"/],
    [['rlpx', 'frobnicate'], /unknown rlpx command/],
    [['rlpx', 'listen', '--key', '00'], /bad --key/],
    [['rlpx', 'ping', 'enode://x', '--timeout', 'soon'], /bad --timeout/],
  ])('invalid input %j: one line on stderr, exit 2', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});

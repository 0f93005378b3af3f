// discv4 against the lab's real @ethereumjs/devp2p nodes on loopback, both ways: our CLI pings,
// bonds, asks FINDNODE and looks up; ethereumjs pings our listener, bonds with it and asks it
// FINDNODE. ethereumjs 10 does not speak EIP-868 (its decoder throws on packet type 5), so the
// ENR request is shown to time out against it and to work against our own listener.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecutionLab, type ExecutionLab } from '../bridge/lab-execution.ts';
import { nodeDatagramTransport } from '../bridge/node-transport.ts';
import { fromHex, toHex } from '../shared/bytes.ts';
import { keccak256 } from '../shared/crypto/hashes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { createEnr } from '../shared/enr/index.ts';
import { parseDiscv4Target } from '../shared/discv4/contact.ts';
import { Discv4Driver } from '../shared/discv4/driver.ts';
import { Discv4Engine } from '../shared/discv4/engine.ts';
import { wireKey, type Discv4Node } from '../shared/discv4/node.ts';
import type { WireRecord } from '../shared/engine.ts';
import { compareDistance } from '../shared/kademlia/distance.ts';
import { secureRandom } from '../shared/random.ts';
import { CLI, runCli } from './helpers/cli-process.ts';

const LAB_SIZE = 6;
let lab: ExecutionLab;
const children: ChildProcess[] = [];
const drivers: Discv4Driver[] = [];

beforeAll(async () => {
  lab = await startExecutionLab({ size: LAB_SIZE });
  // Wait until the bootnode knows every other node (they bond with it at start).
  for (let i = 0; i < 100 && lab.nodes[0].dpt.getPeers().length < LAB_SIZE - 1; i++) await new Promise((r) => setTimeout(r, 50));
}, 30_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  for (const d of drivers) d.close();
  await lab?.close();
});

const node = (enode: string): Discv4Node => {
  const r = parseDiscv4Target(enode);
  if (!r.ok) throw new Error(r.error.reason);
  return r.value;
};

/** Our node in this process, on a loopback socket, keeping its wire records. */
async function ourNode(options: { k?: number } = {}): Promise<{ driver: Discv4Driver; records: WireRecord[]; node: Discv4Node }> {
  const socket = await nodeDatagramTransport.openDatagram({ ip: '127.0.0.1', port: 0 });
  const privateKey = randomPrivateKey(secureRandom);
  const engine = new Discv4Engine({ privateKey, enr: createEnr({ privateKey, ip: '127.0.0.1', udp: socket.local.port }), endpoint: { ip: '127.0.0.1', udp: socket.local.port, tcp: 0 }, random: secureRandom, requestTimeoutMs: 800, ...(options.k ? { lookup: { k: options.k } } : {}) });
  const driver = new Discv4Driver(engine, socket);
  drivers.push(driver);
  const records: WireRecord[] = [];
  driver.listen({ record: (r) => records.push(r) });
  return { driver, records, node: { nodeId: engine.nodeId, publicKey: engine.publicKey, ip: '127.0.0.1', udp: socket.local.port, tcp: 0 } };
}

const until = async (cond: () => boolean, ms = 5000) => {
  for (let t = 0; t < ms && !cond(); t += 25) await new Promise((r) => setTimeout(r, 25));
  return cond();
};

describe('our CLI → ethereumjs', () => {
  it('discv4 ping: PING → PONG with our ping-hash; the peer mirrors our address', async () => {
    const r = await runCli(['discv4', 'ping', lab.peers[1].enode]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/→ #1 PING\s+\d+ bytes to 127\.0\.0\.1:/);
    expect(r.stdout).toMatch(/← #2 PONG/);
    expect(r.stdout).toContain(`sender recovered from the signature: node id ${lab.peers[1].nodeId}`);
    expect(r.stdout).toMatch(/SUCCESS: PONG in [\d.]+ ms; the peer sees us at 127\.0\.0\.1:\d+, no enr-seq/);
  });

  it('discv4 ping --json: the PONG quotes the PING hash, and each packet carries its dissection', async () => {
    const r = await runCli(['discv4', 'ping', lab.peers[2].enode, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const packets = lines.filter((l) => l.type === 'packet');
    const [ping, pong] = packets;
    expect(ping.kind).toBe('PING');
    expect(pong.kind).toBe('PONG');
    expect(pong.peerId).toBe(lab.peers[2].nodeId);
    const pingHash = ping.raw.slice(0, 64);
    const pongData = pong.dissection.layers[1].fields.find((f: { name: string }) => f.name === 'ping-hash');
    expect(pongData.value).toContain(pingHash);
    expect(lines.at(-1)).toMatchObject({ type: 'result', ok: true, bonded: true });
  });

  it('discv4 findnode: bonds (PING, PONG, their PING, our PONG), then FINDNODE → NEIGHBORS naming the other lab nodes', async () => {
    const r = await runCli(['discv4', 'findnode', lab.peers[0].enode, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const flow = lines.filter((l) => l.type === 'packet').map((l) => `${l.direction} ${l.kind}`);
    expect(flow.slice(0, 2)).toEqual(['out PING', 'in PONG']);
    expect(flow).toContain('in PING'); // ethereumjs checks us in turn
    expect(flow.indexOf('out FINDNODE')).toBeGreaterThan(flow.indexOf('in PING'));
    expect(flow).toContain('in NEIGHBORS');
    const result = lines.at(-1);
    const ids = result.nodes.map((n: { nodeId: string }) => n.nodeId);
    for (const p of lab.peers.slice(1)) expect(ids).toContain(p.nodeId);
  });

  it('discv4 lookup from the bootnode returns every lab node, closest to the target first', async () => {
    const targetKey = wireKey(node(lab.peers[3].enode).publicKey);
    const r = await runCli(['discv4', 'lookup', lab.peers[0].enode, toHex(targetKey), '--json', '--timeout', '500'], 60_000);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const target = keccak256(targetKey);
    const truth = lab.peers.map((p) => fromHex(p.nodeId)).sort((a, b) => compareDistance(target, a, b)).map(toHex);
    // Anything else the bootnode relays (earlier CLI runs, gone now) fails and drops out.
    expect(result.closest.map((c: { nodeId: string }) => c.nodeId)).toEqual(truth);
    expect(result.closest[0].nodeId).toBe(lab.peers[3].nodeId); // the target's own node is distance 0
  }, 60_000);

  it('a lookup with k = 3 returns exactly the true 3 closest lab nodes', async () => {
    const { driver } = await ourNode({ k: 3 });
    const targetKey = secureRandom(64);
    const closest = await driver.lookup(targetKey, [node(lab.peers[0].enode)]);
    const target = keccak256(targetKey);
    const truth = lab.peers.map((p) => fromHex(p.nodeId)).sort((a, b) => compareDistance(target, a, b)).slice(0, 3).map(toHex);
    expect(closest.map((n) => toHex(n.nodeId))).toEqual(truth);
  }, 30_000);

  it('discv4 requestenr: ethereumjs does not implement EIP-868, so the request times out (exit 1)', async () => {
    const r = await runCli(['discv4', 'requestenr', lab.peers[1].enode, '--timeout', '300', '--retries', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/→ #\d+ ENRRequest/);
    expect(r.stdout).toContain('FAILED: timeout: no ENRResponse within 300 ms');
  });
});

describe('ethereumjs → us', () => {
  it('an ethereumjs node pings our listener, we bond both ways, it asks FINDNODE and learns the node we tell it of', async () => {
    const listener = await ourNode();
    const other = await ourNode();
    const e = lab.nodes[4];
    const ePeer = node(lab.peers[4].enode);
    // The listener knows `other` (a node ethereumjs has never seen) and has an endpoint proof from e.
    expect((await listener.driver.ping(other.node)).ok).toBe(true);
    expect((await listener.driver.ping(ePeer)).ok).toBe(true);
    // ethereumjs bootstraps from our listener: PING → our PONG, then FINDNODE → our NEIGHBORS.
    await e.dpt.bootstrap({ address: '127.0.0.1', udpPort: listener.node.udp, tcpPort: null as unknown as number });
    expect(await until(() => listener.records.some((r) => r.direction === 'out' && r.kind === 'NEIGHBORS'))).toBe(true);
    const inFind = listener.records.find((r) => r.direction === 'in' && r.kind === 'FINDNODE')!;
    expect(inFind.rejected).toBeUndefined();
    expect(inFind.peerId).toBe(lab.peers[4].nodeId);
    // ethereumjs took our NEIGHBORS: it pings the node we named and adds it to its table.
    expect(await until(() => e.dpt.getPeer(toHex(wireKey(other.node.publicKey))) !== null)).toBe(true);
    expect(other.records.some((r) => r.direction === 'in' && r.kind === 'PING' && r.peerId === lab.peers[4].nodeId)).toBe(true);
  }, 30_000);

  it('discv4 listen (the CLI) answers an ethereumjs PING and pings back; ethereumjs adds it to its table', async () => {
    const child = spawn(process.execPath, [...CLI, 'discv4', 'listen', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    expect(await until(() => out.includes('listening on'), 20_000)).toBe(true);
    const enode = out.split('\n')[0].trim();
    const l = node(enode);
    const e = lab.nodes[5];
    const peer = await e.dpt.addPeer({ address: '127.0.0.1', udpPort: l.udp, tcpPort: null as unknown as number });
    expect(toHex(peer.id!)).toBe(toHex(wireKey(l.publicKey)));
    expect(await until(() => /→ #\d+ PING/.test(out) && /← #\d+ PONG/.test(out))).toBe(true);
    expect(out).toMatch(/← #1 PING[\s\S]*→ #2 PONG[\s\S]*→ #3 PING/);
    expect(out).toContain('answered with PONG, and pinged back');
    expect(out).toContain(`node id ${lab.peers[5].nodeId}`);
  }, 30_000);

  it('requestenr against our own listener: the record comes back, matched by request-hash and verified', async () => {
    const child = spawn(process.execPath, [...CLI, 'discv4', 'listen', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    expect(await until(() => out.includes('"listening"'), 20_000)).toBe(true);
    const listening = JSON.parse(out.split('\n')[0]);
    const r = await runCli(['discv4', 'requestenr', listening.enode, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ type: 'result', ok: true, enr: listening.enr, nodeId: listening.nodeId });
  }, 30_000);
});

describe('discv4 CLI: bad input', () => {
  it.each([
    [['discv4', 'ping', 'nonsense'], /invalid target/],
    [['discv4', 'ping'], /missing target/],
    [['discv4', 'findnode', 'enode://00@127.0.0.1:1', 'x'], /invalid target/],
    [['discv4', 'findnode', 'enode://' + 'ab'.repeat(64) + '@127.0.0.1:1'], /invalid target/],
    [['discv4', 'bogus'], /unknown discv4 command/],
    [['discv4', 'listen', '--key', '00'], /bad --key/],
    [['discv4', 'ping', 'enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8', 'extra'], /unexpected argument/],
  ])('%j: one line on stderr, exit 2', async (args, message) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('a findnode target that is not a 64-byte key is refused', async () => {
    const r = await runCli(['discv4', 'findnode', lab.peers[0].enode, 'abcd']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad target "abcd"/);
  });
});

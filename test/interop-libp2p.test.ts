// libp2p against real, independent peers on loopback: js-libp2p 3 nodes (@chainsafe/libp2p-noise,
// @chainsafe/libp2p-yamux, @libp2p/tcp, ping, identify) with secp256k1 identities, as the lab runs
// them. Our engine and CLI dial them (multistream → Noise XX → yamux → ping, identify), they dial
// our listener, and a wrong peer id is refused.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLibp2pLab, type Libp2pLab } from '../bridge/lab-libp2p.ts';
import { listenTcp, nodeStreamTransport } from '../bridge/node-transport.ts';
import { EngineDriver } from '../shared/drive/driver.ts';
import type { WireRecord } from '../shared/engine.ts';
import { createEnr, encodeEnrText } from '../shared/enr/index.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import { multiaddrText, parseDialTarget } from '../shared/libp2p/address.ts';
import { coverageProblems } from '../shared/dissect.ts';
import { dissectLibp2p } from '../shared/libp2p/dissect.ts';
import { Libp2pEngine, type Libp2pConfig, type Libp2pEvent, type Libp2pRecord } from '../shared/libp2p/engine.ts';
import { secp256k1Identity } from '../shared/libp2p/keys.ts';
import { secureRandom } from '../shared/random.ts';
import type { TraceRecord } from '../shared/trace.ts';
import { CLI, runCli } from './helpers/cli-process.ts';

let lab: Libp2pLab;
beforeAll(async () => {
  lab = await startLibp2pLab({ size: 2 });
}, 30_000);
afterAll(async () => {
  await lab?.close();
});

const identity = () => secp256k1Identity(randomPrivateKey(secureRandom));

/** One dial with our engine over real TCP; resolves at its outcome with everything it saw. */
function dial(target: string, config: Partial<Libp2pConfig> = {}) {
  const t = parseDialTarget(target);
  if ('error' in t) throw new Error(t.error);
  const engine = new Libp2pEngine({ identity: identity(), random: secureRandom, timeoutMs: 8000, afterPing: 'close', ...config });
  const driver = new EngineDriver(engine, { streams: nodeStreamTransport }) as EngineDriver<unknown, Libp2pEvent>;
  const records: Libp2pRecord[] = [];
  const trace: TraceRecord[] = [];
  const events: Libp2pEvent[] = [];
  return new Promise<{ outcome: Extract<Libp2pEvent, { type: 'outcome' }>; records: Libp2pRecord[]; trace: TraceRecord[]; events: Libp2pEvent[] }>((resolve) => {
    driver.listen({
      record: (r) => records.push(r as Libp2pRecord),
      trace: (x) => trace.push(x),
      event: (e) => {
        events.push(e);
        if (e.type === 'outcome') setTimeout(() => (driver.close(), resolve({ outcome: e, records, trace, events })), 50);
      },
    });
    driver.command({ type: 'dial', to: t.endpoint, ...(t.peerId ? { peerId: t.peerId } : {}) });
  });
}

describe('our engine → js-libp2p', () => {
  it('multistream → Noise XX → yamux (agreed in the Noise payloads) → ping and identify', async () => {
    const peer = lab.peers[0];
    const { outcome, records, trace, events } = await dial(peer.multiaddr);
    expect(outcome.reason).toBeUndefined();
    expect(outcome.outcome).toBe('SUCCESS');
    expect(outcome.peerId).toBe(peer.peerId);
    expect(outcome.muxer).toBe('/yamux/1.0.0');
    expect(outcome.rttMs).toBeGreaterThan(0);
    expect(outcome.identify?.agentVersion).toMatch(/^js-libp2p\/3\./);
    expect(outcome.identify?.protocols).toContain('/ipfs/ping/1.0.0');
    expect(events.find((e) => e.type === 'muxer')).toMatchObject({ how: 'noise-extensions' });
    // The wire, in order: multistream both ways, then the three Noise messages.
    expect(records.slice(0, 6).map((r) => `${r.direction} ${r.kind}`)).toEqual([
      'out multistream', 'in multistream', 'in multistream', 'out noise-e', 'in noise-e-ee-s-es', 'out noise-s-se',
    ]);
    // Every token is a trace record with h and ck (and k once there is one) after it.
    const tokens = trace.filter((t) => /^noise-(e|ee|s|es|se)$/.test(t.step));
    expect(tokens.map((t) => t.step)).toEqual(['noise-e', 'noise-e', 'noise-ee', 'noise-s', 'noise-es', 'noise-s', 'noise-se']);
    for (const t of tokens) {
      expect(t.outputs.map((o) => o.name)).toEqual(t.step === 'noise-e' ? ['h', 'ck'] : ['h', 'ck', 'k', 'n']);
      expect(t.handshake).toBe(tokens[0].handshake);
    }
    // The peer's identity signature verified; the split gives the keys.
    expect(trace.find((t) => t.step === 'identity-verify')?.ok).toBe(true);
    expect(trace.find((t) => t.step === 'split')?.outputs.map((o) => o.name)).toEqual(['k1', 'k2', 'handshake hash']);
    // Every message dissects with every byte tiled, the decrypted payloads too.
    for (const r of records) {
      const d = dissectLibp2p(r);
      expect(d.error, `${r.seq} ${r.kind}`).toBeUndefined();
      for (const l of d.layers) expect(coverageProblems(l), `${r.seq} ${r.kind} ${l.name}`).toEqual([]);
    }
    const m2 = dissectLibp2p(records[4]);
    const payload = m2.layers.find((l) => l.name === 'handshake payload')!;
    expect(payload.fields.map((f) => f.name)).toEqual(['identity_key', 'identity_sig', 'extensions']);
    expect(JSON.stringify(payload.fields[1])).toContain('SEQUENCE tag + length');
  });

  it('without inlined muxer negotiation, yamux is agreed by multistream-select inside Noise', async () => {
    const { outcome, events, records } = await dial(lab.peers[1].multiaddr, { earlyMuxer: false });
    expect(outcome.outcome).toBe('SUCCESS');
    expect(events.find((e) => e.type === 'muxer')).toMatchObject({ muxer: '/yamux/1.0.0', how: 'multistream' });
    expect(records.some((r) => r.direction === 'in' && r.summary.includes('multistream /yamux/1.0.0'))).toBe(true);
  });

  it('a wrong peer id is refused after Noise message 2, with both ids in the reason', async () => {
    const other = lab.peers[1].peerId;
    const { outcome, records } = await dial(`/ip4/127.0.0.1/tcp/${lab.peers[0].tcp}/p2p/${other}`);
    expect(outcome.outcome).toBe('FAILED');
    expect(outcome.reason).toBe(`wrong peer: dialled ${other}, but the key that signed this Noise handshake is ${lab.peers[0].peerId}`);
    // Message 3 (our identity) never went out.
    expect(records.some((r) => r.kind === 'noise-s-se')).toBe(false);
  });

  it('an ENR with ip and tcp is dialled, the peer id taken from its secp256k1 key', async () => {
    const id = lab.identities[0];
    const enr = encodeEnrText(createEnr({ privateKey: id.privateKey, ip: '127.0.0.1', tcp: id.tcp, udp: 9 }));
    const t = parseDialTarget(enr);
    expect('error' in t ? t.error : t.peerIdText).toBe(lab.peers[0].peerId);
    const { outcome } = await dial(enr);
    expect(outcome.outcome).toBe('SUCCESS');
    expect(outcome.peerId).toBe(lab.peers[0].peerId);
  });
});

describe('js-libp2p → our listener', () => {
  it('a js-libp2p node dials us, verifies our identity, and our engine echoes its ping', async () => {
    const listener = await listenTcp('127.0.0.1', 0);
    const me = identity();
    const engine = new Libp2pEngine({ identity: me, random: secureRandom, accept: true });
    const driver = new EngineDriver(engine, {}) as EngineDriver<unknown, Libp2pEvent>;
    listener.onConnection((c) => driver.accept(c));
    const events: Libp2pEvent[] = [];
    const records: WireRecord[] = [];
    driver.listen({ event: (e) => events.push(e), record: (r) => records.push(r) });
    try {
      const rtt = await lab.ping(lab.peers[0].name, multiaddrText(listener.local, me.peerId));
      expect(rtt).toBeGreaterThanOrEqual(0);
      const outcome = events.find((e) => e.type === 'outcome');
      expect(outcome).toMatchObject({ outcome: 'SUCCESS', direction: 'inbound', peerId: lab.peers[0].peerId, muxer: '/yamux/1.0.0' });
      expect(records.some((r) => r.direction === 'out' && r.summary.includes('ping echo'))).toBe(true);
      // js-libp2p asked who we are: our identify went out.
      expect(records.some((r) => r.direction === 'out' && r.summary.includes('our identify'))).toBe(true);
    } finally {
      listener.close();
      driver.close();
    }
  });

  it('js-libp2p refuses our listener when it dialled another peer id', async () => {
    const listener = await listenTcp('127.0.0.1', 0);
    const engine = new Libp2pEngine({ identity: identity(), random: secureRandom, accept: true });
    const driver = new EngineDriver(engine, {});
    listener.onConnection((c) => driver.accept(c));
    try {
      await expect(lab.ping(lab.peers[0].name, multiaddrText(listener.local, identity().peerId))).rejects.toThrow();
    } finally {
      listener.close();
      driver.close();
    }
  });
});

describe('handshake-lab libp2p (CLI)', () => {
  it('dial prints every message, the Noise state per token, the peer, the muxer and the ping', async () => {
    const peer = lab.peers[0];
    const r = await runCli(['libp2p', 'dial', peer.multiaddr]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('→ #1 multistream 28 bytes: /multistream/1.0.0 + /noise');
    expect(r.stdout).toContain('→ #4 noise-e 34 bytes: Noise → e');
    expect(r.stdout).toMatch(/← #5 noise-e-ee-s-es \d+ bytes: Noise ← e, ee, s, es/);
    expect(r.stdout).toMatch(/ee: MixKey\(DH\(e, re\)\)[^\n]*\n\s+dh [0-9a-f]{16}… h [0-9a-f]{16}… ck [0-9a-f]{16}… k [0-9a-f]{16}… n 0/);
    expect(r.stdout).toContain(`SECURED: the peer is ${peer.peerId} (Secp256k1)`);
    expect(r.stdout).toContain('MUXER: /yamux/1.0.0 (agreed inside the Noise payloads)');
    expect(r.stdout).toMatch(/PING: 32 bytes echoed in [\d.]+ ms/);
    expect(r.stdout).toMatch(new RegExp(`SUCCESS in [\\d.]+ ms: peer ${peer.peerId}, muxer /yamux/1.0.0, ping [\\d.]+ ms`));
  });

  it('--json: one object per line, the result with the peer id and the round trip', async () => {
    const r = await runCli(['libp2p', 'dial', lab.peers[1].multiaddr, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = lines.find((l) => l.type === 'result')!;
    expect(result).toMatchObject({ outcome: 'SUCCESS', peerId: lab.peers[1].peerId, muxer: '/yamux/1.0.0' });
    expect(result.pingRttMs).toBeGreaterThan(0);
    expect(lines.filter((l) => l.type === 'trace' && l.step === 'noise-se')).toHaveLength(1);
    expect(lines.filter((l) => l.type === 'message').every((l) => (l.dissection as { layers: unknown[] }).layers.length > 0)).toBe(true);
  });

  it('a wrong peer id: FAILED with the reason, exit 1', async () => {
    const r = await runCli(['libp2p', 'dial', `/ip4/127.0.0.1/tcp/${lab.peers[0].tcp}/p2p/${lab.peers[1].peerId}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAILED: wrong peer: dialled ${lab.peers[1].peerId}, but the key that signed this Noise handshake is ${lab.peers[0].peerId}`);
  });

  it('listen: a js-libp2p node dials the CLI and pings it', async () => {
    const child = spawn(process.execPath, [...CLI, 'libp2p', 'listen', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const listening = await new Promise<{ multiaddr: string }>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d) => {
          buf += d;
          const line = buf.split('\n').find((l) => l.includes('"listening"'));
          if (line) resolve(JSON.parse(line));
        });
        child.on('close', () => reject(new Error(`listen exited: ${buf}`)));
      });
      expect(await lab.ping(lab.peers[1].name, listening.multiaddr)).toBeGreaterThanOrEqual(0);
    } finally {
      child.kill('SIGTERM');
    }
  });

  const bad: [string, string[], RegExp][] = [
    ['no subcommand', ['libp2p'], /unknown libp2p command ""/],
    ['no target', ['libp2p', 'dial'], /missing target/],
    ['a multiaddr without tcp', ['libp2p', 'dial', '/ip4/127.0.0.1/udp/9000'], /invalid target: a dialable multiaddr|only \/tcp/],
    ['a DNS multiaddr', ['libp2p', 'dial', '/dns4/example.com/tcp/9000'], /only \/ip4 and \/ip6/],
    ['a bad peer id', ['libp2p', 'dial', '/ip4/127.0.0.1/tcp/9000/p2p/0OIl'], /peer id "0OIl"/],
    ['a bad ENR', ['libp2p', 'dial', 'enr:-abc'], /invalid ENR/],
    ['an ENR without tcp', ['libp2p', 'dial', encodeEnrText(createEnr({ privateKey: randomPrivateKey(secureRandom), ip: '127.0.0.1', udp: 9000 }))], /no tcp/],
    ['a bad --key', ['libp2p', 'dial', '/ip4/127.0.0.1/tcp/1', '--key', 'zz'], /bad --key/],
    ['listen with an argument', ['libp2p', 'listen', '9000'], /takes no arguments/],
  ];
  for (const [what, args, re] of bad) {
    it(`bad input, one line, exit 2: ${what}`, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    });
  }

  it('a refused port: FAILED, exit 1', async () => {
    const r = await runCli(['libp2p', 'dial', '/ip4/127.0.0.1/tcp/1', '--timeout', '3000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED: connect: refused');
  });
});

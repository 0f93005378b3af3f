// `npm start`: build the web app if it is missing or stale, start the lab of discv5 peers and
// the bridge, print the URL to open (it carries the token) and the lab ENRs. Ctrl-C stops
// everything: the lab runs in this process, so nothing is left behind.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BridgeOptions, USAGE, parseArgv } from './options.ts';
import { startBridge, type BridgeServer } from './server.ts';
import { startLab, type Lab } from './lab.ts';
import { startBitcoinLab, type BitcoinLab } from './lab-bitcoin.ts';
import { startExecutionLab, type ExecutionLab } from './lab-execution.ts';
import { LAB_ETH2, startLibp2pLab, type Libp2pLab } from './lab-libp2p.ts';
import { labPing } from './lab-ping.ts';
import { createLogger } from './log.ts';
import { defaultRoomStateFile, loadRoomTokens, type RoomTokens } from './room/state-file.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Newest modification time under a directory (files only), 0 when it does not exist. */
async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = await fs.stat(path.join(e.parentPath ?? (e as { path?: string }).path ?? dir, e.name)).catch(() => undefined);
    if (st && st.mtimeMs > newest) newest = st.mtimeMs;
  }
  return newest;
}

/** True when dist/ has no index.html or is older than the sources the app is built from. */
export async function buildIsStale(root: string, distDir: string): Promise<boolean> {
  const built = await fs.stat(path.join(distDir, 'index.html')).catch(() => undefined);
  if (!built) return true;
  const sources = Math.max(
    await newestMtime(path.join(root, 'web')),
    await newestMtime(path.join(root, 'shared')),
    (await fs.stat(path.join(root, 'vite.config.ts')).catch(() => undefined))?.mtimeMs ?? 0,
  );
  return sources > built.mtimeMs;
}

async function buildWebApp(root: string, distDir: string): Promise<void> {
  const { build } = await import('vite'); // in-process: no child to clean up
  await build({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn', build: { outDir: distDir, emptyOutDir: true } });
}

/** What the host must know before sharing a workshop URL. */
export function startWarnings(o: Pick<BridgeOptions, 'workshop' | 'tlsCert' | 'publicTargets'>): string[] {
  const w: string[] = [];
  if (o.workshop && o.tlsCert === undefined)
    w.push(
      'the join URL and its token travel in clear text on this LAN (plain HTTP): anyone on the network can read ' +
        'them and use this bridge as a participant. Serve HTTPS/WSS with --tls-cert FILE --tls-key FILE.',
    );
  if (o.workshop && o.publicTargets)
    w.push("--public: every participant can send packets to any public address from this machine's address (an open relay for the room).");
  return w;
}

export async function main(argv: string[]): Promise<number> {
  let options: BridgeOptions;
  try {
    const parsed = parseArgv(argv);
    if (parsed.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    options = parsed.options;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const log = createLogger(options.logLevel);
  const distDir = path.resolve(ROOT, options.distDir);
  options.distDir = distDir;

  if (options.build === 'always' || (options.build === 'auto' && (await buildIsStale(ROOT, distDir)))) {
    process.stdout.write('Building the web app (vite)…\n');
    try {
      await buildWebApp(ROOT, distDir);
    } catch (e) {
      process.stderr.write(`Build failed: ${(e as Error).message}\n`);
      return 1;
    }
  }

  // A room keeps its links across restarts: the tokens live in a state file.
  let room: { tokens: RoomTokens; file: string; created: boolean } | undefined;
  if (options.workshop) {
    const file = path.resolve(options.roomState ?? defaultRoomStateFile());
    try {
      const r = await loadRoomTokens(file, { fresh: options.newRoom, ...(options.token !== undefined ? { join: options.token } : {}) });
      room = { ...r, file };
      options.token = r.tokens.join;
    } catch (e) {
      process.stderr.write(`${(e as Error).message}\n`);
      return 2;
    }
  }

  let lab: Lab | undefined;
  let btcLab: BitcoinLab | undefined;
  let elLab: ExecutionLab | undefined;
  let p2pLab: Libp2pLab | undefined;
  let bridge: BridgeServer | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping…\n');
    await Promise.allSettled([bridge?.close(), lab?.close(), btcLab?.close(), elLab?.close(), p2pLab?.close()]);
    process.exit(code);
  };
  const onSignal = () => {
    if (stopping) process.exit(130); // a second Ctrl-C: do not wait
    void stop(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // In a workshop the lab sits on the LAN address the pages' sockets advertise, so the source
    // address each side sees matches the other's ENR (discv5 checks it).
    const labHost = options.workshop ? (options.advertiseIp ?? options.host) : '127.0.0.1';
    // The libp2p nodes first: their keys and ports go into the discv5 lab's ENRs.
    if (options.lab && options.libp2pLabSize > 0) p2pLab = await startLibp2pLab({ size: options.libp2pLabSize, host: labHost, log });
    const consensus = (p2pLab?.peers ?? []).map((p, i) => ({ name: p.name, privateKey: p2pLab!.identities[i].privateKey, tcp: p.tcp, eth2: LAB_ETH2, multiaddr: p.multiaddr }));
    if (options.lab) lab = await startLab({ size: options.labSize, host: labHost, log, libp2p: consensus });
    if (options.lab && options.bitcoinLabSize > 0) btcLab = await startBitcoinLab({ size: options.bitcoinLabSize, host: labHost, log });
    if (options.lab && options.executionLabSize > 0) elLab = await startExecutionLab({ size: options.executionLabSize, host: labHost, log });
    const labNodes = lab;
    bridge = await startBridge(options, {
      log,
      lab: [...(lab?.peers ?? []), ...(btcLab?.peers ?? []), ...(elLab?.peers ?? []), ...(p2pLab?.peers ?? [])],
      ...(lab ? { labPing: labPing(lab) } : {}),
      ...(btcLab ? { bitcoinLab: btcLab } : {}),
      ...(elLab ? { executionLab: elLab } : {}),
      ...(room ? { room: { teacherToken: room.tokens.teacher } } : {}),
      // A page gone is a node gone: the lab stops handing out its address (lookups never chase it).
      ...(labNodes || elLab
        ? {
            onTunnelSocketGone: (protocol: 'udp' | 'tcp', e: { ip: string; port: number }) => {
              if (protocol !== 'udp') return;
              labNodes?.forget(e);
              elLab?.forget(e);
            },
          }
        : {}),
    });
  } catch (e) {
    const err = e as Error & { code?: string };
    process.stderr.write(
      err.code === 'EADDRINUSE' ? `Port ${options.port} is in use: try npm start -- --port ${options.port + 1}\n` : `Could not start: ${err.message}\n`,
    );
    await Promise.allSettled([lab?.close(), btcLab?.close(), elLab?.close(), p2pLab?.close()]);
    return 1;
  }

  const out = process.stdout;
  out.write(`\nHandshake Lab is running${options.workshop ? ' in workshop mode' : ''}.\n\n`);
  out.write(`  ${options.workshop ? 'Join URL (share it with the room)' : 'Open'}:  ${bridge.url}\n\n`);
  if (room && bridge.teacherUrl) {
    out.write(`  Teacher URL (keep it to yourself):  ${bridge.teacherUrl}\n\n`);
    out.write(`  Room: ${room.created ? 'new, saved in' : 'the same links as before, from'} ${room.file} (--new-room for fresh links)\n\n`);
  }
  for (const w of startWarnings(options)) out.write(`  Warning: ${w}\n\n`);
  if (lab) {
    out.write(`Lab: ${lab.peers.length} discv5 nodes on ${lab.peers[0]?.ip} (also at /lab.json)\n`);
    for (const p of lab.peers) out.write(`  ${p.name}  ${p.ip}:${p.udp}  ${p.enr}\n`);
    if (btcLab) {
      out.write(`Lab: ${btcLab.peers.length} Bitcoin nodes (bcoin 1.0.2, regtest, in memory)\n`);
      for (const p of btcLab.peers) out.write(`  ${p.name}  ${p.ip}:${p.tcp}  ${p.userAgent}\n`);
    }
    if (elLab) {
      out.write(`Lab: ${elLab.peers.length} execution-layer nodes (ethereumjs devp2p 10: discv4 + RLPx eth/66-68, mainnet)\n`);
      for (const p of elLab.peers) out.write(`  ${p.name}  ${p.enode}\n`);
    }
    if (p2pLab) {
      out.write(`Lab: ${p2pLab.peers.length} libp2p nodes (js-libp2p 3: Noise, yamux, ping, identify; also in the discv5 lab with tcp and eth2)\n`);
      for (const p of p2pLab.peers) out.write(`  ${p.name}  ${p.multiaddr}\n`);
    }
  } else out.write('Lab: off (--no-lab)\n');
  out.write('\nCtrl-C to stop.\n');
  return new Promise<number>(() => {}); // runs until a signal
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}

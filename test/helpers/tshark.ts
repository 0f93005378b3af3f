// Runs Debian's tshark on a capture file: the independent reader our pcapng export is checked
// against. Missing tshark is a failure with the install line, never a skip.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function requireTshark(): string {
  const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error('tshark is not installed: run `DEBIAN_FRONTEND=noninteractive apt-get install -y tshark` (.ci/run does this)');
  return r.stdout.split('\n')[0];
}

/** tshark's field output for a capture, one array of values per packet (tab-separated columns). */
export function tsharkFields(file: Uint8Array, fields: string[], args: string[] = []): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'pcapng-'));
  try {
    const path = join(dir, 'session.pcapng');
    writeFileSync(path, file);
    const r = spawnSync(
      'tshark',
      ['-n', '-r', path, ...CHECK_CHECKSUMS, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=|', ...fields.flatMap((f) => ['-e', f])],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`tshark exited ${r.status}: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checksum validation is off by default in Wireshark; the test wants it judged. */
const CHECK_CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];

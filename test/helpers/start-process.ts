// `npm start` as a user runs it, in a child process: resolves once the banner ("Ctrl-C to
// stop") is printed. The caller stops it with a signal; kill() is the last resort.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface StartedProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** The exit code once it exits. */
  exited: Promise<number | null>;
}

export async function startProcess(args: string[], timeoutMs = 30_000): Promise<StartedProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bridge/start.ts', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!/Ctrl-C to stop/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`no start banner:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, output: () => out, exited };
}

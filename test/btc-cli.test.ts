// `handshake-lab btc` on bad input: one clear line on stderr, exit 2, no stack.
import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../bridge/cli/commands/btc.ts';
import { UsageError } from '../bridge/cli/usage.ts';
import { runCli } from './helpers/cli-process.ts';

describe('handshake-lab btc: bad input', () => {
  const cases: [string, string[], RegExp][] = [
    ['no target', ['btc'], /missing target/],
    ['an unknown network', ['btc', '127.0.0.1', '--network', 'moon'], /unknown --network "moon"/],
    ['a port that is not a number', ['btc', '127.0.0.1', 'http'], /bad port "http"/],
    ['port 0', ['btc', '127.0.0.1', '0'], /bad port "0"/],
    ['a timeout that is not a number', ['btc', '127.0.0.1', '8333', '5s'], /bad timeout-ms "5s"/],
    ['too many arguments', ['btc', '127.0.0.1', '8333', '100', 'x'], /unexpected argument "x"/],
    ['a target that is no host name', ['btc', 'seed;rm -rf', '8333'], /neither an IP address nor a host name/],
    ['a bad --concurrency', ['btc', '127.0.0.1', '--concurrency', '0'], /bad --concurrency "0"/],
    ['listen with an argument', ['btc', 'listen', '8333'], /btc listen takes no arguments/],
    ['listen on a bad port', ['btc', 'listen', '--port', '70000'], /bad --port "70000"/],
  ];
  for (const [what, args, re] of cases) {
    it(what, async () => {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
    });
  }

  it('a name that does not resolve is bad input, said in one line (resolver injected: no DNS traffic)', async () => {
    const failing = { resolve: () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })) };
    await expect(resolveTarget('seed.example.invalid', failing)).rejects.toThrow(new UsageError('cannot resolve "seed.example.invalid": no such name'));
    await expect(resolveTarget('empty.example', { resolve: async () => [] })).rejects.toThrow(/no A or AAAA records/);
    expect(await resolveTarget('::ffff:127.0.0.1', failing)).toEqual(['127.0.0.1']);
    expect(await resolveTarget('[::1]', failing)).toEqual(['::1']);
    expect(await resolveTarget('two.example', { resolve: async () => ['192.0.2.1', '2001:db8::1'] })).toEqual(['192.0.2.1', '2001:db8::1']);
  });

  it('a refused port is FAILED with the reason and exit 1', async () => {
    const r = await runCli(['btc', '127.0.0.1', '1', '2000']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[127.0.0.1:1] FAILED: connect: refused');
    expect(r.stdout).toContain('Summary: 1 address · Success 0 · Partial 0 · Failed 1');
  });
});

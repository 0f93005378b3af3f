// The target policy and the option parser. Nothing here sends a packet: the policy is a pure
// function of addresses, so refused ranges are tested without touching them.
import { describe, expect, it } from 'vitest';
import { parseRule } from '../bridge/policy.ts';
import { policy, reasonOf } from './helpers/policy.ts';
import { DEFAULTS, maxFrameOf, parseArgv, resolveOptions } from '../bridge/options.ts';

const LOOPBACK = 'loopback address: lab peers and tunnel sockets only (--allow opens a port)';

describe('target policy: defaults', () => {
  const p = policy();

  it('allows public unicast; loopback only for registered peers', () => {
    expect(reasonOf(p, '8.8.8.8')).toBe('ok');
    expect(reasonOf(p, '2a00:1450:4001:80e::200e')).toBe('ok');
    expect(reasonOf(p, '127.0.0.1')).toBe(LOOPBACK);
    expect(reasonOf(p, '127.5.6.7')).toBe(LOOPBACK);
    expect(reasonOf(p, '::1')).toBe(LOOPBACK);
    const withPeer = policy({}, ['127.0.0.1:30303', '[::1]:9000']);
    expect(reasonOf(withPeer, '127.0.0.1', 30303)).toBe('ok');
    expect(reasonOf(withPeer, '::1', 9000)).toBe('ok');
    expect(reasonOf(withPeer, '127.0.0.1', 30304)).toBe(LOOPBACK);
  });

  it.each([
    ['10.0.0.1', 'private address'],
    ['172.16.5.4', 'private address'],
    ['192.168.1.1', 'private address'],
    ['169.254.169.254', 'linkLocal address'], // cloud metadata
    ['100.64.0.1', 'carrierGradeNat address'],
    ['0.0.0.0', 'unspecified address'],
    ['255.255.255.255', 'broadcast address'],
    ['224.0.0.251', 'multicast address'],
    ['240.0.0.1', 'reserved address'],
    ['192.0.2.1', 'reserved address'],
    ['fe80::1', 'linkLocal address'],
    ['fd00::1', 'uniqueLocal address'],
    ['ff02::1', 'multicast address'],
    ['::', 'unspecified address'],
    ['2001:db8::1', 'documentation address'],
    ['64:ff9b::a00:1', 'nat64 address'], // NAT64 of 10.0.0.1
    ['64:ff9b::808:808', 'nat64 address'], // NAT64 of 8.8.8.8: refused too, not judged by the IPv4
    ['2002:a00:1::1', '6to4 address'], // 6to4 of 10.0.0.1
    ['2002:808:808::1', '6to4 address'], // 6to4 of 8.8.8.8
  ])('refuses %s (%s)', (ip, reason) => {
    expect(reasonOf(p, ip)).toBe(reason);
  });

  it('unmaps ::ffff: addresses before checking', () => {
    expect(reasonOf(p, '::ffff:10.0.0.1')).toBe('private address');
    expect(reasonOf(p, '::ffff:169.254.169.254')).toBe('linkLocal address');
    expect(reasonOf(p, '::ffff:127.0.0.1')).toBe(LOOPBACK);
    expect(p.check('udp', '::ffff:8.8.8.8', 53)).toEqual({ ok: true, ip: '8.8.8.8' });
  });

  it('refuses what is not an address, and port 0', () => {
    expect(reasonOf(p, 'localhost')).toBe('not an IP address');
    expect(reasonOf(p, '127.1')).toBe('not an IP address'); // no shorthand IPv4 forms
    expect(reasonOf(p, '0x7f.0.0.1')).toBe('not an IP address');
    expect(reasonOf(p, '8.8.8.8', 0)).toBe('port 0');
  });
});

describe('target policy: options', () => {
  it('--allow opens a range, on chosen ports only', () => {
    const p = policy({ allow: ['10.0.0.0/8:30303', '[fd00::]/8:9000-9010'] });
    expect(reasonOf(p, '10.1.2.3', 30303)).toBe('ok');
    expect(reasonOf(p, '10.1.2.3', 30304)).toBe('private address');
    expect(reasonOf(p, 'fd00::5', 9005)).toBe('ok');
    expect(reasonOf(p, 'fd00::5', 9011)).toBe('uniqueLocal address');
    expect(reasonOf(p, '::ffff:10.9.9.9', 30303)).toBe('ok');
  });

  it('--deny wins over everything, loopback and --allow included', () => {
    const p = policy({ allow: ['127.0.0.0/8'], deny: ['127.0.0.1:9000', '8.8.0.0/16'] });
    expect(reasonOf(p, '127.0.0.1', 9000)).toBe('denied by --deny 127.0.0.1:9000');
    expect(reasonOf(p, '::ffff:127.0.0.1', 9000)).toBe('denied by --deny 127.0.0.1:9000');
    expect(reasonOf(p, '127.0.0.1', 9001)).toBe('ok');
    expect(reasonOf(p, '8.8.8.8', 53)).toBe('denied by --deny 8.8.0.0/16');
  });

  it('--no-public leaves peers and --allow', () => {
    const p = policy({ publicTargets: false, allow: ['8.8.4.4'] }, ['127.0.0.1:40000']);
    expect(reasonOf(p, '8.8.8.8')).toBe('public address (--no-public)');
    expect(reasonOf(p, '8.8.4.4')).toBe('ok');
    expect(reasonOf(p, '127.0.0.1', 40000)).toBe('ok');
  });

  it('workshop mode: lab peers and tunnel sockets only; public only with --public', () => {
    const p = policy({ workshop: true }, ['127.0.0.1:40000']);
    expect(reasonOf(p, '127.0.0.1', 40000)).toBe('ok');
    expect(reasonOf(p, '127.0.0.1', 22)).toBe(LOOPBACK);
    expect(reasonOf(p, '8.8.8.8')).toBe('public address (workshop mode: --public allows it)');
    expect(reasonOf(policy({ workshop: true, publicTargets: true }), '8.8.8.8')).toBe('ok');
  });

  it('refuses the bridge itself', () => {
    const p = policy({ self: [{ ip: '127.0.0.1', port: 8520 }], allow: ['127.0.0.0/8'] });
    expect(reasonOf(p, '127.0.0.1', 8520)).toBe('the bridge itself');
    expect(reasonOf(p, '127.0.0.2', 8520)).toBe('the bridge itself');
    expect(reasonOf(p, '127.0.0.1', 8521)).toBe('ok');
  });

  it('checks DNS answers by address (port rules count as "some port allowed")', () => {
    const p = policy({ allow: ['10.0.0.0/8:8333', '127.0.0.0/8'], deny: ['127.0.0.1:9000', '127.0.0.2'] });
    expect(p.checkAddress('10.1.1.1').ok).toBe(true);
    expect(p.checkAddress('192.168.1.1').ok).toBe(false);
    expect(p.checkAddress('127.0.0.1').ok).toBe(true);
    expect(policy().checkAddress('127.0.0.1').ok).toBe(false); // loopback, and no peer there
    expect(policy({}, ['127.0.0.1:30303']).checkAddress('127.0.0.1').ok).toBe(true);
    expect(p.checkAddress('127.0.0.2').ok).toBe(false);
    expect(p.checkAddress('::ffff:169.254.169.254').ok).toBe(false);
  });

  it('parses CIDR[:ports] rules and rejects bad ones', () => {
    expect(parseRule('10.0.0.0/8').ports).toBeUndefined();
    expect(parseRule('10.0.0.1:1-2,5').ports).toEqual([
      { from: 1, to: 2 },
      { from: 5, to: 5 },
    ]);
    expect(parseRule('::1').net[1]).toBe(128);
    expect(parseRule('[::1]/128:80').ports).toEqual([{ from: 80, to: 80 }]);
    for (const bad of ['', 'x', '10.0.0.0/33', '10.0.0.1:0', '10.0.0.1:5-1', '10.0.0.1:70000', '[::1]:x', 'fd00::/200'])
      expect(() => parseRule(bad), bad).toThrow();
  });
});

describe('options', () => {
  it('defaults are the safe ones', () => {
    const o = resolveOptions();
    expect(o.host).toBe('127.0.0.1');
    expect(o.maxDatagram).toBe(1280);
    expect(o.maxUdpSockets).toBe(4);
    expect(o.maxTcpConnections).toBe(8);
    expect(maxFrameOf(o)).toBe(27 + 16384);
  });

  it('parses npm start flags', () => {
    const { options } = parseArgv(['--port', '9123', '--no-lab', '--allow', '10.0.0.0/8', '--allow', '::1', '--deny', '127.0.0.1:22', '--no-public', '--lab-size', '20']);
    expect(options.port).toBe(9123);
    expect(options.lab).toBe(false);
    expect(options.allow).toEqual(['10.0.0.0/8', '::1']);
    expect(options.deny).toEqual(['127.0.0.1:22']);
    expect(options.publicTargets).toBe(false);
    expect(options.labSize).toBe(20);
    expect(parseArgv([]).options).toEqual(DEFAULTS);
  });

  it('refuses bad flags with a one-line message', () => {
    expect(() => parseArgv(['--port', 'x'])).toThrow(/--port expects a number/);
    expect(() => parseArgv(['--port', '70000'])).toThrow(/--port must be an integer/);
    expect(() => parseArgv(['--bogus'])).toThrow();
    expect(() => parseArgv(['--token', 'short'])).toThrow(/--token/);
    expect(() => parseArgv(['--workshop', '--host', '10.0.0.5']).options.maxSessions).not.toThrow();
    expect(parseArgv(['--workshop', '--host', '10.0.0.5']).options.maxSessions).toBe(200);
    expect(() => parseArgv(['--public', '--no-public'])).toThrow(/contradict/);
    expect(() => parseArgv(['--tls-cert', 'a.pem'])).toThrow(/go together/);
  });
});

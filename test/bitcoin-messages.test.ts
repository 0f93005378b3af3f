// Bitcoin message codec against the developer reference examples (test/vectors/bitcoin.json,
// from bitcoin-dot-org/developer.bitcoin.org reference/p2p_networking.rst, plus constants
// from Bitcoin Core named in the file), and the header checks a node relies on.
import { describe, expect, it } from 'vitest';
import vectors from './vectors/bitcoin.json' with { type: 'json' };
import { fromHex, toHex } from '../shared/bytes.ts';
import { coverageProblems } from '../shared/dissect.ts';
import { checksumOf, decodeMessage, dissectBitcoin, encodeMessage, summarizeBitcoin, type BtcMessage, type Version } from '../shared/bitcoin/messages.ts';
import { describeServices, MAX_MESSAGE_LENGTH, NETWORKS, networkByMagic, PROTOCOL_VERSION, SERVICE_BITS, WTXID_RELAY_VERSION, MIN_PEER_PROTO_VERSION } from '../shared/bitcoin/spec.ts';

const verack = vectors.messages.find((m) => m.name === 'verack-mainnet')!;
const version = vectors.messages.find((m) => m.name === 'version-70002')!;

function header(command: string, payload: Uint8Array, magic = NETWORKS.main.magic, length = payload.length, sum = checksumOf(payload)): Uint8Array {
  const h = new Uint8Array(24 + payload.length);
  h.set(magic, 0);
  for (let i = 0; i < command.length; i++) h[4 + i] = command.charCodeAt(i);
  new DataView(h.buffer).setUint32(16, length, true);
  h.set(sum, 20);
  h.set(payload, 24);
  return h;
}

describe('bitcoin constants match the sources', () => {
  it('network magics and default ports', () => {
    for (const n of vectors.networkMagics) {
      const name = n.network === 'mainnet' ? 'main' : n.network;
      const ours = NETWORKS[name as keyof typeof NETWORKS];
      expect(toHex(ours.magic)).toBe(n.magic ?? n.derivedMagic);
      expect(ours.defaultPort).toBe(n.defaultPort);
    }
  });
  it('service bits and protocol versions', () => {
    for (const s of vectors.serviceBits) expect(SERVICE_BITS.find((b) => b.bit === s.bit)?.name).toBe(s.name);
    expect(PROTOCOL_VERSION).toBe(vectors.protocolVersions.PROTOCOL_VERSION);
    expect(WTXID_RELAY_VERSION).toBe(vectors.protocolVersions.WTXID_RELAY_VERSION);
    expect(MIN_PEER_PROTO_VERSION).toBe(vectors.protocolVersions.MIN_PEER_PROTO_VERSION);
    expect(describeServices(9n)).toBe('NODE_NETWORK | NODE_WITNESS');
    expect(describeServices(0n)).toBe('NONE');
    expect(describeServices(1n << 24n)).toBe('bit 24');
  });
  it('the empty-payload checksum', () => {
    expect(toHex(checksumOf(new Uint8Array(0)))).toBe(vectors.emptyPayloadChecksum);
  });
});

describe('bitcoin messages: the developer reference examples', () => {
  it('verack (mainnet) encodes byte for byte and decodes', () => {
    expect(toHex(encodeMessage(NETWORKS.main, { command: 'verack' }))).toBe(verack.message);
    const r = decodeMessage(fromHex(verack.message!), NETWORKS.main);
    expect(r.ok && r.value.message.command).toBe('verack');
  });

  it('version 70002 decodes to every annotated field', () => {
    const r = decodeMessage(fromHex(version.derivedMessage!), NETWORKS.main);
    if (!r.ok) throw r.error;
    const v = r.value.message as Version;
    const d = version.derivedDecoded!;
    expect(v.version).toBe(d.version);
    expect(v.services).toBe(BigInt(d.services));
    expect(v.timestamp).toBe(BigInt(d.timestamp));
    expect(v.addrRecv).toEqual({ services: BigInt(d.addrRecvServices), ip: d.addrRecvIp, port: d.addrRecvPort });
    expect(v.addrFrom).toEqual({ services: BigInt(d.addrTransServices), ip: d.addrTransIp, port: d.addrTransPort });
    expect(toHex(v.nonce!)).toBe(d.nonce);
    expect(v.userAgent).toBe(d.userAgent);
    expect(v.startHeight).toBe(d.startHeight);
    expect(v.relay).toBe(d.relay);
  });

  it('version 70002 re-encodes to the same bytes (header derived, checksum recomputed)', () => {
    const r = decodeMessage(fromHex(version.derivedMessage!), NETWORKS.main);
    if (!r.ok) throw r.error;
    expect(toHex(encodeMessage(NETWORKS.main, r.value.message))).toBe(version.derivedMessage);
  });

  it('the handshake messages with fixed payloads', () => {
    for (const m of vectors.derivedHandshakeMessages) {
      const msg: BtcMessage = m.command === 'sendcmpct' ? { command: 'sendcmpct', highBandwidth: false, version: 2n } : ({ command: m.command } as BtcMessage);
      expect(toHex(encodeMessage(NETWORKS.main, msg)), m.command).toBe(m.message);
    }
  });

  it('the dissection names every annotated field, with the values the reference gives', () => {
    const d = dissectBitcoin(fromHex(version.derivedMessage!), NETWORKS.main);
    expect(d.error).toBeUndefined();
    const payload = d.layers[1];
    const hexes = payload.fields.map((f) => toHex(payload.bytes.subarray(f.offset, f.offset + f.length)));
    expect(hexes).toEqual((version.fields as { hex: string }[]).map((f) => f.hex));
    expect(payload.fields.find((f) => f.name === 'user_agent')!.value).toBe('"/Satoshi:0.9.3/"');
    expect(payload.fields.find((f) => f.name === 'addr_recv IP address')!.value).toBe('198.27.100.9');
    expect(payload.fields.find((f) => f.name === 'addr_recv port')!.value).toBe('8333');
    expect(d.summary).toBe('version 70002 /Satoshi:0.9.3/ height 329167 services NODE_NETWORK');
  });
});

describe('bitcoin messages: every kind round-trips and every layer tiles its bytes', () => {
  const samples: BtcMessage[] = [
    { command: 'version', version: 70016, services: 1033n, timestamp: 1_700_000_000n, addrRecv: { services: 0n, ip: '2001:db8::1', port: 8333 }, addrFrom: { services: 0n, ip: '::', port: 0 }, nonce: fromHex('0102030405060708'), userAgent: '/Satoshi:27.0.0/', startHeight: 870000, relay: true },
    { command: 'verack' }, { command: 'wtxidrelay' }, { command: 'sendaddrv2' }, { command: 'sendheaders' }, { command: 'getaddr' },
    { command: 'ping', nonce: fromHex('1122334455667788') }, { command: 'pong', nonce: fromHex('1122334455667788') },
    { command: 'sendcmpct', highBandwidth: true, version: 2n }, { command: 'feefilter', feerate: 1000n },
    { command: 'sendtxrcncl', version: 1, salt: 0x0102030405060708n },
    { command: 'alert', payload: fromHex('010203'), signature: fromHex('3045') },
    { command: 'inv', unknown: true, payload: fromHex('01020000000000') },
  ];
  for (const m of samples) {
    it(m.command, () => {
      const raw = encodeMessage(NETWORKS.regtest, m);
      const r = decodeMessage(raw, NETWORKS.regtest);
      if (!r.ok) throw r.error;
      expect(r.value.message).toEqual(m);
      const d = dissectBitcoin(raw, NETWORKS.regtest);
      expect(d.error).toBeUndefined();
      for (const layer of d.layers) expect(coverageProblems(layer), layer.name).toEqual([]);
    });
  }
  it('an unknown command is shown as such, never an error', () => {
    const raw = encodeMessage(NETWORKS.main, { command: 'inv', unknown: true, payload: new Uint8Array(37) });
    expect(dissectBitcoin(raw).summary).toBe('unknown command "inv", 61 bytes');
    expect(summarizeBitcoin({ command: 'headers', unknown: true, payload: new Uint8Array(3) })).toBe('unknown command "headers", 3 bytes');
  });
  it('extra bytes after a known payload are kept and shown (nodes ignore them)', () => {
    const raw = header('verack', fromHex('00ff'));
    const d = dissectBitcoin(raw, NETWORKS.main);
    expect(d.error).toBeUndefined();
    expect(d.layers[1].fields.map((f) => f.name)).toEqual(['extra bytes']);
  });
  it('a version from before protocol 106 stops after addr_recv', () => {
    const w = encodeMessage(NETWORKS.main, { command: 'version', version: 100, services: 0n, timestamp: 0n, addrRecv: { services: 0n, ip: '1.2.3.4', port: 1 } });
    const r = decodeMessage(w, NETWORKS.main);
    expect(r.ok && (r.value.message as Version).nonce).toBeUndefined();
    expect(w.length).toBe(24 + 46);
  });
  it('network by magic', () => {
    expect(networkByMagic(fromHex('fabfb5da'))?.name).toBe('regtest');
    expect(networkByMagic(fromHex('00000000'))).toBeUndefined();
  });
});

describe('bitcoin messages: what a node refuses', () => {
  const ok = fromHex(verack.message!);
  const refuse = (raw: Uint8Array, field: string, re: RegExp) => {
    const r = decodeMessage(raw, NETWORKS.main);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.field).toBe(field);
    expect(r.error.message).toMatch(re);
    const d = dissectBitcoin(raw, NETWORKS.main);
    expect(d.error).toMatch(re);
    for (const layer of d.layers) expect(coverageProblems(layer)).toEqual([]);
  };
  it('another network\'s magic, named', () => refuse(header('verack', new Uint8Array(0), NETWORKS.testnet3.magic), 'magic', /not main's .*it is testnet3's/));
  it('a wrong checksum', () => refuse(header('ping', new Uint8Array(8), undefined, 8, fromHex('00000000')), 'checksum', /does not match/));
  it('a length over 4 MB, before any payload', () => refuse(header('block', new Uint8Array(0), undefined, 0xffffffff), 'length', /4294967295 bytes is over the 4000000-byte/));
  it('a command with bytes after its NUL padding', () => {
    const raw = ok.slice();
    raw[4 + 10] = 0x41;
    refuse(raw, 'command', /not allowed/);
  });
  it('a command with a control character', () => {
    const raw = ok.slice();
    raw[5] = 0x07;
    refuse(raw, 'command', /not allowed/);
  });
  it('an empty command', () => refuse(header('', new Uint8Array(0)), 'command', /empty/));
  it('a truncated version', () => {
    const full = fromHex(version.derivedMessage!);
    const payload = full.subarray(24, 24 + 50);
    refuse(header('version', payload), 'addr_trans services', /needs 8 bytes, 4 left/);
    const d = dissectBitcoin(header('version', payload), NETWORKS.main);
    expect(d.layers[1].fields.map((f) => f.name).slice(-2)).toEqual(['addr_recv port', 'unread']);
  });
  it('a user agent longer than 256 bytes', () => {
    const v = encodeMessage(NETWORKS.main, { command: 'version', version: 70016, services: 0n, timestamp: 0n, addrRecv: { services: 0n, ip: '::', port: 0 }, nonce: new Uint8Array(8), userAgent: 'x'.repeat(300), startHeight: 0 });
    refuse(v, 'user_agent bytes', /300 is over the limit of 256/);
  });
  it('a non-canonical compactSize', () => {
    const payload = fromHex('fd0300414243'); // 3 written in three bytes
    const raw = header('alert', new Uint8Array([...payload, 0]));
    refuse(raw, 'alert payload length', /written in 3 bytes/);
  });
  it('a payload longer or shorter than the header says', () => {
    expect(decodeMessage(new Uint8Array([...ok, 0]), NETWORKS.main).ok).toBe(false);
    expect(decodeMessage(header('ping', new Uint8Array(8)).subarray(0, 30), NETWORKS.main).ok).toBe(false);
  });
  it('the most a message may claim is the 4 MB limit', () => {
    expect(MAX_MESSAGE_LENGTH).toBe(4_000_000);
  });
});

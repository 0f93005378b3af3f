// discv5 on the engine contract: Discv5Protocol turns datagrams and commands into node calls and
// its output into datagram transmits and generic wire records; Discv5Driver runs it on the
// generic EngineDriver with request-ids from the injected randomness (a run replays byte for byte).
import { describe, expect, it } from 'vitest';
import { toHex } from '../shared/bytes.ts';
import { randomPrivateKey } from '../shared/crypto/secp256k1.ts';
import type { EngineOutput, WireRecord } from '../shared/engine.ts';
import { Discv5Driver } from '../shared/discv5/driver.ts';
import { contactFromEnr, type NodeContact, type PacketRecord } from '../shared/discv5/engine.ts';
import { Discv5Node, type NodeEvent } from '../shared/discv5/node.ts';
import { Discv5Protocol, PROTOCOL } from '../shared/discv5/protocol.ts';
import { createEnr } from '../shared/enr/index.ts';
import type { TraceRecord } from '../shared/trace.ts';
import { endpointKey, type DatagramSocket, type Endpoint } from '../shared/transport.ts';
import { prng } from './helpers/prng.ts';

function makeNode(seed: number, port: number): Discv5Node {
  const gen = prng(seed);
  const random = (n: number) => gen.bytes(n);
  const privateKey = randomPrivateKey(random);
  return new Discv5Node({ privateKey, enr: createEnr({ privateKey, ip: '127.0.0.1', udp: port }), random });
}

const packetsOf = (out: EngineOutput<NodeEvent>): PacketRecord[] => out.events.flatMap((e) => (e.type === 'packet' ? [e.packet] : []));

describe('Discv5Protocol', () => {
  it('maps a cold PING exchange to datagram transmits and one wire record per packet', () => {
    const a = new Discv5Protocol(makeNode(1, 30001));
    const b = new Discv5Protocol(makeNode(2, 30002));
    const at: Record<string, Discv5Protocol> = { '127.0.0.1:30001': a, '127.0.0.1:30002': b };
    const from: Record<string, Endpoint> = { '127.0.0.1:30001': { ip: '127.0.0.1', port: 30002 }, '127.0.0.1:30002': { ip: '127.0.0.1', port: 30001 } };
    const records: WireRecord[] = [];
    const packets: PacketRecord[] = [];
    const traces = new Map<Discv5Protocol, TraceRecord[]>([[a, []], [b, []]]);
    const take = (out: EngineOutput<NodeEvent>, by: Discv5Protocol) => {
      records.push(...out.records);
      packets.push(...packetsOf(out));
      traces.get(by)!.push(...out.trace);
      return out;
    };
    let queue = take(a.handle({ type: 'command', command: { type: 'ping', to: contactFromEnr(b.node.enr) as NodeContact } }, 10), a).transmits;
    for (let hops = 0; queue.length > 0 && hops < 10; hops++) {
      const next = [];
      for (const t of queue) {
        expect(t.type).toBe('datagram');
        if (t.type !== 'datagram') continue;
        const key = endpointKey(t.to);
        next.push(...take(at[key].handle({ type: 'datagram', from: from[key], bytes: t.bytes }, 20 + hops), at[key]).transmits);
      }
      queue = next;
    }
    expect(records.map((r) => `${r.direction} ${r.kind}`)).toEqual([
      'out random', 'in ordinary', 'out WHOAREYOU', 'in WHOAREYOU', 'out handshake', 'in handshake', 'out ordinary', 'in ordinary',
    ]);
    expect(records.every((r) => r.protocol === PROTOCOL)).toBe(true);
    // Each record is its packet's: same seq, same bytes, a summary naming what it carries.
    expect(records.map((r) => r.seq)).toEqual(packets.map((p) => p.seq));
    records.forEach((r, i) => expect(r.raw).toBe(packets[i].raw));
    expect(records[0].summary).toMatch(/^random packet · PING req=0x[0-9a-f]{16} enr-seq=1$/);
    expect(records[1].summary).toBe('message · unreadable: no session');
    expect(records[2].summary).toBe('WHOAREYOU · challenge');
    expect(records[3].summary).toMatch(/^WHOAREYOU · challenge id-nonce=0x[0-9a-f]{32} enr-seq=0$/);
    expect(records[7].summary).toMatch(/^message · PONG req=0x[0-9a-f]{16} enr-seq=1 you are 127\.0\.0\.1:30001$/);
    expect(records[0].peerId).toBe(toHex(b.node.localId));
    // The full packet record (plaintext, message key) stays in the node's 'packet' event.
    expect(packets[7].plaintext).toBeInstanceOf(Uint8Array);
    expect(packets[7].messageKey).toBeInstanceOf(Uint8Array);

    // Trace records name their handshake by its WHOAREYOU: the one A got, the one B sent.
    const idA = `${toHex(b.node.localId)}:${records[3].seq}`;
    const idB = `${toHex(a.node.localId)}:${records[2].seq}`;
    const steps = (t: TraceRecord[]) => t.map((r) => `${r.step}@${r.handshake ?? '-'}`);
    expect(steps(traces.get(a)!)).toEqual(['unmask', 'ephemeral-key', 'ecdh', 'hkdf', 'id-sign'].map((s) => `${s}@${idA}`).concat(['aes-gcm-open@-']));
    expect(steps(traces.get(b)!)).toEqual(['id-verify', 'ecdh', 'hkdf', 'aes-gcm-open'].map((s) => `${s}@${idB}`));
  });

  it('reports a datagram that is not a discv5 packet as a rejected record, and ignores stream input', () => {
    const a = new Discv5Protocol(makeNode(3, 30003));
    const out = a.handle({ type: 'datagram', from: { ip: '127.0.0.1', port: 9 }, bytes: new Uint8Array(20) }, 1);
    expect(out.transmits).toEqual([]);
    expect(out.records).toHaveLength(1);
    expect(out.records[0].kind).toBe('rejected');
    expect(out.records[0].rejected).toBeTruthy();
    expect(out.records[0].summary).toBe('undecodable packet, 20 bytes');
    const s = a.handle({ type: 'stream-data', conn: 'x', bytes: new Uint8Array(4) }, 2);
    expect(s).toEqual({ transmits: [], events: [], records: [], trace: [] });
  });
});

describe('Discv5Driver on the EngineDriver', () => {
  /** One request through a driver whose socket records what it sends; nothing answers. */
  async function sentBy(seed: number): Promise<{ sent: string[]; records: WireRecord[] }> {
    const sent: string[] = [];
    const socket: DatagramSocket = {
      local: { ip: '127.0.0.1', port: 30010 },
      send: (bytes) => void sent.push(toHex(bytes)),
      onMessage: () => {},
      onError: () => {},
      close: () => {},
    };
    const peer = makeNode(99, 30011);
    const driver = new Discv5Driver(makeNode(seed, 30010), socket, () => 1000);
    const records: WireRecord[] = [];
    driver.listen({ record: (r) => records.push(r) });
    const outcome = driver.ping(contactFromEnr(peer.enr) as NodeContact);
    void driver.findnode(contactFromEnr(peer.enr) as NodeContact, [256]);
    driver.close();
    expect(await outcome).toEqual({ ok: false, reason: 'closed' });
    return { sent, records };
  }

  it('takes request-ids from the injected randomness: the same seed sends the same bytes', async () => {
    const one = await sentBy(5);
    const two = await sentBy(5);
    const other = await sentBy(6);
    expect(one.sent).toHaveLength(1); // the FINDNODE waits behind the PING's handshake
    expect(two.sent).toEqual(one.sent);
    expect(other.sent).not.toEqual(one.sent);
    expect(one.records.map((r) => r.kind)).toEqual(['random']);
  });
});

// The room on the bridge: who may open /room in which role, what a participant's messages do
// to the teacher's view, the teacher's share reaching participants (late joiners too), peer
// bridges merging their rooms, untrusted frames refused, and the state file that keeps the links.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { startBridge, type BridgeServer } from '../bridge/server.ts';
import { loadRoomTokens } from '../bridge/room/state-file.ts';
import { CONNECTION_HEADROOM, WORKSHOP_MAX_SESSIONS, resolveOptions } from '../bridge/options.ts';
import { decodeParticipantMessage, decodePeerMessage, decodeServerMessage, decodeTeacherMessage, type RoomServerMessage, type RoomSnapshot } from '../shared/room/messages.ts';
import { prng } from './helpers/prng.ts';

const TEACHER = 'teacher-secret-0123456789abcdef';
const servers: BridgeServer[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function bridge(extra: Parameters<typeof startBridge>[0] = {}): Promise<BridgeServer> {
  const s = await startBridge({ port: 0, logLevel: 'silent', workshop: true, host: '127.0.0.1', lab: false, ...extra }, { room: { teacherToken: TEACHER } });
  servers.push(s);
  return s;
}

/** A room socket; `inbox` collects decoded server messages. */
function connect(s: BridgeServer, query: string, origin: string | null = s.origin): { ws: WebSocket; inbox: RoomServerMessage[]; opened: Promise<void>; closed: Promise<number> } {
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/room?${query}`, origin ? { origin } : {});
  sockets.push(ws);
  const inbox: RoomServerMessage[] = [];
  ws.on('message', (d) => {
    const m = decodeServerMessage(d.toString());
    if (m) inbox.push(m);
  });
  ws.on('error', () => {});
  return {
    ws,
    inbox,
    opened: new Promise((resolve, reject) => (ws.once('open', () => resolve()), ws.once('unexpected-response', (_q, r) => reject(new Error(String(r.statusCode)))))),
    closed: new Promise((resolve) => ws.once('close', (code) => resolve(code))),
  };
}

const until = async <T>(f: () => T | undefined, ms = 5000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};
const lastSnapshot = (inbox: RoomServerMessage[]): RoomSnapshot | undefined => inbox.filter((m): m is Extract<RoomServerMessage, { type: 'room' }> => m.type === 'room').at(-1)?.snapshot;

describe('/room: who may open it', () => {
  it('participants need the join token and the page’s Origin; teachers the secret and the Origin; peers the secret', async () => {
    const s = await bridge();
    await expect(connect(s, `role=participant&token=wrong-token-0123456789`).opened).rejects.toThrow('403');
    await expect(connect(s, `role=participant&token=${s.token}`, null).opened).rejects.toThrow('403');
    await expect(connect(s, `role=participant&token=${s.token}`, 'http://evil.example').opened).rejects.toThrow('403');
    await expect(connect(s, `role=teacher&token=${s.token}`).opened).rejects.toThrow('403'); // the join token is not the teacher's
    await expect(connect(s, `role=teacher&teacher=${TEACHER}`, null).opened).rejects.toThrow('403');
    await expect(connect(s, `role=admin&teacher=${TEACHER}`).opened).rejects.toThrow('403');
    await connect(s, `role=participant&token=${s.token}`).opened;
    await connect(s, `role=teacher&teacher=${TEACHER}`).opened;
    await connect(s, `role=peer&teacher=${TEACHER}`, null).opened;
    expect(s.teacherUrl).toBe(`${s.origin}/?token=${s.token}&teacher=${TEACHER}`);
  });

  it('in a room each page holds two connections (tunnel and room channel): the server holds that many', () => {
    expect(resolveOptions({ workshop: true }).maxConnections).toBe(2 * WORKSHOP_MAX_SESSIONS + CONNECTION_HEADROOM);
    expect(resolveOptions({ workshop: true, maxSessions: 50 }).maxConnections).toBe(2 * 50 + CONNECTION_HEADROOM);
    expect(resolveOptions({}).maxConnections).toBe(resolveOptions({}).maxSessions + CONNECTION_HEADROOM);
  });

  it('a bridge without a room refuses /room (404) and says so in /lab.json', async () => {
    const s = await startBridge({ port: 0, logLevel: 'silent', lab: false });
    servers.push(s);
    await expect(connect(s, `role=participant&token=${s.token}`).opened).rejects.toThrow('404');
    const r = await fetch(`http://127.0.0.1:${s.port}/lab.json?token=${s.token}`);
    expect(((await r.json()) as { room: boolean }).room).toBe(false);
  });
});

describe('the room', () => {
  it('the teacher sees each participant (name or anonymous label) and their progress; totals add up', async () => {
    const s = await bridge();
    const t = connect(s, `role=teacher&teacher=${TEACHER}`);
    await t.opened;
    const ada = connect(s, `role=participant&token=${s.token}`);
    const anon = connect(s, `role=participant&token=${s.token}`);
    await Promise.all([ada.opened, anon.opened]);
    ada.ws.send(JSON.stringify({ type: 'hello', id: 'ada-0123456789', name: '  Ada\u0000 Lovelace ' }));
    anon.ws.send(JSON.stringify({ type: 'hello', id: 'x7Yq-0123456789', name: '' }));
    const lesson = { lessonId: 'discv5-handshake', stepIndex: 2, stepCount: 5, completed: false };
    ada.ws.send(JSON.stringify({ type: 'progress', progress: { lesson, handshakes: { discv5: { completed: 2, failed: 1, reasons: { 'PING: no answer (timeout)': 1 } } } } }));
    anon.ws.send(JSON.stringify({ type: 'progress', progress: { handshakes: { discv5: { completed: 1, failed: 1, reasons: { 'PING: no answer (timeout)': 1 } }, bitcoin: { completed: 1, failed: 0, reasons: {} } } } }));
    const snap = await until(() => {
      const x = lastSnapshot(t.inbox);
      return x?.participants.length === 2 && x.totals.bitcoin ? x : undefined;
    });
    expect(snap.participants.map((p) => p.name)).toEqual(['Ada Lovelace', 'guest-x7Yq']);
    expect(snap.participants[0].progress.lesson).toEqual(lesson);
    expect(snap.totals).toEqual({ discv5: { completed: 3, failed: 2, reasons: { 'PING: no answer (timeout)': 2 } }, bitcoin: { completed: 1, failed: 0, reasons: {} } });
    expect(ada.inbox[0]).toEqual({ type: 'welcome', label: 'guest-ada-', bridge: `127.0.0.1:${s.port}` });
    // A participant that leaves leaves the list.
    anon.ws.close();
    await until(() => lastSnapshot(t.inbox)?.participants.length === 1);
  });

  it('a frame that is not a room message closes the participant (1003); oversize frames never parse', async () => {
    const s = await bridge();
    for (const bad of ['{"type":"hello","id":"short"}', '[1,2]', 'not json', JSON.stringify({ type: 'progress', progress: { handshakes: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${i}`, { completed: 0, failed: 0, reasons: {} }])) } })]) {
      const p = connect(s, `role=participant&token=${s.token}`);
      await p.opened;
      p.ws.send(bad);
      expect(await p.closed).toBe(1003);
    }
    const big = connect(s, `role=participant&token=${s.token}`);
    await big.opened;
    big.ws.send(JSON.stringify({ type: 'name', name: 'x'.repeat(20_000) }));
    expect(await big.closed).toBe(1009); // over the participant frame limit
  });

  it('the share reaches participants, late joiners included; pointers follow; unshare ends it', async () => {
    const s = await bridge();
    const t = connect(s, `role=teacher&teacher=${TEACHER}`);
    const early = connect(s, `role=participant&token=${s.token}`);
    await Promise.all([t.opened, early.opened]);
    t.ws.send(JSON.stringify({ type: 'share', source: { kind: 'replay' }, pointer: { seq: 1, step: 1 } }));
    await until(() => early.inbox.find((m) => m.type === 'share'));
    const late = connect(s, `role=participant&token=${s.token}`);
    await late.opened;
    expect(await until(() => late.inbox.find((m) => m.type === 'share'))).toEqual({ type: 'share', source: { kind: 'replay' }, pointer: { seq: 1, step: 1 } });
    t.ws.send(JSON.stringify({ type: 'pointer', pointer: { seq: 3, layer: 'header', field: [2, 0], step: 3 } }));
    for (const p of [early, late]) expect(await until(() => p.inbox.find((m) => m.type === 'pointer'))).toEqual({ type: 'pointer', pointer: { seq: 3, layer: 'header', field: [2, 0], step: 3 } });
    // A participant cannot share: its frames are participant messages only.
    early.ws.send(JSON.stringify({ type: 'share', source: { kind: 'replay' }, pointer: {} }));
    expect(await early.closed).toBe(1003);
    t.ws.send(JSON.stringify({ type: 'unshare' }));
    await until(() => late.inbox.find((m) => m.type === 'unshare'));
    expect(lastSnapshot(t.inbox)?.sharing ?? false).toBe(false);
  });

  it('two bridges linked by --room-peer: one teacher sees both rooms and shares with both', async () => {
    const a = await bridge();
    const b = await bridge({ roomPeers: [`ws://127.0.0.1:${a.port}`] });
    const pa = connect(a, `role=participant&token=${a.token}`);
    const pb = connect(b, `role=participant&token=${b.token}`);
    await Promise.all([pa.opened, pb.opened]);
    pa.ws.send(JSON.stringify({ type: 'hello', id: 'on-a-0123456789', name: 'on a' }));
    pb.ws.send(JSON.stringify({ type: 'hello', id: 'on-b-0123456789', name: 'on b' }));
    for (const [s, other] of [[a, b], [b, a]] as const) {
      const t = connect(s, `role=teacher&teacher=${TEACHER}`);
      await t.opened;
      const snap = await until(() => {
        const x = lastSnapshot(t.inbox);
        return x?.participants.length === 2 ? x : undefined;
      });
      expect(snap.participants.map((p) => [p.name, p.bridge])).toEqual([
        ['on a', `127.0.0.1:${a.port}`],
        ['on b', `127.0.0.1:${b.port}`],
      ]);
      expect(other.port).not.toBe(s.port);
      t.ws.close();
    }
    const t = connect(a, `role=teacher&teacher=${TEACHER}`);
    await t.opened;
    t.ws.send(JSON.stringify({ type: 'share', source: { kind: 'replay' }, pointer: { seq: 2 } }));
    expect(await until(() => pb.inbox.find((m) => m.type === 'share'))).toEqual({ type: 'share', source: { kind: 'replay' }, pointer: { seq: 2 } });
  });
});

describe('room messages from untrusted peers', () => {
  it('decoders return undefined (never throw) for random and mutated input', () => {
    const rng = prng(14);
    const valid = [
      '{"type":"hello","id":"abcdefgh1234","name":"x"}',
      '{"type":"progress","progress":{"handshakes":{"discv5":{"completed":1,"failed":0,"reasons":{}}}}}',
      '{"type":"share","source":{"kind":"session","id":"abcdefgh1234","json":"{}"},"pointer":{"seq":1,"field":[0]}}',
      '{"type":"participants","rows":[{"id":"abcdefgh1234","name":"n","bridge":"b","following":true,"progress":{"handshakes":{}}}]}',
    ];
    for (let i = 0; i < 3000; i++) {
      const base = valid[rng.int(valid.length)];
      const chars = [...base];
      for (let k = 1 + rng.int(4); k > 0; k--) chars[rng.int(chars.length)] = String.fromCharCode(32 + rng.int(95));
      const input = rng.int(5) === 0 ? String.fromCharCode(...Array.from({ length: rng.int(64) }, () => rng.int(256))) : chars.join('');
      for (const decode of [decodeParticipantMessage, decodeTeacherMessage, decodePeerMessage, decodeServerMessage]) expect(() => decode(input)).not.toThrow();
    }
    expect(decodeParticipantMessage('{"type":"progress","progress":{"handshakes":{"discv5":{"completed":-1,"failed":0,"reasons":{}}}}}')).toBeUndefined();
    expect(decodeTeacherMessage('{"type":"share","source":{"kind":"session","id":"../../x","json":"{}"},"pointer":{}}')).toBeUndefined();
    expect(decodeParticipantMessage('{"type":"name","name":"a\\u202eb\\u0007c"}')).toEqual({ type: 'name', name: 'abc' });
  });
});

describe('room state file', () => {
  it('creates the tokens (owner-only), keeps them across restarts, --new-room replaces them, --token sets the join token', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hl-state-'));
    try {
      const file = path.join(dir, 'sub', 'room.json');
      const first = await loadRoomTokens(file);
      expect(first.created).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.tokens.join).not.toBe(first.tokens.teacher);
      const again = await loadRoomTokens(file);
      expect(again).toEqual({ tokens: first.tokens, created: false });
      const fresh = await loadRoomTokens(file, { fresh: true });
      expect(fresh.tokens.join).not.toBe(first.tokens.join);
      expect(fresh.tokens.teacher).not.toBe(first.tokens.teacher);
      const dev = await loadRoomTokens(file, { join: 'my-dev-token-0123456789' });
      expect(dev.tokens).toEqual({ join: 'my-dev-token-0123456789', teacher: fresh.tokens.teacher });
      expect(JSON.parse(readFileSync(file, 'utf8')).join).toBe('my-dev-token-0123456789');
      // Two bridges starting at once on a new file end with the same room.
      const both = path.join(dir, 'both.json');
      const [x, y] = await Promise.all([loadRoomTokens(both), loadRoomTokens(both)]);
      expect(x.tokens).toEqual(y.tokens);
      writeFileSync(path.join(dir, 'other.json'), '{"something":"else"}');
      await expect(loadRoomTokens(path.join(dir, 'other.json'))).rejects.toThrow(/not a room state file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Links from this bridge to the other bridges of the same room (--room-peer): each link is a
// room socket in the 'peer' role, redialled while the other bridge is away, so a teacher on any
// bridge sees the whole room and shares the view with all of it.
import { WebSocket } from 'ws';
import { LIMITS } from '../../shared/room/messages.ts';
import type { RoomHub } from './hub.ts';
import type { Logger } from '../log.ts';

const RETRY_MS = [500, 1000, 2000, 5000];

/** ws(s)://host:port of another bridge → its room URL for a peer holding the teacher secret. */
export function peerRoomUrl(base: string, teacherToken: string): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`--room-peer ${base}: expected ws://, wss://, http:// or https://`);
  u.pathname = '/room';
  u.search = '';
  u.searchParams.set('role', 'peer');
  u.searchParams.set('teacher', teacherToken);
  return u.toString();
}

export function linkPeers(hub: RoomHub, urls: string[], teacherToken: string, log: Logger): { close(): void } {
  let closed = false;
  const open = new Set<WebSocket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const dial = (base: string, attempt: number) => {
    if (closed) return;
    const ws = new WebSocket(peerRoomUrl(base, teacherToken), { maxPayload: LIMITS.teacherFrame, perMessageDeflate: false });
    open.add(ws);
    let opened = false;
    ws.on('error', () => {});
    ws.once('open', () => {
      opened = true;
      log.info('room-peer-open', { peer: new URL(base).host });
      hub.attach(ws, 'peer');
    });
    ws.once('close', () => {
      open.delete(ws);
      if (closed) return;
      const next = opened ? 0 : attempt + 1;
      const t = setTimeout(() => (timers.delete(t), dial(base, next)), RETRY_MS[Math.min(next, RETRY_MS.length - 1)]);
      timers.add(t);
    });
  };
  for (const u of urls) dial(u, 0);
  return {
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      for (const ws of open) ws.terminate();
    },
  };
}

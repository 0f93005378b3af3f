// The page joins a workshop room only when the bridge runs one: the room's code loads then, so a
// page on a plain `npm start` never fetches it.
import type { Playground } from '../state/playground.svelte.ts';
import type { PageRoom } from './room.svelte.ts';

/** The page's room, once joined (the App shows the room bar and follows the teacher through it). */
export const roomSlot = $state<{ current: PageRoom | undefined }>({ current: undefined });

export async function joinRoomIfAny(pg: Playground, o: Parameters<PageRoom['join']>[0]): Promise<void> {
  const r = await fetch(`/lab.json?token=${encodeURIComponent(o.token)}`, { cache: 'no-store' }).catch(() => undefined);
  const body = r?.ok ? ((await r.json().catch(() => ({}))) as { room?: boolean }) : {};
  if (!body.room) return;
  const { PageRoom } = await import('./room.svelte.ts');
  const room = new PageRoom(pg);
  room.join(o);
  roomSlot.current = room;
}

// The page's room channel: one WebSocket to /room, reopened on its own while the bridge is away
// (a restarted bridge keeps the room's links, so the same URL works again).
import { decodeServerMessage, type RoomServerMessage } from '../../shared/room/messages.ts';

const RETRY_MS = [500, 1000, 2000, 4000];

export type RoomLink = 'connecting' | 'open' | 'closed';

export class RoomSocket {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly query: string,
    private readonly on: { open(send: (m: object) => void): void; message(m: RoomServerMessage): void; link(state: RoomLink): void },
  ) {
    this.connect();
  }

  send(m: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(m));
  }

  private connect(): void {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/room?${this.query}`);
    this.ws = ws;
    this.on.link('connecting');
    ws.onopen = () => {
      this.attempt = 0;
      this.on.link('open');
      this.on.open((m) => this.send(m));
    };
    ws.onmessage = (ev) => {
      const m = typeof ev.data === 'string' ? decodeServerMessage(ev.data) : undefined;
      if (m) this.on.message(m);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.on.link('closed');
      const delay = RETRY_MS[Math.min(this.attempt++, RETRY_MS.length - 1)];
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}

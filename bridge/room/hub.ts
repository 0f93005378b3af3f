// The room on one bridge: participants' pages (a name and their progress), teachers' pages
// (the room's snapshot, the shared view they point at) and peer bridges behind the same proxy
// (each side sends its own participants and relays the teacher's share). Progress only: the
// hub never sees a key or a packet.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  LIMITS,
  addTally,
  decodeParticipantMessage,
  decodePeerMessage,
  decodeTeacherMessage,
  type HandshakeTally,
  type ParticipantRow,
  type Pointer,
  type RoomServerMessage,
  type RoomSnapshot,
  type SharedSource,
  type TeacherMessage,
} from '../../shared/room/messages.ts';
import type { Logger } from '../log.ts';

export type RoomRole = 'participant' | 'teacher' | 'peer';

export interface RoomHubOptions {
  /** This bridge's name on the teacher's screen (host:port). */
  bridge: string;
  /** The teacher link's secret (also what peer bridges present). */
  teacherToken: string;
  /** Room sockets at once (participants, teachers, peers). */
  maxClients: number;
  log: Logger;
  /** How often a changed room is pushed to teachers and peers. */
  pushMs?: number;
}

interface Participant {
  id?: string;
  name: string;
  following: boolean;
  progress: ParticipantRow['progress'];
}

/** A stable anonymous label from the page's id: the same after a reconnect, on any bridge. */
export const anonymousLabel = (id: string) => `guest-${id.slice(0, 4)}`;

export class RoomHub {
  private readonly participants = new Map<WebSocket, Participant>();
  private readonly teachers = new Set<WebSocket>();
  /** Peer bridges, either direction: their participants by socket. */
  private readonly peers = new Map<WebSocket, ParticipantRow[]>();
  private share: { source: SharedSource; pointer: Pointer } | undefined;
  private readonly small = new WebSocketServer({ noServer: true, maxPayload: LIMITS.participantFrame, perMessageDeflate: false, clientTracking: false });
  private readonly large = new WebSocketServer({ noServer: true, maxPayload: LIMITS.teacherFrame, perMessageDeflate: false, clientTracking: false });
  private dirty = false;
  /** Teachers see peers' changes at the next push; peers never get them back (no loops). */
  private dirtyTeachersOnly = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(readonly options: RoomHubOptions) {
    this.timer = setInterval(() => this.push(), options.pushMs ?? 500);
    this.timer.unref?.();
  }

  get clients(): number {
    return this.participants.size + this.teachers.size + this.peers.size;
  }

  /** An upgrade the bridge already authorised for `role`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, role: RoomRole): void {
    if (this.clients >= this.options.maxClients) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return void socket.destroy();
    }
    const wss = role === 'participant' ? this.small : this.large;
    wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, role));
  }

  /** A socket already open in `role` (also the links this bridge dials to its peers). */
  attach(ws: WebSocket, role: RoomRole): void {
    ws.on('error', () => {});
    if (role === 'participant') {
      const p: Participant = { name: '', following: false, progress: { handshakes: {} } };
      this.participants.set(ws, p);
      ws.on('message', (data, isBinary) => this.fromParticipant(ws, p, isBinary ? undefined : data.toString()));
      ws.once('close', () => this.participants.delete(ws) && this.touch());
      if (this.share) this.sendTo(ws, { type: 'share', ...this.share });
    } else if (role === 'teacher') {
      this.teachers.add(ws);
      ws.on('message', (data, isBinary) => {
        const m = isBinary ? undefined : decodeTeacherMessage(data.toString());
        if (m) this.teach(m, true);
      });
      ws.once('close', () => this.teachers.delete(ws));
      this.sendTo(ws, { type: 'room', snapshot: this.snapshot() });
      if (this.share) this.sendTo(ws, { type: 'share', ...this.share });
    } else {
      this.peers.set(ws, []);
      ws.on('message', (data, isBinary) => {
        const m = isBinary ? undefined : decodePeerMessage(data.toString());
        if (!m) return;
        if (m.type === 'participants') {
          if (this.peers.has(ws)) this.peers.set(ws, m.rows);
          this.dirtyTeachersOnly = true;
        } else this.teach(m, false);
      });
      ws.once('close', () => this.peers.delete(ws) && (this.dirtyTeachersOnly = true));
      this.sendPeer(ws);
    }
  }

  private fromParticipant(ws: WebSocket, p: Participant, raw: string | undefined): void {
    const m = raw === undefined ? undefined : decodeParticipantMessage(raw);
    if (!m) return void ws.close(1003, 'not a room message');
    switch (m.type) {
      case 'hello':
        if (p.id !== undefined) return;
        p.id = m.id;
        p.name = m.name;
        this.sendTo(ws, { type: 'welcome', label: anonymousLabel(m.id), bridge: this.options.bridge });
        break;
      case 'name':
        p.name = m.name;
        break;
      case 'progress':
        p.progress = m.progress;
        break;
      case 'following':
        p.following = m.on;
        break;
    }
    this.touch();
  }

  /** The teacher's share: kept for late joiners, sent to this bridge's participants and (from a local teacher) to peers. */
  private teach(m: TeacherMessage, local: boolean): void {
    if (m.type === 'unshare') this.share = undefined;
    else if (m.type === 'share') this.share = { source: m.source, pointer: m.pointer };
    else if (this.share) this.share = { ...this.share, pointer: m.pointer };
    else return; // a pointer with nothing shared
    const out: RoomServerMessage = m;
    const text = JSON.stringify(out);
    for (const ws of this.participants.keys()) if (ws.readyState === ws.OPEN) ws.send(text);
    for (const ws of this.teachers) if (ws.readyState === ws.OPEN) ws.send(text);
    if (local) for (const ws of this.peers.keys()) if (ws.readyState === ws.OPEN) ws.send(text);
    this.touch();
  }

  /** This bridge's participants that said hello. */
  localRows(): ParticipantRow[] {
    const rows: ParticipantRow[] = [];
    for (const p of this.participants.values())
      if (p.id !== undefined) rows.push({ id: p.id, name: p.name || anonymousLabel(p.id), bridge: this.options.bridge, following: p.following, progress: p.progress });
    return rows;
  }

  /** Everyone in the room, this bridge's and its peers' (one row per page id), with totals. */
  snapshot(): RoomSnapshot {
    const byId = new Map<string, ParticipantRow>();
    for (const rows of this.peers.values()) for (const r of rows) byId.set(r.id, r);
    for (const r of this.localRows()) byId.set(r.id, r);
    const participants = [...byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    const totals: Record<string, HandshakeTally> = {};
    for (const r of participants) addTally(totals, r.progress.handshakes);
    return { participants, totals, sharing: this.share !== undefined };
  }

  private touch(): void {
    this.dirty = true;
  }

  private push(): void {
    if (this.dirty) for (const ws of this.peers.keys()) this.sendPeer(ws);
    if ((this.dirty || this.dirtyTeachersOnly) && this.teachers.size > 0) {
      const text = JSON.stringify({ type: 'room', snapshot: this.snapshot() } satisfies RoomServerMessage);
      for (const ws of this.teachers) if (ws.readyState === ws.OPEN) ws.send(text);
    }
    this.dirty = this.dirtyTeachersOnly = false;
  }

  private sendPeer(ws: WebSocket): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'participants', rows: this.localRows() }));
  }

  private sendTo(ws: WebSocket, m: RoomServerMessage): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  }

  close(): void {
    clearInterval(this.timer);
    for (const ws of [...this.participants.keys(), ...this.teachers, ...this.peers.keys()]) ws.close(1001, 'bridge shutting down');
    this.small.close();
    this.large.close();
  }
}

// The page's side of a workshop room. A participant's page says hello (its id, the name typed),
// sends its progress as it changes, and, when it chose to follow, shows what the teacher points
// at in the shared view. The teacher's page (the link with the teacher's secret) sees the room
// and shares the Replay or a session file it loaded, then its packet, field and step.
import { untrack } from 'svelte';
import type { Playground } from '../state/playground.svelte.ts';
import type { Pointer, RoomSnapshot, SharedSource } from '../../shared/room/messages.ts';
import { cleanName } from '../../shared/room/messages.ts';
import { RoomSocket, type RoomLink } from './socket.ts';
import { HandshakeCounter, progressOf, type ProgressSource } from './progress.svelte.ts';

export interface FieldFocus {
  layer: string;
  path: number[];
}

type Shared = { source: SharedSource; pointer: Pointer };
type StorageLike = Pick<Storage, 'getItem' | 'setItem'>;

const PROGRESS_MS = 1000;
const POINTER_MS = 100;

const viewOfSource = (s: SharedSource) => (s.kind === 'replay' ? 'replay' : 'imported');

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class ParticipantRoom {
  link = $state<RoomLink>('connecting');
  label = $state('');
  bridge = $state('');
  name = $state('');
  following = $state(false);
  shared = $state.raw<Shared | undefined>();
  readonly id: string;
  private readonly socket: RoomSocket;
  private progressTimer: ReturnType<typeof setTimeout> | undefined;
  private importedId: string | undefined;

  constructor(
    private readonly pg: Playground,
    private readonly progress: ProgressSource,
    token: string,
    private readonly storage: { session?: StorageLike; local?: StorageLike },
  ) {
    // One id per tab, kept over reloads: a page that reconnects is the same row for the teacher.
    this.id = storage.session?.getItem('hl-room-id') ?? randomId();
    storage.session?.setItem('hl-room-id', this.id);
    this.name = storage.local?.getItem('hl-room-name') ?? '';
    this.socket = new RoomSocket(`role=participant&token=${encodeURIComponent(token)}`, {
      open: (send) => {
        send({ type: 'hello', id: this.id, name: this.name });
        send({ type: 'following', on: this.following });
        send({ type: 'progress', progress: untrack(() => progressOf(this.progress)) });
      },
      message: (m) => {
        if (m.type === 'welcome') (this.label = m.label), (this.bridge = m.bridge);
        else if (m.type === 'share') this.shared = { source: m.source, pointer: m.pointer };
        else if (m.type === 'pointer') this.shared = this.shared && { ...this.shared, pointer: m.pointer };
        else if (m.type === 'unshare') this.shared = undefined;
      },
      link: (l) => (this.link = l),
    });
    $effect.root(() => {
      // Progress goes out as it changes, at most once a second.
      $effect(() => {
        progressOf(this.progress);
        untrack(() => this.queueProgress());
      });
      // Following: the shared view, then the teacher's packet once that view has it.
      $effect(() => {
        const s = this.shared;
        if (!s || !this.following) return;
        untrack(() => this.showSource(s.source));
      });
      $effect(() => {
        const s = this.shared;
        if (!s || !this.following || s.pointer.seq === undefined) return;
        const seq = s.pointer.seq;
        if (this.pg.view === viewOfSource(s.source) && this.pg.current.packets.some((p) => p.seq === seq) && untrack(() => this.pg.selectedSeq) !== seq) untrack(() => this.pg.select(seq));
      });
    });
  }

  /** The teacher's field, for the packet inspector of a following page. */
  get focus(): FieldFocus | undefined {
    const p = this.following ? this.shared?.pointer : undefined;
    return p?.layer !== undefined && p.field ? { layer: p.layer, path: p.field } : undefined;
  }

  setName(text: string): void {
    this.name = cleanName(text);
    this.storage.local?.setItem('hl-room-name', this.name);
    this.socket.send({ type: 'name', name: this.name });
  }

  setFollowing(on: boolean): void {
    this.following = on;
    this.socket.send({ type: 'following', on });
  }

  private showSource(source: SharedSource): void {
    if (source.kind === 'replay') {
      if (this.pg.view !== 'replay') this.pg.runReplay();
    } else if (this.importedId !== source.id) {
      this.importedId = source.id;
      this.pg.importJson(source.json);
    } else if (this.pg.view !== 'imported') this.pg.setView('imported');
  }

  private queueProgress(): void {
    if (this.progressTimer) return;
    this.progressTimer = setTimeout(() => {
      this.progressTimer = undefined;
      this.socket.send({ type: 'progress', progress: untrack(() => progressOf(this.progress)) });
    }, PROGRESS_MS);
  }
}

export class TeacherRoom {
  link = $state<RoomLink>('connecting');
  snapshot = $state.raw<RoomSnapshot | undefined>();
  sharing = $state.raw<SharedSource | undefined>();
  /** The field the teacher selected in the packet inspector. */
  field = $state.raw<FieldFocus | undefined>();
  shareError = $state<string | undefined>();
  private readonly socket: RoomSocket;
  private pointerTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly pg: Playground,
    teacherToken: string,
  ) {
    this.socket = new RoomSocket(`role=teacher&teacher=${encodeURIComponent(teacherToken)}`, {
      // A restarted bridge forgot what was shared: the teacher's page tells it again.
      open: (send) => {
        const s = untrack(() => this.sharing);
        if (s) send({ type: 'share', source: s, pointer: untrack(() => this.pointer()) });
      },
      message: (m) => {
        if (m.type === 'room') this.snapshot = m.snapshot;
        else if (m.type === 'share') this.sharing = m.source;
        else if (m.type === 'unshare') this.sharing = undefined;
      },
      link: (l) => (this.link = l),
    });
    $effect.root(() => {
      $effect(() => {
        const s = this.sharing;
        if (!s) return;
        const p = this.pointer();
        if (this.pg.view !== viewOfSource(s)) return;
        untrack(() => this.queuePointer(p));
      });
    });
  }

  /** What the teacher points at: the selected packet, its step in the view, the selected field. */
  private pointer(): Pointer {
    const seq = this.pg.selectedSeq;
    const at = seq === undefined ? -1 : this.pg.current.packets.findIndex((p) => p.seq === seq);
    const f = this.field;
    return { ...(seq !== undefined ? { seq } : {}), ...(at >= 0 ? { step: at + 1 } : {}), ...(f ? { layer: f.layer, field: f.path } : {}) };
  }

  shareReplay(): void {
    this.pg.runReplay();
    this.share({ kind: 'replay' });
  }

  /** Loads a session file into the teacher's page and shares it with the room. */
  shareSession(json: string): void {
    this.pg.importJson(json);
    if (this.pg.importError) return void (this.shareError = this.pg.importError);
    this.shareError = undefined;
    this.share({ kind: 'session', id: randomId(), json });
  }

  stop(): void {
    this.sharing = undefined;
    this.socket.send({ type: 'unshare' });
  }

  private share(source: SharedSource): void {
    this.sharing = source;
    this.socket.send({ type: 'share', source, pointer: untrack(() => this.pointer()) });
  }

  private queuePointer(p: Pointer): void {
    clearTimeout(this.pointerTimer);
    this.pointerTimer = setTimeout(() => this.socket.send({ type: 'pointer', pointer: p }), POINTER_MS);
  }
}

/** The room on this page, if the bridge runs one: a participant, or the teacher (teacher link). */
export class PageRoom {
  participant = $state.raw<ParticipantRoom | undefined>();
  teacher = $state.raw<TeacherRoom | undefined>();
  readonly handshakes = new HandshakeCounter();

  constructor(private readonly pg: Playground) {
    pg.observe(this.handshakes.observe);
  }

  /** Joins the room this bridge runs (web/room/join.svelte.ts asked /lab.json first). `lesson`: the lessons module's progress. */
  join(o: { token: string; teacher?: string; lesson?: ProgressSource['lesson']; session?: StorageLike; local?: StorageLike }): void {
    if (o.teacher) this.teacher = new TeacherRoom(this.pg, o.teacher);
    else this.participant = new ParticipantRoom(this.pg, { handshakes: () => this.handshakes.tallies, ...(o.lesson ? { lesson: o.lesson } : {}) }, o.token, o);
  }
}

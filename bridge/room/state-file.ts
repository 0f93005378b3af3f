// The room's tokens on disk, so a restarted bridge keeps the join link the room already has
// (and the teacher's link). Several bridges behind one proxy share the file. Written once,
// readable by its owner only.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RoomTokens {
  /** The join link's token (the bridge's tunnel token). */
  join: string;
  /** The teacher link's secret. */
  teacher: string;
}

export const defaultRoomStateFile = () => path.join(os.homedir(), '.handshake-lab', 'room.json');

const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;
const newToken = () => randomBytes(24).toString('base64url');

/**
 * The room's tokens from `file`, or new ones written there when it is missing or `fresh` is set.
 * `join` (from --token) replaces the join token and is saved. Throws a one-line message when the
 * file exists but is not a room state file (never overwritten by surprise).
 */
export async function loadRoomTokens(file: string, options: { fresh?: boolean; join?: string } = {}): Promise<{ tokens: RoomTokens; created: boolean }> {
  if (!options.fresh) {
    const raw = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw new Error(`cannot read the room state ${file}: ${e.code ?? e.message}`);
    });
    if (raw !== undefined) {
      let v: Partial<RoomTokens> | undefined;
      try {
        v = JSON.parse(raw) as Partial<RoomTokens>;
      } catch {
        v = undefined;
      }
      if (!v || typeof v.join !== 'string' || !TOKEN.test(v.join) || typeof v.teacher !== 'string' || !TOKEN.test(v.teacher))
        throw new Error(`${file} is not a room state file: pass --new-room to start a fresh room there, or --room-state FILE`);
      if (options.join === undefined || options.join === v.join) return { tokens: { join: v.join, teacher: v.teacher }, created: false };
      return { tokens: await save(file, { join: options.join, teacher: v.teacher }), created: false };
    }
  }
  const tokens = { join: options.join ?? newToken(), teacher: newToken() };
  if (options.fresh) return { tokens: await save(file, tokens), created: true };
  // A new room: created exclusively, so of two bridges starting together one writes and the other reads.
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    await fs.writeFile(file, body(tokens), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    await new Promise((r) => setTimeout(r, 50)); // the other writer's few bytes
    return loadRoomTokens(file, { join: options.join });
  }
  return { tokens, created: true };
}

const body = (tokens: RoomTokens) => `${JSON.stringify({ ...tokens, note: 'Handshake Lab room: the join and teacher links\u2019 tokens' }, null, 2)}\n`;

async function save(file: string, tokens: RoomTokens): Promise<RoomTokens> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, body(tokens), { mode: 0o600 });
  await fs.rename(tmp, file); // whole or not at all
  return tokens;
}

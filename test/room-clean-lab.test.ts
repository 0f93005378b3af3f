// A clean lab: 30 participants handshake with the lab (its nodes put them in their tables and
// hand them out in NODES answers), then leave. A fresh participant's lookup must not chase them:
// ≤ 2 s, no timeouts, none of them among the results. Runs `npm start` (bridge/start.ts) as a
// room does, so the wiring from the bridge's closed sockets to the lab is the real one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toHex } from '../shared/bytes.ts';
import { startApp, type RunningApp } from './e2e/harness.ts';
import { Participant } from './helpers/participant.ts';

const PAGES = 30;

describe('clean lab: departed participants are forgotten', () => {
  let app: RunningApp;
  let dir: string;
  // Every participant here comes from 127.0.0.1: the per-address caps are raised for that.
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hl-room-'));
    app = await startApp(['--build', 'never', '--workshop', '--host', '127.0.0.1', '--room-state', path.join(dir, 'room.json'), '--bitcoin-lab-size', '0', '--max-sessions-per-client', '64', '--max-http-per-client', '64']);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`after ${PAGES} pages used the lab and closed, a fresh lookup takes ≤ 2 s with no timeouts`, async () => {
    const pages: Participant[] = [];
    for (let i = 0; i < PAGES; i++) pages.push(await Participant.join({ origin: app.origin, token: app.token, room: false }));
    // Each page handshakes with three lab nodes: they now hold it as a verified, connected entry.
    for (const [i, p] of pages.entries())
      for (let k = 0; k < 3; k++) expect((await p.discv5Handshake(i + k * 5)).ok).toBe(true);
    const departed = new Set(pages.map((p) => p.nodeId()));

    // While they are here the lab hands them out: the scenario is real.
    const probe = await Participant.join({ origin: app.origin, token: app.token, room: false });
    const seen = await probe.lookup();
    expect(seen.closest.some((e) => departed.has(toHex(e.nodeId)))).toBe(true);
    probe.close();

    for (const p of pages) p.close();
    await new Promise((r) => setTimeout(r, 300)); // the bridge sees the sessions close

    const fresh = await Participant.join({ origin: app.origin, token: app.token, room: false });
    try {
      const r = await fresh.lookup();
      expect(r.timeouts).toBe(0);
      expect(r.ms).toBeLessThanOrEqual(2000);
      expect(r.closest.filter((e) => departed.has(toHex(e.nodeId)))).toEqual([]);
      expect(r.closest.length).toBeGreaterThan(0);
    } finally {
      fresh.close();
    }
  }, 120_000);
});

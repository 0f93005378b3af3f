// Workshop mode end to end: `npm start -- --workshop` (on loopback), two participants' pages and
// the teacher's page in headless Chromium. The teacher sees both with their progress; sharing
// the Replay and pointing at a packet and a field moves the followers' selection; a restarted
// bridge prints the same join link and every page comes back on its own.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, startApp, type RunningApp } from './harness.ts';

let app: RunningApp;
let browser: Browser;
let dir: string;
let port: number;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

const start = () =>
  startApp(['--workshop', '--host', '127.0.0.1', '--port', String(port), '--room-state', path.join(dir, 'room.json'), '--bitcoin-lab-size', '0', '--max-sessions-per-client', '16']);

const teacherUrlOf = (a: RunningApp) => /Teacher URL[^:]*:\s+(http:\/\/\S+)/.exec(a.output())?.[1] ?? '';

async function openPage(url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 30_000 });
  return page;
}

const rows = (teacher: Page) =>
  teacher.locator('[data-testid=participant]').evaluateAll((els) =>
    els.map((e) => ({ name: e.getAttribute('data-name') ?? '', discv5: e.querySelector('[data-testid=participant-discv5]')?.textContent?.trim() ?? '' })),
  );

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hl-room-e2e-'));
  port = await freePort();
  app = await start();
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('workshop room', () => {
  it('prints a join link and a teacher link with its own secret', () => {
    const teacher = new URL(teacherUrlOf(app));
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{16,}$/);
    expect(teacher.searchParams.get('teacher')).toMatch(/^[\w-]{16,}$/);
    expect(teacher.searchParams.get('teacher')).not.toBe(app.token);
  });

  it('teacher sees participants with progress, leads followers to a packet and field, and everyone survives a bridge restart', async () => {
    const ada = await openPage(app.url);
    const anon = await openPage(app.url);
    const teacher = await openPage(teacherUrlOf(app));
    await teacher.waitForSelector('[data-testid=teacher-panel][data-link=open]');

    await ada.getByTestId('room-name').fill('Ada');
    await ada.getByRole('button', { name: 'Set' }).click();
    // Ada follows the first lesson: the teacher sees which step she is on (only the lesson's id and step travel).
    await ada.getByTestId('lessons-button').click();
    await ada.locator('[data-lesson-id="discv5-first-handshake"]').click();
    await expect.poll(() => teacher.locator('[data-testid=participant][data-name=Ada] [data-testid=participant-lesson]').innerText(), { timeout: 15_000 }).toMatch(/^Your first discv5 handshake: step 1 of \d+$/);
    // Each participant completes one discv5 handshake with the lab.
    for (const p of [ada, anon]) {
      await p.getByRole('button', { name: 'Ping', exact: true }).click();
      await p.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    }
    await expect
      .poll(async () => (await rows(teacher)).map((r) => `${r.name.startsWith('guest-') ? 'guest' : r.name} ${r.discv5}`).sort(), { timeout: 15_000 })
      .toEqual(['Ada 1 ✓ · 0 ✗', 'guest 1 ✓ · 0 ✗']);
    // Her Ping was the lesson's first checkpoint: the teacher sees her move on once she presses Next.
    await ada.getByTestId('lesson-next').click();
    await expect.poll(() => teacher.locator('[data-testid=participant][data-name=Ada] [data-testid=participant-lesson]').innerText(), { timeout: 15_000 }).toMatch(/: step 2 of \d+$/);
    expect(await teacher.getByTestId('room-totals').innerText()).toContain('discv5 2 completed, 0 failed');

    // Follow the teacher: the Replay, packet 3, its first field.
    await teacher.getByTestId('share-replay').click();
    await teacher.waitForSelector('[data-testid=sharing]');
    for (const p of [ada, anon]) await p.getByTestId('room-follow').click();
    await teacher.locator('.timeline [data-seq="3"]').click();
    await teacher.getByRole('tab', { name: 'message fields' }).click().catch(() => {}); // the replay's packet opens on its first layer
    const field = teacher.locator('.tree [data-field]').nth(1);
    const fieldName = await field.getAttribute('data-field');
    await field.click();
    for (const p of [ada, anon]) {
      // The address names the packet (and, since the reader picked one, the field).
      await expect.poll(() => p.evaluate(() => location.hash), { timeout: 10_000 }).toMatch(/^#replay=3(&|$)/);
      await expect.poll(() => p.locator('.tree .field.sel').first().getAttribute('data-field'), { timeout: 10_000 }).toBe(fieldName);
      await expect.poll(() => p.getByTestId('following').innerText()).toContain('packet #3');
    }
    // Stop following: the teacher moves on, this page stays.
    await anon.getByTestId('room-unfollow').click();
    await teacher.locator('.timeline [data-seq="2"]').click();
    await expect.poll(() => ada.evaluate(() => location.hash), { timeout: 10_000 }).toMatch(/^#replay=2(&|$)/);
    expect(await anon.evaluate(() => location.hash)).toMatch(/^#replay=3(&|$)/);

    // Restart: the same join link, and every page back on its own.
    const before = app.url;
    await app.close();
    await expect.poll(() => ada.getByTestId('bridge-status').getAttribute('data-state'), { timeout: 10_000 }).not.toBe('open');
    app = await start();
    expect(app.url).toBe(before);
    expect(app.output()).toMatch(/the same links as before/);
    for (const p of [ada, anon, teacher]) await p.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 30_000 });
    await teacher.waitForSelector('[data-testid=teacher-panel][data-link=open]', { timeout: 15_000 });
    await expect.poll(async () => (await rows(teacher)).map((r) => (r.name.startsWith('guest-') ? 'guest' : r.name)).sort(), { timeout: 15_000 }).toEqual(['Ada', 'guest']);
    // The teacher's page re-shares what it was showing; the follower follows again.
    await teacher.locator('.timeline [data-seq="4"]').click();
    await expect.poll(() => ada.evaluate(() => location.hash), { timeout: 10_000 }).toMatch(/^#replay=4(&|$)/);
    expect(pageErrors).toEqual([]);
  }, 240_000);
});

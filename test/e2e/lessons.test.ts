// Issue 13 end to end (npm start in its own process, headless Debian Chromium): the first lesson
// followed with nothing but its own instructions, progress kept; the Bitcoin lesson; Replay
// stepped with its banner equal to its timeline; deep links on a fresh load; the glossary; the
// print view; and the fixes a first-time user asked for. Screenshots of each lesson step go to
// test-results/ (looked at by a person, not compared).
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createEnr, encodeEnrText } from '../../shared/enr/index.ts';
import { randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { secureRandom } from '../../shared/random.ts';
import { artifact, launchChromium, startApp, type RunningApp } from './harness.ts';
import { attr, contains, textOf } from './waits.ts';

const VIEWPORT = { width: 1280, height: 800 };
let app: RunningApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function openPage(url = app.url, context?: BrowserContext): Promise<Page> {
  const ctx = context ?? (await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true }));
  if (!context) contexts.push(ctx);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
  await page.waitForSelector('[data-testid=local-endpoint]');
  return page;
}

/**
 * Follows the lesson on screen the way a first-timer does: reads the step, uses the control the
 * lesson highlights (for the key question, the highlighted key the instruction describes), and
 * waits for the page to confirm the checkpoint; then Next. Returns the steps' ids in order.
 */
async function followLesson(page: Page, shotPrefix: string): Promise<string[]> {
  const lesson = page.getByTestId('lesson');
  const seen: string[] = [];
  for (let n = 0; n < 20; n++) {
    await lesson.waitFor();
    if ((await lesson.getAttribute('data-completed')) === 'true') break;
    const step = (await lesson.getAttribute('data-lesson-step'))!;
    seen.push(step);
    const todo = await page.getByTestId('lesson-todo').innerText();
    for (let tries = 0; tries < 12 && (await lesson.getAttribute('data-reached')) !== 'true'; tries++) {
      let target = page.locator('[data-lesson-on]');
      // "Click the session key whose line ends in “→ you”": the instruction picks among the highlighted keys.
      const ending = /ends in “([^”]+)”/.exec(todo)?.[1];
      if (ending) target = target.filter({ hasText: new RegExp(`${ending.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) });
      if ((await target.count()) > 0) await target.first().click();
      await page.waitForTimeout(400);
    }
    await attr(lesson, 'data-reached', 'true', 20_000);
    await page.screenshot({ path: artifact(`${shotPrefix}-${String(seen.length).padStart(2, '0')}-${step}.png`) });
    await page.getByTestId('lesson-next').click();
  }
  await attr(lesson, 'data-completed', 'true');
  return seen;
}

beforeAll(async () => {
  app = await startApp();
  browser = await launchChromium();
}, 240_000);

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('lessons', () => {
  it('a first visit offers the first lesson; its own instructions reach every checkpoint; progress is kept', async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    contexts.push(context);
    const page = await openPage(app.url, context);
    await contains(page.getByTestId('lesson-offer'), 'Your first discv5 handshake');
    await page.screenshot({ path: artifact('lesson-00-offer.png') });
    await page.getByTestId('lesson-start').click();
    // A checkpoint is not reached by pressing Next: it waits for what the learner does.
    await attr(page.getByTestId('lesson'), 'data-reached', 'false');
    expect(await page.getByTestId('lesson-next').isDisabled()).toBe(true);
    const steps = await followLesson(page, 'lesson-discv5');
    expect(steps).toEqual(['ping', 'whoareyou', 'id-nonce', 'keys', 'which-key', 'drop', 'step-on', 'step-ping', 'step-through']);
    await page.screenshot({ path: artifact('lesson-discv5-done.png') });
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('handshake-lab.lessons') ?? '{}'));
    expect(stored.lessons['discv5-first-handshake']).toEqual({ step: 8, completed: true });

    // A second visit: no offer; the list shows the lesson finished and Bitcoin's not started.
    const again = await openPage(app.url, context);
    await again.waitForTimeout(500);
    expect(await again.getByTestId('lesson-offer').count()).toBe(0);
    await again.getByTestId('lessons-button').click();
    await contains(again.getByTestId('lesson-list'), /Your first discv5 handshake\s*discv5 · 6 min · finished/);
    await contains(again.getByTestId('lesson-list'), /Your first Bitcoin handshake\s*Bitcoin · 4 min · not started/);
  }, 120_000);

  it('a wrong answer gets a hint, not a checkpoint', async () => {
    const page = await openPage();
    await page.getByTestId('lesson-start').click();
    await page.locator('[data-lesson-on]').first().click(); // Ping
    await attr(page.getByTestId('lesson'), 'data-reached', 'true', 20_000);
    await page.getByTestId('lesson-next').click();
    // "Click the WHOAREYOU": the learner clicks the PONG instead.
    await page.locator('.timeline [data-seq="4"]').click();
    await contains(page.getByTestId('lesson-hint'), 'orange arrow');
    await attr(page.getByTestId('lesson'), 'data-reached', 'false');
    await page.locator('.timeline [data-kind="WHOAREYOU"]').click();
    await attr(page.getByTestId('lesson'), 'data-reached', 'true');
    // Folded for a projector: what to do and the checkpoint stay, the goal and why go.
    await page.getByRole('button', { name: 'Show only what to do' }).click();
    expect(await page.locator('[data-testid=lesson] .goal').count()).toBe(0);
    await contains(page.getByTestId('lesson-todo'), 'WHOAREYOU');
    await contains(page.getByTestId('lesson-checkpoint'), 'Checkpoint reached');
  }, 60_000);

  it('Bitcoin has its own lesson, followed the same way', async () => {
    const page = await openPage();
    await page.getByTestId('lessons-button').click();
    await page.locator('[data-lesson-id="bitcoin-first-handshake"]').click();
    const steps = await followLesson(page, 'lesson-bitcoin');
    expect(steps).toEqual(['choose', 'handshake', 'their-version', 'user-agent', 'checksum']);
  }, 90_000);

  it('RLPx has its own lesson, followed the same way', async () => {
    const page = await openPage();
    await page.getByTestId('lessons-button').click();
    await page.locator('[data-lesson-id="rlpx-first-connection"]').click();
    const steps = await followLesson(page, 'lesson-rlpx');
    expect(steps).toEqual(['choose', 'connect', 'auth', 'nonce', 'status', 'forkid', 'keys']);
  }, 90_000);

  it('discv4 has its own lesson, followed the same way', async () => {
    const page = await openPage();
    await page.getByTestId('lessons-button').click();
    await page.locator('[data-lesson-id="discv4-first-bond"]').click();
    const steps = await followLesson(page, 'lesson-discv4');
    expect(steps).toEqual(['choose', 'ping', 'pong', 'ping-hash', 'findnode', 'keys']);
  }, 90_000);

  it('libp2p has its own lesson, followed the same way', async () => {
    const page = await openPage();
    await page.getByTestId('lessons-button').click();
    await page.locator('[data-lesson-id="libp2p-first-dial"]').click();
    const steps = await followLesson(page, 'lesson-libp2p');
    expect(steps).toEqual(['choose', 'dial', 'message-2', 'signature', 'keys']);
  }, 90_000);
});

describe('Replay, stepped', () => {
  it('steps with the live narration, and its banner lists exactly what its timeline shows', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Replay' }).click();
    await contains(page.getByTestId('replay-verdict'), 'every vector packet equals');
    // Every packet of the timeline has a vector badge, or says why it has none.
    await expect.poll(() => page.locator('.timeline [data-seq]').count()).toBe(4);
    for (let seq = 1; seq <= 4; seq++) await contains(page.locator(`.timeline [data-seq="${seq}"]`), /= spec|random: no vector/);
    await page.getByTestId('replay-step').click();
    await expect.poll(() => page.locator('.timeline [data-seq]').count()).toBe(0);
    const titles: string[] = [];
    for (let i = 1; i <= 4; i++) {
      await page.getByRole('button', { name: 'Next →' }).click();
      await expect.poll(() => page.locator('.timeline [data-seq]').count()).toBe(i);
      // Banner = timeline: one line per packet shown, same label (kind · message · size) in the same order.
      const timelineLabels = await page.locator('.timeline [data-seq] .label').evaluateAll((els) =>
        els.map((e) => [...e.querySelectorAll(':scope > b, :scope > .msg, :scope > .size')].map((x) => x.textContent?.trim()).join(' · ')),
      );
      const bannerLabels = await page.getByTestId('replay-label').allInnerTexts();
      expect(bannerLabels).toEqual(timelineLabels);
      await contains(page.getByTestId('replay-position'), `packet ${i} of 4`);
      titles.push((await page.locator('[data-testid=stepper] .card.now .title').innerText()).trim());
      await page.screenshot({ path: artifact(`replay-step-${i}.png`) });
    }
    // The live Step narration's words (web/protocols/discv5-narration.ts), for node A.
    expect(titles[1]).toBe('Received WHOAREYOU: the peer challenges you');
    expect(titles[3]).toBe('Received PONG: the session works');
    // The handshake is the spec's 321-byte ping-handshake-enr, on the timeline and in the banner alike.
    const labels = await page.getByTestId('replay-label').allInnerTexts();
    expect(labels.map((l) => l.replace(/\d+ B$/, 'n B'))).toEqual(['random packet · PING · n B', 'WHOAREYOU · challenge · n B', 'handshake · PING · n B', 'message · PONG · n B']);
    expect(labels[2]).toBe('handshake · PING · 321 B');
    await contains(page.getByTestId('replay-packets'), 'ping-handshake-enr');
  }, 60_000);
});

describe('deep links on a fresh load', () => {
  it('#replay=3&field=id-signature opens the handshake at its signature', async () => {
    const page = await openPage(`${app.url}#replay=3&field=id-signature`);
    await attr(page.locator('.timeline [data-seq="3"]'), 'aria-selected', 'true');
    await expect.poll(() => page.locator('.tree .field.sel').getAttribute('data-field')).toBe('id-signature');
    await attr(page.locator('.layers [data-layer="authdata"]'), 'aria-selected', 'true');
    await page.screenshot({ path: artifact('deeplink-replay-field.png') });
    // Selecting another field updates the link.
    await page.locator('.tree [data-field="eph-pubkey"]').click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe('#replay=3&field=eph-pubkey');
  }, 60_000);

  it('#packet=3&field=id-nonce where no such live session exists says why; it works once the packet exists', async () => {
    const page = await openPage(`${app.url}#packet=2&field=id-nonce`);
    await contains(page.getByTestId('link-error'), 'live session');
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    await attr(page.locator('.timeline [data-seq="2"]'), 'aria-selected', 'true');
    await expect.poll(() => page.locator('.tree .field.sel').getAttribute('data-field')).toBe('id-nonce');
    expect(await page.getByTestId('link-error').count()).toBe(0);
    // A field the packet does not have: said, not ignored.
    await page.goto(`${app.url}#replay=2&field=no-such-field`);
    await contains(page.getByTestId('link-error'), 'has no field “no-such-field”');
  }, 60_000);
});

describe('glossary and print view', () => {
  it('a term shows its definition on hover and on keyboard focus; the glossary page lists every term', async () => {
    const page = await openPage(`${app.url}#replay=2`);
    await page.locator('.layers [data-layer="authdata"]').click();
    const term = page.locator('.tree [data-field="id-nonce"] .term');
    await term.waitFor();
    await term.hover();
    await contains(page.locator('#glossary-tip'), 'id-nonce — 16 random bytes');
    // Keyboard: the field tree is one Tab stop; ↓ walks the fields, and the focused field's term shows.
    await page.locator('.tree [data-field="id-nonce"]').focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-field'))).toBe('enr-seq');
    await contains(page.locator('#glossary-tip'), 'enr-seq — The seq of the ENR');
    expect(await page.locator('.tree [tabindex="0"]').count()).toBe(1);
    // Terms in running text (narration, notes, meanings) are marked and reachable by Tab.
    expect(await page.locator('.inspector .term[tabindex="0"]').count()).toBeGreaterThan(0);
    await page.getByTestId('glossary-button').click();
    const dialog = page.getByTestId('glossary-page');
    await contains(dialog, 'HKDF');
    expect(await dialog.locator('[data-glossary-term]').count()).toBeGreaterThan(80);
    await dialog.getByLabel('Filter the glossary').fill('log-distance');
    await contains(dialog, 'highest differing bit');
    await page.screenshot({ path: artifact('glossary-page.png') });
  }, 60_000);

  it('the print view lists every packet with its fields and the key schedule; printing shows only it', async () => {
    const page = await openPage(`${app.url}#replay=1`);
    await page.locator('.timeline [data-seq="4"]').waitFor();
    await page.getByTestId('files-menu').click();
    await page.getByTestId('print-button').click();
    const view = page.getByTestId('print-view');
    await view.waitFor();
    expect(await view.locator('section.packet').count()).toBe(4);
    await contains(view, '#3 handshake · PING');
    await contains(view, 'id-signature');
    await contains(view, 'Key schedule');
    await contains(view, 'initiator-key');
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.app').isVisible()).toBe(false);
    expect(await view.isVisible()).toBe(true);
    await page.screenshot({ path: artifact('print-view.png'), fullPage: false });
    await page.emulateMedia({ media: 'screen' });
  }, 60_000);
});

describe('fixes from the first-time user review', () => {
  it('a target the bridge refuses shows as refused at once, with the reason and the --allow hint', async () => {
    const page = await openPage();
    // A loopback address nobody allowed: the bridge refuses it, nothing leaves the machine.
    const enr = encodeEnrText(createEnr({ privateKey: randomPrivateKey(secureRandom), ip: '127.0.0.77', udp: 30399 }));
    await page.getByRole('radio', { name: /Another node/ }).check();
    await page.getByTestId('custom-target').fill(enr);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=false]', { timeout: 5000 });
    expect(Date.now() - t0).toBeLessThan(3000); // not after 3 attempts and a timeout
    await contains(page.getByTestId('action-result'), 'the bridge refused to send to 127.0.0.77:30399');
    await contains(page.getByTestId('action-result'), '--allow');
    const rows = page.locator('.timeline [data-seq]');
    expect(await rows.count()).toBe(1); // no retransmits
    await contains(rows.first(), 'not sent: refused by the bridge');
    await page.waitForTimeout(1500);
    expect(await rows.count()).toBe(1);
    expect(await textOf(page.locator('.timeline'))).not.toContain('timed out');
    await page.screenshot({ path: artifact('fix-refused-target.png') });
  }, 60_000);

  it('a mistyped ENR is explained in plain words; old results and errors go when the input changes', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    await page.getByRole('radio', { name: /Another node/ }).check();
    expect(await page.locator('[data-action=ping]').count()).toBe(0); // the old answer went with the old peer
    const good = app.lab[1].enr;
    for (const [typo, words] of [
      [good.slice(0, -1), 'cut short'],
      [`${good.slice(0, 20)} ${good.slice(20)}`, 'a space at character 21'],
      [good.slice(0, 12) + (good[12] === 'A' ? 'B' : 'A') + good.slice(13), /signature does not match|do not make a whole record/],
    ] as const) {
      await page.getByTestId('custom-target').fill(typo);
      await contains(page.getByTestId('target-error'), words);
      expect(await textOf(page.getByTestId('target-error'))).not.toMatch(/padding|base64|Unknown letter/i);
    }
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.getByTestId('custom-target').fill(good);
    await contains(page.getByTestId('target-decoded'), 'signature valid');
    expect(await page.locator('.side [role=alert]').count()).toBe(0);
  }, 60_000);

  it('after Ping the answer is selected; in Step mode the packet about to be sent is shown before it goes', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    await attr(page.locator('.timeline [data-seq="4"]'), 'aria-selected', 'true');
    await contains(page.locator('.inspector h3'), 'PONG');
    await page.getByRole('button', { name: 'Drop session' }).click();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('.timeline [data-held=true]');
    const held = await page.locator('.timeline [data-held=true]').getAttribute('data-seq');
    await attr(page.locator(`.timeline [data-seq="${held}"]`), 'aria-selected', 'true');
    await contains(page.locator('.inspector'), 'not sent yet');
    await page.screenshot({ path: artifact('fix-step-held-selected.png') });
  }, 60_000);

  it('the inbound result names whose address the PONG reported', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: /Ask .* to ping you/ }).click();
    await page.waitForSelector('[data-action=inbound][data-ok=true]', { timeout: 20_000 });
    const text = await textOf(page.getByTestId('action-result'));
    expect(text).not.toContain('you are');
    expect(text).toMatch(new RegExp(`your PONG told ${app.lab[0].name} the address your node saw it at: 127\\.0\\.0\\.1:\\d+`));
  }, 60_000);

  it('export leaves out the private key unless ticked, and says so', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    const key = (await page.evaluate(() => localStorage.getItem('handshake-lab.discv5.private-key') ?? '')).replace(/^0x/, '');
    await page.getByTestId('files-menu').click();
    await contains(page.getByTestId('export-key-note'), 'leaves out your node’s private key');
    const [d1] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
    const without = await readFile((await d1.path())!, 'utf8');
    expect(JSON.parse(without).privateKey).toBe('left out');
    if (key) expect(without).not.toContain(key);
    await page.getByTestId('files-menu').click();
    await page.getByTestId('export-private-key').check();
    await contains(page.getByTestId('export-key-note'), 'will hold your node’s private key');
    const [d2] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
    const withKey = JSON.parse(await readFile((await d2.path())!, 'utf8'));
    expect(withKey.privateKey).toBe('included');
    const statics = withKey.trace.flatMap((t: { inputs: { name: string; hex: string }[] }) => t.inputs).filter((v: { name: string }) => v.name === 'static-key');
    expect(statics.length).toBeGreaterThan(0);
    expect(statics.every((v: { hex: string }) => /^[0-9a-f]{64}$/.test(v.hex))).toBe(true);
  }, 60_000);

  it('tabs answer the arrow keys; the page has one h1', async () => {
    const page = await openPage();
    expect(await page.locator('h1').count()).toBe(1);
    await page.getByRole('tab', { name: 'Packet bytes' }).focus();
    await page.keyboard.press('ArrowRight');
    await attr(page.getByRole('tab', { name: 'Key schedule' }), 'aria-selected', 'true');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('tab-keys');
    await page.keyboard.press('End');
    await attr(page.getByRole('tab', { name: 'Conformance' }), 'aria-selected', 'true');
    expect(await page.locator('.tabs [role=tab][tabindex="0"]').count()).toBe(1);
  }, 60_000);

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

// The page at 1280×800 and 1920×1080, normal (15 px) and projector (20 px) text, light and dark:
// an axe-core audit of the main views reports no serious or critical violation, lane headers do
// not overlap with three peers, arrow labels stop at their target, and no control is clipped.
// Screenshots of every combination go to test-results/ (looked at by a person).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { artifact, launchChromium, startApp, type RunningApp } from './harness.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
let app: RunningApp;
let browser: Browser;
const pageErrors: string[] = [];

beforeAll(async () => {
  app = await startApp();
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function open(viewport: { width: number; height: number }, theme: string, size: number, hash = ''): Promise<Page> {
  // The bridge's CSP allows no inline script: axe is added by the test, so the test lifts it.
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.addInitScript(([t, s]) => {
    localStorage.setItem('handshake-lab.theme', t);
    localStorage.setItem('handshake-lab.text-size', s);
  }, [theme, String(size)] as const);
  await page.goto(`${app.url}${hash}`);
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
  await page.waitForSelector('[data-testid=local-endpoint]');
  await page.waitForFunction(() => !!document.getElementById('glossary-tip')); // the glossary is in
  return page;
}

interface AxeViolation { id: string; impact: string; help: string; nodes: { target: string[] }[] }

/** axe-core on the page as it is: the serious and critical violations, one line each. */
async function audit(page: Page, view: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (c: Document, o: object) => Promise<{ violations: AxeViolation[] }> } }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${view}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** Controls cut off by a non-scrolling box or the window, or whose own text does not fit. */
async function clippedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const name = (el: Element) => `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''} “${(el.getAttribute('aria-label') ?? (el as HTMLElement).innerText ?? '').trim().slice(0, 40)}”`;
    for (const el of document.querySelectorAll<HTMLElement>('button, input:not(.visually-hidden), select, textarea, summary, a[href], [role="tab"]')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      let scrollX = false;
      let scrollY = false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const s = getComputedStyle(a);
        const box = a.getBoundingClientRect();
        if (!scrollX && (s.overflowX === 'hidden' || s.overflowX === 'clip') && (r.left < box.left - 1 || r.right > box.right + 1)) out.push(`${name(el)} cut left/right by ${a.className || a.tagName}`);
        if (!scrollY && (s.overflowY === 'hidden' || s.overflowY === 'clip') && (r.top < box.top - 1 || r.bottom > box.bottom + 1)) out.push(`${name(el)} cut top/bottom by ${a.className || a.tagName}`);
        if (s.overflowX === 'auto' || s.overflowX === 'scroll') scrollX = true;
        if (s.overflowY === 'auto' || s.overflowY === 'scroll') scrollY = true;
      }
      if (!scrollX && (r.left < -1 || r.right > innerWidth + 1)) out.push(`${name(el)} outside the window (x ${Math.round(r.left)}–${Math.round(r.right)})`);
      if (!scrollY && (r.top < -1 || r.bottom > innerHeight + 1)) out.push(`${name(el)} outside the window (y ${Math.round(r.top)}–${Math.round(r.bottom)})`);
      if (el.matches('button, summary, [role="tab"]') && el.scrollWidth > el.clientWidth + 1) out.push(`${name(el)}: its text does not fit`);
    }
    const status = document.querySelector<HTMLElement>('[data-testid=bridge-status] > span:not(.dot)');
    if (status && status.scrollWidth > status.clientWidth + 1) out.push('the status line is cut');
    return out;
  });
}

/** Lane headers that overlap, and arrow labels that run past their arrow's end. */
async function timelineProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const heads = [...document.querySelectorAll<HTMLElement>('.timeline .lane-name')].map((e) => ({ text: e.innerText.replace(/\s+/g, ' '), r: e.getBoundingClientRect() }));
    for (let i = 0; i < heads.length; i++)
      for (let j = i + 1; j < heads.length; j++) {
        const a = heads[i].r;
        const b = heads[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) out.push(`lane headers overlap: “${heads[i].text}” and “${heads[j].text}”`);
      }
    for (const label of document.querySelectorAll<HTMLElement>('.timeline .row.packet .label')) {
      const arrow = label.parentElement!.getBoundingClientRect();
      if (label.getBoundingClientRect().right > arrow.right + 2) out.push(`label “${label.innerText.replace(/\s+/g, ' ')}” runs past its target`);
    }
    return out;
  });
}

const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];

describe('layout and accessibility', () => {
  for (const viewport of VIEWPORTS)
    for (const size of [15, 20])
      it(`${viewport.width}×${viewport.height}, ${size} px: three peers, every view, both themes — no overlap, nothing clipped, no serious axe violation`, async () => {
        const problems: string[] = [];
        const violations: string[] = [];
        for (const theme of ['light', 'dark']) {
          const tag = `${viewport.width}-${size}px-${theme}`;
          const page = await open(viewport, theme, size);
          problems.push(...(await clippedControls(page)).map((p) => `${tag} first visit: ${p}`));
          violations.push(...(await audit(page, `${tag} first visit`)));
          await page.screenshot({ path: artifact(`layout-${tag}-0-first-visit.png`) });
          // Three peers on the timeline.
          for (const i of [0, 1, 2]) {
            await page.locator('.choices .choice').nth(i).click();
            await page.getByRole('button', { name: 'Ping', exact: true }).click();
            await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
          }
          await expect.poll(() => page.locator('.timeline .lane-name').count()).toBe(4);
          problems.push(...(await timelineProblems(page)).map((p) => `${tag}: ${p}`));
          problems.push(...(await clippedControls(page)).map((p) => `${tag} three peers: ${p}`));
          violations.push(...(await audit(page, `${tag} packet bytes`)));
          await page.screenshot({ path: artifact(`layout-${tag}-1-three-peers.png`) });
          for (const tab of ['Key schedule', 'Routing table', 'Conformance']) {
            await page.getByRole('tab', { name: tab }).click();
            await page.waitForTimeout(200);
            problems.push(...(await clippedControls(page)).map((p) => `${tag} ${tab}: ${p}`));
            violations.push(...(await audit(page, `${tag} ${tab}`)));
          }
          await page.getByRole('tab', { name: 'Key schedule' }).click();
          await page.screenshot({ path: artifact(`layout-${tag}-2-key-schedule.png`) });
          // A lesson and Step mode open together (the most crowded layout).
          await page.getByTestId('lesson-start').click();
          await page.getByRole('button', { name: 'Step', exact: true }).click();
          await page.getByRole('button', { name: 'Ping', exact: true }).click();
          await page.waitForSelector('.timeline [data-held=true]');
          await page.getByRole('tab', { name: 'Packet bytes' }).click();
          problems.push(...(await clippedControls(page)).map((p) => `${tag} lesson + step: ${p}`));
          violations.push(...(await audit(page, `${tag} lesson + step`)));
          await page.screenshot({ path: artifact(`layout-${tag}-3-lesson-step.png`) });
          // Replay, stepped; then the glossary page over it.
          await page.getByRole('button', { name: 'Step', exact: true }).click();
          await page.getByRole('button', { name: 'Replay' }).click();
          await page.getByTestId('replay-step').click();
          for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next →' }).click();
          problems.push(...(await timelineProblems(page)).map((p) => `${tag} replay: ${p}`));
          problems.push(...(await clippedControls(page)).map((p) => `${tag} replay: ${p}`));
          violations.push(...(await audit(page, `${tag} replay`)));
          await page.screenshot({ path: artifact(`layout-${tag}-4-replay.png`) });
          await page.getByTestId('glossary-button').click();
          await page.getByTestId('glossary-page').waitFor();
          violations.push(...(await audit(page, `${tag} glossary`)));
          await page.close();
        }
        expect(problems).toEqual([]);
        expect(violations).toEqual([]);
      }, 180_000);

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

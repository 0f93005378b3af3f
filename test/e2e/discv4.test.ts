// discv4 in the playground against `npm start`: bonding with a lab ethereumjs node, FINDNODE →
// NEIGHBORS, the ENR request (which ethereumjs does not answer), a lookup that fills the routing
// table, the recipient role (a lab node pings your socket), Step mode, and the signature steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { ExecutionLabPeer, LabPeerInfo } from '../../shared/lab.ts';
import { artifact, launchChromium, startApp, type RunningApp } from './harness.ts';

let app: RunningApp;
let browser: Browser;
let elLab: ExecutionLabPeer[] = [];
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  app = await startApp();
  browser = await launchChromium();
  const res = await fetch(`${app.origin}/lab.json?token=${encodeURIComponent(app.token)}`);
  elLab = ((await res.json()) as { peers: LabPeerInfo[] }).peers.filter((p): p is ExecutionLabPeer => p.protocol === 'execution');
}, 240_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await app?.close();
});

async function openPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(app.url);
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
  await page.getByTestId('protocol-discv4').check();
  return page;
}

const textOf = async (l: Locator) => (await l.allInnerTexts().catch(() => [] as string[])).join('\n');
const contains = (l: Locator, text: string | RegExp, timeout = 15_000) =>
  expect.poll(async () => {
    const t = await textOf(l);
    return typeof text === 'string' ? t.includes(text) : text.test(t);
  }, { timeout, message: `text ${String(text)}` }).toBe(true);
const rows = (page: Page) => page.locator('.timeline [data-protocol=discv4]:not([data-held])').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-direction')}:${e.getAttribute('data-kind')}`));

describe('discv4 in the playground', () => {
  it('lists the lab execution nodes', () => {
    expect(elLab.length).toBeGreaterThanOrEqual(2);
  });

  it('Ping bonds with a lab ethereumjs node; every byte of the PING dissected; the sender recovered in the key schedule', async () => {
    const page = await openPage();
    await page.getByTestId('v4-ping').click();
    await page.waitForSelector('[data-testid=v4-result] [data-action=ping][data-ok=true]', { timeout: 20_000 });
    await contains(page.getByTestId('v4-result'), /PONG: it saw you at 127\.0\.0\.1:\d+, no enr-seq/);
    // ethereumjs pings back (it checks us in turn) and gets our PONG.
    await expect.poll(() => rows(page), { timeout: 10_000 }).toEqual(expect.arrayContaining(['out:PING', 'in:PONG', 'in:PING', 'out:PONG']));
    expect((await rows(page))[0]).toBe('out:PING');
    // The bond, in the lab node's name: both endpoint proofs.
    await contains(page.locator('.timeline'), `endpoint proof: ${elLab[0].name} answered your PING`);
    await contains(page.locator('.timeline'), `${elLab[0].name} pinged you and got your PONG`);
    await page.locator('.timeline [data-protocol=discv4][data-kind=PING]').first().click();
    const right = page.locator('.right');
    for (const f of ['hash', 'signature', 'packet-type', 'packet-data']) await contains(right, f);
    await page.getByRole('tab', { name: 'packet-data (RLP)' }).or(page.getByText('packet-data (RLP)')).first().click();
    for (const f of ['version', 'from', 'to', 'expiration']) await contains(right, f);
    await page.getByRole('tab', { name: 'Key schedule' }).click();
    await contains(page.getByTestId('key-schedule'), 'Recover the sender');
    await contains(page.getByTestId('key-schedule'), `Signatures exchanged with ${elLab[0].name}`);
    await contains(page.getByTestId('key-schedule'), '✓ every signature checks');
    await page.screenshot({ path: artifact('e2e-discv4-ping.png') });
  }, 60_000);

  it('Find nodes: FINDNODE → NEIGHBORS names the other lab nodes; ENR request times out (ethereumjs has no EIP-868)', async () => {
    const page = await openPage();
    await page.getByTestId('v4-findnode').click();
    await page.waitForSelector('[data-testid=v4-result] [data-action=findnode][data-ok=true]', { timeout: 20_000 });
    await contains(page.getByTestId('v4-result'), /NEIGHBORS: \d+ nodes? in 1 packet/);
    for (const p of elLab.slice(1)) await contains(page.getByTestId('v4-nodes'), p.name);
    expect(await rows(page)).toEqual(expect.arrayContaining(['out:FINDNODE', 'in:NEIGHBORS']));
    await page.getByTestId('v4-requestenr').click();
    await page.waitForSelector('[data-testid=v4-result] [data-action=requestenr][data-ok=false]', { timeout: 20_000 });
    await contains(page.getByTestId('v4-result'), 'no ENRResponse');
  }, 60_000);

  it('Lookup fills the routing table and ends with the closest nodes', async () => {
    const page = await openPage();
    await page.getByTestId('v4-lookup').click();
    await page.waitForSelector('[data-testid=v4-result] [data-action=lookup][data-ok=true]', { timeout: 40_000 });
    await page.getByRole('tab', { name: 'Routing table' }).click();
    await page.waitForSelector('[data-testid=lookup-progress][data-done=true]');
    for (const p of elLab) await contains(page.getByTestId('routing-table'), p.name);
    await page.screenshot({ path: artifact('e2e-discv4-lookup.png') });
  }, 60_000);

  it('the recipient role: a lab node pings your discv4 socket, your node answers and pings back', async () => {
    const page = await openPage();
    await page.getByTestId('v4-inbound').click();
    await page.waitForSelector('[data-testid=v4-result] [data-action=pinged-by][data-ok=true]', { timeout: 20_000 });
    await expect.poll(() => rows(page), { timeout: 10_000 }).toEqual(expect.arrayContaining(['in:PING', 'out:PONG', 'out:PING', 'in:PONG']));
    expect((await rows(page))[0]).toBe('in:PING');
  }, 60_000);

  it('Step mode: the PING is held until → and the Stepper explains it', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await page.getByTestId('v4-ping').click();
    await page.waitForSelector('.timeline [data-protocol=discv4][data-held=true]');
    expect(await rows(page)).toEqual([]);
    await contains(page.getByTestId('stepper'), 'About to send: PING');
    for (let i = 0; i < 10 && !(await page.locator('[data-testid=v4-result] [data-ok=true]').count()); i++) {
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(250);
    }
    await page.waitForSelector('[data-testid=v4-result] [data-action=ping][data-ok=true]', { timeout: 10_000 });
    expect((await rows(page)).slice(0, 2)).toEqual(['out:PING', 'in:PONG']);
  }, 60_000);

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

// RLPx in the page end to end: `npm start` with execution lab nodes (real ethereumjs devp2p),
// headless Chromium, the page's own buttons. The browser dials a lab node (auth, ack, Hello,
// Status) and a lab node dials the browser's listener (the recipient role); Step mode holds each
// message. Screenshots go to test-results/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { artifact, launchChromium, startApp, type RunningApp } from './harness.ts';

let app: RunningApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  app = await startApp(['--lab-size', '1', '--bitcoin-lab-size', '0', '--execution-lab-size', '2']);
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
});

async function openRlpx(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(app.url);
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
  await page.getByTestId('protocol-rlpx').check();
  await page.getByTestId('rlpx-lab-el-01').waitFor({ timeout: 15_000 });
  return page;
}

const textOf = async (l: Locator) => (await l.allInnerTexts().catch(() => [] as string[])).join('\n');
const contains = (l: Locator, text: string | RegExp, timeout = 15_000) =>
  expect.poll(async () => {
    const t = await textOf(l);
    return typeof text === 'string' ? t.includes(text) : text.test(t);
  }, { timeout, message: `text ${String(text)}` }).toBe(true);

const rows = (page: Page) => page.locator('.timeline [data-protocol=rlpx]:not([data-held])').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-direction')}:${e.getAttribute('data-kind')}`));

describe('RLPx in the browser', () => {
  it('dials a lab ethereumjs node: auth, ack, Hello and Status both ways; every layer and every key shown', async () => {
    const page = await openRlpx();
    await page.getByTestId('rlpx-connect').click();
    await page.waitForSelector('[data-testid=rlpx-result] [data-action=handshake][data-ok=true]', { timeout: 30_000 });
    await contains(page.getByTestId('rlpx-result'), /SUCCESS: Hello and Status both ways with ethereumjs-devp2p/);
    await contains(page.getByTestId('rlpx-result'), /Rule [123]/);
    const r = await rows(page);
    expect(r.slice(0, 2)).toEqual(['out:auth', 'in:ack']);
    expect(r).toEqual(expect.arrayContaining(['out:Hello', 'in:Hello', 'out:Status', 'in:Status']));
    // The peer's Status, peeled: frame → header → frame-data → snappy → fields.
    await page.locator('.timeline [data-protocol=rlpx][data-direction=in][data-kind=Status]').first().click();
    for (const layer of ['frame', 'header (decrypted)', 'frame-data (decrypted)', 'msg-data (snappy)', 'message (RLP)']) await contains(page.locator('.right'), layer);
    await page.getByText('message (RLP)').first().click();
    await contains(page.locator('.right'), 'forkid');
    await contains(page.locator('.right'), 'networkid');
    await contains(page.locator('.right'), 'mainnet genesis');
    // The auth, peeled: ECIES envelope → decrypted body.
    await page.locator('.timeline [data-protocol=rlpx][data-kind=auth]').first().click();
    await page.getByText('auth body (decrypted)').first().click();
    await contains(page.locator('.right'), 'initiator-nonce');
    await contains(page.locator('.right'), 'padding');
    // The key schedule: ECIES per message, the secrets, the first MAC states.
    await page.getByRole('tab', { name: 'Key schedule' }).click();
    for (const step of ['ecies-encrypt', 'ecies-decrypt', 'secrets', 'mac-init']) await page.locator(`[data-testid=key-schedule] [data-step=${step}]`).first().waitFor({ timeout: 10_000 });
    await contains(page.getByTestId('key-schedule'), 'aes-secret');
    await page.screenshot({ path: artifact('e2e-rlpx-1-status.png') });
    // Connect again at once: the open connection says goodbye first, so the node does not refuse
    // a second one from the same key ("already connected").
    await page.evaluate(() => document.querySelector('[data-testid=rlpx-result] [data-ok]')?.remove());
    await page.getByTestId('rlpx-connect').click();
    await page.waitForSelector('[data-testid=rlpx-result] [data-action=handshake][data-ok]', { timeout: 30_000 });
    await contains(page.getByTestId('rlpx-result'), /SUCCESS: Hello and Status both ways/);
    await expect.poll(async () => (await rows(page)).filter((r) => r === 'in:Status').length).toBe(2);
    expect(await rows(page)).toContain('out:Disconnect');
  }, 90_000);

  it('Step mode: auth is held with its narration, then each message one press at a time', async () => {
    const page = await openRlpx();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await page.getByTestId('rlpx-connect').click();
    await page.waitForSelector('.timeline [data-protocol=rlpx][data-held=true]');
    await contains(page.getByTestId('stepper'), 'About to send: auth');
    await contains(page.getByTestId('stepper'), 'ECIES-encrypted');
    for (let i = 0; i < 30 && !(await page.locator('[data-testid=rlpx-result] [data-ok]').count()); i++) {
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(200);
    }
    await page.waitForSelector('[data-testid=rlpx-result] [data-action=handshake][data-ok=true]', { timeout: 10_000 });
    expect((await rows(page)).length).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: artifact('e2e-rlpx-2-step.png') });
  }, 90_000);

  it('the recipient role: a lab node dials your listener, auth in, ack out, Hello and Status', async () => {
    const page = await openRlpx();
    await page.getByTestId('rlpx-inbound').click();
    await page.waitForSelector('[data-testid=rlpx-result] [data-action=connect-in][data-ok=true]', { timeout: 30_000 });
    await contains(page.getByTestId('rlpx-result'), /el-01 dialled your listener 127\.0\.0\.1:\d+: auth, ack, Hello and eth\/68 Status/);
    await contains(page.locator('.timeline'), 'el-01 → you');
    await contains(page.locator('.timeline'), 'SUCCESS: Hello and Status both ways');
    const r = await rows(page);
    expect(r.slice(0, 2)).toEqual(['in:auth', 'out:ack']);
    await page.getByRole('tab', { name: 'Key schedule' }).click();
    await page.locator('[data-testid=key-schedule] [data-step=auth-recover]').first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: artifact('e2e-rlpx-3-inbound.png') });
  }, 90_000);

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

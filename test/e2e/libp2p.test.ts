// libp2p in the page end to end: `npm start` (bridge + discv5 lab + js-libp2p lab nodes, in its
// own process), headless Chromium, the page's own buttons. The browser dials a js-libp2p node
// through the bridge (multistream → Noise XX → yamux → ping), refuses a wrong peer id, steps
// through the Noise tokens, and dials a consensus peer that a discv5 lookup found.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { Libp2pLabPeer, LabPeerInfo } from '../../shared/lab.ts';
import { artifact, launchChromium, startApp, type RunningApp } from './harness.ts';

let app: RunningApp;
let browser: Browser;
let cl: Libp2pLabPeer[] = [];
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  app = await startApp(['--lab-size', '4', '--bitcoin-lab-size', '0', '--libp2p-lab-size', '2']);
  browser = await launchChromium();
  const res = await fetch(`${app.origin}/lab.json?token=${encodeURIComponent(app.token)}`);
  cl = ((await res.json()) as { peers: LabPeerInfo[] }).peers.filter((p): p is Libp2pLabPeer => p.protocol === 'libp2p');
}, 240_000);
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
afterAll(async () => {
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
  await page.waitForSelector('[data-testid=local-endpoint]');
  return page;
}

const textOf = async (l: Locator) => (await l.allInnerTexts().catch(() => [] as string[])).join('\n');
const contains = (l: Locator, text: string | RegExp, timeout = 15_000) =>
  expect.poll(async () => {
    const t = await textOf(l);
    return typeof text === 'string' ? t.includes(text) : text.test(t);
  }, { timeout, message: `text ${String(text)}` }).toBe(true);

const rows = (page: Page) => page.locator('.timeline [data-protocol=libp2p]:not([data-held])').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-direction')}:${e.getAttribute('data-kind')}`));

describe('libp2p in the browser', () => {
  it('dials a lab js-libp2p node: multistream, Noise XX, yamux, ping; every token in the key schedule', async () => {
    expect(cl).toHaveLength(2);
    const page = await openPage();
    await page.getByTestId('protocol-libp2p').check();
    await page.getByTestId('p2p-dial').click();
    await page.waitForSelector('[data-testid=p2p-result] [data-action=dial][data-ok=true]', { timeout: 30_000 });
    await contains(page.getByTestId('p2p-result'), `SUCCESS: ${cl[0].peerId} over Noise + /yamux/1.0.0`);
    await contains(page.getByTestId('p2p-result'), /identify: js-libp2p\/3\./);
    const r = await rows(page);
    expect(r.slice(0, 6)).toEqual(['out:multistream', 'in:multistream', 'in:multistream', 'out:noise-e', 'in:noise-e-ee-s-es', 'out:noise-s-se']);
    expect(r.filter((x) => x.endsWith('noise-transport')).length).toBeGreaterThan(4);
    // Message 2 in the inspector: the Noise tokens, then the decrypted identity payload.
    await page.locator('.timeline [data-protocol=libp2p][data-kind=noise-e-ee-s-es]').first().click();
    await contains(page.locator('.right'), 'noise_message_len');
    await contains(page.locator('.right'), 's (encrypted)');
    await page.getByText('handshake payload').first().click();
    await contains(page.locator('.right'), 'identity_sig');
    await contains(page.locator('.right'), 'extensions');
    // The key schedule: every token with h, ck, k after it; the identity check; the split.
    await page.getByRole('tab', { name: 'Key schedule' }).click();
    // The key schedule loads on first use: wait for its last step before reading them all.
    await page.locator('[data-testid=key-schedule] [data-step=split]').first().waitFor({ timeout: 10_000 });
    const steps = await page.locator('[data-testid=key-schedule] [data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    expect(steps).toEqual(['noise-init', 'noise-e', 'noise-payload', 'noise-e', 'noise-ee', 'noise-s', 'noise-es', 'noise-payload', 'identity-verify', 'identity-sign', 'noise-s', 'noise-se', 'noise-payload', 'split']);
    await contains(page.getByTestId('key-schedule'), '✓ keys agreed');
    await contains(page.getByTestId('key-schedule'), 'Handshake with cl-01');
    await page.screenshot({ path: artifact('e2e-libp2p-1-dial.png') });
  }, 60_000);

  it('a pasted multiaddr with the wrong peer id is refused after Noise message 2', async () => {
    const page = await openPage();
    await page.getByTestId('protocol-libp2p').check();
    await page.getByText('A multiaddr or ENR').click();
    await page.getByTestId('p2p-target').fill(`/ip4/127.0.0.1/tcp/${cl[0].tcp}/p2p/${cl[1].peerId}`);
    await page.getByTestId('p2p-dial').click();
    await page.waitForSelector('[data-testid=p2p-result] [data-action=dial][data-ok=false]', { timeout: 30_000 });
    await contains(page.getByTestId('p2p-result'), `wrong peer: dialled ${cl[1].peerId}, but the key that signed this Noise handshake is ${cl[0].peerId}`);
    expect(await rows(page)).not.toContain('out:noise-s-se');
  }, 60_000);

  it('Step mode: each message held and narrated, token by token', async () => {
    const page = await openPage();
    await page.getByTestId('protocol-libp2p').check();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await page.getByTestId('p2p-dial').click();
    await page.waitForSelector('.timeline [data-protocol=libp2p][data-held=true]');
    await contains(page.getByTestId('stepper'), 'About to send: “/multistream/1.0.0 + /noise”');
    const seen = new Set<string>();
    for (let i = 0; i < 60 && !(await page.locator('[data-testid=p2p-result] [data-ok]').count()); i++) {
      seen.add(await textOf(page.getByTestId('stepper')));
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(150);
    }
    await page.waitForSelector('[data-testid=p2p-result] [data-action=dial][data-ok=true]', { timeout: 15_000 });
    const all = [...seen].join('\n');
    expect(all).toContain('About to send: Noise → e');
    expect(all).toContain('Received: Noise ← e, ee, s, es');
    expect(all).toContain('ee: both compute X25519(e, re)');
    expect(all).toContain('About to send: Noise → s, se');
    await page.screenshot({ path: artifact('e2e-libp2p-2-step.png') });
  }, 90_000);

  it('discovery → dial: a discv5 lookup lists the peers with eth2 and tcp; "Dial with libp2p" connects', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Lookup' }).click();
    await page.waitForSelector('[data-testid=consensus-peers]', { timeout: 40_000 });
    expect(await page.getByTestId('dial-libp2p').count()).toBe(2);
    await page.getByTestId('dial-libp2p').first().click();
    await page.waitForSelector('[data-testid=p2p-result] [data-action=dial][data-ok=true]', { timeout: 30_000 });
    const text = await textOf(page.getByTestId('p2p-result'));
    expect(cl.some((p) => text.includes(p.peerId))).toBe(true);
    await page.screenshot({ path: artifact('e2e-libp2p-3-discovery-dial.png') });
  }, 90_000);

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

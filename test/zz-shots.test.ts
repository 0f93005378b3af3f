// Temporary: screenshots of every protocol after its action, both sizes, both themes (not committed).
import { it } from 'vitest';
import { launchChromium, startApp } from './e2e/harness.ts';
it('shots', async () => {
  const app = await startApp();
  const browser = await launchChromium();
  const actions: [string, string][] = [['discv5', ''], ['discv4', 'v4-ping'], ['bitcoin', 'btc-handshake'], ['rlpx', 'rlpx-connect'], ['libp2p', 'p2p-dial']];
  for (const vp of [{ width: 1280, height: 800 }, { width: 1920, height: 1080 }]) {
    for (const theme of ['light', 'dark']) {
      const ctx = await browser.newContext({ viewport: vp });
      await ctx.addInitScript((t) => { localStorage.setItem('handshake-lab.theme', t); localStorage.setItem('handshake-lab.lessons', JSON.stringify({ offered: true, lessons: {} })); }, theme);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
      await page.goto(app.url);
      await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 30_000 });
      for (const [proto, button] of actions) {
        await page.getByTestId(`protocol-${proto}`).check();
        await page.waitForTimeout(800);
        if (button) await page.getByTestId(button).click();
        else await page.getByRole('button', { name: 'Ping', exact: true }).click();
        await page.waitForTimeout(2500);
        await page.screenshot({ path: `/tmp/shots/${proto}-${vp.width}-${theme}.png` });
      }
      await ctx.close();
    }
  }
  await browser.close();
  await app.close();
}, 400_000);

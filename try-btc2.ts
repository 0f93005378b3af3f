import { launchChromium, startApp } from './test/e2e/harness.ts';
const app = await startApp([]);
const browser = await launchChromium();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(app.url);
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20000 });
  await page.getByTestId('protocol-bitcoin').check();
  await page.getByRole('button', { name: 'Step' }).click();
  await page.getByTestId('btc-handshake').click();
  await page.waitForTimeout(800);
  await page.screenshot({ path: '/tmp/btc-step-1.png' });
  for (let i = 0; i < 2; i++) { await page.keyboard.press('ArrowRight'); await page.waitForTimeout(400); }
  await page.screenshot({ path: '/tmp/btc-step-2.png' });
  for (let i = 0; i < 8; i++) { await page.keyboard.press('ArrowRight'); await page.waitForTimeout(300); }
  await page.waitForTimeout(500);
  console.log('result:', await page.getByTestId('btc-result').innerText());
  await page.screenshot({ path: '/tmp/btc-step-3.png' });
  console.log('errors', errors);
} finally {
  await browser.close();
  await app.close();
}

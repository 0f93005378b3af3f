// Playwright-style waits on top of vitest's expect.poll (playwright-core has no matchers), shared
// by the e2e files.
import { expect } from 'vitest';
import type { Locator, Page } from 'playwright-core';

export async function textOf(l: Locator): Promise<string> {
  return (await l.allInnerTexts().catch(() => [] as string[])).join('\n');
}

export const contains = (l: Locator, text: string | RegExp, timeout = 15_000) =>
  expect.poll(async () => {
    const t = await textOf(l);
    return typeof text === 'string' ? t.includes(text) : text.test(t);
  }, { timeout, message: `text ${String(text)}` }).toBe(true);

export const attr = (l: Locator, name: string, value: string, timeout = 15_000) => expect.poll(() => l.getAttribute(name), { timeout }).toBe(value);
export const visible = (l: Locator, timeout = 15_000) => l.first().waitFor({ state: 'visible', timeout });
export const enabled = (l: Locator, timeout = 15_000) => expect.poll(() => l.isEnabled(), { timeout }).toBe(true);

/** Packets on the timeline (sent or received, not the ones step mode still holds). */
export const shown = (page: Page) => page.locator('.timeline [data-seq]:not([data-held])');

// One handshake pressed in the page, timed by the engine itself (its rtt in the result line), for
// the stream protocols' side panels: choose the protocol and the lab node, press the button,
// read data-ms from the result (or fail with its text). Observed inside the page.
import type { Page } from 'playwright-core';

export interface PanelIds {
  /** The protocol's radio: [data-testid=protocol-<id>]. */
  protocol: string;
  /** The lab node's radio. */
  radio: string;
  /** The result area's test id and the rtt element's test id in it. */
  result: string;
  rtt: string;
  /** The action button's test id. */
  button: string;
  /** The result's data-action ('handshake' unless given) and the rtt element's attribute holding the ms ('data-ms'). */
  action?: string;
  msAttr?: string;
}

export async function pageHandshake(page: Page, ids: PanelIds): Promise<number> {
  // A string, not a function: tsx would wrap a function's inner names in helpers the page lacks.
  const ms = await page.evaluate<string>(`new Promise((resolve, reject) => {
    const p = ${JSON.stringify({ action: 'handshake', msAttr: 'data-ms', ...ids })};
    document.querySelector('[data-testid=protocol-' + p.protocol + ']')?.click();
    // The panel loads on first use: wait (bounded) until its lab list is there.
    let tries = 0;
    const ready = (go) => {
      const radio = document.querySelector(p.radio);
      if (radio) return go(radio);
      if (++tries > 250) return reject(new Error('no radio ' + p.radio));
      setTimeout(() => ready(go), 20);
    };
    ready((radio) => {
      radio.click();
      document.querySelector('[data-testid=' + p.result + '] [data-ok]')?.remove();
      const observer = new MutationObserver(() => {
        const ok = document.querySelector('[data-action=' + p.action + '][data-ok=true] [data-testid=' + p.rtt + ']');
        const bad = document.querySelector('[data-action=' + p.action + '][data-ok=false]');
        if (!ok && !bad) return;
        observer.disconnect();
        if (ok) resolve(ok.getAttribute(p.msAttr));
        else reject(new Error(bad.textContent));
      });
      observer.observe(document.body, { childList: true, subtree: true, attributes: true });
      queueMicrotask(() => document.querySelector('[data-testid=' + p.button + ']').click());
    });
  })`);
  return Number(ms);
}

// One tooltip for every glossary term on the page: shown on hover and on keyboard focus (of the
// term itself, or of a control that contains one, like a field in the tree), hidden on leave,
// blur or Escape. Fixed-positioned, so scrolling panels never clip it (it follows a scroll).
import type { Term } from './terms.ts';

export function installTooltip(lookup: (name: string) => Term | undefined): void {
  const tip = document.createElement('div');
  tip.id = 'glossary-tip';
  tip.setAttribute('role', 'tooltip');
  tip.className = 'glossary-tip';
  tip.hidden = true;
  document.body.append(tip);
  let owner: Element | undefined;

  const termIn = (e: Event): HTMLElement | undefined => {
    const el = e.target instanceof Element ? e.target : undefined;
    return (el?.closest('[data-term]') ?? el?.querySelector(':scope > [data-term], :scope [data-term]') ?? undefined) as HTMLElement | undefined;
  };

  /** The term the tooltip stands by. */
  let term: HTMLElement | undefined;
  const place = (el: HTMLElement) => {
    const r = el.getBoundingClientRect();
    const w = Math.min(360, innerWidth - 16);
    tip.style.maxWidth = `${w}px`;
    tip.style.left = `${Math.max(8, Math.min(r.left, innerWidth - w - 8))}px`;
    const below = r.bottom + 6;
    tip.style.top = `${below}px`;
    const h = tip.getBoundingClientRect().height;
    if (below + h > innerHeight - 4) tip.style.top = `${Math.max(4, r.top - h - 6)}px`;
  };
  const show = (el: HTMLElement, anchor: Element) => {
    const t = lookup(el.dataset.term ?? '');
    if (!t) return;
    hide();
    tip.replaceChildren(Object.assign(document.createElement('strong'), { textContent: t.term }), document.createTextNode(` — ${t.def}`));
    tip.hidden = false;
    place(el);
    term = el;
    owner = anchor;
    anchor.setAttribute('aria-describedby', tip.id);
  };
  const hide = () => {
    tip.hidden = true;
    term = undefined;
    owner?.removeAttribute('aria-describedby');
    owner = undefined;
  };

  document.addEventListener('mouseover', (e) => {
    const el = (e.target instanceof Element ? e.target.closest('[data-term]') : null) as HTMLElement | null;
    if (el) show(el, el);
    else if (owner && owner !== document.activeElement) hide();
  });
  document.addEventListener('focusin', (e) => {
    const el = termIn(e);
    if (el && e.target instanceof Element) show(el, e.target);
    else hide();
  });
  document.addEventListener('focusout', hide);
  document.addEventListener('keydown', (e) => e.key === 'Escape' && hide());
  // Fixed on screen: it follows its term when a panel scrolls.
  document.addEventListener('scroll', () => term && (term.isConnected ? place(term) : hide()), { capture: true, passive: true });
}

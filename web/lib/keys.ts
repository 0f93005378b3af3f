// Keyboard patterns shared by the views (WAI-ARIA practices): a tablist answers ← → Home End by
// moving the focus to the next tab and selecting it; only the selected tab is a Tab stop.

const MOVES: Record<string, number> = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity };

export function tablistKeys(e: KeyboardEvent): void {
  const d = MOVES[e.key];
  if (d === undefined) return;
  const tabs = [...(e.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('[role="tab"]')];
  if (tabs.length === 0) return;
  e.preventDefault();
  e.stopPropagation();
  const at = Math.max(0, tabs.indexOf(document.activeElement as HTMLElement));
  const next = tabs[Math.max(0, Math.min(tabs.length - 1, at + d))];
  next.focus();
  next.click();
}

// What the first paint does not need, loaded on first use (one import() each, shared by the
// views), and fetched ahead once the page is idle so a tab or Step mode opens without a wait.
import { loadDissectors, loadNarrators } from '../protocols/registry.ts';

export const lazy = {
  stepper: () => Promise.all([import('../components/Stepper.svelte'), loadNarrators()]),
  keySchedule: () => import('../components/KeySchedule.svelte'),
  routingTable: () => import('../components/RoutingTable.svelte'),
  conformancePanel: () => import('../components/ConformancePanel.svelte'),
  bitcoinPanel: () => import('../protocols/BitcoinPanel.svelte'),
  rlpxPanel: () => import('../protocols/RlpxPanel.svelte'),
  libp2pPanel: () => import('../protocols/Libp2pPanel.svelte'),
  discv4Panel: () => import('../protocols/Discv4Panel.svelte'),
  lessonPanel: () => import('../components/LessonPanel.svelte'),
  glossaryPage: () => import('../components/GlossaryPage.svelte'),
  // The print view dissects every packet: their protocols' dissectors first.
  printView: () => Promise.all([import('../components/PrintView.svelte'), loadDissectors()]).then(([m]) => m),
};

/** After the first paint: the parts most visits open soon. */
export function prefetchLazy(): void {
  for (const load of [lazy.stepper, lazy.keySchedule, lazy.lessonPanel, lazy.routingTable, lazy.bitcoinPanel, loadDissectors]) void load().catch(() => {});
}

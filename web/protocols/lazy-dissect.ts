// A protocol's dissector, loaded the first time one of its packets is shown (or a session is
// exported or printed): with five protocols, their dissectors would otherwise all be in the page's
// first load. Until it is in, the inspector shows the packet as loading; then the page redraws.
import type { Dissection } from '../../shared/dissect.ts';
import type { RecordView } from './types.ts';

type Dissect = (r: RecordView) => Dissection;

const listeners = new Set<() => void>();

/** Called each time a protocol's dissector has loaded. */
export function onDissectorLoaded(fn: () => void): void {
  listeners.add(fn);
}

export function lazyDissect(protocol: string, load: () => Promise<Dissect>): { dissect: Dissect; load: () => Promise<void> } {
  let impl: Dissect | undefined;
  let loading: Promise<void> | undefined;
  const start = (): Promise<void> =>
    (loading ??= load().then(
      (f) => {
        impl = f;
        for (const fn of listeners) fn();
      },
      (e: unknown) => {
        loading = undefined; // a failed fetch is tried again next time
        throw e;
      },
    ));
  return {
    dissect(r) {
      if (impl) return impl(r);
      start().catch(() => {});
      return { protocol, kind: r.kind ?? 'message', summary: 'loading this protocol’s dissector…', layers: [] };
    },
    load: start,
  };
}

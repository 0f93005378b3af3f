// Who may connect to a page's TCP listener (the recipient role). Lab nodes the bridge itself
// asked to dial it, each expected once and for a short while, and addresses an --allow rule
// names. Anyone else on the machine or the LAN is turned away: a listener is no open door.
import { type Endpoint, endpointKey } from '../shared/transport.ts';

/** How long a lab dial is expected after the bridge asked for it. */
const EXPECT_MS = 10_000;

export class ExpectedInbound {
  private readonly pending = new Map<string, { fromIp: string; until: number }[]>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The bridge is about to make a lab node at `fromIp` dial the listener at `listener`. */
  expect(listener: Endpoint, fromIp: string): void {
    const k = endpointKey(listener);
    const list = (this.pending.get(k) ?? []).filter((e) => e.until > this.now());
    list.push({ fromIp, until: this.now() + EXPECT_MS });
    this.pending.set(k, list.slice(-8));
  }

  /** The listener closed: whatever was expected for it is gone (nothing outlives a listener). */
  forget(listener: Endpoint): void {
    this.pending.delete(endpointKey(listener));
  }

  /** Consumes an expectation for this listener and source address, if there is one. */
  take(listener: Endpoint, fromIp: string): boolean {
    const k = endpointKey(listener);
    const list = this.pending.get(k);
    if (!list) return false;
    const now = this.now();
    const i = list.findIndex((e) => e.fromIp === fromIp && e.until > now);
    if (i >= 0) list.splice(i, 1);
    const live = list.filter((e) => e.until > now);
    if (live.length === 0) this.pending.delete(k);
    else this.pending.set(k, live);
    return i >= 0;
  }
}

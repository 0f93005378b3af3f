// Learning our external endpoint from the address peers mirror back in PONG (discv5's
// recipient-ip/port, discv4's `to`; discv5-theory.md, "Maintaining The Local Node Record"). One peer's word is cheap to
// fake, so each voter counts once, votes expire, and only a clear majority moves the answer.
import { toHex } from '../bytes.ts';
import { Lru } from '../lru.ts';
import { endpointKey, type Endpoint } from '../transport.ts';

export interface AddressVotesOptions {
  /** How long a vote counts, ms. */
  window?: number;
  /** Fewest agreeing votes that can decide. */
  minVotes?: number;
  /** Most voters remembered; the oldest vote goes first. */
  maxVoters?: number;
}

export const ADDRESS_VOTES_DEFAULTS = { window: 5 * 60_000, minVotes: 3, maxVoters: 64 } as const;

interface Vote {
  endpoint: Endpoint;
  key: string;
  at: number;
}

export class AddressVotes {
  readonly window: number;
  readonly minVotes: number;
  readonly maxVoters: number;
  /** By voter id, oldest vote first (a new vote replaces the voter's last); at most maxVoters. */
  private readonly votes: Lru<string, Vote>;

  constructor(options: AddressVotesOptions = {}) {
    this.window = options.window ?? ADDRESS_VOTES_DEFAULTS.window;
    this.minVotes = options.minVotes ?? ADDRESS_VOTES_DEFAULTS.minVotes;
    this.maxVoters = options.maxVoters ?? ADDRESS_VOTES_DEFAULTS.maxVoters;
    if (!(this.window > 0)) throw new RangeError('window must be > 0');
    if (!Number.isInteger(this.minVotes) || this.minVotes < 1) throw new RangeError('minVotes must be an integer >= 1');
    if (!Number.isInteger(this.maxVoters) || this.maxVoters < 1) throw new RangeError('maxVoters must be an integer >= 1');
    this.votes = new Lru(this.maxVoters);
  }

  /** One vote per voter node id (latest wins), expiring after window. Returns the winning endpoint when a clear majority
   *  (> half of the live votes and >= minVotes) agrees on an endpoint different from `current`, else undefined. */
  vote(voter: Uint8Array, observed: Endpoint, now: number, current?: Endpoint): Endpoint | undefined {
    const id = toHex(voter);
    this.votes.set(id, { endpoint: { ip: observed.ip, port: observed.port }, key: endpointKey(observed), at: now });
    return this.winner(now, current);
  }

  /** The agreed endpoint, if a clear majority of live votes names one different from `current`. */
  winner(now: number, current?: Endpoint): Endpoint | undefined {
    const counts = this.tally(now);
    const live = counts.reduce((sum, c) => sum + c.votes, 0);
    const top = counts[0];
    if (!top || top.votes < this.minVotes || top.votes * 2 <= live) return undefined;
    if (current && endpointKey(current) === endpointKey(top.endpoint)) return undefined;
    return { ...top.endpoint };
  }

  /** Live votes per endpoint, most votes first (ties: the endpoint voted for most recently first). */
  tally(now: number): { endpoint: Endpoint; votes: number }[] {
    this.expire(now);
    const byKey = new Map<string, { endpoint: Endpoint; votes: number; last: number }>();
    for (const v of this.votes.values()) {
      const t = byKey.get(v.key);
      if (t) {
        t.votes++;
        t.last = Math.max(t.last, v.at);
      } else byKey.set(v.key, { endpoint: v.endpoint, votes: 1, last: v.at });
    }
    return [...byKey.values()]
      .sort((a, b) => b.votes - a.votes || b.last - a.last)
      .map((t) => ({ endpoint: { ...t.endpoint }, votes: t.votes }));
  }

  /** Voters remembered (expired ones go at the next vote, winner or tally). */
  get size(): number {
    return this.votes.size;
  }

  private expire(now: number): void {
    // A full scan (at most maxVoters) rather than stopping at the first live vote: it does not
    // rely on the caller's clock never going back.
    for (const [id, v] of this.votes.entries()) if (now - v.at >= this.window) this.votes.delete(id);
  }
}

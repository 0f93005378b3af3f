import { describe, expect, it } from 'vitest';
import { AddressVotes } from '../shared/kademlia/address-votes.ts';
import type { Endpoint } from '../shared/transport.ts';
import { prng } from './helpers/prng.ts';

const rng = prng(30);
const voters = Array.from({ length: 100 }, () => rng.bytes(32));
const A: Endpoint = { ip: '203.0.113.7', port: 30303 };
const B: Endpoint = { ip: '198.51.100.2', port: 9000 };
const C: Endpoint = { ip: '2001:db8::1', port: 9000 };
const MIN = 60_000;

describe('AddressVotes', () => {
  it('needs minVotes agreeing votes before it names an endpoint', () => {
    const votes = new AddressVotes();
    expect(votes.vote(voters[0], A, 0)).toBeUndefined();
    expect(votes.vote(voters[1], A, 1)).toBeUndefined();
    expect(votes.vote(voters[2], A, 2)).toEqual(A);
    expect(votes.tally(3)).toEqual([{ endpoint: A, votes: 3 }]);
  });

  it('names nothing when the winner is already the current endpoint', () => {
    const votes = new AddressVotes();
    for (let i = 0; i < 5; i++) expect(votes.vote(voters[i], A, i, { ...A })).toBeUndefined();
    expect(votes.vote(voters[5], A, 5, B)).toEqual(A);
    // Same ip, other port: a different endpoint (a NAT that remaps ports).
    expect(votes.vote(voters[6], A, 6, { ip: A.ip, port: 1 })).toEqual(A);
  });

  it('needs more than half of the live votes', () => {
    const votes = new AddressVotes();
    for (let i = 0; i < 3; i++) votes.vote(voters[i], A, i);
    for (let i = 3; i < 6; i++) votes.vote(voters[i], B, i);
    // 3 : 3 is a tie, not a majority, for either side.
    expect(votes.winner(10)).toBeUndefined();
    expect(votes.vote(voters[6], C, 10)).toBeUndefined(); // 3 : 3 : 1
    expect(votes.vote(voters[7], B, 11)).toBeUndefined(); // 3 : 4 : 1 — 4 of 8 is not more than half
    expect(votes.vote(voters[8], B, 12)).toEqual(B); // 3 : 5 : 1
    expect(votes.tally(13)).toEqual([
      { endpoint: B, votes: 5 },
      { endpoint: A, votes: 3 },
      { endpoint: C, votes: 1 },
    ]);
  });

  it('orders tied endpoints by their most recent vote', () => {
    const votes = new AddressVotes();
    votes.vote(voters[0], A, 0);
    votes.vote(voters[1], B, 1);
    expect(votes.tally(2).map((t) => t.endpoint)).toEqual([B, A]);
    votes.vote(voters[2], A, 3);
    votes.vote(voters[3], B, 4);
    expect(votes.tally(5).map((t) => t.endpoint)).toEqual([B, A]);
  });

  it('counts one vote per voter: a new vote replaces the old one', () => {
    const votes = new AddressVotes();
    for (let i = 0; i < 10; i++) expect(votes.vote(voters[0], A, i)).toBeUndefined();
    expect(votes.tally(10)).toEqual([{ endpoint: A, votes: 1 }]);
    votes.vote(voters[1], A, 11);
    votes.vote(voters[0], B, 12);
    expect(votes.tally(13)).toEqual([
      { endpoint: B, votes: 1 },
      { endpoint: A, votes: 1 },
    ]);
    expect(votes.size).toBe(2);
  });

  it('forgets votes older than the window', () => {
    const votes = new AddressVotes({ window: 5 * MIN });
    votes.vote(voters[0], A, 0);
    votes.vote(voters[1], A, 2 * MIN);
    // The first vote has expired by now, so two live votes are not enough.
    expect(votes.vote(voters[2], A, 5 * MIN)).toBeUndefined();
    expect(votes.tally(5 * MIN)).toEqual([{ endpoint: A, votes: 2 }]);
    expect(votes.vote(voters[3], A, 5 * MIN + 1)).toEqual(A);
    // We sit at B; once the old votes for B expire, A's newer votes are the majority.
    const later = new AddressVotes({ window: 5 * MIN });
    for (let i = 0; i < 5; i++) later.vote(voters[10 + i], B, 0, B);
    for (let i = 0; i < 3; i++) expect(later.vote(voters[20 + i], A, MIN + i, B)).toBeUndefined();
    expect(later.winner(5 * MIN - 1, B)).toBeUndefined(); // 5 : 3, B still current
    expect(later.vote(voters[23], A, 5 * MIN, B)).toEqual(A);
    expect(later.tally(5 * MIN)).toEqual([{ endpoint: A, votes: 4 }]);
    expect(later.tally(10 * MIN)).toEqual([]);
    expect(later.size).toBe(0);
  });

  it('remembers at most maxVoters, evicting the oldest vote', () => {
    const votes = new AddressVotes({ maxVoters: 8 });
    for (let i = 0; i < 8; i++) votes.vote(voters[i], A, i);
    for (let i = 8; i < 100; i++) {
      votes.vote(voters[i], B, i);
      expect(votes.size).toBeLessThanOrEqual(8);
    }
    expect(votes.tally(100)).toEqual([{ endpoint: B, votes: 8 }]);
    // A voter that votes again becomes the newest and survives the next eviction.
    const small = new AddressVotes({ maxVoters: 3, minVotes: 1 });
    small.vote(voters[0], A, 0);
    small.vote(voters[1], A, 1);
    small.vote(voters[2], A, 2);
    small.vote(voters[0], B, 3);
    small.vote(voters[3], C, 4); // evicts voters[1], the oldest
    expect(small.tally(5)).toEqual([
      { endpoint: C, votes: 1 },
      { endpoint: B, votes: 1 },
      { endpoint: A, votes: 1 },
    ]);
  });

  it('the default bound is 64 voters', () => {
    const votes = new AddressVotes();
    for (let i = 0; i < 100; i++) votes.vote(voters[i], i % 2 ? A : B, i);
    expect(votes.size).toBe(64);
    expect(votes.tally(100).reduce((n, t) => n + t.votes, 0)).toBe(64);
  });

  it('does not share state with the endpoints it was given', () => {
    const votes = new AddressVotes({ minVotes: 1 });
    const seen = { ...A };
    votes.vote(voters[0], seen, 0);
    seen.port = 1;
    expect(votes.tally(1)).toEqual([{ endpoint: A, votes: 1 }]);
  });

  it('rejects bad options', () => {
    expect(() => new AddressVotes({ window: 0 })).toThrow(RangeError);
    expect(() => new AddressVotes({ minVotes: 0 })).toThrow(RangeError);
    expect(() => new AddressVotes({ maxVoters: 1.5 })).toThrow(RangeError);
  });
});

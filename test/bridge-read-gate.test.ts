// The read gate on its own: frames are handled in order, at most TURN_FRAMES per event-loop
// turn, and no faster than the packet budget; meanwhile the WebSocket is paused.
import { describe, expect, it } from 'vitest';
import { Budget } from '../bridge/budget.ts';
import { ReadGate, TURN_FRAMES } from '../bridge/read-gate.ts';
import { until } from './helpers/bridge-harness.ts';

function gate(rate: number, closeAfterMs = 60_000) {
  const now = () => performance.now();
  const log = { handled: [] as number[], pauses: 0, resumes: 0, overBudget: 0 };
  const g = new ReadGate(
    new Budget(rate, rate, now()),
    { rate, closeAfterMs },
    {
      handle: (f) => log.handled.push(f.readUInt32BE(0)),
      pause: () => log.pauses++,
      resume: () => log.resumes++,
      overBudget: () => log.overBudget++,
    },
    now,
  );
  return { g, log };
}
const frame = (i: number) => Buffer.from(Uint32Array.of(i).buffer).reverse(); // big-endian i

describe('read gate', () => {
  it('a frame that arrives as the session is closed for its budget is dropped, not a crash', () => {
    // closeAfterMs 0: the first hold closes at once, inside push().
    const { g, log } = gate(1, 0);
    g.push(frame(1));
    expect(() => g.push(frame(2))).not.toThrow();
    expect(() => g.push(frame(3))).not.toThrow();
    expect(log.overBudget).toBe(1);
    expect(log.handled).toEqual([1]);
  });

  it('handles at most TURN_FRAMES frames per turn, the rest on later turns, in order', async () => {
    const { g, log } = gate(100_000);
    for (let i = 0; i < 3 * TURN_FRAMES; i++) g.push(frame(i));
    expect(log.handled.length).toBe(TURN_FRAMES);
    expect(log.pauses).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(log.handled.length).toBe(2 * TURN_FRAMES);
    await until(() => log.resumes === 1, 1000, 'the gate to drain');
    expect(log.handled).toEqual(Array.from({ length: 3 * TURN_FRAMES }, (_, i) => i));
    expect(g.holds).toBe(0); // never over budget
  });

  it('over the budget: paused until a slice of it is back, nothing dropped', async () => {
    const { g, log } = gate(40); // burst 40, then 40/s; a slice is 2 frames (50 ms)
    const t = performance.now();
    for (let i = 0; i < 60; i++) g.push(frame(i));
    await until(() => log.handled.length === 40, 1000, 'the burst');
    expect(g.isPaused).toBe(true);
    await until(() => log.handled.length === 60, 3000, 'the rest, at the budget rate');
    expect(performance.now() - t).toBeGreaterThanOrEqual(400); // 20 more frames at 40/s
    expect(log.handled).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(g.holds).toBeGreaterThan(1);
    await until(() => log.resumes === 1, 1000, 'reading again');
    expect(g.isPaused).toBe(false);
  });

  it('calls overBudget when held again and again for closeAfterMs, then drops what waits', async () => {
    const { g, log } = gate(20, 300);
    const feed = setInterval(() => {
      for (let i = 0; i < 10; i++) g.push(frame(i));
    }, 20);
    await until(() => log.overBudget === 1, 3000, 'the over-budget call');
    clearInterval(feed);
    expect(g.timers).toBe(0);
    const handled = log.handled.length;
    g.push(frame(1));
    expect(log.handled.length).toBe(handled); // closed: nothing more is handled
  });
});

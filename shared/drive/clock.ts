// Time comes in from outside: drivers read a clock, engines only ever get `now`.
export type Clock = () => number;

/** Milliseconds since the epoch with sub-millisecond resolution. */
export const wallClock: Clock = () => performance.timeOrigin + performance.now();

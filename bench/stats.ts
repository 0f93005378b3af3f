// What every benchmark here shares: medians and quantiles, ops/s over a time slice, and
// interleaved latency samples (ours, theirs, ours, …) so that load from elsewhere on the
// machine falls on both sides alike.
/** `--quick` and `--samples N` from the command line, as every benchmark here reads them. */
export function benchArgs(defaults: { samples: number; quickSamples: number; minSamples: number }): { quick: boolean; samples: number; rounds: number; roundMs: number } {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const at = args.indexOf('--samples');
  const samples = at >= 0 ? Math.max(defaults.minSamples, Number(args[at + 1]) || defaults.samples) : quick ? defaults.quickSamples : defaults.samples;
  return { quick, samples, rounds: quick ? 5 : 9, roundMs: quick ? 150 : 250 };
}

export const median = (xs: number[]): number => quantile(xs, 0.5);

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
}

export const fmt = (n: number, digits = 2) => n.toFixed(digits);
export const pad = (s: string, n: number) => s.padEnd(n);

/** ops/s of `fn` over about `ms` milliseconds. */
export function rate(fn: () => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

export interface Latency {
  ours: number[];
  theirs: number[];
}

/** Interleaved samples: ours, theirs, theirs, ours, … (warm-up samples first, not counted). */
export async function latency(samples: number, oursSample: () => Promise<number>, theirsSample: () => Promise<number>): Promise<Latency> {
  for (let i = 0; i < 3; i++) (await oursSample(), await theirsSample());
  const out: Latency = { ours: [], theirs: [] };
  for (let i = 0; i < samples; i++) {
    if (i % 2 === 0) {
      out.ours.push(await oursSample());
      out.theirs.push(await theirsSample());
    } else {
      out.theirs.push(await theirsSample());
      out.ours.push(await oursSample());
    }
  }
  return out;
}

export function printLatency(title: string, oursLabel: string, theirsLabel: string, l: Latency, aim: number): void {
  const mo = median(l.ours);
  const mt = median(l.theirs);
  console.log(`\n${title} (${l.ours.length} fresh sessions each, interleaved)`);
  console.log(`  ${pad(oursLabel, 44)} median ${fmt(mo)} ms   p90 ${fmt(quantile(l.ours, 0.9))} ms   min ${fmt(Math.min(...l.ours))} ms`);
  console.log(`  ${pad(theirsLabel, 44)} median ${fmt(mt)} ms   p90 ${fmt(quantile(l.theirs, 0.9))} ms   min ${fmt(Math.min(...l.theirs))} ms`);
  const ratio = mo / mt;
  console.log(`  ratio ours/theirs (median) ${fmt(ratio)}   aim ≤ ${aim}   ${ratio <= aim ? 'MET' : 'MISSED'}`);
}

/** Rejects if `p` takes longer than `ms`: no sample may hang a benchmark. */
export function withLimit<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

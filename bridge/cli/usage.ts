// Invalid input on the command line: one line on stderr and exit code 2.
export class UsageError extends Error {}

export function intOption(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`bad --${name} "${v}": a whole number from ${min} to ${max}`);
  return Number(v);
}

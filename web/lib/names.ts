// Short, stable names for nodes and formatting helpers the views share.
import type { Endpoint } from '../../shared/transport.ts';
import { endpointKey } from '../../shared/transport.ts';
import { shortHex } from '../../shared/bytes.ts';

export const shortId = (hex: string | undefined): string => (hex ? shortHex(hex, 4) : '?');

export function formatBytes(n: number): string {
  return `${n} B`;
}

/** Milliseconds with a precision that suits their size. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Time since the session began, for the timeline gutter. */
export function formatAt(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(3)} s`;
}

export const where = (e: Endpoint | undefined): string => (e ? endpointKey(e) : '?');

/** Hex in groups for reading aloud: "a1b2 c3d4 …". */
export function groupHex(hex: string, group = 4): string {
  const out: string[] = [];
  for (let i = 0; i < hex.length; i += group) out.push(hex.slice(i, i + group));
  return out.join(' ');
}

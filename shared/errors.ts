// Typed errors for untrusted input. Decoders throw WireError internally and return
// Result at their boundary, so nothing thrown ever escapes to a caller.

export type ErrorCode =
  | 'truncated' // fewer bytes than a length says
  | 'too-large' // over a size limit
  | 'too-small'
  | 'trailing-bytes'
  | 'non-canonical' // RLP not in its one canonical form
  | 'bad-length' // a fixed-size field of the wrong size
  | 'bad-value' // well-formed but not an allowed value
  | 'bad-type' // list where bytes were expected, or the reverse
  | 'unsorted-keys'
  | 'duplicate-key'
  | 'bad-signature'
  | 'unknown-scheme'
  | 'bad-protocol-id'
  | 'bad-version'
  | 'bad-flag'
  | 'decrypt-failed'
  | 'unexpected' // not what this state accepts
  | 'internal'; // a bug: a non-WireError caught at a boundary

export class WireError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** The field at fault, in spec spelling ("authdata-size", "ip", "seq"). */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
  /** "field: message", the one-line reason shown for a rejected packet. */
  get reason(): string {
    return this.field ? `${this.field}: ${this.message}` : this.message;
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const err = <T = never>(code: ErrorCode, field: string, message: string): Result<T> => ({
  ok: false,
  error: new WireError(code, field, message),
});

export function fail(code: ErrorCode, field: string, message: string): never {
  throw new WireError(code, field, message);
}

/** The boundary: runs a decoder and turns any throw into a typed error. */
export function attempt<T>(fn: () => T): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return { ok: false, error: asWireError(e) };
  }
}

export function asWireError(e: unknown): WireError {
  if (e instanceof WireError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new WireError('internal', '', msg);
}

/** Unwraps a Result, rethrowing its error (for trusted paths and tests). */
export function unwrap<T>(r: Result<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

// One-line structured logs on stderr: an event name and metadata (ids, addresses, sizes,
// codes). Never payload bytes, keys or the token.
export type LogLevel = 'silent' | 'info' | 'debug';
export type LogMeta = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(event: string, meta?: LogMeta): void;
  debug(event: string, meta?: LogMeta): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const line = (event: string, meta: LogMeta = {}) =>
    write(
      [new Date().toISOString(), 'bridge', event, ...Object.entries(meta).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`)].join(' '),
    );
  return {
    info: level === 'silent' ? () => {} : line,
    debug: level === 'debug' ? line : () => {},
  };
}

export const silentLogger: Logger = { info: () => {}, debug: () => {} };

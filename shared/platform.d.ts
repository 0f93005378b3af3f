// The platform APIs shared/ may use: those that browsers and Node ≥ 20 both provide.
// shared/tsconfig.json has no DOM or Node types, so anything else fails the typecheck.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare var crypto: { getRandomValues<T extends Uint8Array>(array: T): T };
declare function setTimeout(handler: () => void, ms?: number): unknown;
declare function clearTimeout(id: unknown): void;
declare var performance: { now(): number; timeOrigin: number };

// Ethereum Node Records: codec, well-known keys, enode URLs.
export * from './enr.ts';
export * from './enode.ts';
export * from './keys.ts';

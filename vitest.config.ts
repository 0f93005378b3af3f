// Tests run from the project root (vite.config.ts has root: 'web' for the app build).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: '.',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Network tests bind real loopback sockets: keep files from starving each other on 2 cores.
    fileParallelism: false,
  },
});

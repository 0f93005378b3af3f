// The web app lives in web/ and builds to dist/, which the bridge serves (npm start).
// `npm run dev` serves web/ with hot reload and proxies /tunnel and /lab.json to a bridge
// started with: npm start -- --token <T> --allow-origin http://127.0.0.1:5173 (open the dev page
// with ?token=<T>)
// (BRIDGE_URL overrides where that bridge listens).
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const bridge = process.env.BRIDGE_URL ?? 'http://127.0.0.1:8520';

export default defineConfig({
  root: 'web',
  plugins: [svelte()],
  build: { outDir: '../dist', emptyOutDir: true, target: 'es2022' },
  // The node runs in a module worker (web/worker/node.worker.ts).
  worker: { format: 'es' },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/lab.json': { target: bridge, changeOrigin: true },
      '/lab/ping': { target: bridge, changeOrigin: true },
      '/tunnel': { target: bridge.replace(/^http/, 'ws'), ws: true, changeOrigin: true },
    },
  },
});

import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// agentd serve serves dist/ at /; `npm run dev` proxies the API to a running agentd serve.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: {
    proxy: Object.fromEntries(
      [
        '/session',
        '/runs',
        '/approvals',
        '/teams',
        '/policies',
        '/audit',
        '/registry',
        '/memory',
        '/evals',
        '/agents',
        '/v0',
        '/openapi.json',
      ].map((path) => [
        path,
        { target: process.env.AGENTD_URL ?? 'http://127.0.0.1:7700', changeOrigin: true },
      ]),
    ),
  },
  test: { include: ['src/**/*.test.{ts,tsx}'] },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Tool modules and evaluators import `agentd`: in the checkout that is its sources.
    alias: [{ find: /^agentd$/, replacement: fileURLToPath(new URL('src/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One temp folder for the suite; a test that leaves files or processes behind fails it.
    globalSetup: ['test/support/global-setup.ts'],
    // Most tests wait on processes and sockets, not the CPU: four files at a time keep two
    // cores busy (Vitest's default on two cores is one file at a time).
    maxWorkers: 4,
    // Hang guards, not measures: a test of several agentd processes in a row, four files at a
    // time on two loaded cores, can take half a minute and still be right.
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});

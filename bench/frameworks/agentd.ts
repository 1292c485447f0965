import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, defineTool, runAgent, SqliteStore, z } from '../../src/index.ts';
import { lookup } from '../tool-ledger.ts';
import { instructions, toolDescription, toolName } from '../workloads.ts';
import type { BenchAgent, Framework } from './framework.ts';

const lookupTool = defineTool({
  name: toolName,
  description: toolDescription,
  input: z.object({ key: z.string() }),
  idempotent: true,
  execute: ({ key }) => lookup(key),
});

let dir: string | undefined;
let store: SqliteStore | undefined;

/** One store per process, as the CLI and the server run: every run's log in one SQLite file. */
function sharedStore(): SqliteStore {
  if (!store) {
    dir = mkdtempSync(join(tmpdir(), 'agentd-bench-'));
    store = new SqliteStore({ path: join(dir, 'agentd.db'), durability: 'process' });
  }
  return store;
}

/**
 * `runAgent` as an embedder calls it: with no live listener (`live`: false) the model is asked
 * for whole responses; with one (a terminal, a voice session) it streams.
 */
function agentdFramework(live: boolean): Framework {
  return {
    async createAgent({ baseUrl, maxSteps }): Promise<BenchAgent> {
      const model = await createModel({
        provider: 'openai-compatible',
        id: 'bench-model',
        baseUrl,
        apiKey: 'bench',
      });
      const agent = {
        name: 'bench',
        instructions,
        model,
        tools: [lookupTool],
        limits: { maxTurns: maxSteps },
      };
      const runStore = sharedStore();
      return {
        async run(task) {
          const { state } = await runAgent({
            store: runStore,
            agent,
            task,
            ...(live ? { onLive: ignoreLive } : {}),
          });
          if (state.status !== 'completed') {
            throw new Error(`run ended ${state.status}: ${state.detail ?? state.reason ?? ''}`);
          }
          return state.output ?? '';
        },
      };
    },

    async shutdown() {
      await store?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      store = undefined;
      dir = undefined;
    },
  };
}

/** A listener that takes the deltas and shows them nowhere: the run streams. */
function ignoreLive(): void {}

export const agentd = agentdFramework(false);
export const agentdStream = agentdFramework(true);

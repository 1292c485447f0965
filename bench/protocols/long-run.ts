import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineTool, runAgent, ScriptedModel, SqliteStore, z } from '../../src/index.ts';

export interface LongRunResults {
  steps: number;
  /** The context window the run compacts within. */
  contextWindow: number;
  compactions: number;
  /** Median time of a step (model request to next model request), around step 10 and near the end (ms). */
  earlyStepMs: number;
  lateStepMs: number;
  /** late / early: 1 means the per-step cost does not grow with the run. */
  ratio: number;
  /** Resident memory at step 10 and at the last step (MB). */
  earlyRssMb: number;
  lateRssMb: number;
  /** Heap in use at step 10 and at the last step, after a collection when available (MB). */
  earlyHeapMb: number;
  lateHeapMb: number;
}

/**
 * Orchestration overhead per step over one long run of agentd with its durable log on (SQLite
 * file, `process` durability) and runtime compaction keeping the context small: a scripted
 * model with no latency, one tool call a step. Steps 5–15 against the last 100 steps of the
 * same run; memory at step 10 and at the end. A shorter run first warms the process up, so
 * the comparison is of the run's length, not of V8's warm-up.
 */
export async function runLongRun(
  steps = 10_000,
  contextWindow = 8_000,
  warmupSteps = 2_000,
): Promise<LongRunResults> {
  if (warmupSteps > 0) await runLongRun(warmupSteps, contextWindow, 0);
  const dir = mkdtempSync(join(tmpdir(), 'agentd-long-run-'));
  const store = new SqliteStore({ path: join(dir, 'agentd.db'), durability: 'process' });
  const tick = defineTool({
    name: 'tick',
    description: 'Records one step.',
    input: z.object({ step: z.string() }),
    execute: ({ step }) => `step ${step} recorded; 3 files checked, no warnings`,
  });
  const model = new ScriptedModel('long-run', {
    turns: [
      {
        text: 'Next step.',
        tool_calls: [{ name: 'tick', input: { step: 'n' } }],
        repeat: steps - 1,
      },
      { text: 'Done.' },
    ],
  });
  const stamps: number[] = [];
  const memory: { rss: number; heap: number }[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const sample = () => {
    gc?.();
    const m = process.memoryUsage();
    memory.push({ rss: m.rss / 1e6, heap: m.heapUsed / 1e6 });
  };
  let compactions = 0;
  try {
    const result = await runAgent({
      store,
      agent: {
        name: 'long-run',
        instructions: 'Work step by step.',
        model,
        tools: [tick],
        limits: { maxTurns: steps + 1 },
        compaction: { contextWindow, keepRecentTurns: 3 },
      },
      task: 'Do every step.',
      onEvent: (event) => {
        if (event.type === 'model.request') {
          stamps.push(performance.now());
          if (stamps.length === 10 || stamps.length === steps) sample();
        } else if (event.type === 'context.compacted') {
          compactions++;
        }
      },
    });
    if (result.state.status !== 'completed' || result.state.turns !== steps) {
      throw new Error(
        `long run ended ${result.state.status} after ${result.state.turns} of ${steps} steps`,
      );
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const intervals = stamps.slice(1).map((t, i) => t - stamps[i]!);
  const early = median(intervals.slice(4, 15));
  const late = median(intervals.slice(-100));
  return {
    steps,
    contextWindow,
    compactions,
    earlyStepMs: round(early),
    lateStepMs: round(late),
    ratio: round(late / early),
    earlyRssMb: round(memory[0]!.rss),
    lateRssMb: round(memory[1]!.rss),
    earlyHeapMb: round(memory[0]!.heap),
    lateHeapMb: round(memory[1]!.heap),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

if (import.meta.main) {
  const steps = Number(process.argv[2] ?? 10_000);
  console.log(JSON.stringify(await runLongRun(steps), null, 2));
}

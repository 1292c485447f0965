import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { Gridworld } from '../../src/environments/gridworld.ts';
import { type GridAction, solveGrid } from '../../src/environments/gridworld-solver.ts';
import { openEnvironment } from '../../src/environments/open-environment.ts';
import { runSuite } from '../../src/evals/runner.ts';
import { loadSuite } from '../../src/evals/suite.ts';
import { ToolGate } from '../../src/policy/gate.ts';
import { runToolCall } from '../../src/runtime/tool-runner.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { quantile } from '../stats.ts';

// The example's scripted policy imports `agentd`: these sources, as bin/agentd.js gives them.
const api = new URL('../../src/index.ts', import.meta.url).href;
registerHooks({
  resolve: (specifier, context, next) =>
    specifier === 'agentd' ? { url: api, shortCircuit: true } : next(specifier, context),
});

export interface EnvironmentsResults {
  /** Steps per round, rounds alternating direct and through the tools. */
  steps: number;
  rounds: number;
  /** `Gridworld.step()` called directly: median µs a step, over the rounds' medians. */
  directUs: number;
  /** The same steps as the agent takes them: `env_step` through `runToolCall` and the gate (validation, authorization, the episode, the step record and its observation digest). */
  toolUs: number;
  /** What agentd's environment tools add to a step, µs (goal ≤ 200). */
  overheadUs: number;
  /** Gridworld eval episodes a second with the scripted agent (runs recorded in SQLite, in memory). */
  eval: { episodes: number; concurrency: number; seconds: number; episodesPerSecond: number }[];
}

/** The solver's actions for whole episodes of seeds 0..seeds-1. */
async function plans(seeds: number): Promise<GridAction[][]> {
  const out: GridAction[][] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const world = new Gridworld({ maxSteps: 1000 });
    const first = await world.reset(seed);
    const state = first.state as { grid: string[]; agent: [number, number] };
    out.push(solveGrid(state.grid, { x: state.agent[0], y: state.agent[1] })!);
  }
  return out;
}

/** µs a step of whole episodes played directly on the environment. */
async function direct(all: GridAction[][], steps: number): Promise<number> {
  const world = new Gridworld({ maxSteps: 1000 });
  const times: number[] = [];
  for (let done = 0, seed = 0; done < steps; seed = (seed + 1) % all.length) {
    await world.reset(seed);
    for (const action of all[seed]!) {
      const started = performance.now();
      await world.step({ action });
      times.push((performance.now() - started) * 1000);
      done++;
    }
  }
  return quantile(times, 0.5);
}

/** µs a step of the same episodes through env_step, the gate and the episode. */
async function throughTools(all: GridAction[][], steps: number): Promise<number> {
  const times: number[] = [];
  const signal = new AbortController().signal;
  let key = 0;
  for (let done = 0, seed = 0; done < steps; seed = (seed + 1) % all.length) {
    const env = await openEnvironment({ kind: 'gridworld', seed, max_steps: 1000 });
    const gate = new ToolGate(env.tools);
    for (const action of all[seed]!) {
      const started = performance.now();
      const outcome = await runToolCall(
        { id: `c${key}`, name: 'env_step', input: { action } },
        gate,
        {
          runId: 'bench',
          idempotencyKey: `bench:${key++}`,
          signal,
        },
      );
      times.push((performance.now() - started) * 1000);
      if (outcome.isError) throw new Error(`bench: env_step failed: ${String(outcome.output)}`);
      done++;
    }
    await env.close();
  }
  return quantile(times, 0.5);
}

/** Episodes a second of a gridworld eval suite run with the example's scripted agent. */
async function evalRate(dir: string, episodes: number, concurrency: number) {
  const cases = Array.from({ length: episodes }, (_, seed) =>
    JSON.stringify({ id: `seed-${seed}`, kind: 'environment', seed }),
  );
  writeFileSync(join(dir, 'episodes.jsonl'), `${cases.join('\n')}\n`);
  const agent = new URL('../../examples/gridworld/agent.yaml', import.meta.url).pathname;
  writeFileSync(
    join(dir, 'suite.yaml'),
    `agent: ${agent}\ndataset: ./episodes.jsonl\nconcurrency: ${concurrency}\nevaluators: [episode_success, optimal_steps]\n`,
  );
  const config = loadConfig({ AGENTD_HOME: join(dir, 'home') });
  const suite = await loadSuite(join(dir, 'suite.yaml'), config);
  const store = new SqliteStore({ path: ':memory:' });
  try {
    const started = performance.now();
    const result = await runSuite({ suite, store, config });
    const seconds = (performance.now() - started) / 1000;
    if (result.summary.passed !== episodes) {
      throw new Error(`bench: ${episodes - result.summary.passed} episodes did not pass`);
    }
    return {
      episodes,
      concurrency,
      seconds: round(seconds, 2),
      episodesPerSecond: round(episodes / seconds, 1),
    };
  } finally {
    await store.close();
  }
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * The environments issue's benchmark: what agentd's environment tools add to a step over
 * calling the environment directly (rounds alternate the two, medians of round medians), and
 * gridworld eval episodes a second with the scripted agent. Reports only; nothing asserts a time.
 */
export async function runEnvironmentsBench(options: {
  steps: number;
  rounds: number;
  episodes: number;
  log: (line: string) => void;
}): Promise<EnvironmentsResults> {
  const all = await plans(50);
  await direct(all, 2000); // warm-up
  await throughTools(all, 2000);
  const d: number[] = [];
  const t: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    d.push(await direct(all, options.steps));
    t.push(await throughTools(all, options.steps));
  }
  const directUs = quantile(d, 0.5);
  const toolUs = quantile(t, 0.5);
  options.log(
    `environments: a step ${directUs.toFixed(1)} µs direct, ${toolUs.toFixed(1)} µs through env_step`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'agentd-env-bench-'));
  try {
    const evals = [];
    for (const concurrency of [1, 4]) {
      evals.push(await evalRate(dir, options.episodes, concurrency));
      options.log(
        `environments: ${evals.at(-1)!.episodesPerSecond} episodes/s at concurrency ${concurrency}`,
      );
    }
    return {
      steps: options.steps,
      rounds: options.rounds,
      directUs: round(directUs, 2),
      toolUs: round(toolUs, 2),
      overheadUs: round(toolUs - directUs, 2),
      eval: evals,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const results = await runEnvironmentsBench({
    steps: 5000,
    rounds: 5,
    episodes: Number(process.argv[2] ?? 40),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

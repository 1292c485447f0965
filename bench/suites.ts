import type { BenchContext } from './context.ts';
import { runCold } from './protocols/cold.ts';
import { runConcurrency } from './protocols/concurrency.ts';
import { runConsoleBench } from './protocols/console.ts';
import { runDataBench } from './protocols/data.ts';
import { runEnvironmentsBench } from './protocols/environments.ts';
import { runGatewayBench } from './protocols/gateway.ts';
import { runLocalBench } from './protocols/local.ts';
import { runLongRunProcess } from './protocols/long-run-process.ts';
import { runMemoryBenchProcess } from './protocols/memory-process.ts';
import { runPolicyBench } from './protocols/policy.ts';
import type { ColdSample, ConcurrencySample } from './protocols/samples.ts';
import { runScaleBench } from './protocols/scale.ts';
import { runStartup } from './protocols/startup.ts';
import { runSteps } from './protocols/steps.ts';
import { runTeamsBench } from './protocols/teams.ts';
import { runTelemetryBench } from './protocols/telemetry.ts';
import { runVoiceBench } from './protocols/voice.ts';
import { runWarm, type WarmResults } from './protocols/warm.ts';
import { summarizeProfile } from './report/profile-summary.ts';
import type { Results } from './results.ts';
import { summarizePeers } from './summarize.ts';
import { workloadNames } from './workloads.ts';

/** What a suite adds to the results. */
type SuiteOutput = Partial<
  Pick<
    Results,
    | 'peers'
    | 'profile'
    | 'startup'
    | 'steps'
    | 'longRun'
    | 'policy'
    | 'teams'
    | 'memory'
    | 'gateway'
    | 'console'
    | 'telemetry'
    | 'data'
    | 'environments'
    | 'voice'
    | 'local'
    | 'scale'
  >
>;

export interface Suite {
  name: string;
  description: string;
  /** The frameworks it runs when `--frameworks` does not say. */
  defaultFrameworks: 'all' | 'agentd';
  run(ctx: BenchContext): Promise<SuiteOutput>;
}

async function peers(
  ctx: BenchContext,
  parts: { cold: boolean; warm: boolean; concurrency: boolean },
): Promise<SuiteOutput> {
  let cold: ColdSample[] = [];
  let warm: WarmResults = { samples: [], throughput: [], warmupRuns: 0 };
  let concurrency: ConcurrencySample[] = [];
  if (parts.cold) {
    ctx.log('cold: fresh processes, first runs');
    cold = await runCold(ctx);
  }
  if (parts.warm) {
    ctx.log('warm: after warm-up, rounds rotating the order');
    warm = await runWarm(ctx);
  }
  if (parts.concurrency) {
    ctx.log(`memory: concurrent runs on a ${ctx.plan.concurrency.latencyMs} ms model`);
    concurrency = await runConcurrency(ctx);
  }
  const output: SuiteOutput = {
    peers: {
      summary: summarizePeers(ctx.frameworks, workloadNames, {
        cold,
        warm: warm.samples,
        throughput: warm.throughput,
        concurrency,
      }),
      ...(parts.warm ? { warmupRuns: warm.warmupRuns } : {}),
      samples: { cold, warm: warm.samples, throughput: warm.throughput, concurrency },
    },
  };
  if (warm.profileFile) {
    output.profile = {
      ...summarizeProfile(warm.profileFile),
      workload: 'b',
      runs: warm.profileRuns ?? 0,
    };
  }
  return output;
}

/**
 * Every benchmark, by the name `npm run bench -- --suite <name>` takes. `all` (the default)
 * runs `peers`, `startup`, `steps` and `long-run`: every figure the README shows. Subsystem benchmarks
 * (policy decision, gateway overhead, memory recall) join here as their issues land.
 */
export const suites: Record<string, Suite> = {
  peers: {
    name: 'peers',
    description:
      'agentd against its peers: cold, warm (with the agentd profile), memory under load',
    defaultFrameworks: 'all',
    run: (ctx) => peers(ctx, { cold: true, warm: true, concurrency: true }),
  },
  cold: {
    name: 'cold',
    description: 'peers, cold protocol only: fresh processes, first runs',
    defaultFrameworks: 'all',
    run: (ctx) => peers(ctx, { cold: true, warm: false, concurrency: false }),
  },
  warm: {
    name: 'warm',
    description: 'peers, warm protocol only (and the agentd profile)',
    defaultFrameworks: 'all',
    run: (ctx) => peers(ctx, { cold: false, warm: true, concurrency: false }),
  },
  concurrency: {
    name: 'concurrency',
    description: 'peers, peak RSS with many concurrent runs waiting on a slow model',
    defaultFrameworks: 'all',
    run: (ctx) => peers(ctx, { cold: false, warm: false, concurrency: true }),
  },
  gateway: {
    name: 'gateway',
    description:
      'MCP gateway overhead: a tool call through agentd serve /mcp (key, policy, audit, proxy) against the same call direct, p50/p99, calls/s at 1, 10 and 100 clients',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      ctx.log('gateway: an echo tool through /mcp and direct, each side in its own process');
      const quick = ctx.plan.name === 'quick';
      return {
        gateway: await runGatewayBench({
          calls: quick ? 500 : 2000,
          seconds: quick ? 1 : 3,
          log: ctx.log,
        }),
      };
    },
  },
  console: {
    name: 'console',
    description:
      'the web console in Chromium: the runs list with 100,000 runs (first render, filter change) and a 10,000-event run timeline (first render, every event, scrolling)',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      const quick = ctx.plan.name === 'quick';
      return {
        console: await runConsoleBench({
          tmpDir: ctx.tmpDir,
          runs: quick ? 20_000 : 100_000,
          events: 10_000,
          rounds: quick ? 3 : 7,
          log: ctx.log,
        }),
      };
    },
  },
  memory: {
    name: 'memory',
    description:
      'long-term memory: ingestion, recall latency (p50, p95) and index memory at 10k, 100k and 1M memories',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      const sizes = ctx.plan.name === 'quick' ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
      ctx.log(`memory: ${sizes.map((n) => n.toLocaleString('en')).join(', ')} memories`);
      return { memory: await runMemoryBenchProcess(ctx, sizes) };
    },
  },
  startup: {
    name: 'startup',
    description: '`agentd run` from process start to the first model request',
    defaultFrameworks: 'agentd',
    run: async (ctx) => ({ startup: await runStartup(ctx) }),
  },
  steps: {
    name: 'steps',
    description: 'per-step overhead over a 1,000-step run (agentd and the raw loop)',
    defaultFrameworks: 'agentd',
    run: async (ctx) => ({ steps: await runSteps(ctx) }),
  },
  'long-run': {
    name: 'long-run',
    description:
      'one compacting agentd run of 10,000 steps: per-step time near step 10 and the end, heap, RSS',
    defaultFrameworks: 'agentd',
    run: async (ctx) => ({ longRun: await runLongRunProcess(ctx) }),
  },
  policy: {
    name: 'policy',
    description:
      'Cedar decision latency (p50, p99) at 10, 100 and 1,000 policies, and its share of a tool call',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      ctx.log('policy: decisions at 10, 100 and 1,000 policies; a one-tool step with and without');
      return { policy: await runPolicyBench(1000) };
    },
  },
  telemetry: {
    name: 'telemetry',
    description:
      'OpenTelemetry overhead per one-tool run: telemetry off, on with a local OTLP receiver, on with an endpoint nothing listens on (scripted model and the fake model over HTTP)',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      const quick = ctx.plan.name === 'quick';
      ctx.log('telemetry: one-tool runs, off / local receiver / unreachable, rotating');
      return {
        telemetry: await runTelemetryBench({
          runs: quick ? 100 : 400,
          rounds: quick ? 2 : 5,
          log: ctx.log,
          server: ctx.server,
        }),
      };
    },
  },
  environments: {
    name: 'environments',
    description:
      "environments: a gridworld step through agentd's env_step tool (validation, gate, episode, step record) against the environment called directly; episodes/s of the gridworld eval with the scripted agent",
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      const quick = ctx.plan.name === 'quick';
      ctx.log(
        'environments: gridworld steps direct and through env_step, rotating; eval episodes/s',
      );
      return {
        environments: await runEnvironmentsBench({
          steps: quick ? 2000 : 10_000,
          rounds: quick ? 3 : 7,
          episodes: quick ? 20 : 100,
          log: ctx.log,
        }),
      };
    },
  },
  data: {
    name: 'data',
    description:
      'datasets: rows/s of a sampler + llm-text + llm-judge design on a 100 ms model at concurrency 1, 8, 32 against the ideal; SFT export rows/s from 100,000 stored runs; peak RSS of 100k- and 1M-row generations',
    defaultFrameworks: 'agentd',
    run: async (ctx) => ({
      data: await runDataBench({ quick: ctx.plan.name === 'quick', log: ctx.log }),
    }),
  },
  voice: {
    name: 'voice',
    description:
      "voice: agentd's latency from a provider's final transcript to the model request and from end of speech to the first token (fake provider and model at fixed latency, 100 utterances of one run); the offline engine's real-time factor",
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      const utterances = ctx.plan.name === 'quick' ? 30 : 100;
      ctx.log(`voice: ${utterances} utterances into one run, provider 150 ms, model 100 ms`);
      return { voice: await runVoiceBench({ utterances, tmpDir: ctx.tmpDir, log: ctx.log }) };
    },
  },
  local: {
    name: 'local',
    description:
      'the tiny GGUF through agentd (local/<file>.gguf) against node-llama-cpp called directly in the same process: time to first token, tokens/s; RSS with 1 and 4 concurrent runs',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      const quick = ctx.plan.name === 'quick';
      return {
        local: await runLocalBench({
          rounds: quick ? 6 : 20,
          tokens: 128,
          tmpDir: ctx.tmpDir,
          log: ctx.log,
        }),
      };
    },
  },
  scale: {
    name: 'scale',
    description:
      'scale-out on Postgres: runs/s with 1, 2 and 4 agentd worker processes (fake model at 200 ms), event appends/s on Postgres and SQLite, SIGKILL of a worker to its runs resumed elsewhere',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      ctx.log('scale: workers on Postgres, appends by store, takeover after SIGKILL');
      const quick = ctx.plan.name === 'quick';
      return {
        scale: await runScaleBench({
          server: ctx.server,
          tmpDir: ctx.tmpDir,
          appends: quick ? 1000 : 4000,
          log: ctx.log,
        }),
      };
    },
  },
  teams: {
    name: 'teams',
    description:
      'agent teams: wall time of 1, 2, 4 and 8 teammates on 16 independent tasks, fixed-latency model; speed-up',
    defaultFrameworks: 'agentd',
    run: async (ctx) => {
      ctx.log('teams: 16 independent tasks, a 50 ms model, 1 to 8 teammates');
      return { teams: await runTeamsBench({ log: ctx.log }) };
    },
  },
};

export const defaultSuites = ['peers', 'startup', 'steps', 'long-run'];

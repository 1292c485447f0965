import type { WorkloadName } from './workloads.ts';

type PerWorkload = Record<Exclude<WorkloadName, 'l'>, number>;

/** How many of everything a benchmark run does: sized to finish in 15 minutes on 2 cores. */
export interface Plan {
  name: 'full' | 'quick';
  cold: {
    /** Fresh processes per framework and workload, in rounds that rotate the order. */
    rounds: number;
    /** The first runs of a fresh process that are timed. */
    runs: PerWorkload;
  };
  warm: {
    /** Runs each worker makes before anything is timed (1,500 in all for the full plan). */
    warmup: PerWorkload;
    rounds: number;
    /** Sequential runs timed per round. */
    runs: PerWorkload;
    throughputRounds: number;
    /** Runs per throughput batch, and how many are in flight at once. */
    throughputRuns: PerWorkload;
    throughputConcurrency: PerWorkload;
  };
  concurrency: {
    levels: number[];
    latencyMs: number;
    workload: 'a';
    /** Memory tests at a time (peak RSS does not depend on sharing the CPU; wall time does). */
    parallel: number;
    /** Ports of the fake model the runs are spread over. */
    ports: number;
  };
  startup: { runs: number };
  steps: { warmup: number };
  profile: { runs: number };
}

export const fullPlan: Plan = {
  name: 'full',
  cold: { rounds: 3, runs: { a: 50, b: 50, c: 50, d: 1 } },
  warm: {
    warmup: { a: 500, b: 500, c: 500, d: 1 },
    rounds: 5,
    runs: { a: 100, b: 50, c: 50, d: 1 },
    throughputRounds: 2,
    throughputRuns: { a: 100, b: 50, c: 50, d: 2 },
    throughputConcurrency: { a: 16, b: 16, c: 16, d: 2 },
  },
  concurrency: { levels: [1_000, 10_000], latencyMs: 2_000, workload: 'a', parallel: 2, ports: 64 },
  startup: { runs: 10 },
  steps: { warmup: 300 },
  profile: { runs: 400 },
};

/** For development: every figure, from few repetitions. Not for the README. */
export const quickPlan: Plan = {
  name: 'quick',
  cold: { rounds: 1, runs: { a: 10, b: 10, c: 10, d: 1 } },
  warm: {
    warmup: { a: 100, b: 50, c: 50, d: 1 },
    rounds: 2,
    runs: { a: 30, b: 15, c: 15, d: 1 },
    throughputRounds: 1,
    throughputRuns: { a: 50, b: 30, c: 30, d: 2 },
    throughputConcurrency: { a: 16, b: 16, c: 16, d: 2 },
  },
  concurrency: { levels: [500], latencyMs: 2_000, workload: 'a', parallel: 2, ports: 64 },
  startup: { runs: 3 },
  steps: { warmup: 50 },
  profile: { runs: 100 },
};

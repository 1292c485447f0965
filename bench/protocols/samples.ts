import type { FrameworkName } from '../frameworks/catalog.ts';
import type { WorkloadName } from '../workloads.ts';

/** One cold process: a fresh process's first runs of one workload. */
export interface ColdSample {
  framework: FrameworkName;
  workload: WorkloadName;
  round: number;
  /** Process start to the framework module loaded (ms). */
  importMs: number;
  /** Process start (spawn) to the first request at the fake model (ms). */
  firstRequestMs: number;
  /** Each run's time in ms, in order. */
  times: number[];
}

/** One warm batch: sequential runs in a process that has done at least 1,500 runs. */
export interface WarmSample {
  framework: FrameworkName;
  workload: WorkloadName;
  round: number;
  times: number[];
  /** Heap used after a full GC, after minus before the batch, per run (bytes). */
  heapPerRun: number;
  /** The worker's CPU time over the batch per run (ms), its fake model's not counted. */
  cpuPerRun?: number;
}

export interface ThroughputSample {
  framework: FrameworkName;
  workload: WorkloadName;
  round: number;
  runs: number;
  concurrency: number;
  runsPerSecond: number;
}

export interface ConcurrencySample {
  framework: FrameworkName;
  workload: WorkloadName;
  runs: number;
  latencyMs: number;
  rssIdle: number;
  rssPeak: number;
  heapPeak: number;
  wallMs: number;
  failed: number;
}

import type { FrameworkName } from './frameworks/catalog.ts';
import type {
  ColdSample,
  ConcurrencySample,
  ThroughputSample,
  WarmSample,
} from './protocols/samples.ts';
import { median, quantile } from './stats.ts';
import type { WorkloadName } from './workloads.ts';

export interface OverheadFigures {
  /** Framework overhead per run (run time minus the fake model's), ms. */
  overheadP50: number;
  overheadP99: number;
  /** Over every round's runs together (a round has too few runs for its own). */
  overheadP999: number;
  /** Run time itself, ms. */
  runP50: number;
}

export interface WorkloadSummary {
  warm?: OverheadFigures & { runsPerSecond: number; heapPerRun: number; cpuPerRun?: number };
  cold?: OverheadFigures & { firstRunMs: number };
}

export interface FrameworkSummary {
  /** Cold: process start to the framework loaded, and to its first model request (ms). */
  importMs?: number;
  firstRequestMs?: number;
  workloads: Partial<Record<WorkloadName, WorkloadSummary>>;
  /** Peak RSS and more by number of concurrent runs waiting on the slow model. */
  concurrency: Record<number, Omit<ConcurrencySample, 'framework' | 'workload' | 'runs'>>;
}

export type PeerSummary = Partial<Record<FrameworkName, FrameworkSummary>>;

interface TimedSample {
  framework: FrameworkName;
  workload: WorkloadName;
  round: number;
  times: number[];
}

/** Below this many runs a round, p99 is taken over the runs of all rounds together. */
const fewRuns = 20;

/**
 * Overhead per run: each run's time minus the fake model's own time, the median time of the
 * raw loop on the same workload in the same round (`model` when given: the cold protocol
 * subtracts the warm raw loop's time, since a cold raw loop also pays its own start-up);
 * p50 and p99 per round, then the median over rounds (p99 over all rounds' runs together
 * where rounds have few runs).
 */
function overheads(
  samples: readonly TimedSample[],
  framework: FrameworkName,
  workload: WorkloadName,
  model?: number,
) {
  const mine = samples.filter((s) => s.framework === framework && s.workload === workload);
  const p50: number[] = [];
  const p99: number[] = [];
  const run: number[] = [];
  const pooled: number[] = [];
  for (const sample of mine) {
    const raw = samples.find(
      (s) => s.framework === 'raw' && s.workload === workload && s.round === sample.round,
    );
    const base = model ?? (raw ? median(raw.times) : Number.NaN);
    const over = sample.times.map((t) => t - base);
    p50.push(quantile(over, 0.5));
    p99.push(quantile(over, 0.99));
    pooled.push(...over);
    run.push(median(sample.times));
  }
  const few = mine.some((s) => s.times.length < fewRuns);
  return {
    overheadP50: median(p50),
    overheadP99: few ? quantile(pooled, 0.99) : median(p99),
    overheadP999: quantile(pooled, 0.999),
    runP50: median(run),
    mine,
  };
}

export function summarizePeers(
  frameworks: readonly FrameworkName[],
  workloads: readonly WorkloadName[],
  data: {
    cold: readonly ColdSample[];
    warm: readonly WarmSample[];
    throughput: readonly ThroughputSample[];
    concurrency: readonly ConcurrencySample[];
  },
): PeerSummary {
  const summary: PeerSummary = {};
  for (const framework of frameworks) {
    const cold = data.cold.filter((s) => s.framework === framework);
    const entry: FrameworkSummary = { workloads: {}, concurrency: {} };
    if (cold.length > 0) {
      entry.importMs = median(cold.map((s) => s.importMs));
      entry.firstRequestMs = median(cold.map((s) => s.firstRequestMs).filter(Number.isFinite));
    }
    for (const workload of workloads) {
      const figures: WorkloadSummary = {};
      const warm = overheads(data.warm, framework, workload);
      if (warm.mine.length > 0) {
        const heap = data.warm
          .filter((s) => s.framework === framework && s.workload === workload)
          .map((s) => s.heapPerRun);
        const rate = data.throughput
          .filter((s) => s.framework === framework && s.workload === workload)
          .map((s) => s.runsPerSecond);
        figures.warm = {
          overheadP50: warm.overheadP50,
          overheadP99: warm.overheadP99,
          overheadP999: warm.overheadP999,
          runP50: warm.runP50,
          heapPerRun: median(heap),
          cpuPerRun: median(
            data.warm
              .filter((s) => s.framework === framework && s.workload === workload)
              .flatMap((s) => (s.cpuPerRun === undefined ? [] : [s.cpuPerRun])),
          ),
          runsPerSecond: median(rate),
        };
      }
      const rawWarm = data.warm.filter((s) => s.framework === 'raw' && s.workload === workload);
      const model = rawWarm.length > 0 ? median(rawWarm.map((s) => median(s.times))) : undefined;
      const coldFigures = overheads(data.cold, framework, workload, model);
      if (coldFigures.mine.length > 0) {
        figures.cold = {
          overheadP50: coldFigures.overheadP50,
          overheadP99: coldFigures.overheadP99,
          overheadP999: coldFigures.overheadP999,
          runP50: coldFigures.runP50,
          firstRunMs: median(coldFigures.mine.map((s) => s.times[0] ?? Number.NaN)),
        };
      }
      entry.workloads[workload] = figures;
    }
    for (const sample of data.concurrency.filter((s) => s.framework === framework)) {
      const { framework: _f, workload: _w, runs, ...rest } = sample;
      entry.concurrency[runs] = rest;
    }
    summary[framework] = entry;
  }
  return summary;
}

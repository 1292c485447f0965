import { join } from 'node:path';
import type { BenchContext } from '../context.ts';
import type { FrameworkName } from '../frameworks/catalog.ts';
import { rotated } from '../stats.ts';
import { WorkerProcess } from '../worker-process.ts';
import { type WorkloadName, workloadNames } from '../workloads.ts';
import type { ThroughputSample, WarmSample } from './samples.ts';

export interface WarmResults {
  samples: WarmSample[];
  throughput: ThroughputSample[];
  /** Warm-up runs each worker made before anything was timed. */
  warmupRuns: number;
  /** Where the CPU profile of agentd on workload b (warm) was written, if agentd ran. */
  profileFile?: string;
  profileRuns?: number;
}

/**
 * Warm: one long-lived process per framework. Each first makes the plan's warm-up runs (V8
 * keeps lowering per-run time for about 1,500 runs on these machines), then rounds that
 * rotate the order of frameworks time sequential runs of every workload, then rounds of
 * concurrent runs give runs per second. Only one worker works at a time; the others wait.
 */
export async function runWarm(ctx: BenchContext): Promise<WarmResults> {
  const { plan, server } = ctx;
  const workers = new Map<FrameworkName, WorkerProcess>();
  const results: WarmResults = { samples: [], throughput: [], warmupRuns: 0 };
  const batch = async (
    worker: WorkerProcess,
    workload: WorkloadName,
    runs: number,
    concurrency: number,
    what: string,
  ) => {
    const result = await worker.request({
      type: 'batch',
      workload,
      baseUrl: server.baseUrl(workload),
      runs,
      concurrency,
    });
    if (result.failed > 0) {
      ctx.failures.push(`${what} ${worker.framework} ${workload}: ${result.failures.join('; ')}`);
    }
    return result;
  };
  try {
    for (const framework of ctx.frameworks) {
      const worker = await WorkerProcess.start(framework);
      workers.set(framework, worker);
      const started = performance.now();
      let runs = 0;
      for (const workload of workloadNames) {
        const count = plan.warm.warmup[workload as keyof typeof plan.warm.warmup];
        await batch(worker, workload, count, 1, 'warm-up');
        runs += count;
      }
      results.warmupRuns = runs;
      ctx.log(
        `  warm-up ${framework}: ${runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    for (let round = 0; round < plan.warm.rounds; round++) {
      for (const framework of rotated(ctx.frameworks, round)) {
        const worker = workers.get(framework)!;
        for (const workload of workloadNames) {
          const runs = plan.warm.runs[workload as keyof typeof plan.warm.runs];
          const result = await batch(worker, workload, runs, 1, 'warm');
          results.samples.push({
            framework,
            workload,
            round,
            times: result.times,
            heapPerRun: (result.heapAfter - result.heapBefore) / runs,
            cpuPerRun: result.cpuMs / runs,
          });
        }
      }
      ctx.log(`  warm round ${round + 1}/${plan.warm.rounds} done`);
    }
    for (let round = 0; round < plan.warm.throughputRounds; round++) {
      for (const framework of rotated(ctx.frameworks, round)) {
        const worker = workers.get(framework)!;
        for (const workload of workloadNames) {
          const key = workload as keyof typeof plan.warm.throughputRuns;
          const runs = plan.warm.throughputRuns[key];
          const concurrency = plan.warm.throughputConcurrency[key];
          const result = await batch(worker, workload, runs, concurrency, 'throughput');
          results.throughput.push({
            framework,
            workload,
            round,
            runs,
            concurrency,
            runsPerSecond: (runs - result.failed) / (result.wallMs / 1000),
          });
        }
      }
      ctx.log(`  throughput round ${round + 1}/${plan.warm.throughputRounds} done`);
    }
    const agentd = workers.get('agentd');
    if (agentd) {
      const file = join(ctx.tmpDir, 'agentd-warm-b.cpuprofile');
      const result = await agentd.request({
        type: 'profile',
        workload: 'b',
        baseUrl: server.baseUrl('b'),
        runs: plan.profile.runs,
        file,
      });
      results.profileFile = result.file;
      results.profileRuns = result.runs;
      ctx.log(`  profiled agentd on workload b (warm): ${result.runs} runs`);
    }
  } finally {
    await Promise.all([...workers.values()].map((worker) => worker.exit()));
  }
  return results;
}

import type { BenchContext } from '../context.ts';
import { rotated } from '../stats.ts';
import { WorkerProcess } from '../worker-process.ts';
import { workloadNames } from '../workloads.ts';
import type { ColdSample } from './samples.ts';

/**
 * Cold: what a CLI user feels. For each framework and workload a fresh process loads the
 * framework and makes its first runs; the process start to its first model request is timed
 * at the fake model. Rounds rotate the order of frameworks.
 */
export async function runCold(ctx: BenchContext): Promise<ColdSample[]> {
  const { plan, server } = ctx;
  const samples: ColdSample[] = [];
  for (let round = 0; round < plan.cold.rounds; round++) {
    for (const framework of rotated(ctx.frameworks, round)) {
      for (const workload of workloadNames) {
        const runs = plan.cold.runs[workload as keyof typeof plan.cold.runs];
        const spawned = performance.now();
        const worker = await WorkerProcess.start(framework);
        try {
          // Tags are `p<pid>x<n>`: the first run's is known before it starts.
          const first = server.firstRequest(`p${worker.pid}x1`);
          const result = await worker.request({
            type: 'batch',
            workload,
            baseUrl: server.baseUrl(workload),
            runs,
            concurrency: 1,
          });
          if (result.failed > 0) {
            ctx.failures.push(`cold ${framework} ${workload}: ${result.failures.join('; ')}`);
          }
          samples.push({
            framework,
            workload,
            round,
            importMs: worker.importMs,
            // Settled by now if any request came; NaN if the run failed before asking.
            firstRequestMs: (await Promise.race([first, Promise.resolve(Number.NaN)])) - spawned,
            times: result.times,
          });
        } finally {
          await worker.exit();
        }
      }
      ctx.log(`  cold round ${round + 1}/${plan.cold.rounds}: ${framework} done`);
    }
  }
  return samples;
}

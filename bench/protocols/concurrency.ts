import type { BenchContext } from '../context.ts';
import { rotated } from '../stats.ts';
import { WorkerProcess } from '../worker-process.ts';
import type { ConcurrencySample } from './samples.ts';

/**
 * Memory under load: a fresh process per framework starts N runs at once against a slow
 * model (2 s before each answer), so all N wait at the same time; its peak RSS is taken.
 */
export async function runConcurrency(ctx: BenchContext): Promise<ConcurrencySample[]> {
  const { plan, server } = ctx;
  const { workload, latencyMs } = plan.concurrency;
  const samples: ConcurrencySample[] = [];
  for (const [i, runs] of plan.concurrency.levels.entries()) {
    for (const framework of rotated(ctx.frameworks, i)) {
      const worker = await WorkerProcess.start(framework);
      try {
        const result = await worker.request({
          type: 'concurrent',
          workload,
          baseUrl: server.baseUrl(workload, latencyMs),
          runs,
        });
        if (result.failed > 0) {
          ctx.failures.push(`concurrent ${runs} ${framework}: ${result.failed} failed: ${result.failures.join('; ')}`);
        }
        samples.push({
          framework,
          workload,
          runs,
          latencyMs,
          rssIdle: result.rssIdle,
          rssPeak: result.rssPeak,
          heapPeak: result.heapPeak,
          wallMs: result.wallMs,
          failed: result.failed,
        });
        ctx.log(
          `  ${runs} concurrent runs, ${framework}: peak RSS ${(result.rssPeak / 2 ** 20).toFixed(0)} MiB, ${(result.wallMs / 1000).toFixed(1)} s`,
        );
      } finally {
        await worker.exit();
        server.forgetOpenRuns();
      }
    }
  }
  return samples;
}

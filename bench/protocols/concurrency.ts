import type { BenchContext } from '../context.ts';
import type { FrameworkName } from '../frameworks/catalog.ts';
import { rotated } from '../stats.ts';
import { WorkerProcess } from '../worker-process.ts';
import type { ConcurrencySample } from './samples.ts';

/**
 * Memory under load: a fresh process per framework starts N runs at once against a slow
 * model (2 s before each answer), so all N wait at the same time; its peak RSS is taken.
 * The runs are spread over the fake model's ports (see `FakeModelServer.start`). Tests run
 * `plan.concurrency.parallel` at a time: each is CPU-bound for N × its per-run cost, and
 * peak RSS does not depend on sharing the CPU (wall times, which do, stay in the JSON).
 */
export async function runConcurrency(ctx: BenchContext): Promise<ConcurrencySample[]> {
  const { plan, server } = ctx;
  const { workload, latencyMs } = plan.concurrency;
  const baseUrls = Array.from({ length: server.ports }, (_, port) =>
    server.baseUrl(workload, latencyMs, port),
  );
  const samples: ConcurrencySample[] = [];
  const one = async (framework: FrameworkName, runs: number): Promise<void> => {
    const worker = await WorkerProcess.start(framework);
    try {
      const result = await worker.request({ type: 'concurrent', workload, baseUrls, runs });
      if (result.failed > 0) {
        ctx.failures.push(
          `concurrent ${runs} ${framework}: ${result.failed} failed: ${result.failures.join('; ')}`,
        );
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
    }
  };
  const queue = plan.concurrency.levels.flatMap((runs, i) =>
    rotated(ctx.frameworks, i).map((framework) => ({ framework, runs })),
  );
  const lane = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) await one(job.framework, job.runs);
  };
  await Promise.all(Array.from({ length: plan.concurrency.parallel }, lane));
  server.forgetOpenRuns();
  return samples;
}

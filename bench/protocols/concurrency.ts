import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../context.ts';
import { baseUrlOf } from '../fake-model/server.ts';
import type { FrameworkName } from '../frameworks/catalog.ts';
import { rotated } from '../stats.ts';
import { WorkerProcess } from '../worker-process.ts';
import type { ConcurrencySample } from './samples.ts';

const serverFile = fileURLToPath(new URL('../fake-model/server-process.ts', import.meta.url));

/** Starts a fake model in its own process; resolves with its origins and a way to stop it. */
async function startServerProcess(
  ports: number,
): Promise<{ origins: string[]; stop: () => Promise<void> }> {
  const child = fork(serverFile, [String(ports)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const origins = await new Promise<string[]>((resolve, reject) => {
    child.once('message', (message: { origins: string[] }) => resolve(message.origins));
    child.once('exit', (code) => reject(new Error(`fake model process exited (${code})`)));
  });
  return {
    origins,
    stop: async () => {
      child.disconnect();
      await exited;
    },
  };
}

/**
 * Memory under load: a fresh process per framework starts N runs at once against a slow
 * model, which holds every first answer until all N runs have asked (so all N are waiting
 * at the same moment however long the framework takes to start them), then answers each
 * request 2 s after it arrived or the barrier opened; the process's peak RSS is taken.
 * The runs are spread over the fake model's ports (see `FakeModelServer.start`), and each
 * test has a fake model process of its own (a process may hold 20,000 file descriptors).
 * Tests run `plan.concurrency.parallel` at a time: each is CPU-bound for N × its per-run
 * cost, and peak RSS does not depend on sharing the CPU (wall times, which do, stay in the
 * JSON).
 */
export async function runConcurrency(ctx: BenchContext): Promise<ConcurrencySample[]> {
  const { plan } = ctx;
  const { workload, latencyMs } = plan.concurrency;
  const samples: ConcurrencySample[] = [];
  const one = async (framework: FrameworkName, runs: number): Promise<void> => {
    const server = await startServerProcess(plan.concurrency.ports);
    const baseUrls = server.origins.map((origin) => baseUrlOf(origin, workload, latencyMs, runs));
    const firstUrl = baseUrlOf(server.origins[0]!, workload);
    const worker = await WorkerProcess.start(framework);
    try {
      const result = await worker.request({
        type: 'concurrent',
        workload,
        firstUrl,
        baseUrls,
        runs,
      });
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
      await server.stop();
    }
  };
  // The largest level first: the small tests then fill in while the last large one ends.
  const levels = [...plan.concurrency.levels].sort((a, b) => b - a);
  const queue = levels.flatMap((runs, i) =>
    rotated(ctx.frameworks, i).map((framework) => ({ framework, runs })),
  );
  const lane = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) await one(job.framework, job.runs);
  };
  await Promise.all(Array.from({ length: plan.concurrency.parallel }, lane));
  return samples;
}

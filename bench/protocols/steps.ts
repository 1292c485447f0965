import type { BenchContext } from '../context.ts';
import type { FrameworkName } from '../frameworks/catalog.ts';
import { WorkerProcess } from '../worker-process.ts';
import { expectedRequests, workloads } from '../workloads.ts';

export interface StepsSample {
  framework: FrameworkName;
  /** Time between consecutive model requests of the run, as the fake model saw them (ms). */
  intervals: number[];
}

export interface StepsResults {
  steps: number;
  warmupRuns: number;
  samples: StepsSample[];
}

/**
 * Per-step overhead over a long run: one 1,000-step run (999 tool calls) per framework in a
 * process warmed up on workload b; the fake model timestamps every request, so a step's time
 * is the gap between two requests. agentd and the raw loop by default (`--frameworks` adds).
 */
export async function runSteps(ctx: BenchContext): Promise<StepsResults> {
  const { plan, server } = ctx;
  const samples: StepsSample[] = [];
  for (const framework of ctx.frameworks) {
    const worker = await WorkerProcess.start(framework);
    try {
      await worker.request({
        type: 'batch',
        workload: 'b',
        baseUrl: server.baseUrl('b'),
        runs: plan.steps.warmup,
        concurrency: 1,
      });
      server.trace('l');
      const result = await worker.request({
        type: 'batch',
        workload: 'l',
        baseUrl: server.baseUrl('l'),
        runs: 1,
        concurrency: 1,
      });
      const trace = [...server.takeTrace('l').values()][0] ?? [];
      if (result.failed > 0 || trace.length !== expectedRequests(workloads.l)) {
        ctx.failures.push(
          `steps ${framework}: ${result.failures.join('; ') || `${trace.length} requests`}`,
        );
      }
      samples.push({ framework, intervals: trace.slice(1).map((at, i) => at - trace[i]!) });
      ctx.log(`  1,000-step run, ${framework}: ${(result.wallMs / 1000).toFixed(1)} s`);
    } finally {
      await worker.exit();
    }
  }
  return { steps: expectedRequests(workloads.l), warmupRuns: plan.steps.warmup, samples };
}

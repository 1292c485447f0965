import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../context.ts';
import { workerEnv } from '../worker-process.ts';
import type { LongRunResults } from './long-run.ts';

const script = fileURLToPath(new URL('./long-run.ts', import.meta.url));

/**
 * The long-horizon issue's benchmark (`long-run.ts`: one compacting agentd run of 10,000
 * steps on a scripted model, per-step time near step 10 and near the end, heap and RSS), run
 * in a fresh process with GC exposed, as that file runs on its own.
 */
export async function runLongRunProcess(ctx: BenchContext): Promise<LongRunResults> {
  const child = spawn(process.execPath, ['--expose-gc', script], {
    env: workerEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`long-run.ts exited ${code}: ${stderr.trim().slice(-400)}`);
  const results = JSON.parse(stdout) as LongRunResults;
  ctx.log(`  long run: ${results.steps} steps, ${results.compactions} compactions`);
  return results;
}

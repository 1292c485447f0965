import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../context.ts';
import { workerEnv } from '../worker-process.ts';
import type { MemoryBenchResults } from './memory.ts';

const script = fileURLToPath(new URL('./memory.ts', import.meta.url));

/**
 * The memory issue's benchmark (`memory.ts`: ingestion, recall latency and index memory at
 * 10k, 100k and 1M memories), in a fresh process with GC exposed, as that file runs on its
 * own. `--quick` stops at 100k.
 */
export async function runMemoryBenchProcess(
  ctx: BenchContext,
  sizes: readonly number[],
): Promise<MemoryBenchResults> {
  const child = spawn(process.execPath, ['--expose-gc', script, '--sizes', sizes.join(',')], {
    env: workerEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    for (const line of text.split('\n')) if (line.trim()) ctx.log(line);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`memory.ts exited ${code}: ${stderr.trim().slice(-400)}`);
  return JSON.parse(stdout) as MemoryBenchResults;
}

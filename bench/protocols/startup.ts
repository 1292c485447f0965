import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../context.ts';
import { workerEnv } from '../worker-process.ts';
import { expectedAnswer, instructions, stepLimit, taskFor, workloads } from '../workloads.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const toolsModule = fileURLToPath(new URL('../agents/lookup-tools.ts', import.meta.url));

export interface StartupSample {
  /** `agentd run` spawned to its first request at the fake model (ms). */
  firstRequestMs: number;
  /** Spawned to exited (ms): the whole command, one run of workload a. */
  exitMs: number;
}

export interface StartupResults {
  command: string;
  samples: StartupSample[];
}

/**
 * `agentd run <spec> <task>` from process start to its first model request, timed at the fake
 * model; each command runs workload a to its end and must print the right answer. The first
 * command also fills Node's compile cache, as a user's first run does.
 */
export async function runStartup(ctx: BenchContext): Promise<StartupResults> {
  const { server } = ctx;
  const home = join(ctx.tmpDir, 'agentd-home');
  mkdirSync(home, { recursive: true });
  const spec = join(ctx.tmpDir, 'startup-agent.yaml');
  writeFileSync(
    spec,
    [
      'name: bench-startup',
      'model: openai-compatible/bench-model',
      'provider:',
      `  base_url: ${server.baseUrl('a')}`,
      'instructions: |',
      `  ${instructions}`,
      'tools:',
      `  - module: ${toolsModule}`,
      'limits:',
      `  max_turns: ${stepLimit(workloads.a)}`,
      '',
    ].join('\n'),
  );
  const samples: StartupSample[] = [];
  for (let i = 0; i < ctx.plan.startup.runs; i++) {
    const tag = `startup${process.pid}x${i}`;
    const first = server.firstRequest(tag);
    const spawned = performance.now();
    const child = spawn(process.execPath, ['bin/agentd.js', 'run', spec, taskFor(tag)], {
      cwd: root,
      env: { ...workerEnv(), AGENTD_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const exited = performance.now();
    const firstAt = await Promise.race([first, Promise.resolve(Number.NaN)]);
    if (code !== 0 || !stdout.includes(expectedAnswer(workloads.a, tag))) {
      ctx.failures.push(`agentd run exited ${code}: ${(stdout + stderr).trim().slice(-400)}`);
    }
    samples.push({ firstRequestMs: firstAt - spawned, exitMs: exited - spawned });
  }
  ctx.log(`  agentd run: ${samples.length} commands`);
  return { command: 'node bin/agentd.js run <spec> <task>', samples };
}

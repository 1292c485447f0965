import { execFileSync, spawn } from 'node:child_process';
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
  /** `agentd --version` spawned to exited (ms). */
  versionMs: number;
}

/** One way agentd is installed, measured. */
export interface StartupInstall {
  /** `package`: the tarball `npm pack` makes, installed; `checkout`: the sources. */
  kind: 'package' | 'checkout';
  command: string;
  samples: StartupSample[];
}

export interface StartupResults {
  installs: StartupInstall[];
}

/** `npm pack` of the checkout, installed into a folder of its own; the bin it installed. */
function installPackage(ctx: BenchContext): string {
  const dir = join(ctx.tmpDir, 'startup-package');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    '{ "name": "app", "private": true, "type": "module" }\n',
  );
  const npm = (args: string[], cwd: string) => {
    const cli = process.env.npm_execpath;
    return cli?.endsWith('.js')
      ? execFileSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' })
      : execFileSync('npm', args, { cwd, encoding: 'utf8' });
  };
  const tarball = npm(['pack', '--silent', '--pack-destination', dir], root)
    .trim()
    .split('\n')
    .at(-1)!;
  npm(['install', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball)], dir);
  return join(dir, 'node_modules', 'agentd', 'bin', 'agentd.js');
}

function spawnTimed(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const spawned = performance.now();
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve) =>
    child.once('exit', (code) =>
      resolve({ code, stdout, stderr, ms: performance.now() - spawned }),
    ),
  );
}

/**
 * `agentd run <spec> <task>` from process start to its first model request, timed at the fake
 * model, and `agentd --version`, for the built package (installed from `npm pack`) and for the
 * checkout (TypeScript sources). Each `run` runs workload a to its end and must print the right
 * answer. The first command of each also fills Node's compile cache, as a user's first run does.
 */
export async function runStartup(ctx: BenchContext): Promise<StartupResults> {
  const { server } = ctx;
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
  ctx.log('  installing the packed package');
  const installs: [StartupInstall['kind'], string][] = [
    ['package', installPackage(ctx)],
    ['checkout', join(root, 'bin', 'agentd.js')],
  ];
  const results: StartupInstall[] = [];
  for (const [kind, bin] of installs) {
    const home = join(ctx.tmpDir, `agentd-home-${kind}`);
    mkdirSync(home, { recursive: true });
    const env = { ...workerEnv(), AGENTD_HOME: home };
    const samples: StartupSample[] = [];
    for (let i = 0; i < ctx.plan.startup.runs; i++) {
      const tag = `startup${process.pid}${kind}x${i}`;
      const first = server.firstRequest(tag);
      const spawned = performance.now();
      const run = await spawnTimed(bin, ['run', spec, taskFor(tag)], env);
      const firstAt = await Promise.race([first, Promise.resolve(Number.NaN)]);
      if (run.code !== 0 || !run.stdout.includes(expectedAnswer(workloads.a, tag))) {
        ctx.failures.push(
          `agentd run (${kind}) exited ${run.code}: ${(run.stdout + run.stderr).trim().slice(-400)}`,
        );
      }
      const version = await spawnTimed(bin, ['--version'], env);
      if (version.code !== 0)
        ctx.failures.push(`agentd --version (${kind}) exited ${version.code}`);
      samples.push({ firstRequestMs: firstAt - spawned, exitMs: run.ms, versionMs: version.ms });
    }
    ctx.log(`  agentd run (${kind}): ${samples.length} commands`);
    results.push({
      kind,
      command:
        kind === 'package'
          ? 'node node_modules/agentd/bin/agentd.js run <spec> <task>'
          : 'node bin/agentd.js run <spec> <task>',
      samples,
    });
  }
  return { installs: results };
}

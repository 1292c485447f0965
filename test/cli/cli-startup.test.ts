import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * Runs `main` on each argument list in one process and returns the exit codes and every module
 * URL the process loaded (a load hook registered before `main` is imported sees them all,
 * dynamic imports included).
 */
async function loadedBy(argvs: string[][]): Promise<{ codes: number[]; loaded: string[] }> {
  const home = tempDir();
  const out = join(home, 'loaded.json');
  const main = pathToFileURL(join(repoRoot, 'src/cli/main.ts')).href;
  const script = `
    import { registerHooks } from 'node:module';
    import { writeFileSync } from 'node:fs';
    const loaded = [];
    registerHooks({ load: (url, context, next) => { loaded.push(url); return next(url, context); } });
    const { main } = await import(${JSON.stringify(main)});
    const codes = [];
    for (const argv of ${JSON.stringify(argvs)}) codes.push(await main(argv));
    writeFileSync(${JSON.stringify(out)}, JSON.stringify({ codes, loaded }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    env: { ...process.env, AGENTD_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stderr).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as { codes: number[]; loaded: string[] };
}

const groups = [
  'run',
  'runs',
  'team',
  'agents',
  'mcp',
  'serve',
  'keys',
  'approvals',
  'policy',
  'audit',
  'eval',
  'env',
  'memory',
  'models',
];

describe('agentd start-up', () => {
  it('--version and the help of every command group load no command implementation', async () => {
    const { codes, loaded } = await loadedBy([
      ['--version'],
      ['--help'],
      ...groups.map((group) => [group, '--help']),
      ['mcp', 'add', '--help'],
      ['eval', 'dataset', 'from-runs', '--help'],
    ]);
    expect(codes.every((code) => code === 0)).toBe(true);
    const local = loaded.filter((url) => url.includes('/src/')).map((url) => url.split('/src/')[1]);
    // Every group registered itself from its own file...
    for (const group of groups) expect(local).toContain(`cli/program/${group}.ts`);
    // ...and nothing behind the commands was loaded: no implementation, store, runtime or provider.
    const heavy = local.filter((path) =>
      /^(cli\/commands|store|runtime|server|tools|policy|memory|teams|evals|environments)\//.test(
        path!,
      ),
    );
    expect(heavy).toEqual([]);
    expect(loaded.filter((url) => url.includes('@ai-sdk'))).toEqual([]);
  });

  it('a command loads its implementation when it runs', async () => {
    const { codes, loaded } = await loadedBy([['models', '--json', '--provider', 'openai']]);
    expect(codes).toEqual([0]);
    expect(loaded.some((url) => url.endsWith('/src/cli/commands/models.ts'))).toBe(true);
  });
});

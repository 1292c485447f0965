import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentd } from '../support/cli.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { tempDir } from '../support/temp-dir.ts';

const key = 'sk-ant-api03-coder-test-0123456789abcdefghijklmnopqrstuv';
const git = (repo: string, ...args: string[]) =>
  execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

/**
 * `agentd init coder` then `agentd run` with a key: the template's own model over Anthropic's
 * Messages API (a local server speaking its wire format, as no hosted model is reachable here),
 * the tools the model asks for really run in the repository.
 */
describe('the coder on a model over the Anthropic API', { timeout: 300_000 }, () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await FakeProvider.start();
  });
  afterAll(() => fake.close());

  it('with ANTHROPIC_API_KEY set, uses the model instead of the replay: plans, branches, edits, tests and commits as the model asks, with effort sent and the key nowhere in the log', async () => {
    const home = tempDir();
    const work = tempDir();
    const init = await agentd(['init', 'coder', 'my-coder'], { home, cwd: work });
    expect(init.code, init.stderr).toBe(0);
    const repo = join(work, 'my-coder', 'demo-repo');
    const plan = (branch: string, fix: string) => ({
      steps: [
        { id: 'branch', title: 'make a work branch', status: branch, depends_on: [] },
        { id: 'fix', title: 'fix slugify', status: fix, depends_on: ['branch'] },
      ],
    });
    fake.enqueue(
      reply.toolCalls(
        [
          { name: 'update_plan', input: plan('doing', 'todo') },
          {
            name: 'shell__run',
            input: { command: 'git switch -c agentd/slug', reason: 'work branch' },
          },
        ],
        { text: 'Planning, then a work branch.' },
      ),
      reply.toolCalls([{ name: 'shell__run', input: { command: 'node --test' } }]),
      reply.toolCalls([
        {
          name: 'fs__edit',
          input: {
            path: 'src/slug.js',
            old_string: ".replace(/[^a-z0-9]/g, '-')",
            new_string: ".replace(/[^a-z0-9]+/g, '-')",
          },
        },
      ]),
      reply.toolCalls([{ name: 'shell__run', input: { command: 'node --test' } }]),
      reply.toolCalls([{ name: 'shell__run', input: { command: 'git add -A' } }]),
      reply.toolCalls([
        { name: 'shell__run', input: { command: 'git commit -m "fix: one dash per run"' } },
      ]),
      reply.text(`Done on agentd/slug: one commit, tests pass. (${key} never leaks)`),
    );
    const run = await agentd(['run', 'my-coder', 'Fix the failing test'], {
      home,
      cwd: work,
      env: { ANTHROPIC_API_KEY: key, ANTHROPIC_BASE_URL: fake.origin },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('scripted replay');
    expect(fake.pending).toBe(0);

    // what the model asked for happened in the repository
    expect(git(repo, 'branch', '--show-current')).toBe('agentd/slug');
    expect(git(repo, 'log', '--format=%s', 'main..HEAD')).toBe('fix: one dash per run');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    execFileSync('node', ['--test'], { cwd: repo, stdio: 'pipe' });

    // the requests: the template's model and effort, its tools, the key as Anthropic takes it,
    // the failing test's output returned to the model
    const first = fake.requests[0]!;
    expect(first.path).toBe('/v1/messages');
    expect(first.headers['x-api-key']).toBe(key);
    expect(first.body.model).toBe('claude-sonnet-5-5');
    expect(JSON.stringify(first.body)).toMatch(/"effort":"high"/);
    const tools = (first.body.tools as { name: string }[]).map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['update_plan', 'shell__run', 'fs__edit']));
    expect(JSON.stringify(fake.requests[2]!.body)).toMatch(/exit code 1/);

    // the key is in no event of the store
    const id = /run (run_\w+) · agentd runs show/.exec(run.stderr)![1]!;
    const exported = await agentd(['runs', 'export', id], { home });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).not.toContain(key);
    expect(exported.stdout).toContain('never leaks');
    for (const file of ['agentd.db', 'agentd.db-wal'].map((name) => join(home, name))) {
      if (existsSync(file)) expect(readFileSync(file).includes(key), file).toBe(false);
    }
  });
});

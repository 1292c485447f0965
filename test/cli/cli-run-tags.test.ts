import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

function runIdOf(stderr: string): string {
  const match = /run (run_[0-9a-z]+) · agentd runs show/.exec(stderr);
  if (!match) throw new Error(`no run id in: ${stderr}`);
  return match[1]!;
}

/** The unit converter (scripted replay offline), with `tags:` in its spec. */
function taggedSpec(dir: string, tags: string, file = 'agent.yaml'): string {
  const example = join(repoRoot, 'examples/unit-converter');
  const path = join(dir, file);
  writeFileSync(
    path,
    `name: converter
model: openai/gpt-6-luna
script: ${join(example, 'script.yaml')}
instructions: Convert units with the convert tool.
tags: ${tags}
tools:
  - module: ${join(example, 'tools.ts')}
`,
  );
  return path;
}

const rule = '(a tag is 1 to 64 of A-Z a-z 0-9 _ . : / = - (key=value or a name))';

describe('run tags on the command line', { timeout: 120_000 }, () => {
  it('come from the spec and --tag, select runs, change with runs tag|untag and show', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const env = { AGENTD_USER: 'alice' };
    const spec = taggedSpec(dir, '[team=converters, example]');
    const first = await agentd(
      ['run', spec, 'Convert a marathon to km', '--tag', 'env=test', '--tag', 'good'],
      { home, env },
    );
    expect(first.code, first.stderr).toBe(0);
    const one = runIdOf(first.stderr);
    const second = await agentd(['run', spec, 'Convert 100 F to C'], { home, env });
    expect(second.code, second.stderr).toBe(0);
    const two = runIdOf(second.stderr);

    const show = await agentd(['runs', 'show', one], { home, env });
    expect(show.stdout).toContain('\ntags: env=test example good team=converters\n');
    expect(show.stdout).toMatch(/run\.started .*, tags: team=converters example env=test good\n/);

    const list = async (...tags: string[]) => {
      const listed = await agentd(
        ['runs', 'list', '--json', ...tags.flatMap((t) => ['--tag', t])],
        {
          home,
          env,
        },
      );
      expect(listed.code, listed.stderr).toBe(0);
      return listed.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; tags?: string[] });
    };
    expect((await list('good')).map((r) => r.id)).toEqual([one]);
    expect((await list('team=converters')).map((r) => r.id)).toEqual([two, one]);
    expect((await list('team=converters', 'env=test')).map((r) => r.id)).toEqual([one]);
    expect(await list('good', 'nope')).toEqual([]);
    expect((await list()).find((r) => r.id === two)?.tags).toEqual(['example', 'team=converters']);
    const table = await agentd(['runs', 'list', '--tag', 'good'], { home, env });
    expect(table.stdout).toMatch(/TASK +TAGS\n/);
    expect(table.stdout).toContain('env=test example good team=converters');
    const none = await agentd(['runs', 'list', '--tag', 'nope'], { home, env });
    expect(none.stdout).toBe('no such runs\n');

    const tagged = await agentd(['runs', 'tag', two, 'good', 'reviewed'], { home, env });
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(tagged.stdout).toBe(`run ${two}: tags example good reviewed team=converters\n`);
    expect((await list('good')).map((r) => r.id)).toEqual([two, one]);
    const untagged = await agentd(['runs', 'untag', one.slice(0, 12), 'good'], { home, env });
    expect(untagged.stdout).toBe(`run ${one}: tags env=test example team=converters\n`);
    expect((await list('good')).map((r) => r.id)).toEqual([two]);
    const shown = await agentd(['runs', 'show', two], { home, env });
    expect(shown.stdout).toMatch(/run\.tagged +\+good \+reviewed by alice\n/);
    expect(shown.stdout).toContain('\ntags: example good reviewed team=converters\n');
  });

  it('a bad tag is one line with exit 2, and no run is recorded', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const spec = taggedSpec(dir, '[ok]');
    const bad = await agentd(['run', spec, 'Convert a marathon', '--tag', 'bad tag'], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(`agentd: --tag: tag "bad tag" has " " ${rule}\n`);
    const long = await agentd(['run', spec, 'Convert', '--tag', 'x'.repeat(65)], { home });
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/^agentd: --tag: tag "x+" is 65 characters \(at most 64\)\n$/);
    const badSpec = taggedSpec(dir, '[ok, "a;b"]', 'bad.yaml');
    const fromSpec = await agentd(['run', badSpec, 'Convert a marathon'], { home });
    expect(fromSpec.code).toBe(2);
    expect(fromSpec.stderr).toBe(`agentd: ${badSpec}: tags.1: "a;b" has ";" ${rule}\n`);
    expect((await agentd(['runs', 'list'], { home })).stdout).toMatch(/^no runs yet/);

    const made = await agentd(['run', spec, 'Convert a marathon'], { home });
    const id = runIdOf(made.stderr);
    const tagBad = await agentd(['runs', 'tag', id, 'fine', 'no!'], { home });
    expect(tagBad.code).toBe(2);
    expect(tagBad.stderr).toBe(`agentd: tag: tag "no!" has "!" ${rule}\n`);
    const listBad = await agentd(['runs', 'list', '--tag', ''], { home });
    expect(listBad.code).toBe(2);
    expect(listBad.stderr).toBe('agentd: --tag: tag "" is empty\n');
    const missing = await agentd(['runs', 'tag', 'run_nope', 'x'], { home });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^agentd: no run "run_nope"/);
    const many = await agentd(
      ['runs', 'tag', id, ...Array.from({ length: 32 }, (_, i) => `t${i}`)],
      { home },
    );
    expect(many.code).toBe(2);
    expect(many.stderr).toBe(
      `agentd: run ${id} would have 33 tags; a run has at most 32 (take some off first: agentd runs untag ${id} <tag>...)\n`,
    );
    const shown = await agentd(['runs', 'show', id], { home });
    expect(shown.stdout).toContain('\ntags: ok\n');
    expect(shown.stdout).not.toContain('run.tagged');
  });
});

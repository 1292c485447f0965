import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * Two recorded runs: `writer` under a policy set (reads under src/, writes anywhere but
 * .env), `free` with no policy set at all; and a candidate set that reads anywhere, writes
 * only under src/ and only with a person's approval.
 */
async function recordedRuns() {
  const home = tempDir();
  const project = join(home, 'project');
  mkdirSync(join(project, 'src'), { recursive: true });
  mkdirSync(join(project, 'docs'));
  mkdirSync(join(project, 'policies'));
  writeFileSync(join(project, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(project, 'docs', 'x.md'), '# x\n');
  writeFileSync(join(project, '.env'), 'TOKEN=1\n');
  writeFileSync(
    join(project, 'agent.yaml'),
    'name: writer\nmodel: scripted/w\nscript: ./script.yaml\ntools: [fs.read, fs.write]\n',
  );
  writeFileSync(
    join(project, 'script.yaml'),
    `turns:
  - tool_calls:
      - { name: fs__read, input: { path: src/a.ts } }
      - { name: fs__write, input: { path: src/b.ts, content: "b" } }
      - { name: fs__write, input: { path: .env, content: "TOKEN=2" } }
      - { name: fs__read, input: { path: docs/x.md } }
  - text: done
`,
  );
  writeFileSync(
    join(project, 'policies', 'files.cedar'),
    `@id("read-src")
permit (principal, action == Action::"fs.read", resource in Dir::"src");
@id("write-any")
permit (principal, action == Action::"fs.write", resource);
@id("never-env")
forbid (principal, action == Action::"fs.write", resource is File) when { resource.name == ".env" };
`,
  );
  const free = join(home, 'free');
  mkdirSync(free);
  writeFileSync(
    join(free, 'agent.yaml'),
    'name: free\nmodel: scripted/f\nscript: ./script.yaml\ntools: [fs.read, fs.write]\n',
  );
  writeFileSync(
    join(free, 'script.yaml'),
    `turns:
  - tool_calls:
      - { name: fs__read, input: { path: src/a.ts } }
      - { name: fs__write, input: { path: notes.txt, content: "n" } }
      - { name: fs__nothing, input: {} }
  - text: done
`,
  );
  const candidate = join(home, 'candidate');
  mkdirSync(candidate);
  writeFileSync(
    join(candidate, 'files.cedar'),
    `@id("read-anything")
permit (principal, action == Action::"fs.read", resource);
@id("write-src-approved")
@approval("required")
permit (principal, action == Action::"fs.write", resource in Dir::"src");
@id("never-env")
forbid (principal, action == Action::"fs.write", resource is File) when { resource.name == ".env" };
`,
  );
  const writerRun = await agentd(['run', 'agent.yaml', 'write', '--json'], { home, cwd: project });
  expect(writerRun.code, writerRun.stderr).toBe(0);
  const freeRun = await agentd(['run', join(free, 'agent.yaml'), 'write', '--json'], {
    home,
    cwd: project,
  });
  expect(freeRun.code, freeRun.stderr).toBe(0);
  const runIdOf = (stdout: string) =>
    (JSON.parse(stdout.split('\n')[0]!) as { runId: string }).runId;
  return {
    home,
    project,
    candidate,
    writer: runIdOf(writerRun.stdout),
    free: runIdOf(freeRun.stdout),
  };
}

interface Change {
  runId: string;
  agent: string;
  callId: string;
  action: string;
  resource: string;
  before: string;
  after: string;
  afterReason: string;
}

function parse(stdout: string): { changes: Change[]; summary: Record<string, unknown> } {
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { changes: lines.slice(0, -1) as Change[], summary: lines.at(-1).summary };
}

describe('agentd policy what-if', () => {
  it('replays recorded calls against a candidate set: exactly the decisions that would change, with a summary line', async () => {
    const { home, project, candidate, writer, free } = await recordedRuns();

    // one agent: its runs, its schema
    const one = await agentd(
      ['policy', 'what-if', candidate, '--agent', join(project, 'agent.yaml'), '--json'],
      { home, cwd: project },
    );
    expect(one.code, one.stderr).toBe(0);
    const mine = parse(one.stdout);
    expect(
      mine.changes.map((c) => [c.runId, c.callId, c.action, c.resource, c.before, c.after]),
    ).toEqual([
      [writer, 'call_1_2', 'fs.write', 'File::"src/b.ts"', 'allow', 'needs_approval'],
      [writer, 'call_1_4', 'fs.read', 'File::"docs/x.md"', 'deny', 'allow'],
    ]);
    expect(mine.changes[0]?.afterReason).toMatch(
      /with a person's approval \(required by write-src-approved\)/,
    );
    expect(mine.changes[1]?.afterReason).toBe('permitted by read-anything');
    expect(mine.summary).toMatchObject({
      runs: 1,
      calls: 4,
      changed: 2,
      byChange: { 'allow → needs_approval': 1, 'deny → allow': 1 },
    });

    // every agent, each by its own spec; the run without a policy set counts as all allowed,
    // and a call no policy ever saw (an unknown tool) is not replayed
    const all = await agentd(['policy', 'what-if', candidate], { home, cwd: project });
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      new RegExp(
        `^${writer} [\\d-]+ [\\d:]+ writer fs\\.write on File::"src/b\\.ts": allow → needs_approval \\(permitted by write-src-approved, .*\\) \\[call_1_2\\]$`,
      ),
    );
    expect(lines[1]).toMatch(
      new RegExp(
        `^${writer} .* writer fs\\.read on File::"docs/x\\.md": deny → allow \\(permitted by read-anything\\) \\[call_1_4\\]$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${free} .* free fs\\.write on File::"notes\\.txt": allow → deny \\(no policy permits fs\\.write on File::"notes\\.txt" \\(default deny\\)\\) \\[call_1_2\\]$`,
      ),
    );
    expect(lines[3]).toBe(
      `replayed 6 calls of 2 runs against ${candidate}: 3 decisions would change (1 allow → needs_approval, 1 deny → allow, 1 allow → deny)`,
    );

    // the set in force changes nothing, and a window with no runs replays nothing
    const same = await agentd(
      ['policy', 'what-if', join(project, 'policies'), '--agent', join(project, 'agent.yaml')],
      { home, cwd: project },
    );
    expect(same.stdout).toBe(
      `replayed 4 calls of 1 run against ${join(project, 'policies')}: no decision would change\n`,
    );
    const later = await agentd(['policy', 'what-if', candidate, '--since', '2999-01-01'], {
      home,
      cwd: project,
    });
    expect(later.stdout).toBe(
      `replayed 0 calls of 0 runs against ${candidate}: no decision would change\n`,
    );
    const recent = await agentd(['policy', 'what-if', candidate, '--since', '1h', '--json'], {
      home,
      cwd: project,
    });
    expect(parse(recent.stdout).summary).toMatchObject({ runs: 2, calls: 6, changed: 3 });
  }, 120_000);

  it('errors are one line each: a bad --since, a missing folder, policies that do not fit the schema', async () => {
    const home = tempDir();
    const project = join(home, 'project');
    mkdirSync(join(project, 'bad'), { recursive: true });
    writeFileSync(
      join(project, 'agent.yaml'),
      'name: writer\nmodel: scripted/w\nscript: ./script.yaml\ntools: [fs.read]\n',
    );
    writeFileSync(join(project, 'script.yaml'), 'turns:\n  - text: hi\n');
    writeFileSync(
      join(project, 'bad', 'a.cedar'),
      'permit (principal, action == Action::"fs.nope", resource);\n',
    );
    const run = await agentd(['run', 'agent.yaml', 'hi'], { home, cwd: project });
    expect(run.code).toBe(0);
    const cases: [string[], RegExp][] = [
      [
        ['policy', 'what-if', 'bad', '--since', 'yesterday'],
        /^agentd: --since: "yesterday" is not a date or an age \(write e\.g\. 7d, 12h, 30m or 2026-11-01\)\n$/,
      ],
      [
        ['policy', 'what-if', 'missing', '--agent', 'agent.yaml'],
        /^agentd: .*missing: policy folder not found .*\n$/,
      ],
      [
        ['policy', 'what-if', 'bad', '--agent', 'agent.yaml'],
        /^agentd: bad\/a\.cedar:1:\d+: .*fs\.nope.*: the policies do not fit the schema of writer \(agentd policy validate bad --agent .*agent\.yaml lists every problem\)\n$/,
      ],
    ];
    for (const [args, expected] of cases) {
      const result = await agentd(args, { home, cwd: project });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(expected);
    }
  }, 60_000);
});

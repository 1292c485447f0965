import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { agentd, repoRoot } from '../support/cli.ts';
import { agentdUntilKilled } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

// A hang guard, not a speed check: each test runs several agentd processes (and git, node
// --test in a sandbox), which takes minutes on a busy machine.
const hangGuard = 300_000;

const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].some(existsSync);

function runIdOf(stderr: string): string {
  const match = /run (run_[0-9a-z]+) · agentd runs show/.exec(stderr);
  if (!match) throw new Error(`no run id in: ${stderr}`);
  return match[1]!;
}

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

/** The run's events, read from the store in `home` (a read-only connection). */
interface StoredEvent {
  seq: number;
  type: string;
  data: { [key: string]: unknown };
}

function eventsOf(home: string, runId: string): StoredEvent[] {
  const db = new DatabaseSync(join(home, 'agentd.db'), { readOnly: true });
  try {
    return (
      db.prepare('SELECT seq, type, data FROM events WHERE run_id = ? ORDER BY seq').all(runId) as {
        seq: number;
        type: string;
        data: string;
      }[]
    ).map((row) => ({ seq: row.seq, type: row.type, data: JSON.parse(row.data) }));
  } finally {
    db.close();
  }
}

async function scaffold(template: string, name = `my-${template}`) {
  const home = tempDir();
  const work = tempDir();
  const init = await agentd(['init', template, name], { home, cwd: work });
  expect(init.code, init.stderr).toBe(0);
  expect(init.stdout).toContain(`made ${name}/ from the ${template} template (agent ${name})`);
  return { home, work, dir: join(work, name), name };
}

describe('agentd init', { timeout: hangGuard }, () => {
  it('lists the three templates with what each does', async () => {
    const home = tempDir();
    const list = await agentd(['init', '--list'], { home });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^coder +Works in a git repository/m);
    expect(list.stdout).toMatch(/^ops +Diagnoses an incident/m);
    expect(list.stdout).toMatch(/^security-review +Reviews a repository read-only/m);
  });

  for (const template of ['coder', 'security-review', 'ops']) {
    it(`scaffolds ${template}: the agent is named after its folder, its policies validate and every policy case passes`, async () => {
      const { home, work, dir, name } = await scaffold(template);
      const spec = readFileSync(join(dir, 'agent.yaml'), 'utf8');
      expect(spec).toMatch(new RegExp(`^name: ${name}$`, 'm'));
      const cedar = readdirSync(join(dir, 'policies')).map((f) =>
        readFileSync(join(dir, 'policies', f), 'utf8'),
      );
      expect(cedar.join('\n')).toContain(`Agent::"${name}"`);
      expect(cedar.join('\n')).not.toContain(`Agent::"${template}"`);
      if (existsSync(join(dir, 'team.yaml'))) {
        // its team is named after it too, and so are its members in the policies
        expect(readFileSync(join(dir, 'team.yaml'), 'utf8')).toMatch(
          new RegExp(`^name: ${name}$`, 'm'),
        );
        expect(cedar.join('\n')).toContain(`like "${name}/*"`);
        expect(cedar.join('\n')).not.toContain(`like "${template}/*"`);
      }
      const validate = await agentd(['policy', 'validate', '--agent', join(dir, 'agent.yaml')], {
        home,
        cwd: work,
      });
      expect(validate.code, validate.stdout + validate.stderr).toBe(0);
      const cases = await agentd(['policy', 'test', join(dir, 'policy-cases.yaml')], {
        home,
        cwd: work,
      });
      expect(cases.code, cases.stdout + cases.stderr).toBe(0);
      expect(cases.stdout).toMatch(/(\d+) passed, 0 failed/);
      expect(Number(/(\d+) passed/.exec(cases.stdout)![1])).toBeGreaterThanOrEqual(15);
    });
  }

  it('refuses bad input in one line, changing nothing', async () => {
    const home = tempDir();
    const work = tempDir();
    const cases: [string[], RegExp][] = [
      [
        ['init', 'nope'],
        /^agentd: init: no template "nope" \(templates: coder, ops, security-review\)$/,
      ],
      [['init'], /^agentd: init: name a template \(coder, ops, security-review\)/],
      [['init', 'coder', 'My Coder'], /the folder name "My Coder" names the agent/],
    ];
    writeFileSync(join(work, 'a-file'), 'x');
    mkdirSync(join(work, 'full'));
    writeFileSync(join(work, 'full', 'keep.txt'), 'mine');
    cases.push(
      [
        ['init', 'coder', 'full'],
        /^agentd: init: full exists and is not empty; choose a new folder/,
      ],
      [['init', 'coder', 'a-file'], /^agentd: init: a-file exists and is not a folder/],
    );
    for (const [args, message] of cases) {
      const result = await agentd(args, { home, cwd: work });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
    }
    expect(readdirSync(work).sort()).toEqual(['a-file', 'full']);
    expect(readdirSync(join(work, 'full'))).toEqual(['keep.txt']);
  });

  it('scaffolds into an empty folder that exists', async () => {
    const home = tempDir();
    const work = tempDir();
    mkdirSync(join(work, 'reviewer'));
    const init = await agentd(['init', 'security-review', 'reviewer'], { home, cwd: work });
    expect(init.code, init.stderr).toBe(0);
    expect(readFileSync(join(work, 'reviewer', 'agent.yaml'), 'utf8')).toMatch(/^name: reviewer$/m);
  });
});

describe('the coder', { timeout: hangGuard }, () => {
  it('runs its demo offline: a work branch, the failing test fixed, the tests run, the step committed', async () => {
    const { home, work, dir, name } = await scaffold('coder', 'my-coder');
    const repo = join(dir, 'demo-repo');
    expect(git(repo, 'log', '--format=%s')).toBe('the demo repository, as agentd init made it');
    // the test fails before
    expect(() => execFileSync('node', ['--test'], { cwd: repo, stdio: 'pipe' })).toThrow();
    const run = await agentd(['run', name, 'Fix the failing test'], { home, cwd: work });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('(scripted replay, not a model)');
    expect(git(repo, 'branch', '--show-current')).toBe('agentd/fix-slugify');
    expect(git(repo, 'log', '--format=%s', 'main..HEAD')).toBe(
      'fix slugify: one dash for each run of other characters',
    );
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'diff', '--stat', 'main', 'HEAD')).toMatch(/src\/slug\.js \| 2 \+-/);
    execFileSync('node', ['--test'], { cwd: repo, stdio: 'pipe' }); // passes now
    const events = eventsOf(home, runIdOf(run.stderr));
    const commands = events
      .filter((e) => e.type === 'tool.call' && e.data.name === 'shell__run')
      .map((e) => (e.data as { input: { command: string } }).input.command);
    expect(commands).toEqual([
      'git switch -c agentd/fix-slugify',
      'node --test',
      'node --test',
      'git add -A',
      'git commit -m "fix slugify: one dash for each run of other characters"',
    ]);
    const results = events.filter((e) => e.type === 'tool.result' && e.data.name === 'shell__run');
    // the first test run failed (exit 1), the second passed; every command ran in the sandbox
    expect(results.map((e) => JSON.stringify(e.data.output))).toEqual([
      expect.stringContaining('exit code 0'),
      expect.stringContaining('exit code 1'),
      expect.stringContaining('exit code 0'),
      expect.stringContaining('exit code 0'),
      expect.stringContaining('exit code 0'),
    ]);
    const decisions = events.filter((e) => e.type === 'policy.decision');
    expect(decisions.length).toBe(events.filter((e) => e.type === 'tool.call').length);
    expect(decisions.every((e) => e.data.decision === 'allow')).toBe(true);
  });

  it('works on another repository with --cwd, and says so in one line when the folder is not there', async () => {
    const { home, work, dir } = await scaffold('coder', 'coder');
    const other = join(work, 'other');
    mkdirSync(other);
    const missing = await agentd(['run', dir, 'Fix it', '--cwd', join(work, 'nowhere')], {
      home,
      cwd: work,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(
      /^agentd: --cwd: .*nowhere is not a folder; give the folder the agent works in$/,
    );
    writeFileSync(
      join(dir, 'agent.yaml'),
      readFileSync(join(dir, 'agent.yaml'), 'utf8').replace(
        'workdir: ./demo-repo',
        'workdir: ./gone',
      ),
    );
    const gone = await agentd(['run', dir, 'Fix it'], { home, cwd: work });
    expect(gone.code).toBe(2);
    expect(gone.stderr.trim()).toMatch(
      /agent\.yaml: workdir: .*gone is not a folder \(create it, or fix the path; it is relative to the spec\)$/,
    );
    writeFileSync(
      join(dir, 'agent.yaml'),
      readFileSync(join(dir, 'agent.yaml'), 'utf8')
        .replace('workdir: ./gone', 'workdir: ./demo-repo')
        .replace('pin: [update_plan]', 'pin: [update_plans]'),
    );
    const badPin = await agentd(['run', dir, 'Fix it'], { home, cwd: work });
    expect(badPin.code).toBe(2);
    expect(badPin.stderr.trim()).toMatch(
      /agent\.yaml: compaction\.pin: "update_plans" is not one of the agent's tools \(update_plan, fs__list, /,
    );
    const empty = join(work, 'empty-folder');
    mkdirSync(empty);
    const noSpec = await agentd(['run', empty, 'Fix it'], { home, cwd: work });
    expect(noSpec.code).toBe(2);
    expect(noSpec.stderr.trim()).toMatch(/empty-folder: is a folder without an agent\.yaml/);
  });

  it.skipIf(!hasBwrap)(
    'killed mid-task, resumes from its last checkpoint: the committed step is not done again',
    async () => {
      const { home, work, dir, name } = await scaffold('coder', 'coder');
      // A repository of two steps whose tests wait while a file named hold exists, so the kill
      // lands while the second step's tests run, after the first step's commit.
      const repo = join(work, 'two-steps');
      mkdirSync(join(repo, 'test'), { recursive: true });
      writeFileSync(join(repo, 'a.js'), 'export const a = 0;\nexport const b = 0;\n');
      writeFileSync(
        join(repo, 'test', 'a.test.js'),
        `import { existsSync } from 'node:fs';
import { test } from 'node:test';
test('waits while hold exists', async () => {
  for (let i = 0; existsSync('hold') && i < 1200; i++) await new Promise((r) => setTimeout(r, 50));
});
`,
      );
      execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
      git(repo, 'config', 'user.name', 'test');
      git(repo, 'config', 'user.email', 'test@agentd.invalid');
      writeFileSync(join(repo, '.git', 'info', 'exclude'), 'hold\n');
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', 'start');
      writeFileSync(
        join(dir, 'script.yaml'),
        `turns:
  - tool_calls: [{ name: shell__run, input: { command: git switch -c agentd/two-steps } }]
  - tool_calls: [{ name: fs__edit, input: { path: a.js, old_string: "a = 0", new_string: "a = 1" } }]
  - tool_calls: [{ name: shell__run, input: { command: git add -A } }]
  - tool_calls: [{ name: shell__run, input: { command: "git commit -m \\"step 1\\"" } }]
  - tool_calls: [{ name: fs__edit, input: { path: a.js, old_string: "b = 0", new_string: "b = 2" } }]
  - tool_calls: [{ name: shell__run, input: { command: node --test } }]
  - tool_calls: [{ name: shell__run, input: { command: git add -A } }]
  - tool_calls: [{ name: shell__run, input: { command: "git commit -m \\"step 2\\"" } }]
  - text: two steps, two commits
`,
      );
      writeFileSync(join(repo, 'hold'), '');
      const dbPath = join(home, 'agentd.db');
      let runId: string | undefined;
      const killed = await agentdUntilKilled(
        ['run', join(dir, 'agent.yaml'), 'Do both steps', '--cwd', repo],
        { AGENTD_HOME: home },
        {
          onLook: () => {
            if (!existsSync(dbPath)) return false;
            const db = new DatabaseSync(dbPath, { readOnly: true });
            try {
              const row = db
                .prepare(
                  "SELECT run_id FROM events WHERE type = 'tool.call' AND data LIKE '%node --test%'",
                )
                .get() as { run_id: string } | undefined;
              runId = row?.run_id;
              return row !== undefined;
            } catch {
              return false;
            } finally {
              db.close();
            }
          },
        },
      );
      expect(killed.killed).toBe(true);
      // the checkpoint: step 1 is committed, step 2's edit is in the working tree
      expect(git(repo, 'log', '--format=%s', 'main..agentd/two-steps')).toBe('step 1');
      expect(readFileSync(join(repo, 'a.js'), 'utf8')).toContain('b = 2');
      execFileSync('rm', [join(repo, 'hold')]);
      // the tests were running when it died: their outcome is unknown, so a person decides
      const attention = await agentd(['runs', 'resume', runId!], { home, cwd: work });
      expect(attention.code, attention.stderr).toBe(4);
      expect(attention.stderr).toContain('shell__run');
      const resumed = await agentd(['runs', 'resume', runId!, '--rerun-in-doubt'], {
        home,
        cwd: work,
      });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(git(repo, 'log', '--format=%s', 'main..agentd/two-steps').split('\n')).toEqual([
        'step 2',
        'step 1',
      ]);
      expect(git(repo, 'status', '--porcelain')).toBe('');
      const events = eventsOf(home, runId!);
      const commits = events.filter(
        (e) =>
          e.type === 'tool.call' && JSON.stringify(e.data).includes('git commit -m \\"step 1\\"'),
      );
      expect(commits).toHaveLength(1);
      expect(events.filter((e) => e.type === 'run.resumed')).toHaveLength(2);
      expect(name).toBe('coder');
    },
  );
});

describe('the security reviewer', { timeout: hangGuard }, () => {
  it.skipIf(!hasBwrap)(
    'reviews its demo read-only and writes SARIF that validates against the SARIF 2.1.0 schema, and Markdown',
    async () => {
      const { home, work, dir, name } = await scaffold('security-review', 'reviewer');
      const repo = join(dir, 'demo-repo');
      const before = git(repo, 'status', '--porcelain');
      const run = await agentd(['run', name, 'Review the repository'], { home, cwd: work });
      expect(run.code, run.stderr).toBe(0);
      const runId = runIdOf(run.stderr);
      const sarif = JSON.parse(
        readFileSync(join(dir, 'reports', `security-review-${runId}.sarif`), 'utf8'),
      );
      const schema = JSON.parse(
        readFileSync(join(repoRoot, 'test/fixtures/sarif/sarif-2.1.0-rtm.5.json'), 'utf8'),
      );
      const ajv = new Ajv.default({ strict: false, allErrors: true, unicodeRegExp: false });
      addFormats.default(ajv);
      const validate = ajv.compile(schema);
      expect(validate(sarif), JSON.stringify(validate.errors)).toBe(true);
      // and the schema does catch a broken log
      expect(validate({ ...sarif, version: '2.0.0' })).toBe(false);
      const results = sarif.runs[0].results as {
        ruleId: string;
        level: string;
        locations: {
          physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
        }[];
      }[];
      expect(
        results.map((r) => [
          r.ruleId,
          r.level,
          r.locations[0]!.physicalLocation.artifactLocation.uri,
          r.locations[0]!.physicalLocation.region.startLine,
        ]),
      ).toEqual([
        ['CWE-22', 'error', 'src/files.js', 8],
        ['CWE-89', 'error', 'src/db.js', 3],
        ['CWE-798', 'warning', 'src/config.js', 4],
      ]);
      // every line the findings point at is the evidence they quote
      for (const r of results) {
        const loc = r.locations[0]!.physicalLocation;
        const line = readFileSync(join(repo, loc.artifactLocation.uri), 'utf8').split('\n')[
          loc.region.startLine - 1
        ]!;
        expect(line.length).toBeGreaterThan(0);
      }
      const markdown = readFileSync(join(dir, 'reports', `security-review-${runId}.md`), 'utf8');
      expect(markdown).toContain(
        '| error | CWE-22 | src/files.js:8 | Path traversal in download |',
      );
      expect(markdown).not.toContain('7QWERTY');
      expect(run.stdout).toContain('# Security review');
      // it changed nothing in the repository
      expect(git(repo, 'status', '--porcelain')).toBe(before);
    },
  );

  it.skipIf(!hasBwrap)(
    'its shell cannot write the repository even with a permitted command',
    async () => {
      const { home, work, dir, name } = await scaffold('security-review', 'reviewer');
      // git log writes nothing, but git's --output would: the policies refuse it, and so would the sandbox
      writeFileSync(
        join(dir, 'script.yaml'),
        `turns:
  - tool_calls: [{ name: shell__run, input: { command: "grep -rn --include=*.js x src" } }]
  - tool_calls: [{ name: shell__run, input: { command: "git log --output=pwned" } }]
  - text: done
`,
      );
      const policies = join(dir, 'policies', 'security-review.cedar');
      // without the policies' guard, the sandbox still keeps the repository read-only
      writeFileSync(
        policies,
        readFileSync(policies, 'utf8').replace('context.input.command like "*--output*" || ', ''),
      );
      const run = await agentd(['run', name, 'Review'], { home, cwd: work });
      expect(run.code, run.stderr).toBe(0);
      const events = eventsOf(home, runIdOf(run.stderr));
      const results = events.filter((e) => e.type === 'tool.result');
      expect(JSON.stringify(results[1]!.data.output)).toMatch(
        /Read-only file system|could not|fatal/,
      );
      expect(existsSync(join(dir, 'demo-repo', 'pwned'))).toBe(false);
    },
  );
});

describe('the ops agent', { timeout: hangGuard }, () => {
  it('asks a person before a change, showing the command, its reason and expected effect, and is denied when nobody answers', async () => {
    const { home, work, dir, name } = await scaffold('ops', 'ops');
    const spec = join(dir, 'agent.yaml');
    writeFileSync(
      spec,
      readFileSync(spec, 'utf8').replace('approval_timeout: 15m', 'approval_timeout: 1s'),
    );
    const run = await agentd(['run', name, 'orders is slow'], { home, cwd: work });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/⏸ awaiting approval apr_\w+: shell\.run/);
    expect(run.stderr).toContain('  command: sh demo-system/bin/svc restart');
    expect(run.stderr).toContain("  reason: the log says 'worker pool exhausted (32/32 busy)'");
    expect(run.stderr).toContain('  expected effect: orders restarts;');
    const events = eventsOf(home, runIdOf(run.stderr));
    const answered = events.find((e) => e.type === 'approval.answered');
    expect(answered?.data.answer).toBe('timed_out');
    const restartCall = events.find(
      (e) => e.type === 'tool.call' && JSON.stringify(e.data.input).includes('svc restart'),
    );
    const restart = events.find(
      (e) =>
        e.type === 'tool.result' &&
        restartCall !== undefined &&
        e.data.callId === restartCall.data.callId,
    );
    expect(restart?.data).toMatchObject({ isError: true, errorKind: 'denied' });
    // nothing changed: the service is still degraded, and the report was written
    expect(readFileSync(join(dir, 'demo-system', 'state', 'status'), 'utf8')).toMatch(/^degraded/);
    const reports = readdirSync(join(dir, 'reports'));
    expect(reports).toEqual([expect.stringMatching(/^incident-run_\w+\.md$/)]);
    const report = readFileSync(join(dir, 'reports', reports[0]!), 'utf8');
    expect(report).toContain('## Timeline');
    expect(report).toContain('| 09:42:05 | worker pool exhausted |');
  });

  it('runs the change once a person approves it, and reports', async () => {
    const { home, work, dir, name } = await scaffold('ops', 'ops');
    const running = agentd(['run', name, 'orders is slow'], { home, cwd: work });
    // wait (a hang guard, not a timer racing the work) for the request to be stored
    const dbPath = join(home, 'agentd.db');
    let approvalId: string | undefined;
    for (let waited = 0; !approvalId; waited += 50) {
      if (waited > 60_000) throw new Error('no approval was asked for within 60 s');
      await new Promise((r) => setTimeout(r, 50));
      if (!existsSync(dbPath)) continue;
      const db = new DatabaseSync(dbPath, { readOnly: true });
      try {
        approvalId = (
          db.prepare("SELECT id FROM approvals WHERE status = 'pending'").get() as
            | { id: string }
            | undefined
        )?.id;
      } catch {
        // not migrated yet
      } finally {
        db.close();
      }
    }
    const list = await agentd(['approvals', 'list'], { home, cwd: work });
    expect(list.stdout).toContain(
      `${approvalId}\n  command: sh demo-system/bin/svc restart\n  reason: `,
    );
    expect(list.stdout).toContain('  expected effect: orders restarts;');
    expect(readFileSync(join(dir, 'demo-system', 'state', 'status'), 'utf8')).toMatch(/^degraded/);
    const approve = await agentd(['approvals', 'approve', approvalId], { home, cwd: work });
    expect(approve.code, approve.stderr).toBe(0);
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(dir, 'demo-system', 'state', 'status'), 'utf8')).toBe('running\n');
    expect(run.stdout).toContain('Status now: exit code 0');
    expect(run.stdout).toContain('orders: running');
    expect(run.stdout).toContain('# Incident: orders degraded, worker pool exhausted');
  });
});

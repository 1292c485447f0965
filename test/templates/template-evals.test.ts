import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

// A hang guard, not a speed check: each test runs several agentd processes (and git, node
// --test in a sandbox), which takes minutes on a busy machine.
const hangGuard = 300_000;

// The reviewer's shell keeps the repository read-only, which needs bubblewrap.
const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].some(existsSync);

interface Summary {
  score: number;
  byEvaluator: Record<string, { mean: number }>;
}

async function evalRun(template: string, edit?: (dir: string) => void) {
  const home = tempDir();
  const work = tempDir();
  const init = await agentd(['init', template, template], { home, cwd: work });
  expect(init.code, init.stderr).toBe(0);
  const dir = join(work, template);
  edit?.(dir);
  const out = join(work, 'out');
  const run = await agentd(['eval', 'run', join(dir, 'evals', 'suite.yaml'), '--out', out], {
    home,
    cwd: work,
  });
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
    summary: Summary;
    cases: {
      id: string;
      trials: { scores: { evaluator: string; score: number; explanation: string }[] }[];
    }[];
  };
  const score = (id: string, evaluator: string) =>
    result.cases
      .find((c) => c.id === id)!
      .trials[0]!.scores.find((s) => s.evaluator === evaluator)!;
  return { run, result, score, dir };
}

describe('the templates’ eval suites, offline', { timeout: hangGuard }, () => {
  it('coder: four fixture repositories, each in a fresh copy, scored by tests, diff size, commits and cost', async () => {
    const { run, result, score, dir } = await evalRun('coder');
    expect(run.code, run.stderr).toBe(0);
    expect(result.summary.score).toBe(1);
    expect(Object.keys(result.summary.byEvaluator)).toEqual([
      'tests_pass',
      'diff_size',
      'committed',
      'cost',
      'errors',
      'policy_denials',
    ]);
    expect(score('rename-api', 'diff_size').explanation).toBe(
      '10 lines changed in 3 files (src/badge.js, src/greeting.js, src/names.js); at most 12 expected',
    );
    expect(score('migrate-config', 'committed').explanation).toMatch(
      /^branch agentd\/config-json, 1 commit past main, nothing uncommitted$/,
    );
    // a task of two independent parts: a commit for each step
    expect(score('independent-parts', 'committed').explanation).toBe(
      'branch agentd/fix-arithmetic, 2 commits past main, nothing uncommitted',
    );
    expect(score('independent-parts', 'tests_pass').score).toBe(1);
    expect(score('independent-parts', 'diff_size').explanation).toMatch(
      /^4 lines changed in 2 files/,
    );
    // the fixtures themselves are untouched: the agents worked on copies
    const repos = join(dir, 'evals', 'repos');
    expect(readFileSync(join(repos, 'two-parts', 'src', 'add.js'), 'utf8')).toContain('a - b');
    expect(readdirSync(join(repos, 'migrate-config')).sort()).toEqual([
      'config.ini',
      'package.json',
      'src',
      'test',
    ]);
    expect(readFileSync(join(repos, 'failing-test', 'src', 'range.js'), 'utf8')).toContain(
      'i < to;',
    );
  });

  it('coder: a replay that does not fix the bug fails its tests and the gate', async () => {
    const { run, score } = await evalRun('coder', (dir) => {
      const script = join(dir, 'evals', 'scripts', 'failing-test.yaml');
      writeFileSync(
        script,
        readFileSync(script, 'utf8').replace('new_string: "i <= to;"', 'new_string: "i < to ;"'),
      );
    });
    expect(run.code).toBe(1);
    expect(score('fix-failing-test', 'tests_pass').score).toBe(0);
    expect(score('fix-failing-test', 'tests_pass').explanation).toMatch(/^node --test fails: /);
    expect(score('rename-api', 'tests_pass').score).toBe(1);
  });

  it.skipIf(!hasBwrap)(
    'security-review: recall and precision of the findings against the planted vulnerabilities',
    async () => {
      const { run, result, score } = await evalRun('security-review');
      expect(run.code, run.stderr).toBe(0);
      expect(result.summary.byEvaluator.findings_recall!.mean).toBe(1);
      // the secrets replay flags a token read from the environment: one false positive in two
      expect(score('secrets', 'findings_precision').score).toBe(0.5);
      expect(result.summary.byEvaluator.findings_precision!.mean).toBeCloseTo(5 / 6, 10);
      expect(score('web-api', 'findings_recall').explanation).toMatch(/^2 of 2 planted found/);
    },
  );

  it.skipIf(!hasBwrap)('security-review: a missed vulnerability lowers recall', async () => {
    const { score } = await evalRun('security-review', (dir) => {
      const script = join(dir, 'evals', 'scripts', 'web-api.yaml');
      const text = readFileSync(script, 'utf8').split('\n');
      writeFileSync(script, text.filter((line) => !line.includes('CWE-89')).join('\n'));
    });
    expect(score('web-api', 'findings_recall').score).toBe(0.5);
    expect(score('web-api', 'findings_precision').score).toBe(1);
  });

  it('ops: scripted incidents with scripted answers: a change only when called for, the state it leaves, the report', async () => {
    const { run, result, score, dir } = await evalRun('ops');
    expect(run.code, run.stderr).toBe(0);
    expect(result.summary.score).toBe(1);
    expect(score('pool-exhausted', 'final_state').explanation).toBe(
      'the service is "running"; expected "running"',
    );
    expect(score('pool-exhausted-denied', 'final_state').explanation).toMatch(
      /^the service is "degraded .*"; expected "degraded"$/,
    );
    expect(score('disk-full', 'change_discipline').explanation).toBe(
      '0 changes asked for (0 with reason and expected effect); none was called for',
    );
    // the fixture is untouched
    expect(
      readFileSync(
        join(dir, 'evals', 'incidents', 'pool-exhausted', 'demo-system', 'state', 'status'),
        'utf8',
      ),
    ).toMatch(/^degraded/);
  });
});

describe('eval cases with a folder, a script and answers', { timeout: hangGuard }, () => {
  it('refuses a bad workdir, script or approvals in one line naming the line', async () => {
    const home = tempDir();
    const work = tempDir();
    execFileSync('mkdir', ['-p', join(work, 'repo')]);
    writeFileSync(join(work, 'script.yaml'), 'turns:\n  - text: hi\n');
    writeFileSync(
      join(work, 'agent.yaml'),
      'name: a\nmodel: scripted/a\nscript: ./script.yaml\ninstructions: x\ntools: []\n',
    );
    const cases: [string, RegExp][] = [
      [
        '{"input": "x", "workdir": "nowhere"}',
        /cases\.jsonl:1: workdir: nowhere is not a folder \(it does not exist\); paths are relative to the dataset$/,
      ],
      [
        '{"input": "x", "workdir": "script.yaml"}',
        /cases\.jsonl:1: workdir: script\.yaml is not a folder; paths are relative to the dataset$/,
      ],
      [
        '{"input": "x", "script": "repo"}',
        /cases\.jsonl:1: script: repo is not a file; paths are relative to the dataset$/,
      ],
      ['{"input": "x", "approvals": "maybe"}', /cases\.jsonl:1: approvals: /],
    ];
    for (const [line, message] of cases) {
      writeFileSync(join(work, 'cases.jsonl'), `${line}\n`);
      writeFileSync(
        join(work, 'suite.yaml'),
        'name: s\nagent: ./agent.yaml\ndataset: ./cases.jsonl\nevaluators: [errors]\n',
      );
      const run = await agentd(
        ['eval', 'run', join(work, 'suite.yaml'), '--out', join(work, 'out')],
        { home, cwd: work },
      );
      expect(run.code, line).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr.trim()).toMatch(message);
    }
  });
});

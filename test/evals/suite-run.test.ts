import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvalResult } from '../../src/evals/result.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { junitProblems, parseXml } from '../support/xml.ts';

const hostile = '<script>alert("x")</script> & \u0007 "quoted" \'single\' ]]>';

/** A suite over the example agents (scripted replays) with a scripted judge. */
function writeSuite(dir: string, extra = ''): string {
  writeFileSync(
    join(dir, 'suite.yaml'),
    `name: e2e
description: scripted agents, scripted judge
agents:
  conv: ${repoRoot}/examples/unit-converter/agent.yaml
  insp: ${repoRoot}/examples/repo-inspector/agent.yaml
agent: conv
dataset: ./cases.jsonl
cwd: ${repoRoot}/examples
concurrency: 2
judge:
  model: anthropic/claude-haiku-5-5
  script: ./judge.yaml
evaluators:
  - goal_success
  - correctness: { mode: contains }
  - trajectory: { mode: exact }
  - helpfulness
  - errors
${extra}`,
  );
  const cases = [
    {
      id: 'converts',
      input: 'Convert a marathon to km and 100 F to C.',
      expected_response: '42.1950684672 km',
      expected_trajectory: [
        { tool: 'convert', input: { from: 'mi', to: 'km' } },
        { tool: 'convert', input: { from: 'F', to: 'C' } },
      ],
      assertions: [{ contains: '37.77' }, 'It gives both results with units.'],
      tags: ['smoke'],
    },
    {
      id: 'hostile-text',
      input: `Inspect ${hostile}`,
      expected_trajectory: [{ tool: 'read_file' }],
      tags: ['inspector'],
      agent: 'insp',
    },
    {
      id: 'judge-breaks',
      input: 'Convert again.',
      assertions: ['MALFORMED please'],
    },
    {
      id: 'tight-budget',
      input: 'Convert with one turn only.',
      budget: { max_turns: 1 },
    },
  ];
  writeFileSync(join(dir, 'cases.jsonl'), `${cases.map((c) => JSON.stringify(c)).join('\n')}\n`);
  writeFileSync(
    join(dir, 'judge.yaml'),
    `verdicts:
  - evaluator: goal_success
    match: MALFORMED
    reply: "I am not sure, both look fine to me"
  - evaluator: goal_success
    reply: { assertions: [{ index: 1, met: true, reason: "units are there" }], explanation: "fine" }
  - evaluator: helpfulness
    reply: { score: 0.9, explanation: "answers with the figures <b>asked</b>" }
`,
  );
  return join(dir, 'suite.yaml');
}

// Each test starts agentd processes: slow on a busy machine.
describe('agentd eval run (scripted agents, scripted judge)', { timeout: 120_000 }, () => {
  let dir: string;
  let home: string;
  let run: Awaited<ReturnType<typeof agentd>>;
  let result: EvalResult;

  beforeAll(async () => {
    dir = tempDir();
    home = join(dir, 'home');
    writeSuite(dir);
    run = await agentd(['eval', 'run', 'suite.yaml', '--out', 'out'], { home, cwd: dir });
    result = JSON.parse(readFileSync(join(dir, 'out/result.json'), 'utf8'));
  }, 120_000);

  it('runs every case, shows progress and a table, and exits 0 without --fail-under', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'note: ANTHROPIC_API_KEY is not set, so the judge replays the scripted verdicts in judge.yaml instead of calling anthropic/claude-haiku-5-5.',
    );
    // each replay notice once, not once per case
    expect(run.stderr.match(/replays the scripted model in .*unit-converter/g)).toHaveLength(1);
    expect(run.stderr).toContain('running 4 case runs');
    expect(run.stderr).toMatch(/\[[ \d]\/4\] ✓ converts {2}0\.98 · run_\w+ · completed/);
    expect(run.stdout).toMatch(
      /^case +score +status +goal_success +correctness +trajectory +helpfulness +errors$/m,
    );
    expect(run.stdout).toMatch(/^converts +0\.98 +passed +1\.00 +1\.00 +1\.00 +0\.90 +1\.00$/m);
    expect(run.stdout).toMatch(/^judge-breaks +[\d.]+ +error /m);
    expect(run.stdout).toContain(
      'judge-breaks: goal_success error: the judge\'s answer is not the JSON asked for: "[scripted] I am not sure, both look fine to me"',
    );
    expect(run.stdout).toContain(
      'tight-budget: errors 0.00 < 1: 1 error (max 0): the run ended budget_exceeded (max_turns)',
    );
    expect(run.stdout).toMatch(
      /^suite score [\d.]+ · 4 cases: 1 passed, 2 failed, 1 error · agents \$0, judge \$0/m,
    );
    expect(run.stderr).toMatch(/wrote out\/result\.json, out\/junit\.xml, out\/report\.html/);
  });

  it('writes a JSON result with every score, judge prompt versions and trajectories', () => {
    expect(result.format).toBe('agentd.eval.result/1');
    expect(result.judge).toEqual({ model: 'scripted/judge', scripted: true });
    expect(result.summary).toMatchObject({ cases: 4, passed: 1, failed: 2, errors: 1, skipped: 0 });
    const byId = new Map(result.cases.map((c) => [c.id, c]));
    const converts = byId.get('converts')!;
    expect(converts.status).toBe('passed');
    expect(converts.trials[0]?.trajectory[0]?.calls.map((c) => c.name)).toEqual([
      'convert',
      'convert',
    ]);
    const goal = converts.trials[0]?.scores.find((s) => s.evaluator === 'goal_success');
    expect(goal?.judge?.promptVersion).toMatch(/^goal_success\/v1\+[0-9a-f]{8}$/);
    expect(result.evaluators.find((e) => e.name === 'helpfulness')?.promptVersion).toMatch(
      /^helpfulness\/v1\+/,
    );
    expect(byId.get('hostile-text')?.status).toBe('failed');
    // the agents worked in the suite's cwd (examples/), not where agentd was started
    // (the listing names files of examples/ itself, whatever else the folder holds)
    expect(byId.get('hostile-text')?.trials[0]?.answer).toMatch(
      /under \.:[\s\S]*evals\/suite\.yaml/,
    );
    expect(byId.get('hostile-text')?.trials[0]?.answer).not.toContain('src/');
    expect(byId.get('judge-breaks')?.status).toBe('error');
    const tight = byId.get('tight-budget')!;
    expect(tight.trials[0]?.status).toBe('budget_exceeded');
    // the runs are recorded like any other
    expect(converts.trials[0]?.runId).toMatch(/^run_/);
  });

  it('writes JUnit XML that parses and fits the JUnit schema', () => {
    const xml = readFileSync(join(dir, 'out/junit.xml'), 'utf8');
    const root = parseXml(xml);
    expect(junitProblems(root)).toEqual([]);
    const suite = root.children[0]!;
    expect(suite.attributes).toMatchObject({
      name: 'e2e',
      tests: '4',
      failures: '2',
      errors: '1',
      skipped: '0',
    });
    const cases = suite.children.filter((c) => c.name === 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual([
      'converts',
      'hostile-text',
      'judge-breaks',
      'tight-budget',
    ]);
    const failure = cases[1]!.children.find((c) => c.name === 'failure')!;
    expect(failure.attributes.type).toBe('threshold');
    expect(failure.attributes.message).toMatch(
      /^1 score under threshold: trajectory 0\.00 \(threshold 1\): exact: /,
    );
    const error = cases[2]!.children.find((c) => c.name === 'error')!;
    expect(error.attributes.message).toMatch(
      /^goal_success 0\.00 \(threshold 1\): the judge's answer is not the JSON/,
    );
    expect(cases[0]!.children.map((c) => c.name)).toEqual(['system-out']);
    // the run text came through escaped, without the control character XML cannot hold
    const out = cases[1]!.children.find((c) => c.name === 'system-out')!;
    expect(out.text).toMatch(/runs: run_\w+/);
    expect(xml).not.toContain('\u0007');
    // the checker itself refuses what is wrong
    expect(
      junitProblems(
        parseXml('<testsuites><testsuite name="x" tests="2"><testcase/></testsuite></testsuites>'),
      ),
    ).toEqual([
      'testsuites/testsuite[0]/testcase[0]: missing required attribute name',
      'testsuites/testsuite[0]: tests="2" but 1 testcases say so',
    ]);
    expect(() => parseXml('<a>x & y</a>')).toThrow(/bare &/);
  });

  it('writes a self-contained HTML report with trajectories and judge explanations, all run text escaped', () => {
    const html = readFileSync(join(dir, 'out/report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=|@import|url\(/i);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;');
    expect(html).not.toContain('<b>asked</b>');
    expect(html).toContain('[scripted] answers with the figures &lt;b&gt;asked&lt;/b&gt;');
    expect(html).toMatch(/prompt goal_success\/v1\+[0-9a-f]{8}/);
    expect(html).toContain('<code>convert</code>');
    expect(html).toContain('scripted verdicts, not a model');
    expect(html).toContain('id="case-hostile-text"');
  });

  it('--fail-under makes the exit code a gate', async () => {
    const low = await agentd(
      ['eval', 'run', 'suite.yaml', '--out', 'out2', '--fail-under', '0.2'],
      { home, cwd: dir },
    );
    expect(low.code, low.stderr).toBe(0);
    expect(low.stderr).toMatch(/pass: suite score 0\.\d+ is at least 0\.2/);
    const high = await agentd(
      ['eval', 'run', 'suite.yaml', '--out', 'out3', '--fail-under', '0.99'],
      { home, cwd: dir },
    );
    expect(high.code).toBe(1);
    expect(high.stderr).toMatch(/fail: suite score 0\.\d+ is under 0\.99\n/);
    expect(existsSync(join(dir, 'out3/junit.xml'))).toBe(true);
    const bad = await agentd(['eval', 'run', 'suite.yaml', '--fail-under', '90'], {
      home,
      cwd: dir,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"90" is not a score from 0 to 1');
  });

  it('runs trials and only the cases asked for', async () => {
    const r = await agentd(
      ['eval', 'run', 'suite.yaml', '--out', 'out4', '--trials', '3', '--tag', 'smoke'],
      { home, cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('running 3 case runs');
    expect(r.stderr).toMatch(/converts \(trial 3\)/);
    const res: EvalResult = JSON.parse(readFileSync(join(dir, 'out4/result.json'), 'utf8'));
    expect(res.trials).toBe(3);
    expect(res.cases.map((c) => [c.id, c.trials.length])).toEqual([['converts', 3]]);
    expect(new Set(res.cases[0]!.trials.map((t) => t.runId)).size).toBe(3);
  });
});

// Each test starts agentd processes: slow on a busy machine.
describe('agentd eval run: one-line errors', { timeout: 120_000 }, () => {
  it('bad suite YAML, unknown evaluator, missing dataset, a bad dataset line, an unknown agent', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    writeSuite(dir);
    const variants: [string, string, RegExp][] = [
      ['broken.yaml', 'name: x\nevaluators: [\n', /^agentd: broken\.yaml:3:1: invalid YAML: /],
      [
        'unknown.yaml',
        'dataset: ./cases.jsonl\nagent: conv\nevaluators: [helpfullness]\n',
        /^agentd: unknown\.yaml: evaluators\.0: unknown evaluator "helpfullness" \(known: goal_success, /,
      ],
      [
        'nodata.yaml',
        'dataset: ./missing.jsonl\nagent: x\nevaluators: [errors]\n',
        /^agentd: nodata\.yaml: dataset: missing\.jsonl not found \(paths are relative to the suite file\)$/,
      ],
      [
        'field.yaml',
        'dataset: ./cases.jsonl\nevaluators: [errors]\ntrials: zero\n',
        /^agentd: field\.yaml: trials: expected number, got "zero"$/,
      ],
      [
        'agent.yaml',
        'dataset: ./cases.jsonl\nagent: ./nope/agent.yaml\nagents: { conv: ./nope/agent.yaml, insp: ./nope/agent.yaml }\nevaluators: [errors]\n',
        /^agentd: agent\.yaml: agent: agent "\.\/nope\/agent\.yaml": nope\/agent\.yaml not found \(spec paths are relative to the suite file\)$/,
      ],
      [
        'judge.yaml2',
        'dataset: ./cases.jsonl\nagent: conv\nevaluators: [helpfulness]\n',
        /^agentd: judge\.yaml2: evaluators: helpfulness needs a judge model: add judge:/,
      ],
    ];
    for (const [file, text, message] of variants) {
      writeFileSync(join(dir, file), text);
      const r = await agentd(['eval', 'run', file], { home, cwd: dir });
      expect(r.code, file).toBe(2);
      expect(r.stderr.trimEnd(), file).toMatch(message);
      expect(r.stderr.trimEnd().split('\n'), file).toHaveLength(1);
    }
    writeFileSync(
      join(dir, 'cases.jsonl'),
      '{"input": "a"}\n\n{"input": "b", "expected_trajectory": [{"name": "x"}]}\n',
    );
    const badLine = await agentd(['eval', 'run', 'suite.yaml'], { home, cwd: dir });
    expect(badLine.code).toBe(2);
    expect(badLine.stderr).toBe(
      'agentd: cases.jsonl:3: expected_trajectory.0.tool: is required (expected string)\n',
    );
    writeFileSync(join(dir, 'cases.jsonl'), '{"input": "a"}\n{input: b}\n');
    const notJson = await agentd(['eval', 'run', 'suite.yaml'], { home, cwd: dir });
    expect(notJson.stderr).toMatch(
      /^agentd: cases\.jsonl:2: not JSON \(.*\); each line is one case, a JSON object\n$/,
    );
    const missing = await agentd(['eval', 'run', 'nothing.yaml'], { home, cwd: dir });
    expect(missing.stderr).toBe('agentd: nothing.yaml: suite file not found\n');
  });
});

// Each test starts agentd processes: slow on a busy machine.
describe('examples/evals', { timeout: 120_000 }, () => {
  it('runs offline against the example agents and passes its gate', async () => {
    const dir = tempDir();
    const r = await agentd(
      ['eval', 'run', 'examples/evals/suite.yaml', '--out', join(dir, 'out')],
      { home: join(dir, 'home') },
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stderr).toMatch(/pass: suite score 0\.\d+ is at least 0\.9/);
    const result: EvalResult = JSON.parse(readFileSync(join(dir, 'out/result.json'), 'utf8'));
    expect(result.judge).toEqual({ model: 'scripted/judge', scripted: true });
    expect(result.summary.errors).toBe(0);
    expect(result.cases.map((c) => c.id)).toEqual([
      'marathon-and-fever',
      'examples-size',
      'examples-file-kinds',
    ]);
    expect(result.evaluators.map((e) => e.name)).toContain('numbers_from_tools');
    expect(junitProblems(parseXml(readFileSync(join(dir, 'out/junit.xml'), 'utf8')))).toEqual([]);
  });
});

describe('agents named like agentd run names them', { timeout: 120_000 }, () => {
  it('runs an agent of this machine by name', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(
      join(home, 'config.yaml'),
      `agent_dirs: [${JSON.stringify(join(repoRoot, 'examples'))}]\n`,
    );
    writeFileSync(join(dir, 'cases.jsonl'), '{"id": "one", "input": "convert"}\n');
    writeFileSync(
      join(dir, 'suite.yaml'),
      'agent: unit-converter\ndataset: cases.jsonl\nevaluators: [errors]\n',
    );
    const r = await agentd(['eval', 'run', 'suite.yaml', '--fail-under', '1'], { home, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const result: EvalResult = JSON.parse(
      readFileSync(join(dir, 'eval-results/result.json'), 'utf8'),
    );
    expect(result.cases[0]?.agent).toBe(join(repoRoot, 'examples/unit-converter/agent.yaml'));
    expect(result.suite.name).toBe('suite');
  });
});

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, parseRunFilter } from '../../src/evals/dataset.ts';
import { mapConcurrent } from '../../src/evals/pool.ts';
import type { EvalResult } from '../../src/evals/result.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { handRun } from './events.ts';

function runIdOf(stderr: string): string {
  const match = /run (run_[0-9a-z]+) · agentd runs show/.exec(stderr);
  if (!match) throw new Error(`no run id in: ${stderr}`);
  return match[1]!;
}

// Each test starts agentd processes: slow on a busy machine.
describe('agentd eval dataset from-runs', { timeout: 120_000 }, () => {
  it('turns recorded runs into cases that the same agent then passes (round trip)', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const first = await agentd(
      ['run', 'examples/unit-converter/agent.yaml', 'A marathon in km, and 100 F in C?'],
      { home },
    );
    expect(first.code, first.stderr).toBe(0);
    const converterRun = runIdOf(first.stderr);
    const other = await agentd(['run', 'examples/repo-inspector/agent.yaml', 'How big?'], {
      home,
    });
    expect(other.code, other.stderr).toBe(0);

    const made = await agentd(
      [
        'eval',
        'dataset',
        'from-runs',
        '--filter',
        'agent=unit-converter',
        '--filter',
        'since=1d',
        '-o',
        'cases.jsonl',
      ],
      { home, cwd: dir },
    );
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/^wrote 1 case to cases\.jsonl: review each expected_trajectory/);
    const [line] = readFileSync(join(dir, 'cases.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(line!)).toEqual({
      id: converterRun,
      input: 'A marathon in km, and 100 F in C?',
      expected_response:
        'Results:\n26.2188 mi = 42.1950684672 km (mile to kilometre)\n100 F = 37.7777777778 C (degree Fahrenheit to degree Celsius)',
      expected_trajectory: [
        { tool: 'convert', input: { value: 26.2188, from: 'mi', to: 'km' } },
        { tool: 'convert', input: { value: 100, from: 'F', to: 'C' } },
      ],
      tags: ['from-run'],
      agent: 'unit-converter',
      source_run: converterRun,
    });
    // it reads back as a dataset
    const [c] = loadDataset(join(dir, 'cases.jsonl'));
    expect(c).toMatchObject({ id: converterRun, sourceRun: converterRun, agent: 'unit-converter' });

    writeFileSync(
      join(dir, 'suite.yaml'),
      `name: regression
agents: { unit-converter: ${repoRoot}/examples/unit-converter/agent.yaml }
dataset: cases.jsonl
evaluators:
  - trajectory: { mode: exact }
  - correctness: { mode: exact }
  - tool_parameters
  - errors
`,
    );
    const rerun = await agentd(['eval', 'run', 'suite.yaml', '--fail-under', '1'], {
      home,
      cwd: dir,
    });
    expect(rerun.code, rerun.stderr + rerun.stdout).toBe(0);
    const result: EvalResult = JSON.parse(
      readFileSync(join(dir, 'eval-results/result.json'), 'utf8'),
    );
    expect(result.cases[0]?.status).toBe('passed');
    expect(result.cases[0]?.trials[0]?.scores.map((s) => [s.evaluator, s.score])).toEqual([
      ['trajectory', 1],
      ['correctness', 1],
      ['tool_parameters', 1],
      ['errors', 1],
    ]);

    // the recorded run itself, scored without running again, against the case made from it
    const scored = await agentd(
      [
        'eval',
        'score',
        converterRun.slice(0, 20),
        '--suite',
        'suite.yaml',
        '--json',
        'scored.json',
      ],
      { home, cwd: dir },
    );
    expect(scored.code, scored.stderr).toBe(0);
    expect(scored.stdout).toMatch(
      new RegExp(`^${converterRun} +1\\.00 +passed +1\\.00 +1\\.00 +1\\.00 +1\\.00$`, 'm'),
    );
    const scoredResult: EvalResult = JSON.parse(readFileSync(join(dir, 'scored.json'), 'utf8'));
    expect(scoredResult.cases[0]?.trials[0]?.runId).toBe(converterRun);

    // --evaluator names evaluators without a suite; every recorded run can be scored
    const both = await agentd(
      [
        'eval',
        'score',
        converterRun,
        runIdOf(other.stderr),
        '--evaluator',
        'errors',
        '--evaluator',
        'policy_denials',
      ],
      { home, cwd: dir },
    );
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toMatch(/suite score 1\.00 · 2 cases: 2 passed/);
  });

  it('says when nothing matches, and refuses a bad filter in one line', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    await agentd(['run', 'examples/unit-converter/agent.yaml', 'convert', '--tag', 'good'], {
      home,
    });
    const tagged = await agentd(['eval', 'dataset', 'from-runs', '--filter', 'tag=good'], { home });
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(tagged.stdout.trim().split('\n')).toHaveLength(1);
    const untagged = await agentd(
      ['eval', 'dataset', 'from-runs', '--filter', 'tag=good', '--filter', 'tag=other'],
      { home },
    );
    expect(untagged.code).toBe(1);
    const none = await agentd(['eval', 'dataset', 'from-runs', '--filter', 'status=failed'], {
      home,
    });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      'no recorded runs match (failed; status=failed): see agentd runs list\n',
    );
    const future = await agentd(['eval', 'dataset', 'from-runs', '--filter', 'since=2999-01-01'], {
      home,
    });
    expect(future.code).toBe(1);
    const all = await agentd(['eval', 'dataset', 'from-runs'], { home });
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(1);
    for (const [filter, message] of [
      [
        'colour=red',
        '--filter "colour=red": write key=value with key one of agent, status, since, until, task, id, tag',
      ],
      ['tag=a;b', '--filter tag=a;b: tag "a;b" has ";" (a tag is 1 to 64 of'],
      ['status=running', '--filter status=running: "running" is not the status of a finished run'],
      ['since=yesterday', '--filter since=yesterday: "yesterday" is not a date or an age'],
    ]) {
      const r = await agentd(['eval', 'dataset', 'from-runs', '--filter', filter!], { home });
      expect(r.code, filter).toBe(2);
      expect(r.stderr.startsWith(`agentd: ${message}`), r.stderr).toBe(true);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    const noEvaluators = await agentd(['eval', 'score', 'run_x'], { home });
    expect(noEvaluators.stderr).toBe(
      'agentd: name the evaluators: --suite <suite.yaml> (its evaluators, judge and cases) or --evaluator <name> (repeatable)\n',
    );
    // a run still going is not scored
    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    await store.append(handRun({ runId: 'run_unfinished', turns: [] }).slice(0, 1));
    await store.close();
    const unfinished = await agentd(['eval', 'score', 'run_unfinished', '--evaluator', 'errors'], {
      home,
    });
    expect(unfinished.code).toBe(2);
    expect(unfinished.stderr).toBe(
      'agentd: run run_unfinished is running, not finished: score it once it ends (agentd runs show run_unfinished)\n',
    );
    const unknownRun = await agentd(['eval', 'score', 'run_nope', '--evaluator', 'errors'], {
      home,
    });
    expect(unknownRun.stderr).toBe(
      'agentd: no run "run_nope" (or the prefix matches several): see agentd runs list\n',
    );
  });

  it('parses ages and dates in filters', () => {
    const now = Date.parse('2026-11-10T12:00:00Z');
    expect(
      parseRunFilter(['since=7d', 'until=2026-11-10', 'id=run_a', 'id=run_b'], 5, now),
    ).toEqual({
      statuses: ['completed'],
      since: '2026-11-03T12:00:00.000Z',
      until: '2026-11-10T00:00:00.000Z',
      ids: ['run_a', 'run_b'],
      limit: 5,
    });
    expect(parseRunFilter(['since=90m', 'status=completed,failed'], 1, now)).toMatchObject({
      since: '2026-11-10T10:30:00.000Z',
      statuses: ['completed', 'failed'],
    });
  });
});

describe('the runner pool', () => {
  it('keeps at most the limit in flight and the results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapConcurrent([5, 1, 4, 2, 3, 1, 2], 3, async (n, i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, n * 5));
      inFlight--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });
});

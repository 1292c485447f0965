import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zeroUsage } from '../../src/core/usage.ts';
import { compareResults, hasRegression } from '../../src/evals/compare.ts';
import {
  type CaseResult,
  caseOutcome,
  type EvalResult,
  type EvaluatorInfo,
  resultFormat,
  summarizeCases,
  type TrialResult,
  trialScore,
} from '../../src/evals/result.ts';
import { enoughData, pairedBootstrap, seededRandom, verdictOf } from '../../src/evals/stats.ts';
import type { Score } from '../../src/evals/types.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/** A result whose cases have these scores per trial, per evaluator (threshold 0.5). */
function resultOf(
  cases: Record<string, Record<string, number>[]>,
  options: { promptVersion?: string; startedAt?: string } = {},
): EvalResult {
  const evaluatorNames = [
    ...new Set(Object.values(cases).flatMap((trials) => trials.flatMap(Object.keys))),
  ];
  const evaluators: EvaluatorInfo[] = evaluatorNames.map((name) => ({
    name,
    kind: name === 'helpfulness' ? 'helpfulness' : 'custom',
    level: 'session',
    threshold: 0.5,
    ...(name === 'helpfulness' && options.promptVersion
      ? { promptVersion: options.promptVersion }
      : {}),
  }));
  const caseResults: CaseResult[] = Object.entries(cases).map(([id, trials]) => {
    const trialResults: TrialResult[] = trials.map((byName, i) => {
      const scores: Score[] = Object.entries(byName).map(([evaluator, score]) => ({
        evaluator,
        kind: 'custom',
        level: 'session',
        score,
        pass: score >= 0.5,
        threshold: 0.5,
        explanation: '',
      }));
      return {
        trial: i + 1,
        turns: 1,
        usage: zeroUsage,
        costUsd: 0,
        durationMs: 10,
        trajectory: [],
        scores,
        score: trialScore(scores, undefined),
      };
    });
    return {
      id,
      input: id,
      tags: [],
      agent: 'a.yaml',
      assertions: [],
      trials: trialResults,
      ...caseOutcome(trialResults),
    };
  });
  return {
    format: resultFormat,
    suite: { name: 'suite' },
    startedAt: options.startedAt ?? '2026-11-01T10:00:00.000Z',
    finishedAt: '2026-11-01T10:01:00.000Z',
    durationMs: 60_000,
    trials: Math.max(...Object.values(cases).map((t) => t.length)),
    evaluators,
    summary: summarizeCases(caseResults, evaluators),
    cases: caseResults,
  };
}

describe('the paired bootstrap', () => {
  it('is deterministic, centred on the observed change, and needs enough data', () => {
    const random = seededRandom(7);
    const noisy = Array.from({ length: 12 }, () => {
      const base = random();
      return {
        a: [base, base + 0.05, base - 0.05],
        b: [base - 0.3, base - 0.25, base - 0.35],
      };
    });
    const interval = pairedBootstrap(noisy)!;
    expect(interval.delta).toBeCloseTo(-0.3);
    expect(interval.low).toBeLessThan(interval.delta);
    expect(interval.high).toBeGreaterThan(interval.delta - 1e-9);
    expect(interval.high).toBeLessThan(0);
    expect(verdictOf(interval)).toBe('worse');
    expect(pairedBootstrap(noisy)).toEqual(interval);

    // the same mean, but large run-to-run noise: not a change
    const jittery = Array.from({ length: 6 }, (_, i) => ({
      a: [0.2, 0.8, 0.5],
      b: i % 2 ? [0.9, 0.1, 0.5] : [0.1, 0.9, 0.6],
    }));
    expect(verdictOf(pairedBootstrap(jittery))).toBe('same');

    // one case with a single trial a side: nothing says how noisy it is
    const lone = pairedBootstrap([{ a: [1], b: [0] }])!;
    expect(lone).toMatchObject({ delta: -1, low: -1, high: -1, enough: false });
    expect(verdictOf(lone)).toBe('unknown');
    expect(enoughData([{ a: [1, 1, 1], b: [0, 0, 0] }])).toBe(true);
    expect(enoughData([{ a: [1, 1], b: [0, 0, 0] }])).toBe(false);
    expect(pairedBootstrap([])).toBeUndefined();

    // one of five cases changed: the interval reaches 0
    const one = pairedBootstrap([0, 0, 0, 0, 1].map((d) => ({ a: [0], b: [d] })))!;
    expect(one.delta).toBeCloseTo(0.2);
    expect(one.low).toBe(0);
    expect(verdictOf(one)).toBe('same');
  });
});

describe('compareResults', () => {
  it('gives per-evaluator deltas, per-case regressions and improvements, and cases on one side only', () => {
    const a = resultOf(
      {
        c1: [{ correctness: 1, helpfulness: 0.9 }],
        c2: [{ correctness: 1, helpfulness: 0.8 }],
        c3: [{ correctness: 0, helpfulness: 0.6 }],
        c4: [{ correctness: 1, helpfulness: 0.7 }],
        old: [{ correctness: 1 }],
      },
      { promptVersion: 'helpfulness/v1+aaaaaaaa' },
    );
    const b = resultOf(
      {
        c1: [{ correctness: 0, helpfulness: 0.9 }],
        c2: [{ correctness: 1, helpfulness: 0.8 }],
        c3: [{ correctness: 1, helpfulness: 0.6 }],
        c4: [{ correctness: 1, helpfulness: 0.6 }],
        new: [{ correctness: 1 }],
      },
      { promptVersion: 'helpfulness/v2+bbbbbbbb' },
    );
    const comparison = compareResults(a, b);
    const byName = new Map(comparison.metrics.map((m) => [m.name, m]));
    expect(byName.get('correctness')).toMatchObject({ a: 0.8, b: 0.8, delta: 0 });
    expect(byName.get('helpfulness')?.delta).toBeCloseTo(-0.025);
    expect(byName.get('helpfulness')?.promptChange).toEqual({
      a: 'helpfulness/v1+aaaaaaaa',
      b: 'helpfulness/v2+bbbbbbbb',
    });
    // 4 cases in common, single trials: too little to tell
    expect(byName.get('suite score')?.verdict).toBe('unknown');
    expect(comparison.regressions.map((r) => [r.id, r.statusA, r.statusB])).toEqual([
      ['c1', 'passed', 'failed'],
      ['c4', 'passed', 'passed'],
    ]);
    expect(comparison.regressions[0]?.evaluators).toEqual([
      { name: 'correctness', a: 1, b: 0, delta: -1 },
    ]);
    expect(comparison.improvements.map((r) => r.id)).toEqual(['c3']);
    expect(comparison.onlyInA).toEqual(['old']);
    expect(comparison.onlyInB).toEqual(['new']);
    expect(hasRegression(comparison)).toBe(false);
  });

  it('with trials, tells a real drop in a case from noise', () => {
    const trials = (x: number[]) => x.map((helpfulness) => ({ helpfulness }));
    const a = resultOf({ steady: trials([0.9, 0.9, 0.9]), noisy: trials([0.2, 0.9, 0.6]) });
    const b = resultOf({ steady: trials([0.5, 0.5, 0.5]), noisy: trials([0.9, 0.2, 0.5]) });
    const comparison = compareResults(a, b);
    const steady = comparison.regressions.find((r) => r.id === 'steady')!;
    expect(steady.verdict).toBe('worse');
    expect(steady.interval?.high).toBeCloseTo(-0.4);
    const noisy = [...comparison.regressions, ...comparison.improvements].find(
      (r) => r.id === 'noisy',
    );
    expect(noisy?.verdict ?? 'same').toBe('same');
    expect(hasRegression(comparison)).toBe(true);
  });
});

// Each test starts agentd processes: slow on a busy machine.
describe('agentd eval compare', { timeout: 120_000 }, () => {
  it('prints the table and the regressions, and --fail-on-regression gates', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const base = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [
        `case-${i}`,
        [{ correctness: 1 }, { correctness: 1 }, { correctness: 1 }],
      ]),
    );
    const worse: Record<string, Record<string, number>[]> = {
      ...base,
      'case-0': [{ correctness: 0 }, { correctness: 0 }, { correctness: 0 }],
    };
    for (const i of [1, 2, 3])
      worse[`case-${i}`] = [{ correctness: 0 }, { correctness: 0 }, { correctness: 0 }];
    writeFileSync(join(dir, 'a.json'), JSON.stringify(resultOf(base)));
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify(resultOf(worse, { startedAt: '2026-11-02T10:00:00.000Z' })),
    );
    const same = await agentd(['eval', 'compare', 'a.json', 'a.json', '--fail-on-regression'], {
      home,
      cwd: dir,
    });
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(
      /^suite score +1\.00 +1\.00 +0\.00 +\[0\.00, 0\.00\] +within noise$/m,
    );
    expect(same.stdout).toContain('regressions: none');

    const r = await agentd(['eval', 'compare', 'a.json', 'b.json'], { home, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('A: suite, 2026-11-01T10:00:00.000Z, 6 cases × 3 trials');
    expect(r.stdout).toMatch(
      /^correctness +1\.00 +0\.33 +-0\.67 +\[-1\.00, -0\.33\] +worse \(beyond noise\)$/m,
    );
    expect(r.stdout).toMatch(
      /^regressions \(4\):\n {2}case-0: 1\.00 → 0\.00 \(-1\.00, passed → failed; worse \(beyond noise\)\)\n {6}correctness 1\.00 → 0\.00/m,
    );
    expect(r.stdout).toMatch(
      /^method: paired bootstrap \(10,000 resamples, seed 1, 95% percentile interval\)/m,
    );
    const gate = await agentd(['eval', 'compare', 'a.json', 'b.json', '--fail-on-regression'], {
      home,
      cwd: dir,
    });
    expect(gate.code).toBe(1);
    expect(gate.stderr).toBe('fail: B is worse than A beyond run-to-run noise\n');
    const json = await agentd(['eval', 'compare', 'a.json', 'b.json', '--json'], {
      home,
      cwd: dir,
    });
    expect(JSON.parse(json.stdout).regressions).toHaveLength(4);

    writeFileSync(join(dir, 'other.json'), '{"cases": []}');
    const wrong = await agentd(['eval', 'compare', 'a.json', 'other.json'], { home, cwd: dir });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(
      'agentd: other.json: not an agentd eval result (format null, expected "agentd.eval.result/1")\n',
    );
    const missing = await agentd(['eval', 'compare', 'a.json', 'nope.json'], { home, cwd: dir });
    expect(missing.stderr).toBe(
      'agentd: nope.json: result file not found (agentd eval run writes result.json)\n',
    );
  });
});

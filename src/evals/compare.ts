import type { CaseResult, CaseStatus, EvalResult } from './result.ts';
import {
  bootstrapDefaults,
  type Interval,
  type Paired,
  pairedBootstrap,
  verdictOf,
} from './stats.ts';

export type Verdict = 'better' | 'worse' | 'same' | 'unknown';

export interface MetricComparison {
  /** `suite score` or an evaluator's name. */
  name: string;
  a: number | null;
  b: number | null;
  delta: number | null;
  interval?: Interval;
  /** `unknown`: too little data to tell a change from noise. */
  verdict: Verdict;
  /** When the judge prompt's version differs between the two results. */
  promptChange?: { a?: string; b?: string };
}

export interface CaseComparison {
  id: string;
  a: number | null;
  b: number | null;
  delta: number;
  statusA: CaseStatus;
  statusB: CaseStatus;
  trialsA: number;
  trialsB: number;
  /** From the case's own trials (three or more a side), else unknown. */
  verdict: Verdict;
  interval?: Interval;
  /** Evaluators whose mean for this case changed, largest drop first. */
  evaluators: { name: string; a: number; b: number; delta: number }[];
}

export interface Comparison {
  a: { name: string; startedAt: string; trials: number; cases: number };
  b: { name: string; startedAt: string; trials: number; cases: number };
  metrics: MetricComparison[];
  /** Cases worse in B: beyond noise, or from passed to not passed. */
  regressions: CaseComparison[];
  improvements: CaseComparison[];
  onlyInA: string[];
  onlyInB: string[];
  method: string;
}

const method = `paired bootstrap (${bootstrapDefaults.resamples.toLocaleString('en-US')} resamples, seed ${bootstrapDefaults.seed}, 95% percentile interval): cases drawn with replacement, then each case's trials drawn with replacement on each side; a change is beyond noise when the interval leaves out 0. It takes 5 or more cases in common, or 3 or more trials a side in every case; otherwise the verdict is "cannot tell".`;

function trialScores(c: CaseResult): number[] {
  return c.trials.map((t) => t.score).filter((s): s is number => s !== null);
}

function evaluatorScores(c: CaseResult, name: string): number[] {
  return c.trials.flatMap((t) => t.scores.filter((s) => s.evaluator === name).map((s) => s.score));
}

function avg(values: readonly number[]): number | null {
  return values.length ? values.reduce((x, y) => x + y, 0) / values.length : null;
}

function metric(
  name: string,
  pairs: Paired[],
  a: number | null,
  b: number | null,
): MetricComparison {
  const interval = pairedBootstrap(pairs);
  return {
    name,
    a,
    b,
    delta: a !== null && b !== null ? b - a : null,
    ...(interval ? { interval } : {}),
    verdict: verdictOf(interval),
  };
}

/**
 * Compares two results of the same suite: for the suite score and each evaluator, the means,
 * the change and whether it is beyond run-to-run noise (paired over the cases both have);
 * and, case by case, which got worse or better.
 */
export function compareResults(a: EvalResult, b: EvalResult): Comparison {
  const casesA = new Map(a.cases.map((c) => [c.id, c]));
  const casesB = new Map(b.cases.map((c) => [c.id, c]));
  const common = a.cases.filter((c) => casesB.has(c.id)).map((c) => c.id);
  const pairsOf = (get: (c: CaseResult) => number[]): Paired[] =>
    common
      .map((id) => ({ a: get(casesA.get(id)!), b: get(casesB.get(id)!) }))
      .filter((p) => p.a.length > 0 && p.b.length > 0);

  const metrics: MetricComparison[] = [
    metric('suite score', pairsOf(trialScores), a.summary.score, b.summary.score),
  ];
  const names = [
    ...new Set([...a.evaluators.map((e) => e.name), ...b.evaluators.map((e) => e.name)]),
  ];
  for (const name of names) {
    const m = metric(
      name,
      pairsOf((c) => evaluatorScores(c, name)),
      a.summary.byEvaluator[name]?.mean ?? null,
      b.summary.byEvaluator[name]?.mean ?? null,
    );
    const versionA = a.evaluators.find((e) => e.name === name)?.promptVersion;
    const versionB = b.evaluators.find((e) => e.name === name)?.promptVersion;
    if (versionA !== versionB && (versionA || versionB)) {
      m.promptChange = {
        ...(versionA ? { a: versionA } : {}),
        ...(versionB ? { b: versionB } : {}),
      };
    }
    metrics.push(m);
  }

  const regressions: CaseComparison[] = [];
  const improvements: CaseComparison[] = [];
  for (const id of common) {
    const ca = casesA.get(id)!;
    const cb = casesB.get(id)!;
    const sa = trialScores(ca);
    const sb = trialScores(cb);
    const meanA = avg(sa);
    const meanB = avg(sb);
    const enough = sa.length >= 3 && sb.length >= 3;
    const interval = enough ? pairedBootstrap([{ a: sa, b: sb }]) : undefined;
    const verdict: Verdict = interval ? verdictOf({ ...interval, enough: true }) : 'unknown';
    const evaluators = [...new Set([...Object.keys(ca.evaluators), ...Object.keys(cb.evaluators)])]
      .map((name) => ({
        name,
        a: ca.evaluators[name]?.mean ?? 0,
        b: cb.evaluators[name]?.mean ?? 0,
      }))
      .map((e) => ({ ...e, delta: e.b - e.a }))
      .filter((e) => Math.abs(e.delta) > 1e-9)
      .sort((x, y) => x.delta - y.delta);
    const comparison: CaseComparison = {
      id,
      a: meanA,
      b: meanB,
      delta: (meanB ?? 0) - (meanA ?? 0),
      statusA: ca.status,
      statusB: cb.status,
      trialsA: ca.trials.length,
      trialsB: cb.trials.length,
      verdict,
      ...(interval ? { interval } : {}),
      evaluators,
    };
    const lostPass = ca.status === 'passed' && cb.status !== 'passed';
    const gainedPass = ca.status !== 'passed' && cb.status === 'passed';
    if (verdict === 'worse' || lostPass || (verdict === 'unknown' && comparison.delta < -1e-9)) {
      regressions.push(comparison);
    } else if (
      verdict === 'better' ||
      gainedPass ||
      (verdict === 'unknown' && comparison.delta > 1e-9)
    ) {
      improvements.push(comparison);
    }
  }
  regressions.sort((x, y) => x.delta - y.delta);
  improvements.sort((x, y) => y.delta - x.delta);
  return {
    a: { name: a.suite.name, startedAt: a.startedAt, trials: a.trials, cases: a.cases.length },
    b: { name: b.suite.name, startedAt: b.startedAt, trials: b.trials, cases: b.cases.length },
    metrics,
    regressions,
    improvements,
    onlyInA: a.cases.filter((c) => !casesB.has(c.id)).map((c) => c.id),
    onlyInB: b.cases.filter((c) => !casesA.has(c.id)).map((c) => c.id),
    method,
  };
}

/** Whether B is worse than A beyond noise somewhere: the suite score, an evaluator, or a case. */
export function hasRegression(comparison: Comparison): boolean {
  return (
    comparison.metrics.some((m) => m.verdict === 'worse') ||
    comparison.regressions.some((r) => r.verdict === 'worse')
  );
}

function fixed(n: number | null, digits = 2): string {
  return n === null ? '-' : n.toFixed(digits);
}

function signed(n: number | null): string {
  if (n === null) return '-';
  const text = n.toFixed(2);
  return n > 0 && text !== '0.00' ? `+${text}` : text === '-0.00' ? '0.00' : text;
}

const verdictText: Record<Verdict, string> = {
  better: 'better (beyond noise)',
  worse: 'worse (beyond noise)',
  same: 'within noise',
  unknown: 'cannot tell (too little data)',
};

function describeCase(c: CaseComparison): string {
  const status = c.statusA !== c.statusB ? `, ${c.statusA} → ${c.statusB}` : '';
  const noise =
    c.verdict === 'unknown'
      ? c.trialsA < 3 || c.trialsB < 3
        ? `; noise unknown (${Math.min(c.trialsA, c.trialsB)} trial${Math.min(c.trialsA, c.trialsB) === 1 ? '' : 's'}; use 3 or more)`
        : ''
      : `; ${verdictText[c.verdict]}`;
  const changed = c.evaluators
    .slice(0, 4)
    .map((e) => `${e.name} ${e.a.toFixed(2)} → ${e.b.toFixed(2)}`)
    .join(', ');
  return `  ${c.id}: ${fixed(c.a)} → ${fixed(c.b)} (${signed(c.delta)}${status}${noise})${changed ? `\n      ${changed}` : ''}`;
}

/** The comparison for a terminal: a table of metrics, then the cases that moved, then the method. */
export function comparisonReport(
  comparison: Comparison,
  table: (h: string[], rows: string[][]) => string,
): string {
  const rows = comparison.metrics.map((m) => [
    m.name,
    fixed(m.a),
    fixed(m.b),
    signed(m.delta),
    m.interval ? `[${signed(m.interval.low)}, ${signed(m.interval.high)}]` : '-',
    verdictText[m.verdict] + (m.promptChange ? ' (judge prompt changed)' : ''),
  ]);
  const parts = [
    `A: ${comparison.a.name}, ${comparison.a.startedAt}, ${comparison.a.cases} cases × ${comparison.a.trials} trial${comparison.a.trials === 1 ? '' : 's'}`,
    `B: ${comparison.b.name}, ${comparison.b.startedAt}, ${comparison.b.cases} cases × ${comparison.b.trials} trial${comparison.b.trials === 1 ? '' : 's'}`,
    '',
    table(['metric', 'A', 'B', 'Δ', '95% CI of Δ', 'verdict'], rows),
    '',
  ];
  for (const m of comparison.metrics) {
    if (m.promptChange) {
      parts.push(
        `note: ${m.name}'s judge prompt differs (A ${m.promptChange.a ?? 'none'}, B ${m.promptChange.b ?? 'none'}): part of the change may be the prompt's`,
      );
    }
  }
  parts.push(
    comparison.regressions.length
      ? `regressions (${comparison.regressions.length}):\n${comparison.regressions.map(describeCase).join('\n')}`
      : 'regressions: none',
  );
  if (comparison.improvements.length) {
    parts.push(
      `improvements (${comparison.improvements.length}):\n${comparison.improvements.map(describeCase).join('\n')}`,
    );
  }
  if (comparison.onlyInA.length) parts.push(`only in A: ${comparison.onlyInA.join(', ')}`);
  if (comparison.onlyInB.length) parts.push(`only in B: ${comparison.onlyInB.join(', ')}`);
  parts.push('', `method: ${comparison.method}`);
  return `${parts.join('\n')}\n`;
}

import { hostname } from 'node:os';
import type { CaseResult, EvalResult } from '../result.ts';

/** Text as XML character data: escaped, and without the characters XML 1.0 cannot hold. */
export function xmlText(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what XML forbids
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${xmlText(String(value))}"`)
    .join('');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** `2026-11-01T10:00:00`: the JUnit schema's timestamp (no zone; this one is UTC). */
function timestamp(iso: string): string {
  return iso.replace(/\.\d+Z$|Z$/, '');
}

function caseTime(c: CaseResult): number {
  return c.trials.reduce((n, t) => n + t.durationMs, 0);
}

function failureText(c: CaseResult): { failed: string[]; errors: string[] } {
  const failed: string[] = [];
  const errors: string[] = [];
  for (const t of c.trials) {
    const trial = c.trials.length > 1 ? `trial ${t.trial}: ` : '';
    if (t.error) errors.push(`${trial}${t.error}`);
    for (const s of t.scores) {
      const line = `${trial}${s.evaluator} ${s.score.toFixed(2)} (threshold ${s.threshold}): ${s.explanation}`;
      if (s.error) errors.push(line);
      else if (!s.pass) failed.push(line);
    }
  }
  return { failed, errors };
}

/**
 * The result as JUnit XML as CI systems read it (Jenkins' junit-10.xsd, which GitHub, GitLab
 * and most others follow): one
 * `testsuite` for the suite, one `testcase` per case. A case whose score fell under a
 * threshold has a `failure`; one that could not run or be scored has an `error`; one no
 * evaluator applied to is `skipped`. Each message names the evaluators and why.
 */
export function junitReport(result: EvalResult): string {
  const counts = {
    tests: result.cases.length,
    failures: result.cases.filter((c) => c.status === 'failed').length,
    errors: result.cases.filter((c) => c.status === 'error').length,
    skipped: result.cases.filter((c) => c.status === 'skipped').length,
  };
  const time = seconds(result.durationMs);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({ name: `agentd eval: ${result.suite.name}`, tests: counts.tests, failures: counts.failures, errors: counts.errors, time })}>`,
    `  <testsuite${attrs({
      name: result.suite.name,
      package: 'agentd.eval',
      id: 0,
      hostname: hostname() || 'localhost',
      timestamp: timestamp(result.startedAt),
      ...counts,
      time,
    })}>`,
    '    <properties>',
    `      <property${attrs({ name: 'score', value: result.summary.score === null ? 'none' : result.summary.score.toFixed(4) })}/>`,
    `      <property${attrs({ name: 'trials', value: result.trials })}/>`,
    ...(result.judge
      ? [
          `      <property${attrs({ name: 'judge', value: `${result.judge.model}${result.judge.scripted ? ' (scripted)' : ''}` })}/>`,
        ]
      : []),
    ...result.evaluators.map(
      (e) =>
        `      <property${attrs({
          name: `evaluator.${e.name}`,
          value: `${e.kind} (${e.level}), threshold ${e.threshold}${e.promptVersion ? `, prompt ${e.promptVersion}` : ''}, mean ${result.summary.byEvaluator[e.name]?.mean.toFixed(4) ?? 'none'}`,
        })}/>`,
    ),
    '    </properties>',
  ];
  for (const c of result.cases) {
    const open = `    <testcase${attrs({ name: c.id, classname: `agentd.eval.${result.suite.name}`, time: seconds(caseTime(c)) })}`;
    const { failed, errors } = failureText(c);
    const runs = c.trials.map((t) => t.runId).filter(Boolean);
    const out = [
      `score: ${c.score === null ? 'none' : c.score.toFixed(4)}`,
      ...Object.entries(c.evaluators).map(
        ([name, s]) =>
          `${name}: mean ${s.mean.toFixed(4)}, passed ${Math.round(s.passRate * 100)}%`,
      ),
      ...(runs.length ? [`runs: ${runs.join(' ')} (agentd runs show <id>)`] : []),
    ].join('\n');
    lines.push(`${open}>`);
    if (c.status === 'failed') {
      lines.push(
        `      <failure${attrs({ message: `${failed.length} score${failed.length === 1 ? '' : 's'} under threshold: ${failed[0] ?? ''}`.slice(0, 500), type: 'threshold' })}>${xmlText(failed.join('\n'))}</failure>`,
      );
    } else if (c.status === 'error') {
      lines.push(
        `      <error${attrs({ message: (errors[0] ?? 'error').slice(0, 500), type: 'evaluation' })}>${xmlText([...errors, ...failed].join('\n'))}</error>`,
      );
    } else if (c.status === 'skipped') {
      lines.push(`      <skipped${attrs({ message: 'no evaluator applied to this case' })}/>`);
    }
    lines.push(`      <system-out>${xmlText(out)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

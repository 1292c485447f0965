import { defineEvaluator, type EvalContext } from 'agentd';

interface Located {
  file: string;
  line: number;
  cwe: string;
}

/** A reported finding matches a planted one: same file and CWE, within `slack` lines. */
const slack = 2;

function reported(run: EvalContext['run']): Located[] | undefined {
  const call = run.calls.findLast((c) => c.name === 'report_findings' && !c.isError);
  const input = call?.input as { findings?: Located[] } | undefined;
  return input?.findings?.map((f) => ({
    file: f.file.replace(/^\.\//, ''),
    line: f.line,
    cwe: f.cwe,
  }));
}

function expected(c: EvalContext['case']): Located[] | undefined {
  return c?.metadata?.expected_findings as Located[] | undefined;
}

/** Pairs reported findings with planted ones, one to one. */
function matches(found: Located[], planted: Located[]): number {
  const left = [...planted];
  let n = 0;
  for (const f of found) {
    const i = left.findIndex(
      (p) => p.file === f.file && p.cwe === f.cwe && Math.abs(p.line - f.line) <= slack,
    );
    if (i >= 0) {
      left.splice(i, 1);
      n++;
    }
  }
  return n;
}

const show = (list: Located[]) =>
  list.map((f) => `${f.cwe} ${f.file}:${f.line}`).join(', ') || 'none';

/** Recall: the share of the planted vulnerabilities the report names. */
export const findingsRecall = defineEvaluator({
  name: 'findings_recall',
  threshold: 1,
  evaluate({ run, case: c }) {
    const planted = expected(c);
    if (!planted) return undefined;
    const found = reported(run);
    if (!found) return { score: 0, explanation: 'no report_findings call' };
    if (planted.length === 0) return { score: 1, explanation: 'nothing was planted' };
    const hit = matches(found, planted);
    return {
      score: hit / planted.length,
      explanation: `${hit} of ${planted.length} planted found (planted: ${show(planted)}; reported: ${show(found)})`,
    };
  },
});

/** Precision: the share of reported findings that are planted vulnerabilities. */
export const findingsPrecision = defineEvaluator({
  name: 'findings_precision',
  threshold: 0.5,
  evaluate({ run, case: c }) {
    const planted = expected(c);
    if (!planted) return undefined;
    const found = reported(run);
    if (!found) return { score: 0, explanation: 'no report_findings call' };
    if (found.length === 0) {
      return { score: planted.length === 0 ? 1 : 0, explanation: 'nothing reported' };
    }
    const hit = matches(found, planted);
    return {
      score: hit / found.length,
      explanation: `${hit} of ${found.length} reported are planted (reported: ${show(found)})`,
    };
  },
});

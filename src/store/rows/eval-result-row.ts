import type { EvalResultRecord } from '../store.ts';

/** A row of `eval_results`, the same in every store (the result as JSON text). */
export interface EvalResultRow {
  id: string;
  suite: string;
  started_at: string;
  score: number | null;
  cases: number;
  passed: number;
  failed: number;
  errors: number;
  result?: string;
}

/** The columns of a listing (all but the result). */
export const evalResultColumns = 'id, suite, started_at, score, cases, passed, failed, errors';

export function toEvalResultSummary(row: EvalResultRow): Omit<EvalResultRecord, 'result'> {
  return {
    id: row.id,
    suite: row.suite,
    startedAt: row.started_at,
    score: row.score === null ? null : Number(row.score),
    cases: Number(row.cases),
    passed: Number(row.passed),
    failed: Number(row.failed),
    errors: Number(row.errors),
  };
}

export function toEvalResult(row: EvalResultRow): EvalResultRecord {
  return { ...toEvalResultSummary(row), result: JSON.parse(row.result!) };
}

/** A record's values in the order of `evalResultColumns`, then its result (redacted JSON). */
export function evalResultValues(
  record: EvalResultRecord,
  redact: (text: string) => string,
): (string | number | null)[] {
  return [
    record.id,
    record.suite,
    record.startedAt,
    record.score,
    record.cases,
    record.passed,
    record.failed,
    record.errors,
    redact(JSON.stringify(record.result)),
  ];
}

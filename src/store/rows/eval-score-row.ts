import type { Redactor } from '../../core/redact.ts';
import type { EvalScoreRecord } from '../store.ts';

/** A row of `eval_scores` with its run's agent, the same in every store. */
export interface EvalScoreRow {
  run_id: string;
  source: string;
  evaluator: string;
  kind: string;
  level: string;
  score: number;
  /** 0/1 in SQLite, a boolean in Postgres. */
  pass: number | boolean;
  threshold: number;
  explanation: string;
  error: string | null;
  judge: string | null;
  scored_at: string;
  agent: string;
}

/** The free-text fields of a score as they are stored: redacted, JSON for the judge. */
export function evalScoreText(
  score: EvalScoreRecord,
  redact: Redactor,
): { explanation: string; error: string | null; judge: string | null } {
  return {
    explanation: redact(score.explanation),
    error: score.error === undefined ? null : redact(score.error),
    judge: score.judge === undefined ? null : redact(JSON.stringify(score.judge)),
  };
}

export function toEvalScore(row: EvalScoreRow): EvalScoreRecord {
  return {
    runId: row.run_id,
    source: row.source,
    evaluator: row.evaluator,
    kind: row.kind,
    level: row.level,
    score: Number(row.score),
    pass: row.pass === 1 || row.pass === true,
    threshold: Number(row.threshold),
    explanation: row.explanation,
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.judge !== null ? { judge: JSON.parse(row.judge) } : {}),
    scoredAt: row.scored_at,
    agent: row.agent,
  };
}

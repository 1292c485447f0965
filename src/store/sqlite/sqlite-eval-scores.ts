import type { Redactor } from '../../core/redact.ts';
import { type EvalScoreRow, evalScoreText, toEvalScore } from '../rows/eval-score-row.ts';
import type { EvalScoreRecord, EvalScoreStore, ListEvalScoresOptions } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** Scores kept with their runs, one per run, source and evaluator. */
export class SqliteEvalScores implements EvalScoreStore {
  readonly #c: SqliteConnection;
  readonly #redact: Redactor;

  constructor(connection: SqliteConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async putEvalScores(scores: readonly EvalScoreRecord[]): Promise<void> {
    if (scores.length === 0) return;
    const insert = this.#c.prepare(
      `INSERT INTO eval_scores (run_id, source, evaluator, kind, level, score, pass, threshold,
       explanation, error, judge, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, source, evaluator) DO UPDATE SET kind = excluded.kind,
       level = excluded.level, score = excluded.score, pass = excluded.pass,
       threshold = excluded.threshold, explanation = excluded.explanation,
       error = excluded.error, judge = excluded.judge, scored_at = excluded.scored_at`,
    );
    this.#c.transaction(() => {
      for (const s of scores) {
        const text = evalScoreText(s, this.#redact);
        insert.run(
          s.runId,
          s.source,
          s.evaluator,
          s.kind,
          s.level,
          s.score,
          s.pass ? 1 : 0,
          s.threshold,
          text.explanation,
          text.error,
          text.judge,
          s.scoredAt,
        );
      }
    });
  }

  async listEvalScores(options: ListEvalScoresOptions = {}): Promise<EvalScoreRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.runId !== undefined) {
      where.push('s.run_id = ?');
      params.push(options.runId);
    }
    if (options.source !== undefined) {
      where.push('s.source = ?');
      params.push(options.source);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.#c
      .prepare(
        `WITH recent AS (
           SELECT s.run_id, max(s.scored_at) AS last FROM eval_scores s ${filter}
           GROUP BY s.run_id ORDER BY last DESC, s.run_id DESC LIMIT ?)
         SELECT s.*, r.agent, recent.last FROM eval_scores s
         JOIN recent ON recent.run_id = s.run_id JOIN runs r ON r.id = s.run_id
         ${filter} ORDER BY recent.last DESC, s.run_id DESC, s.rowid`,
      )
      .all(...params, options.runs ?? -1, ...params) as unknown as EvalScoreRow[];
    return rows.map(toEvalScore);
  }
}

import type { Redactor } from '../../core/redact.ts';
import { type EvalScoreRow, evalScoreText, toEvalScore } from '../rows/eval-score-row.ts';
import type { EvalScoreRecord, EvalScoreStore, ListEvalScoresOptions } from '../store.ts';
import type { PostgresConnection } from './postgres-connection.ts';

/** Scores kept with their runs, one per run, source and evaluator. */
export class PostgresEvalScores implements EvalScoreStore {
  readonly #c: PostgresConnection;
  readonly #redact: Redactor;

  constructor(connection: PostgresConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async putEvalScores(scores: readonly EvalScoreRecord[]): Promise<void> {
    if (scores.length === 0) return;
    await this.#c.transaction(async (tx) => {
      for (const s of scores) {
        const text = evalScoreText(s, this.#redact);
        await tx.query(
          `INSERT INTO eval_scores (run_id, source, evaluator, kind, level, score, pass, threshold,
           explanation, error, judge, scored_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (run_id, source, evaluator) DO UPDATE SET kind = excluded.kind,
           level = excluded.level, score = excluded.score, pass = excluded.pass,
           threshold = excluded.threshold, explanation = excluded.explanation,
           error = excluded.error, judge = excluded.judge, scored_at = excluded.scored_at`,
          [
            s.runId,
            s.source,
            s.evaluator,
            s.kind,
            s.level,
            s.score,
            s.pass,
            s.threshold,
            text.explanation,
            text.error,
            text.judge,
            s.scoredAt,
          ],
        );
      }
    });
  }

  async listEvalScores(options: ListEvalScoresOptions = {}): Promise<EvalScoreRecord[]> {
    const where: string[] = [];
    const params: (string | number | null)[] = [];
    if (options.runId !== undefined) {
      params.push(options.runId);
      where.push(`s.run_id = $${params.length}`);
    }
    if (options.source !== undefined) {
      params.push(options.source);
      where.push(`s.source = $${params.length}`);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    params.push(options.runs ?? null);
    const rows = await this.#c.query<EvalScoreRow>(
      `WITH recent AS (
         SELECT s.run_id, max(s.scored_at) AS last FROM eval_scores s ${filter}
         GROUP BY s.run_id ORDER BY last DESC, s.run_id DESC LIMIT $${params.length})
       SELECT s.*, r.agent, recent.last FROM eval_scores s
       JOIN recent ON recent.run_id = s.run_id JOIN runs r ON r.id = s.run_id
       ${filter} ORDER BY recent.last DESC, s.run_id DESC, s.n`,
      params,
    );
    return rows.map(toEvalScore);
  }
}

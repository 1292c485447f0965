import type { Redactor } from '../../core/redact.ts';
import {
  type EvalResultRow,
  evalResultColumns,
  evalResultValues,
  toEvalResult,
  toEvalResultSummary,
} from '../rows/eval-result-row.ts';
import { escapeLike } from '../rows/run-row.ts';
import type { EvalResultRecord, EvalResultStore } from '../store.ts';
import type { PostgresConnection } from './postgres-connection.ts';

/** Evaluation suites' results in Postgres: one row per `agentd eval run`, the result as JSON. */
export class PostgresEvalResults implements EvalResultStore {
  readonly #c: PostgresConnection;
  readonly #redact: Redactor;

  constructor(connection: PostgresConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async putEvalResult(record: EvalResultRecord): Promise<void> {
    await this.#c.query(
      `INSERT INTO eval_results (${evalResultColumns}, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (id) DO UPDATE SET suite = excluded.suite, started_at = excluded.started_at,
       score = excluded.score, cases = excluded.cases, passed = excluded.passed,
       failed = excluded.failed, errors = excluded.errors, result = excluded.result`,
      evalResultValues(record, this.#redact),
    );
  }

  async getEvalResult(idOrPrefix: string): Promise<EvalResultRecord | undefined> {
    const select = `SELECT ${evalResultColumns}, result FROM eval_results`;
    const [exact] = await this.#c.query<EvalResultRow>(`${select} WHERE id = $1`, [idOrPrefix]);
    const matches = exact
      ? [exact]
      : await this.#c.query<EvalResultRow>(`${select} WHERE id LIKE $1 ESCAPE '\\' LIMIT 2`, [
          `${escapeLike(idOrPrefix)}%`,
        ]);
    return matches.length === 1 ? toEvalResult(matches[0]!) : undefined;
  }

  async listEvalResults(
    options: { suite?: string; limit?: number } = {},
  ): Promise<Omit<EvalResultRecord, 'result'>[]> {
    const rows = await this.#c.query<EvalResultRow>(
      options.suite !== undefined
        ? `SELECT ${evalResultColumns} FROM eval_results WHERE suite = $2 ORDER BY started_at DESC, id DESC LIMIT $1`
        : `SELECT ${evalResultColumns} FROM eval_results ORDER BY started_at DESC, id DESC LIMIT $1`,
      options.suite !== undefined ? [options.limit ?? 100, options.suite] : [options.limit ?? 100],
    );
    return rows.map(toEvalResultSummary);
  }
}

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
import type { SqliteConnection } from './sqlite-connection.ts';

/** Evaluation suites' results in SQLite: one row per `agentd eval run`, the result as JSON. */
export class SqliteEvalResults implements EvalResultStore {
  readonly #c: SqliteConnection;
  readonly #redact: Redactor;

  constructor(connection: SqliteConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async putEvalResult(record: EvalResultRecord): Promise<void> {
    this.#c
      .prepare(
        `INSERT INTO eval_results (${evalResultColumns}, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET suite = excluded.suite, started_at = excluded.started_at,
         score = excluded.score, cases = excluded.cases, passed = excluded.passed,
         failed = excluded.failed, errors = excluded.errors, result = excluded.result`,
      )
      .run(...evalResultValues(record, this.#redact));
  }

  async getEvalResult(idOrPrefix: string): Promise<EvalResultRecord | undefined> {
    const select = `SELECT ${evalResultColumns}, result FROM eval_results`;
    const exact = this.#c.prepare(`${select} WHERE id = ?`).get(idOrPrefix) as
      | EvalResultRow
      | undefined;
    const matches = exact
      ? [exact]
      : (this.#c
          .prepare(`${select} WHERE id LIKE ? ESCAPE '\\' LIMIT 2`)
          .all(`${escapeLike(idOrPrefix)}%`) as unknown as EvalResultRow[]);
    return matches.length === 1 ? toEvalResult(matches[0]!) : undefined;
  }

  async listEvalResults(
    options: { suite?: string; limit?: number } = {},
  ): Promise<Omit<EvalResultRecord, 'result'>[]> {
    const rows = this.#c
      .prepare(
        `SELECT ${evalResultColumns} FROM eval_results ${options.suite !== undefined ? 'WHERE suite = ?' : ''}
         ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .all(
        ...(options.suite !== undefined ? [options.suite] : []),
        options.limit ?? 100,
      ) as unknown as EvalResultRow[];
    return rows.map(toEvalResultSummary);
  }
}

import type { DatabaseSync } from 'node:sqlite';
import type { Redactor } from '../../core/redact.ts';
import type { EvalResultRecord } from '../store.ts';

interface EvalResultRow {
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

const columns = 'id, suite, started_at, score, cases, passed, failed, errors';

function toRecord(row: EvalResultRow): Omit<EvalResultRecord, 'result'> {
  return {
    id: row.id,
    suite: row.suite,
    startedAt: row.started_at,
    score: row.score,
    cases: row.cases,
    passed: row.passed,
    failed: row.failed,
    errors: row.errors,
  };
}

/** Evaluation suites' results in SQLite: one row per `agentd eval run`, the result as JSON. */
export class SqliteEvalResults {
  readonly #db: DatabaseSync;
  readonly #redact: Redactor;

  constructor(db: DatabaseSync, redact: Redactor) {
    this.#db = db;
    this.#redact = redact;
  }

  put(record: EvalResultRecord): void {
    this.#db
      .prepare(
        `INSERT INTO eval_results (${columns}, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET suite = excluded.suite, started_at = excluded.started_at,
         score = excluded.score, cases = excluded.cases, passed = excluded.passed,
         failed = excluded.failed, errors = excluded.errors, result = excluded.result`,
      )
      .run(
        record.id,
        record.suite,
        record.startedAt,
        record.score,
        record.cases,
        record.passed,
        record.failed,
        record.errors,
        this.#redact(JSON.stringify(record.result)),
      );
  }

  get(idOrPrefix: string): EvalResultRecord | undefined {
    const exact = this.#db
      .prepare(`SELECT ${columns}, result FROM eval_results WHERE id = ?`)
      .get(idOrPrefix) as EvalResultRow | undefined;
    const escaped = idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    const matches = exact
      ? [exact]
      : (this.#db
          .prepare(
            `SELECT ${columns}, result FROM eval_results WHERE id LIKE ? ESCAPE '\\' LIMIT 2`,
          )
          .all(`${escaped}%`) as unknown as EvalResultRow[]);
    if (matches.length !== 1) return undefined;
    const row = matches[0]!;
    return { ...toRecord(row), result: JSON.parse(row.result!) as EvalResultRecord['result'] };
  }

  list(options: { suite?: string; limit?: number }): Omit<EvalResultRecord, 'result'>[] {
    const rows = this.#db
      .prepare(
        `SELECT ${columns} FROM eval_results ${options.suite !== undefined ? 'WHERE suite = ?' : ''}
         ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .all(
        ...(options.suite !== undefined ? [options.suite] : []),
        options.limit ?? 100,
      ) as unknown as EvalResultRow[];
    return rows.map(toRecord);
  }
}

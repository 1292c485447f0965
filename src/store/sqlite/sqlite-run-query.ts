import { encodeCursor, runQueryConditions } from '../rows/run-query.ts';
import { type RunRow, toSummary } from '../rows/run-row.ts';
import type { RunPage, RunQuery } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/**
 * A run with the last event that set its status (finished, paused, resumed, waiting for or
 * given an approval), if any: `run_status_events` points at it (a trigger keeps it, see
 * migration 12).
 */
export const selectRuns = `SELECT r.id, r.agent, r.model, r.task, r.parent_run_id, r.created_at,
  r.actor, r.session_id, s.type AS status_type, s.data AS status_data, s.at AS status_at,
  (SELECT group_concat(t.tag, ' ' ORDER BY t.tag) FROM run_tags t WHERE t.run_id = r.id) AS tags
  FROM runs r LEFT JOIN run_status_events rs ON rs.run_id = r.id
  LEFT JOIN events s ON s.run_id = r.id AND s.seq = rs.seq`;

/** Up to this many runs of a status, a filter on it reads them by the status index. */
const rareStatus = 5000;

/**
 * Runs matching a query, newest first, one page at a time (keyset paging on
 * `(created_at, id)`, so a page deep in 100,000 runs costs what the first does).
 */
export function queryRuns(c: SqliteConnection, query: RunQuery): RunPage {
  const params: (string | number)[] = [];
  const param = (value: string | number) => {
    params.push(value);
    return `?${params.length}`;
  };
  const where = runQueryConditions(query, param);
  if (query.status && query.status !== 'running') {
    // Few runs of the status: find them by the index and sort them. Many: scan in time order
    // (the first page is found long before the end), the index left aside (`+`).
    const { n } = c
      .prepare('SELECT count(*) AS n FROM run_status_events WHERE status = ?')
      .get(query.status) as { n: number };
    where.push(`${n <= rareStatus ? '' : '+'}rs.status = ${param(query.status)}`);
  }
  const limit = query.limit ?? 50;
  const rows = c
    .prepare(
      `${selectRuns} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.created_at DESC, r.id DESC LIMIT ${param(limit + 1)}`,
    )
    .all(...params) as unknown as RunRow[];
  const runs = rows.slice(0, limit).map(toSummary);
  return rows.length > limit ? { runs, nextCursor: encodeCursor(runs.at(-1)!) } : { runs };
}

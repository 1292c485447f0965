import type { DatabaseSync } from 'node:sqlite';
import type { ApprovalAnsweredData, RunFinishedData } from '../../core/events.ts';
import { BadCursorError, type RunPage, type RunQuery, type RunSummary } from '../store.ts';

export interface RunRow {
  id: string;
  agent: string;
  model: string;
  task: string;
  parent_run_id: string | null;
  created_at: string;
  actor: string | null;
  session_id: string | null;
  status_type: string | null;
  status_data: string | null;
  status_at: string | null;
}

/**
 * A run with the last event that set its status (finished, paused, resumed, waiting for or
 * given an approval), if any: `run_status_events` points at it (a trigger keeps it, see
 * migration 11).
 */
export const selectRuns = `SELECT r.id, r.agent, r.model, r.task, r.parent_run_id, r.created_at,
  r.actor, r.session_id, s.type AS status_type, s.data AS status_data, s.at AS status_at
  FROM runs r LEFT JOIN run_status_events rs ON rs.run_id = r.id
  LEFT JOIN events s ON s.run_id = r.id AND s.seq = rs.seq`;

export function toSummary(row: RunRow): RunSummary {
  const summary: RunSummary = {
    id: row.id,
    agent: row.agent,
    model: row.model,
    task: row.task,
    createdAt: row.created_at,
    status: 'running',
  };
  if (row.parent_run_id) summary.parentRunId = row.parent_run_id;
  if (row.actor) summary.actor = row.actor;
  if (row.session_id) summary.sessionId = row.session_id;
  if (row.status_type === 'run.needs_attention') summary.status = 'needs_attention';
  if (row.status_type === 'run.suspended') summary.status = 'suspended';
  if (row.status_type === 'approval.requested') summary.status = 'awaiting_approval';
  if (row.status_type === 'approval.answered' && row.status_data) {
    const answered = JSON.parse(row.status_data) as ApprovalAnsweredData;
    if (answered.othersWaiting > 0) summary.status = 'awaiting_approval';
  }
  if (row.status_type === 'run.finished' && row.status_data) {
    const f = JSON.parse(row.status_data) as RunFinishedData;
    summary.status = f.status;
    summary.reason = f.reason;
    summary.turns = f.turns;
    summary.usage = f.usage;
    summary.costUsd = f.costUsd;
    summary.finishedAt = row.status_at ?? undefined;
  }
  return summary;
}

/** Up to this many runs of a status, a filter on it reads them by the status index. */
const rareStatus = 5000;

/** `createdAt|id` of the last run of a page: the next page starts after it. */
function encodeCursor(run: RunSummary): string {
  return Buffer.from(`${run.createdAt}|${run.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  return bar > 0 ? { createdAt: text.slice(0, bar), id: text.slice(bar + 1) } : undefined;
}

/**
 * Runs matching a query, newest first, one page at a time (keyset paging on
 * `(created_at, id)`, so a page deep in 100,000 runs costs what the first does). Status and
 * cost filters use `run_status_events`, which the event that set them keeps.
 */
export function queryRuns(db: DatabaseSync, query: RunQuery): RunPage {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (sql: string, ...values: (string | number)[]) => {
    where.push(sql);
    params.push(...values);
  };
  if (query.agent) add('r.agent = ?', query.agent);
  if (query.actor) add('r.actor = ?', query.actor);
  if (query.session) add('r.session_id = ?', query.session);
  if (query.since) add('r.created_at >= ?', query.since);
  if (query.until) add('r.created_at < ?', query.until);
  if (query.team) {
    add(
      '(r.id IN (SELECT run_id FROM team_runs WHERE team_id = ?) OR r.id IN (SELECT lead_run_id FROM teams WHERE id = ?))',
      query.team,
      query.team,
    );
  }
  if (query.search) {
    const escaped = query.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`);
    add(
      "(lower(r.task) LIKE ? ESCAPE '\\' OR r.id LIKE ? ESCAPE '\\')",
      `%${escaped}%`,
      `${escaped}%`,
    );
  }
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    if (!after) throw new BadCursorError(query.cursor);
    add(
      '(r.created_at < ? OR (r.created_at = ? AND r.id < ?))',
      after.createdAt,
      after.createdAt,
      after.id,
    );
  }
  if (query.status === 'running') add("(rs.status IS NULL OR rs.status = 'running')");
  else if (query.status) {
    // Few runs of the status: find them by the index and sort them. Many: scan in time order
    // (the first page is found long before the end), the index left aside (`+`).
    const { n } = db
      .prepare('SELECT count(*) AS n FROM run_status_events WHERE status = ?')
      .get(query.status) as { n: number };
    add(n <= rareStatus ? 'rs.status = ?' : '+rs.status = ?', query.status);
  }
  if (query.minCostUsd !== undefined) add('rs.cost_usd >= ?', query.minCostUsd);
  if (query.maxCostUsd !== undefined) add('rs.cost_usd <= ?', query.maxCostUsd);
  const limit = query.limit ?? 50;
  const sql = `${selectRuns} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY r.created_at DESC, r.id DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...params, limit + 1) as unknown as RunRow[];
  const runs = rows.slice(0, limit).map(toSummary);
  return rows.length > limit ? { runs, nextCursor: encodeCursor(runs.at(-1)!) } : { runs };
}

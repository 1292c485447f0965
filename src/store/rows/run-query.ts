import { BadCursorError, type RunQuery, type RunSummary } from '../store.ts';
import { escapeLike } from './run-row.ts';

/** `createdAt|id` of the last run of a page: the next page starts after it. */
export function encodeCursor(run: RunSummary): string {
  return Buffer.from(`${run.createdAt}|${run.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const bar = text.indexOf('|');
  if (bar <= 0) throw new BadCursorError(cursor);
  return { createdAt: text.slice(0, bar), id: text.slice(bar + 1) };
}

/**
 * The conditions of a runs query on `runs r` and `run_status_events rs`, but its status (each
 * store says how it reads that best), with `param` giving each value its placeholder. Paging
 * is by keyset on `(created_at, id)`, newest first.
 */
export function runQueryConditions(
  query: RunQuery,
  param: (value: string | number) => string,
): string[] {
  const where: string[] = [];
  if (query.agent) where.push(`r.agent = ${param(query.agent)}`);
  if (query.actor) where.push(`r.actor = ${param(query.actor)}`);
  if (query.session) where.push(`r.session_id = ${param(query.session)}`);
  if (query.since) where.push(`r.created_at >= ${param(query.since)}`);
  if (query.until) where.push(`r.created_at < ${param(query.until)}`);
  if (query.team) {
    const team = param(query.team);
    where.push(
      `(r.id IN (SELECT run_id FROM team_runs WHERE team_id = ${team}) OR r.id IN (SELECT lead_run_id FROM teams WHERE id = ${team}))`,
    );
  }
  if (query.search) {
    const words = escapeLike(query.search.toLowerCase());
    where.push(
      `(lower(r.task) LIKE ${param(`%${words}%`)} ESCAPE '\\' OR r.id LIKE ${param(`${words}%`)} ESCAPE '\\')`,
    );
  }
  for (const tag of new Set(query.tags ?? [])) {
    where.push(`r.id IN (SELECT run_id FROM run_tags WHERE tag = ${param(tag)})`);
  }
  if (query.status === 'running') where.push("(rs.status IS NULL OR rs.status = 'running')");
  if (query.minCostUsd !== undefined) where.push(`rs.cost_usd >= ${param(query.minCostUsd)}`);
  if (query.maxCostUsd !== undefined) where.push(`rs.cost_usd <= ${param(query.maxCostUsd)}`);
  if (query.cursor) {
    const after = decodeCursor(query.cursor);
    const at = param(after.createdAt);
    where.push(`(r.created_at < ${at} OR (r.created_at = ${at} AND r.id < ${param(after.id)}))`);
  }
  return where;
}

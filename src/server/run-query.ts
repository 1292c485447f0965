import { runStatuses } from '../core/events.ts';
import { tagProblem } from '../core/run-tags.ts';
import type { RunQuery } from '../store/store.ts';

/** The filters of `GET /runs` as a store query, or one line naming the bad parameter. */
export function runQueryOf(
  params: Record<string, string>,
  tags: readonly string[] = [],
): RunQuery | { error: string } {
  const query: RunQuery = {};
  for (const tag of tags) {
    const problem = tagProblem(tag);
    if (problem) return { error: `tag: "${tag}" ${problem}` };
  }
  if (tags.length) query.tags = [...new Set(tags)];
  const { status, limit, since, until, minCost, maxCost } = params;
  if (status !== undefined) {
    if (!(runStatuses as readonly string[]).includes(status)) {
      return { error: `status: "${status}" is not one of ${runStatuses.join(', ')}` };
    }
    query.status = status as RunQuery['status'];
  }
  const count = Number(limit ?? 50);
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    return { error: 'limit: give 1 to 1000' };
  }
  query.limit = count;
  for (const [name, value] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (value === undefined) continue;
    const at = Date.parse(value);
    if (Number.isNaN(at)) return { error: `${name}: "${value}" is not a date and time (ISO 8601)` };
    query[name] = new Date(at).toISOString();
  }
  for (const [name, value, key] of [
    ['minCost', minCost, 'minCostUsd'],
    ['maxCost', maxCost, 'maxCostUsd'],
  ] as const) {
    if (value === undefined) continue;
    const usd = Number(value);
    if (!Number.isFinite(usd) || usd < 0)
      return { error: `${name}: "${value}" is not an amount in USD` };
    query[key] = usd;
  }
  for (const name of ['agent', 'actor', 'session', 'team', 'cursor'] as const) {
    if (params[name]) query[name] = params[name];
  }
  if (params.q?.trim()) query.search = params.q.trim();
  return query;
}

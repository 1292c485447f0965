import type { paths } from '../api/schema';

/** The query `GET /runs` takes (generated from the API's document). */
export type RunsQuery = NonNullable<paths['/runs']['get']['parameters']['query']>;

/** What the runs list is narrowed to, as the page keeps it (and its address shows it). */
export interface RunFilters {
  q?: string;
  agent?: string;
  status?: RunsQuery['status'];
  actor?: string;
  session?: string;
  team?: string;
  /** `1h`, `24h`, `7d`, `30d`: runs started in that last span. */
  within?: string;
  minCost?: string;
  maxCost?: string;
}

const spans: Record<string, number> = {
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};
export const withinChoices = Object.keys(spans);

const keys = [
  'q',
  'agent',
  'status',
  'actor',
  'session',
  'team',
  'within',
  'minCost',
  'maxCost',
] as const;

/** Filters from the page's address (unknown or empty values are left out). */
export function filtersFromQuery(query: URLSearchParams): RunFilters {
  const filters: RunFilters = {};
  for (const key of keys) {
    const value = query.get(key)?.trim();
    if (value) (filters as Record<string, string>)[key] = value;
  }
  if (filters.within && !(filters.within in spans)) delete filters.within;
  return filters;
}

/** The page's address query for filters (stable order, empty ones left out). */
export function filtersToQuery(filters: RunFilters): URLSearchParams {
  const query = new URLSearchParams();
  for (const key of keys) {
    const value = filters[key];
    if (value) query.set(key, value);
  }
  return query;
}

/**
 * The API's query for filters: `within` becomes `since` (from `now`), costs become numbers;
 * a cost that is not a number is an error naming the field, before any request.
 */
export function apiQuery(
  filters: RunFilters,
  now: number,
  page: { cursor?: string; limit: number },
): { query: RunsQuery } | { error: string } {
  const query: RunsQuery = { limit: page.limit };
  if (page.cursor) query.cursor = page.cursor;
  if (filters.q) query.q = filters.q;
  if (filters.agent) query.agent = filters.agent;
  if (filters.status) query.status = filters.status;
  if (filters.actor) query.actor = filters.actor;
  if (filters.session) query.session = filters.session;
  if (filters.team) query.team = filters.team;
  if (filters.within) query.since = new Date(now - spans[filters.within]!).toISOString();
  for (const [field, key] of [
    ['minCost', 'minCost'],
    ['maxCost', 'maxCost'],
  ] as const) {
    const text = filters[field];
    if (!text) continue;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) {
      return {
        error: `${field === 'minCost' ? 'min cost' : 'max cost'}: "${text}" is not an amount in USD`,
      };
    }
    query[key] = value;
  }
  return { query };
}

/** How many filters are set (for "3 filters · clear"). */
export function activeFilters(filters: RunFilters): number {
  return keys.filter((key) => filters[key]).length;
}

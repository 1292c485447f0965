import type { RunEvent } from '../../core/events.ts';
import type { Redactor } from '../../core/redact.ts';
import { maxTagsPerRun } from '../../core/run-tags.ts';
import { encodeCursor, runQueryConditions } from '../rows/run-query.ts';
import { type EventRow, escapeLike, type RunRow, toEvent, toSummary } from '../rows/run-row.ts';
import { checkTagEvents, tooManyTags } from '../rows/run-tags.ts';
import {
  DuplicateEventError,
  type LeaseFence,
  LeaseLostError,
  type ListRunsOptions,
  type RunLogStore,
  type RunPage,
  type RunQuery,
  type RunSummary,
} from '../store.ts';
import {
  isUniqueViolation,
  type PostgresConnection,
  type Queryable,
} from './postgres-connection.ts';

/** A run with the last event that set its status, if any. */
const selectRuns = `SELECT r.id, r.agent, r.model, r.task, r.parent_run_id, r.created_at,
  r.actor, r.session_id, s.type AS status_type, s.data AS status_data, s.at AS status_at,
  (SELECT string_agg(t.tag, ' ' ORDER BY t.tag COLLATE "C") FROM run_tags t WHERE t.run_id = r.id) AS tags
  FROM runs r LEFT JOIN run_status_events rs ON rs.run_id = r.id
  LEFT JOIN events s ON s.run_id = r.id AND s.seq = rs.seq`;

/**
 * Runs and their event log in Postgres: an append is one transaction (the runs it starts,
 * then its events in one statement), fenced by the run's lease when the appender gives one.
 */
export class PostgresRunLog implements RunLogStore {
  readonly #c: PostgresConnection;
  readonly #redact: Redactor;

  constructor(connection: PostgresConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async append(events: readonly RunEvent[], fence?: LeaseFence): Promise<void> {
    if (events.length === 0) return;
    const tagged = checkTagEvents(events);
    try {
      await this.#c.transaction(async (tx) => {
        if (fence) await checkFence(tx, events[0]!.runId, fence);
        for (const event of events) {
          if (event.type !== 'run.started') continue;
          const data = event.data;
          await tx.query(
            `INSERT INTO runs (id, agent, model, task, parent_run_id, created_at, actor, session_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
            [
              event.runId,
              data.agent,
              data.model,
              this.#redact(data.task),
              data.parentRunId ?? null,
              event.at,
              data.actor ?? null,
              data.session?.id ?? null,
            ],
          );
        }
        // Subscribers in every process hear of the run's new events at commit (NOTIFY).
        await tx.query(
          `WITH added AS (
             INSERT INTO events (run_id, seq, at, type, data)
             SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[]))
           SELECT pg_notify($6, $7)`,
          [
            events.map((e) => e.runId),
            events.map((e) => e.seq),
            events.map((e) => e.at),
            events.map((e) => e.type),
            events.map((e) => this.#redact(JSON.stringify(e.data))),
            this.#c.channel('events'),
            events[0]!.runId,
          ],
        );
        for (const runId of tagged) {
          const [{ n }] = (await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM run_tags WHERE run_id = $1',
            [runId],
          )) as [{ n: number }];
          if (n > maxTagsPerRun) throw tooManyTags(runId, n);
        }
      });
    } catch (error) {
      if (
        isUniqueViolation(error) &&
        (error as { constraint?: string }).constraint === 'events_pkey'
      ) {
        throw duplicateOf(events, error);
      }
      throw error;
    }
  }

  async readEvents(
    runId: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<RunEvent[]> {
    const rows = await this.#c.query<EventRow>(
      `SELECT run_id, seq, at, type, data FROM events WHERE run_id = $1 AND seq > $2
       ORDER BY seq LIMIT $3`,
      [runId, options.afterSeq ?? -1, options.limit ?? null],
    );
    return rows.map(toEvent);
  }

  async getRun(idOrPrefix: string): Promise<RunSummary | undefined> {
    const [exact] = await this.#c.query<RunRow>(`${selectRuns} WHERE r.id = $1`, [idOrPrefix]);
    if (exact) return toSummary(exact);
    const matches = await this.#c.query<RunRow>(
      `${selectRuns} WHERE r.id LIKE $1 ESCAPE '\\' LIMIT 2`,
      [`${escapeLike(idOrPrefix)}%`],
    );
    return matches.length === 1 ? toSummary(matches[0]!) : undefined;
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunSummary[]> {
    const limit = options.limit ?? 50;
    // The status is a fold of the log: filter after reading, in pages, newest first.
    const out: RunSummary[] = [];
    const page = options.status ? Math.max(limit * 4, 200) : limit;
    for (let offset = 0; ; offset += page) {
      const rows = await this.#c.query<RunRow>(
        `${selectRuns} ORDER BY r.created_at DESC, r.id DESC LIMIT $1 OFFSET $2`,
        [page, offset],
      );
      for (const row of rows) {
        const summary = toSummary(row);
        if (options.status && summary.status !== options.status) continue;
        out.push(summary);
        if (out.length >= limit) return out;
      }
      if (rows.length < page) return out;
    }
  }

  async queryRuns(query: RunQuery): Promise<RunPage> {
    const params: (string | number)[] = [];
    const param = (value: string | number) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = runQueryConditions(query, param);
    if (query.status && query.status !== 'running')
      where.push(`rs.status = ${param(query.status)}`);
    const limit = query.limit ?? 50;
    const rows = await this.#c.query<RunRow>(
      `${selectRuns} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY r.created_at DESC, r.id DESC LIMIT ${param(limit + 1)}`,
      params,
    );
    const runs = rows.slice(0, limit).map(toSummary);
    return rows.length > limit ? { runs, nextCursor: encodeCursor(runs.at(-1)!) } : { runs };
  }
}

/**
 * Refuses the append unless the lease is still held at the fence's generation. `FOR SHARE`
 * holds the lease row until the append commits: a claim by another process waits for it, and
 * every append after that claim sees the new generation.
 */
async function checkFence(tx: Queryable, runId: string, fence: LeaseFence): Promise<void> {
  const held = await tx.query(
    'SELECT 1 FROM run_leases WHERE run_id = $1 AND owner = $2 AND generation = $3 FOR SHARE',
    [runId, fence.owner, fence.generation],
  );
  if (held.length === 0) throw new LeaseLostError(runId, fence);
}

/** The event a unique violation names (`Key (run_id, seq)=(run_1, 3) already exists.`). */
function duplicateOf(events: readonly RunEvent[], error: unknown): DuplicateEventError {
  const detail = (error as { detail?: string }).detail ?? '';
  const match = /=\((.*), (\d+)\)/.exec(detail);
  const event = match
    ? (events.find((e) => e.runId === match[1] && e.seq === Number(match[2])) ?? events[0]!)
    : events[0]!;
  return new DuplicateEventError(event.runId, event.seq);
}

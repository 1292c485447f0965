import type { RunEvent, RunStartedData } from '../../core/events.ts';
import type { Redactor } from '../../core/redact.ts';
import { maxTagsPerRun } from '../../core/run-tags.ts';
import { type EventRow, escapeLike, type RunRow, toEvent, toSummary } from '../rows/run-row.ts';
import { checkTagEvents, tooManyTags } from '../rows/run-tags.ts';
import {
  DuplicateEventError,
  type Durability,
  type LeaseFence,
  LeaseLostError,
  type ListRunsOptions,
  type RunLogStore,
  type RunPage,
  type RunQuery,
  type RunSummary,
} from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { queryRuns, selectRuns } from './sqlite-run-query.ts';

interface PendingAppend {
  events: readonly RunEvent[];
  fence: LeaseFence | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Runs and their event log in SQLite. With `process` durability an append commits in the
 * call; with `machine`, appends made in the same tick by concurrent runs share one
 * transaction and so one fsync.
 */
export class SqliteRunLog implements RunLogStore {
  readonly #c: SqliteConnection;
  readonly #redact: Redactor;
  readonly #durability: Durability;
  readonly #pending: PendingAppend[] = [];
  #flushScheduled = false;

  constructor(connection: SqliteConnection, redact: Redactor, durability: Durability) {
    this.#c = connection;
    this.#redact = redact;
    this.#durability = durability;
  }

  append(events: readonly RunEvent[], fence?: LeaseFence): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.#durability === 'process') {
      // Without fsync a commit is cheap: write now, in this call.
      try {
        this.#write([{ events, fence }]);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // Each batch still commits or fails on its own terms: a failing batch is retried alone
    // so one run's error never fails another's append.
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, fence, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes the appends waiting for the next tick now (the store closing). */
  flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    try {
      this.#write(batch);
      for (const b of batch) b.resolve();
    } catch {
      for (const b of batch) {
        try {
          this.#write([b]);
          b.resolve();
        } catch (error) {
          b.reject(error);
        }
      }
    }
  }

  #write(groups: readonly Pick<PendingAppend, 'events' | 'fence'>[]): void {
    const insertEvent = this.#c.prepare(
      'INSERT INTO events (run_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)',
    );
    this.#c.transaction(() => {
      for (const { events, fence } of groups) {
        const tagged = checkTagEvents(events);
        if (fence) this.#checkFence(events[0]!.runId, fence);
        for (const event of events) {
          if (event.type === 'run.started') this.#registerRun(event.runId, event.at, event.data);
          try {
            insertEvent.run(
              event.runId,
              event.seq,
              event.at,
              event.type,
              this.#redact(JSON.stringify(event.data)),
            );
          } catch (error) {
            if ((error as { errcode?: number }).errcode === 1555) {
              throw new DuplicateEventError(event.runId, event.seq);
            }
            throw error;
          }
        }
        for (const runId of tagged) {
          const { n } = this.#c
            .prepare('SELECT count(*) AS n FROM run_tags WHERE run_id = ?')
            .get(runId) as { n: number };
          if (n > maxTagsPerRun) throw tooManyTags(runId, n);
        }
      }
    });
  }

  #checkFence(runId: string, fence: LeaseFence): void {
    const held = this.#c
      .prepare('SELECT 1 FROM run_leases WHERE run_id = ? AND owner = ? AND generation = ?')
      .get(runId, fence.owner, fence.generation);
    if (!held) throw new LeaseLostError(runId, fence);
  }

  #registerRun(runId: string, at: string, data: RunStartedData): void {
    this.#c
      .prepare(
        'INSERT INTO runs (id, agent, model, task, parent_run_id, created_at, actor, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        runId,
        data.agent,
        data.model,
        this.#redact(data.task),
        data.parentRunId ?? null,
        at,
        data.actor ?? null,
        data.session?.id ?? null,
      );
  }

  async readEvents(
    runId: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<RunEvent[]> {
    const rows = this.#c
      .prepare(
        'SELECT run_id, seq, at, type, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(runId, options.afterSeq ?? -1, options.limit ?? -1) as unknown as EventRow[];
    return rows.map(toEvent);
  }

  async getRun(idOrPrefix: string): Promise<RunSummary | undefined> {
    const exact = this.#c.prepare(`${selectRuns} WHERE r.id = ?`).get(idOrPrefix) as
      | RunRow
      | undefined;
    if (exact) return toSummary(exact);
    const matches = this.#c
      .prepare(`${selectRuns} WHERE r.id LIKE ? ESCAPE '\\' LIMIT 2`)
      .all(`${escapeLike(idOrPrefix)}%`) as unknown as RunRow[];
    return matches.length === 1 ? toSummary(matches[0]!) : undefined;
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunSummary[]> {
    const rows = this.#c
      .prepare(`${selectRuns} ORDER BY r.created_at DESC, r.id DESC`)
      .iterate() as Iterable<RunRow>;
    const limit = options.limit ?? 50;
    const out: RunSummary[] = [];
    for (const row of rows) {
      const summary = toSummary(row);
      if (options.status && summary.status !== options.status) continue;
      out.push(summary);
      if (out.length >= limit) break;
    }
    return out;
  }

  async queryRuns(query: RunQuery): Promise<RunPage> {
    return queryRuns(this.#c, query);
  }
}

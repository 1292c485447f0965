import { createRequire } from 'node:module';
import type { JobHelpers, Runner, WorkerUtils } from 'graphile-worker';
import type pg from 'pg';
import { quoteIdent } from './postgres-connection.ts';

import type { PostgresStore } from './postgres-store.ts';

/** The one task agentd queues: drive a run (start it, wake it, take it over). */
export const driveTask = 'agentd.run';

/**
 * Why a run was queued; `resume` drives it even when it had ended (a person asked); `cancel`
 * ends it as cancelled (a run no worker drives, waiting for an approval, say).
 */
export type DriveReason = 'start' | 'wake' | 'recover' | 'resume' | 'cancel';

export interface DriveJob {
  runId: string;
  reason: DriveReason;
  /** With `resume`: the limits and in-doubt decision the person gave. */
  limits?: Record<string, unknown>;
  inDoubt?: 'rerun' | 'skip';
}

/**
 * How many workers may take a run's job before it is given up: each worker that dies while
 * driving it spends one (graphile-worker counts a job's attempts as it is locked). Enough that
 * ordinary deaths of workers never add up to it; a run that keeps killing its workers (it runs
 * them out of memory, say) stops there and waits for a person instead of taking down the rest.
 */
export const maxAttempts = 25;

type GraphileWorker = typeof import('graphile-worker');

/** graphile-worker, loaded when a queue is first used (CommonJS, like `pg`). */
function loadGraphile(): GraphileWorker {
  return createRequire(import.meta.url)('graphile-worker') as GraphileWorker;
}

/**
 * graphile-worker's logger: quiet (agentd's worker says what it does itself), except for its
 * errors, which go to `log` when one is given (why a runner stopped, say).
 */
function quietLogger(graphile: GraphileWorker, log?: (line: string) => void) {
  return new graphile.Logger(() => (level, message) => {
    if (log && (level === 'error' || level === 'warning'))
      log(`agentd worker: the job engine: ${message.split('\n')[0]}`);
  });
}

/**
 * The pool for installing a new queue, without graphile-worker's announcement of each migration
 * it applies: that NOTIFY goes to one channel of the whole database (`worker:migrate`, whatever
 * the schema), and every running worker that hears of a breaking one shuts down, so a queue
 * installed in a schema of its own (another agentd on the same database, a test's) would stop
 * the workers of all the others. No worker can be running on a queue that did not exist yet; an
 * upgrade of an existing queue is announced as graphile-worker does it.
 */
function quietMigrations(pool: pg.Pool): pg.Pool {
  const announces = (text: unknown, values: unknown) =>
    typeof text === 'string' &&
    /^\s*select pg_notify\(\$1, \$2\)\s*$/i.test(text) &&
    Array.isArray(values) &&
    values[0] === 'worker:migrate';
  const quiet = (client: pg.PoolClient): pg.PoolClient =>
    new Proxy(client, {
      get(target, property, receiver) {
        if (property !== 'query') {
          const value = Reflect.get(target, property, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        }
        return (text: unknown, values?: unknown) =>
          announces(text, values)
            ? Promise.resolve({ rows: [], rowCount: 0 })
            : Reflect.apply(target.query, target, [text, values]);
      },
    });
  return new Proxy(pool, {
    get(target, property, receiver) {
      if (property === 'connect') return async () => quiet(await target.connect());
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The queue of runs to drive, on graphile-worker in the store's database (see
 * docs/scale-out.md for why this engine). Its tables live in a schema of their own beside the
 * store's (`agentd_jobs`, or `<schema>_jobs` for a store in another schema); a job is
 * `{ runId, reason }` under the key `run:<id>`, so a run has at most one job waiting. Workers
 * hear of new jobs by LISTEN/NOTIFY. Answering an approval queues its run in the same
 * transaction (a trigger on `approvals`), so a run that let go of its worker while it waited is
 * woken whoever answers and however.
 */
export class PostgresWorkQueue {
  readonly #store: PostgresStore;
  #schema: Promise<string> | undefined;

  constructor(store: PostgresStore) {
    this.#store = store;
  }

  /** The queue's schema: named after the store's. */
  schema(): Promise<string> {
    this.#schema ??= this.#store.connection
      .query<{ schema: string }>('SELECT current_schema() AS schema')
      .then(([row]) =>
        row?.schema && row.schema !== 'public' ? `${row.schema}_jobs` : 'agentd_jobs',
      );
    return this.#schema;
  }

  /**
   * Creates or upgrades the queue's tables and the wake-up trigger (idempotent). When both are
   * current (every start of a worker after the first) nothing is changed: no DDL, so no lock is
   * taken on `approvals` while others answer.
   */
  async install(): Promise<void> {
    const graphile = loadGraphile();
    const schema = await this.schema();
    const q = quoteIdent(schema);
    const body = `
        BEGIN
          PERFORM ${q}.add_job('${driveTask}', json_build_object('runId', NEW.run_id, 'reason', 'wake'),
            job_key := 'run:' || NEW.run_id, max_attempts := ${maxAttempts});
          RETURN NEW;
        END `;
    await this.#store.connection.ready;
    // One installer at a time across processes: graphile-worker tells its running workers of
    // each migration it applies, and a worker that hears of one while another process is
    // still installing the queue shuts itself down. Whoever comes second finds it current.
    const client = await this.#store.connection.pool.connect();
    const lock = [`agentd-queue-install:${schema}`];
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', lock);
      try {
        const [existing] = await this.#store.connection.query<{ table: string | null }>(
          'SELECT to_regclass($1)::text AS table',
          [`${q}.migrations`],
        );
        await graphile.runMigrations({
          // A new queue tells no one of its migrations (see `quietMigrations`).
          pgPool: existing?.table
            ? this.#store.connection.pool
            : quietMigrations(this.#store.connection.pool),
          schema,
          logger: quietLogger(graphile),
        });
        if (await this.#triggerIs(body)) return;
        await this.#store.connection.transaction(async (tx) => {
          await tx.query(
            `CREATE OR REPLACE FUNCTION agentd_wake_on_answer() RETURNS trigger AS $$${body}$$ LANGUAGE plpgsql`,
          );
          await tx.query(`CREATE OR REPLACE TRIGGER agentd_wake_on_answer AFTER UPDATE OF status ON approvals
            FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending')
            EXECUTE FUNCTION agentd_wake_on_answer()`);
        });
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', lock);
      }
    } finally {
      client.release();
    }
  }

  /** Whether the wake-up function has this body and its trigger is on the store's approvals. */
  async #triggerIs(body: string): Promise<boolean> {
    const [row] = await this.#store.connection.query<{ same: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM pg_trigger t
         JOIN pg_proc p ON p.oid = t.tgfoid
         WHERE t.tgname = 'agentd_wake_on_answer' AND NOT t.tgisinternal
           AND t.tgrelid = 'approvals'::regclass
           AND p.pronamespace = to_regnamespace(current_schema())::oid
           AND p.prosrc = $1
       ) AS same`,
      [body],
    );
    return row?.same === true;
  }

  /** Queues a run for a worker (replacing a job of the run still waiting). */
  async enqueue(job: DriveJob): Promise<void> {
    const q = quoteIdent(await this.schema());
    await this.#store.connection.query(
      `SELECT ${q}.add_job($1, $2::json, job_key := $3, max_attempts := $4)`,
      [driveTask, JSON.stringify(job), `run:${job.runId}`, maxAttempts],
    );
  }

  /**
   * graphile-worker ids that hold a job of ours for longer than `leaseMs` without a fresh run
   * lease (a worker's lease owner ends in `#<graphile worker id>`): their process is dead or
   * stopped, and their jobs are to be given to others.
   */
  async staleWorkers(leaseMs: number, alive: readonly string[] = []): Promise<string[]> {
    const q = quoteIdent(await this.schema());
    const rows = await this.#store.connection.query<{ locked_by: string }>(
      `SELECT DISTINCT j.locked_by FROM ${q}.jobs j
       WHERE j.task_identifier = $1 AND j.locked_by IS NOT NULL
         AND j.locked_at < now() - $2 * interval '1 millisecond'
         AND NOT (j.locked_by = ANY($3::text[]))
         AND NOT EXISTS (
           SELECT 1 FROM run_leases l
           WHERE l.owner LIKE '%#' || j.locked_by
             AND l.heartbeat_at::timestamptz > now() - $2 * interval '1 millisecond')`,
      [driveTask, leaseMs, alive],
    );
    return rows.map((row) => row.locked_by);
  }

  /** Puts the jobs of dead workers back in the queue (graphile-worker's own unlock). */
  async unlockWorkers(workerIds: readonly string[]): Promise<void> {
    if (workerIds.length === 0) return;
    await this.#withUtils((utils) => utils.forceUnlockWorkers([...workerIds]));
    // Workers listening hear of the jobs now free as of new ones (graphile-worker's channel).
    await this.#store.connection.query(
      `SELECT pg_notify('jobs:insert', json_build_object('count', $1::int)::text)`,
      [workerIds.length],
    );
  }

  /**
   * Jobs of ours no worker will take again: their attempts are spent (`maxAttempts` workers
   * died or failed driving the run). `runId` is undefined for a job superseded by a newer one
   * of its run (queued while it ran, which takes its key): only to be dropped.
   */
  async exhaustedJobs(): Promise<
    { id: string; runId?: string; attempts: number; lastError?: string }[]
  > {
    const q = quoteIdent(await this.schema());
    const rows = await this.#store.connection.query<{
      id: string;
      key: string | null;
      attempts: number;
      last_error: string | null;
    }>(
      `SELECT id::text AS id, key, attempts, last_error FROM ${q}.jobs
       WHERE task_identifier = $1 AND locked_by IS NULL AND attempts >= max_attempts`,
      [driveTask],
    );
    return rows.map((row) => ({
      id: row.id,
      ...(row.key?.startsWith('run:') ? { runId: row.key.slice('run:'.length) } : {}),
      attempts: row.attempts,
      ...(row.last_error ? { lastError: row.last_error } : {}),
    }));
  }

  /** Removes jobs from the queue (graphile-worker's `completeJobs`). */
  async drop(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#withUtils((utils) => utils.completeJobs([...ids]));
  }

  async #withUtils(use: (utils: WorkerUtils) => Promise<unknown>): Promise<void> {
    const graphile = loadGraphile();
    const utils = await graphile.makeWorkerUtils({
      pgPool: this.#store.connection.pool,
      schema: await this.schema(),
      logger: quietLogger(graphile),
    });
    try {
      await use(utils);
    } finally {
      await utils.release();
    }
  }

  /** How many jobs wait or run (a worker's status line; tests wait for an empty queue). */
  async pending(): Promise<number> {
    const q = quoteIdent(await this.schema());
    const [row] = await this.#store.connection.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${q}.jobs WHERE task_identifier = $1`,
      [driveTask],
    );
    return row?.n ?? 0;
  }

  /**
   * Runs `handle` for each job as it comes, `concurrency` at a time, until the runner is
   * stopped. `pollMs` only matters for retries: new jobs arrive by NOTIFY.
   */
  async work(options: {
    concurrency: number;
    pollMs: number;
    handle: (job: DriveJob, workerId: string) => Promise<void>;
    /** Where the job engine's errors go. */
    log?: (line: string) => void;
  }): Promise<Runner> {
    const graphile = loadGraphile();
    return graphile.run({
      pgPool: this.#store.connection.pool,
      schema: await this.schema(),
      concurrency: options.concurrency,
      pollInterval: options.pollMs,
      noHandleSignals: true,
      logger: quietLogger(graphile, options.log),
      taskList: {
        [driveTask]: async (payload: unknown, helpers: JobHelpers) => {
          await options.handle(payload as DriveJob, helpers.job.locked_by ?? 'unknown');
        },
      },
    });
  }
}

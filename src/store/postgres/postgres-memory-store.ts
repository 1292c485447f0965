import type {
  ExtractionJob,
  Memory,
  MemoryFilter,
  MemoryKind,
  MemoryVector,
  VectorChange,
} from '../../core/memory.ts';
import type { Redactor } from '../../core/redact.ts';
import type { MemoryListOptions, MemoryStore } from '../memory-store.ts';
import {
  confirmedProvenance,
  type JobRow,
  type MemoryRow,
  memoryColumns,
  memoryValues,
  queryWords,
  toJob,
  toMemory,
  vectorBytes,
  vectorValues,
} from '../rows/memory-row.ts';
import { escapeLike } from '../rows/run-row.ts';
import {
  type PostgresConnection,
  placeholders,
  type Queryable,
  type SqlValue,
} from './postgres-connection.ts';

/** The columns of a memory row (not its tsvector), with a table alias. */
function rowColumns(alias: string): string {
  return ['n', ...memoryColumns].map((c) => `${alias}.${c}`).join(', ');
}

/**
 * Long-term memory in Postgres: full text with a `tsvector` of the key (weight A) and text
 * (B), ranked by `ts_rank`; vectors as `bytea`, with the change log the ANN index of each
 * process replays; extraction jobs claimed with `FOR UPDATE SKIP LOCKED`.
 */
export class PostgresMemoryStore implements MemoryStore {
  readonly #c: PostgresConnection;
  readonly #redact: Redactor;

  constructor(connection: PostgresConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async add(memory: Memory, options: { vector?: MemoryVector; replaces?: string } = {}) {
    await this.#c.transaction((tx) => this.#add(tx, memory, options));
  }

  async addMany(entries: readonly { memory: Memory; vector?: MemoryVector }[]): Promise<void> {
    await this.#c.transaction(async (tx) => {
      for (const entry of entries) {
        await this.#add(tx, entry.memory, entry.vector ? { vector: entry.vector } : {});
      }
    });
  }

  async #add(
    tx: Queryable,
    memory: Memory,
    options: { vector?: MemoryVector; replaces?: string },
  ): Promise<void> {
    const clean: Memory = {
      ...memory,
      text: this.#redact(memory.text),
      ...(memory.key !== undefined ? { key: this.#redact(memory.key) } : {}),
    };
    if (options.replaces) {
      const old = await this.#row(tx, options.replaces, true);
      if (old?.status !== 'active') {
        throw new Error(`memory ${options.replaces} is not an active memory to replace`);
      }
      await tx.query(
        "UPDATE memories SET status = 'superseded', superseded_by = $1, updated_at = $2 WHERE n = $3",
        [clean.id, clean.createdAt, old.n],
      );
      await this.#unindex(tx, old.n);
      clean.supersedes = old.id;
    }
    const [row] = await tx.query<{ n: number }>(
      `INSERT INTO memories (${memoryColumns.join(', ')}) VALUES (${placeholders(memoryColumns.length)})
       RETURNING n`,
      memoryValues(clean),
    );
    if (clean.status === 'active' && options.vector) {
      await this.#putVector(tx, row!.n, options.vector);
    }
  }

  /** Takes a memory's vector out of the index (the full text follows its status). */
  async #unindex(tx: Queryable, n: number): Promise<void> {
    const [vector] = await tx.query<{ model: string }>(
      'DELETE FROM memory_vectors WHERE memory = $1 RETURNING model',
      [n],
    );
    if (vector) {
      await tx.query(
        "INSERT INTO memory_vector_log (memory, model, op) VALUES ($1, $2, 'remove')",
        [n, vector.model],
      );
    }
  }

  async #putVector(tx: Queryable, n: number, vector: MemoryVector): Promise<void> {
    const [previous] = await tx.query<{ model: string }>(
      'SELECT model FROM memory_vectors WHERE memory = $1',
      [n],
    );
    if (previous && previous.model !== vector.model) {
      await tx.query(
        "INSERT INTO memory_vector_log (memory, model, op) VALUES ($1, $2, 'remove')",
        [n, previous.model],
      );
    }
    await tx.query(
      `INSERT INTO memory_vectors (memory, model, vector) VALUES ($1, $2, $3)
       ON CONFLICT (memory) DO UPDATE SET model = excluded.model, vector = excluded.vector`,
      [n, vector.model, Buffer.from(vectorBytes(vector.values))],
    );
    await tx.query("INSERT INTO memory_vector_log (memory, model, op) VALUES ($1, $2, 'add')", [
      n,
      vector.model,
    ]);
  }

  async #row(q: Queryable, idOrPrefix: string, lock = false): Promise<MemoryRow | undefined> {
    const forUpdate = lock ? ' FOR UPDATE' : '';
    const [exact] = await q.query<MemoryRow>(
      `SELECT ${rowColumns('m')} FROM memories m WHERE m.id = $1${forUpdate}`,
      [idOrPrefix],
    );
    if (exact) return exact;
    const matches = await q.query<MemoryRow>(
      `SELECT ${rowColumns('m')} FROM memories m WHERE m.id LIKE $1 ESCAPE '\\' LIMIT 2${forUpdate}`,
      [`${escapeLike(idOrPrefix)}%`],
    );
    return matches.length === 1 ? matches[0] : undefined;
  }

  async get(idOrPrefix: string): Promise<Memory | undefined> {
    const row = await this.#row(this.#c, idOrPrefix);
    return row ? toMemory(row) : undefined;
  }

  async byLabels(labels: readonly number[]): Promise<(Memory & { label: number })[]> {
    if (labels.length === 0) return [];
    const rows = await this.#c.query<MemoryRow>(
      `SELECT ${rowColumns('m')} FROM memories m WHERE m.n = ANY($1::bigint[])`,
      [labels],
    );
    return rows.map((row) => ({ ...toMemory(row), label: row.n }));
  }

  async list(options: MemoryListOptions = {}): Promise<Memory[]> {
    const params: SqlValue[] = [];
    const where = filterSql(options, 'm', params);
    params.push(options.limit ?? null);
    const rows = await this.#c.query<MemoryRow>(
      `SELECT ${rowColumns('m')} FROM memories m WHERE ${where}
       ORDER BY m.updated_at DESC, m.n DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toMemory);
  }

  async searchText(
    query: string,
    filter: MemoryFilter,
    limit: number,
  ): Promise<{ memory: Memory; score: number }[]> {
    const words = queryWords(query);
    if (words.length === 0) return [];
    // Any of the words; being letters and digits only, none is tsquery syntax.
    const params: SqlValue[] = [words.join(' | ')];
    const where = filterSql({ ...filter, includeSuperseded: false }, 'm', params);
    params.push(limit);
    // weights {D, C, B, A}: a word of the key counts twice a word of the text
    const rows = await this.#c.query<MemoryRow & { rank: number }>(
      `SELECT ${rowColumns('m')}, ts_rank('{0, 0, 0.5, 1}', m.fts, q) AS rank
       FROM memories m, to_tsquery('english', $1) q
       WHERE m.fts @@ q AND ${where} ORDER BY rank DESC, m.n DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({ memory: toMemory(row), score: Number(row.rank) }));
  }

  async findByKey(namespace: string, kind: MemoryKind, key: string): Promise<Memory | undefined> {
    const [row] = await this.#c.query<MemoryRow>(
      `SELECT ${rowColumns('m')} FROM memories m WHERE m.namespace = $1 AND m.kind = $2
       AND m.key = $3 AND m.status = 'active' ORDER BY m.n DESC LIMIT 1`,
      [namespace, kind, this.#redact(key)],
    );
    return row ? toMemory(row) : undefined;
  }

  async confirm(id: string, runId: string | undefined, at: string): Promise<void> {
    await this.#c.transaction(async (tx) => {
      const row = await this.#row(tx, id, true);
      if (!row) return;
      const provenance = confirmedProvenance(toMemory(row), runId);
      await tx.query('UPDATE memories SET provenance = $1, updated_at = $2 WHERE n = $3', [
        JSON.stringify(provenance),
        at,
        row.n,
      ]);
    });
  }

  async history(id: string): Promise<Memory[]> {
    const out: Memory[] = [];
    let row = await this.#row(this.#c, id);
    const seen = new Set<string>();
    while (row && !seen.has(row.id)) {
      seen.add(row.id);
      out.push(toMemory(row));
      row = row.supersedes ? await this.#exact(this.#c, row.supersedes) : undefined;
    }
    return out;
  }

  async #exact(q: Queryable, id: string): Promise<MemoryRow | undefined> {
    const [row] = await q.query<MemoryRow>(
      `SELECT ${rowColumns('m')} FROM memories m WHERE m.id = $1`,
      [id],
    );
    return row;
  }

  async forget(id: string): Promise<string[]> {
    return this.#c.transaction(async (tx) => {
      const removed: string[] = [];
      let row = await this.#row(tx, id, true);
      while (row && !removed.includes(row.id)) {
        await this.#unindex(tx, row.n);
        await tx.query('DELETE FROM memories WHERE n = $1', [row.n]);
        removed.push(row.id);
        row = row.supersedes ? await this.#exact(tx, row.supersedes) : undefined;
      }
      // A later version that replaced the one forgotten no longer points at it.
      if (removed.length) {
        await tx.query('UPDATE memories SET supersedes = NULL WHERE supersedes = ANY($1::text[])', [
          removed,
        ]);
      }
      return removed;
    });
  }

  async putVector(id: string, vector: MemoryVector): Promise<void> {
    await this.#c.transaction(async (tx) => {
      const row = await this.#row(tx, id, true);
      if (row?.status !== 'active') return;
      await this.#putVector(tx, row.n, vector);
    });
  }

  async vectorModelOf(id: string): Promise<string | undefined> {
    const [row] = await this.#c.query<{ model: string }>(
      'SELECT v.model FROM memory_vectors v JOIN memories m ON m.n = v.memory WHERE m.id = $1',
      [id],
    );
    return row?.model;
  }

  async missingVectors(model: string, limit: number): Promise<{ id: string; text: string }[]> {
    return this.#c.query<{ id: string; text: string }>(
      `SELECT m.id, m.text FROM memories m LEFT JOIN memory_vectors v ON v.memory = m.n AND v.model = $1
       WHERE m.status = 'active' AND v.memory IS NULL ORDER BY m.n LIMIT $2`,
      [model, limit],
    );
  }

  async vectorState(model: string): Promise<{ count: number; lastSeq: number }> {
    const [row] = await this.#c.query<{ count: number; last: number | null }>(
      `SELECT (SELECT count(*) FROM memory_vectors WHERE model = $1) AS count,
              (SELECT max(seq) FROM memory_vector_log WHERE model = $1) AS last`,
      [model],
    );
    return { count: row?.count ?? 0, lastSeq: row?.last ?? 0 };
  }

  async vectorChanges(model: string, afterSeq: number, limit: number): Promise<VectorChange[]> {
    const rows = await this.#c.query<{
      seq: number;
      memory: number;
      op: string;
      vector: Uint8Array | null;
      namespace: string | null;
      trust: string | null;
      created_at: string | null;
    }>(
      `SELECT l.seq, l.memory, l.op, v.vector, m.namespace, m.trust, m.created_at
       FROM memory_vector_log l
       LEFT JOIN memory_vectors v ON v.memory = l.memory AND v.model = l.model
       LEFT JOIN memories m ON m.n = l.memory
       WHERE l.model = $1 AND l.seq > $2 ORDER BY l.seq LIMIT $3`,
      [model, afterSeq, limit],
    );
    return rows.map((row): VectorChange => {
      // An add whose vector has gone since (replaced or forgotten) is a removal by now.
      if (row.op !== 'add' || !row.vector || !row.namespace) {
        return { seq: row.seq, label: row.memory, op: 'remove' };
      }
      return {
        seq: row.seq,
        label: row.memory,
        op: 'add',
        values: vectorValues(row.vector),
        namespace: row.namespace,
        trusted: row.trust === 'trusted',
        createdAt: row.created_at ?? '',
      };
    });
  }

  async exportActor(actor: string): Promise<Memory[]> {
    const rows = await this.#c.query<MemoryRow>(
      `SELECT ${rowColumns('m')} FROM memories m WHERE m.namespace = $1
       OR m.namespace LIKE $2 ESCAPE '\\' OR m.actor = $3 ORDER BY m.n`,
      [`/actor/${actor}`, `/actor/${escapeLike(actor)}/%`, actor],
    );
    return rows.map(toMemory);
  }

  async enqueueJob(
    job: Pick<ExtractionJob, 'runId' | 'fromSeq' | 'toSeq' | 'reason' | 'specPath'>,
    at: string,
  ): Promise<number> {
    const [row] = await this.#c.query<{ id: number }>(
      `INSERT INTO memory_jobs (run_id, from_seq, to_seq, reason, spec_path, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) RETURNING id`,
      [job.runId, job.fromSeq, job.toSeq, job.reason, job.specPath ?? null, at],
    );
    return row!.id;
  }

  async claimJob(
    owner: string,
    at: string,
    isGone: (owner: string) => boolean,
    filter: { runId?: string } = {},
  ): Promise<ExtractionJob | undefined> {
    return this.#c.transaction(async (tx) => {
      const running = await tx.query<{ id: number; owner: string | null }>(
        "SELECT id, owner FROM memory_jobs WHERE status = 'running' FOR UPDATE SKIP LOCKED",
      );
      const gone = running.filter((job) => !job.owner || isGone(job.owner)).map((job) => job.id);
      if (gone.length) {
        await tx.query(
          "UPDATE memory_jobs SET status = 'pending', owner = NULL WHERE id = ANY($1::bigint[])",
          [gone],
        );
      }
      const [row] = await tx.query<JobRow>(
        `UPDATE memory_jobs SET status = 'running', owner = $1, attempts = attempts + 1, updated_at = $2
         WHERE id = (SELECT id FROM memory_jobs WHERE status = 'pending' AND ($3::text IS NULL OR run_id = $3)
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [owner, at, filter.runId ?? null],
      );
      return row ? toJob(row) : undefined;
    });
  }

  async finishJob(id: number, at: string, error?: string, maxAttempts = 3): Promise<void> {
    if (error === undefined) {
      await this.#c.query(
        "UPDATE memory_jobs SET status = 'done', owner = NULL, error = NULL, updated_at = $1 WHERE id = $2",
        [at, id],
      );
      return;
    }
    await this.#c.query(
      `UPDATE memory_jobs SET status = CASE WHEN attempts >= $1 THEN 'failed' ELSE 'pending' END,
       owner = NULL, error = $2, updated_at = $3 WHERE id = $4`,
      [maxAttempts, this.#redact(error), at, id],
    );
  }

  async listJobs(
    options: { status?: ExtractionJob['status']; runId?: string } = {},
  ): Promise<ExtractionJob[]> {
    const rows = await this.#c.query<JobRow>(
      `SELECT * FROM memory_jobs WHERE ($1::text IS NULL OR status = $1)
       AND ($2::text IS NULL OR run_id = $2) ORDER BY id`,
      [options.status ?? null, options.runId ?? null],
    );
    return rows.map(toJob);
  }

  async sessionRuns(actor: string, sessionId: string): Promise<string[]> {
    const rows = await this.#c.query<{ id: string }>(
      'SELECT id FROM runs WHERE actor = $1 AND session_id = $2 ORDER BY created_at, id',
      [actor, sessionId],
    );
    return rows.map((row) => row.id);
  }
}

/** The WHERE clause of a filter over `memories` as `alias`, its values pushed onto `params`. */
function filterSql(filter: MemoryFilter, alias: string, params: SqlValue[]): string {
  const p = (value: SqlValue): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where: string[] = [];
  if (!filter.includeSuperseded) where.push(`${alias}.status = 'active'`);
  if (filter.namespaces) {
    if (filter.namespaces.length === 0) where.push('FALSE');
    else {
      const any = filter.namespaces.map((root) => {
        const trimmed = root.replace(/\/+$/, '');
        return `${alias}.namespace = ${p(trimmed)} OR ${alias}.namespace LIKE ${p(`${escapeLike(trimmed)}/%`)} ESCAPE '\\'`;
      });
      where.push(`(${any.join(' OR ')})`);
    }
  }
  if (filter.kinds?.length) where.push(`${alias}.kind = ANY(${p(filter.kinds)}::text[])`);
  if (filter.actor !== undefined) {
    where.push(
      `(${alias}.actor = ${p(filter.actor)} OR ${alias}.namespace = ${p(`/actor/${filter.actor}`)} OR ${alias}.namespace LIKE ${p(`/actor/${escapeLike(filter.actor)}/%`)} ESCAPE '\\')`,
    );
  }
  if (filter.trustedOnly) where.push(`${alias}.trust = 'trusted'`);
  if (filter.since) where.push(`${alias}.updated_at >= ${p(filter.since)}`);
  return where.length ? where.join(' AND ') : 'TRUE';
}

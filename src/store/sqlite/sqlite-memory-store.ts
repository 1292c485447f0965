import type { SQLInputValue } from 'node:sqlite';
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
import type { SqliteConnection } from './sqlite-connection.ts';

/** The memory tables of the SQLite store, over the store's connection; full text with FTS5. */
export class SqliteMemoryStore implements MemoryStore {
  readonly #c: SqliteConnection;
  readonly #redact: Redactor;

  constructor(connection: SqliteConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async add(memory: Memory, options: { vector?: MemoryVector; replaces?: string } = {}) {
    this.#c.transaction(() => this.#add(memory, options));
  }

  async addMany(entries: readonly { memory: Memory; vector?: MemoryVector }[]): Promise<void> {
    this.#c.transaction(() => {
      for (const entry of entries) {
        this.#add(entry.memory, entry.vector ? { vector: entry.vector } : {});
      }
    });
  }

  #add(memory: Memory, options: { vector?: MemoryVector; replaces?: string }): void {
    const clean: Memory = {
      ...memory,
      text: this.#redact(memory.text),
      ...(memory.key !== undefined ? { key: this.#redact(memory.key) } : {}),
    };
    {
      if (options.replaces) {
        const old = this.#row(options.replaces);
        if (old?.status !== 'active') {
          throw new Error(`memory ${options.replaces} is not an active memory to replace`);
        }
        this.#c
          .prepare(
            "UPDATE memories SET status = 'superseded', superseded_by = ?, updated_at = ? WHERE n = ?",
          )
          .run(clean.id, clean.createdAt, old.n);
        this.#unindex(old.n);
        clean.supersedes = old.id;
      }
      const result = this.#c
        .prepare(
          `INSERT INTO memories (${memoryColumns.join(', ')})
           VALUES (${memoryColumns.map(() => '?').join(', ')})`,
        )
        .run(...memoryValues(clean));
      const n = Number(result.lastInsertRowid);
      if (clean.status === 'active') {
        this.#c
          .prepare('INSERT INTO memories_fts (rowid, text, key) VALUES (?, ?, ?)')
          .run(n, clean.text, clean.key ?? '');
        if (options.vector) this.#putVector(n, options.vector);
      }
    }
  }

  /** Takes a memory out of the full-text and vector indexes (the row stays). */
  #unindex(n: number): void {
    this.#c.prepare('DELETE FROM memories_fts WHERE rowid = ?').run(n);
    const vector = this.#c.prepare('SELECT model FROM memory_vectors WHERE memory = ?').get(n) as
      | { model: string }
      | undefined;
    if (vector) {
      this.#c.prepare('DELETE FROM memory_vectors WHERE memory = ?').run(n);
      this.#c
        .prepare("INSERT INTO memory_vector_log (memory, model, op) VALUES (?, ?, 'remove')")
        .run(n, vector.model);
    }
  }

  #putVector(n: number, vector: MemoryVector): void {
    const previous = this.#c.prepare('SELECT model FROM memory_vectors WHERE memory = ?').get(n) as
      | { model: string }
      | undefined;
    if (previous && previous.model !== vector.model) {
      this.#c
        .prepare("INSERT INTO memory_vector_log (memory, model, op) VALUES (?, ?, 'remove')")
        .run(n, previous.model);
    }
    this.#c
      .prepare(
        'INSERT INTO memory_vectors (memory, model, vector) VALUES (?, ?, ?) ON CONFLICT (memory) DO UPDATE SET model = excluded.model, vector = excluded.vector',
      )
      .run(n, vector.model, vectorBytes(vector.values));
    this.#c
      .prepare("INSERT INTO memory_vector_log (memory, model, op) VALUES (?, ?, 'add')")
      .run(n, vector.model);
  }

  #row(idOrPrefix: string): MemoryRow | undefined {
    const exact = this.#c.prepare('SELECT * FROM memories WHERE id = ?').get(idOrPrefix) as
      | MemoryRow
      | undefined;
    if (exact) return exact;
    const matches = this.#c
      .prepare("SELECT * FROM memories WHERE id LIKE ? ESCAPE '\\' LIMIT 2")
      .all(`${escapeLike(idOrPrefix)}%`) as unknown as MemoryRow[];
    return matches.length === 1 ? matches[0] : undefined;
  }

  async get(idOrPrefix: string): Promise<Memory | undefined> {
    const row = this.#row(idOrPrefix);
    return row ? toMemory(row) : undefined;
  }

  async byLabels(labels: readonly number[]): Promise<(Memory & { label: number })[]> {
    if (labels.length === 0) return [];
    const out: (Memory & { label: number })[] = [];
    for (let i = 0; i < labels.length; i += 500) {
      const chunk = labels.slice(i, i + 500);
      const rows = this.#c
        .prepare(`SELECT * FROM memories WHERE n IN (${chunk.map(() => '?').join(',')})`)
        .all(...chunk) as unknown as MemoryRow[];
      for (const row of rows) out.push({ ...toMemory(row), label: row.n });
    }
    return out;
  }

  async list(options: MemoryListOptions = {}): Promise<Memory[]> {
    const { where, params } = filterSql(options, 'm');
    const rows = this.#c
      .prepare(
        `SELECT * FROM memories m WHERE ${where} ORDER BY m.updated_at DESC, m.n DESC LIMIT ?`,
      )
      .all(...params, options.limit ?? -1) as unknown as MemoryRow[];
    return rows.map(toMemory);
  }

  async searchText(
    query: string,
    filter: MemoryFilter,
    limit: number,
  ): Promise<{ memory: Memory; score: number }[]> {
    const match = ftsQuery(query);
    if (!match) return [];
    const { where, params } = filterSql({ ...filter, includeSuperseded: false }, 'm');
    // bm25: a word of the key counts twice a word of the text
    const rows = this.#c
      .prepare(
        `SELECT m.*, bm25(memories_fts, 1, 2) AS rank FROM memories_fts f
         JOIN memories m ON m.n = f.rowid
         WHERE memories_fts MATCH ? AND ${where} ORDER BY rank LIMIT ?`,
      )
      .all(match, ...params, limit) as unknown as (MemoryRow & { rank: number })[];
    return rows.map((row) => ({ memory: toMemory(row), score: -row.rank }));
  }

  async findByKey(namespace: string, kind: MemoryKind, key: string): Promise<Memory | undefined> {
    const row = this.#c
      .prepare(
        "SELECT * FROM memories WHERE namespace = ? AND kind = ? AND key = ? AND status = 'active' ORDER BY n DESC LIMIT 1",
      )
      .get(namespace, kind, this.#redact(key)) as MemoryRow | undefined;
    return row ? toMemory(row) : undefined;
  }

  async confirm(id: string, runId: string | undefined, at: string): Promise<void> {
    this.#c.transaction(() => {
      const row = this.#row(id);
      if (!row) return;
      const provenance = confirmedProvenance(toMemory(row), runId);
      this.#c
        .prepare('UPDATE memories SET provenance = ?, updated_at = ? WHERE n = ?')
        .run(JSON.stringify(provenance), at, row.n);
    });
  }

  async history(id: string): Promise<Memory[]> {
    const out: Memory[] = [];
    let row = this.#row(id);
    const seen = new Set<string>();
    while (row && !seen.has(row.id)) {
      seen.add(row.id);
      out.push(toMemory(row));
      row = row.supersedes
        ? (this.#c.prepare('SELECT * FROM memories WHERE id = ?').get(row.supersedes) as
            | MemoryRow
            | undefined)
        : undefined;
    }
    return out;
  }

  async forget(id: string): Promise<string[]> {
    return this.#c.transaction(() => {
      const removed: string[] = [];
      let row = this.#row(id);
      while (row && !removed.includes(row.id)) {
        this.#unindex(row.n);
        this.#c.prepare('DELETE FROM memories WHERE n = ?').run(row.n);
        removed.push(row.id);
        row = row.supersedes
          ? (this.#c.prepare('SELECT * FROM memories WHERE id = ?').get(row.supersedes) as
              | MemoryRow
              | undefined)
          : undefined;
      }
      // A later version that replaced the one forgotten no longer points at it.
      if (removed.length) {
        this.#c
          .prepare(
            `UPDATE memories SET supersedes = NULL WHERE supersedes IN (${removed.map(() => '?').join(',')})`,
          )
          .run(...removed);
      }
      return removed;
    });
  }

  async putVector(id: string, vector: MemoryVector): Promise<void> {
    this.#c.transaction(() => {
      const row = this.#row(id);
      if (row?.status !== 'active') return;
      this.#putVector(row.n, vector);
    });
  }

  async vectorModelOf(id: string): Promise<string | undefined> {
    const row = this.#c
      .prepare(
        'SELECT v.model FROM memory_vectors v JOIN memories m ON m.n = v.memory WHERE m.id = ?',
      )
      .get(id) as { model: string } | undefined;
    return row?.model;
  }

  async missingVectors(model: string, limit: number): Promise<{ id: string; text: string }[]> {
    return this.#c
      .prepare(
        `SELECT m.id, m.text FROM memories m LEFT JOIN memory_vectors v ON v.memory = m.n AND v.model = ?
         WHERE m.status = 'active' AND v.memory IS NULL ORDER BY m.n LIMIT ?`,
      )
      .all(model, limit) as unknown as { id: string; text: string }[];
  }

  async vectorState(model: string): Promise<{ count: number; lastSeq: number }> {
    const count = this.#c
      .prepare('SELECT count(*) AS c FROM memory_vectors WHERE model = ?')
      .get(model) as { c: number };
    const last = this.#c
      .prepare('SELECT max(seq) AS s FROM memory_vector_log WHERE model = ?')
      .get(model) as { s: number | null };
    return { count: count.c, lastSeq: last.s ?? 0 };
  }

  async vectorChanges(model: string, afterSeq: number, limit: number): Promise<VectorChange[]> {
    const rows = this.#c
      .prepare(
        `SELECT l.seq, l.memory, l.op, v.vector, m.namespace, m.trust, m.created_at
         FROM memory_vector_log l
         LEFT JOIN memory_vectors v ON v.memory = l.memory AND v.model = l.model
         LEFT JOIN memories m ON m.n = l.memory
         WHERE l.model = ? AND l.seq > ? ORDER BY l.seq LIMIT ?`,
      )
      .all(model, afterSeq, limit) as unknown as {
      seq: number;
      memory: number;
      op: string;
      vector: Uint8Array | null;
      namespace: string | null;
      trust: string | null;
      created_at: string | null;
    }[];
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
    const prefix = `/actor/${escapeLike(actor)}/%`;
    const rows = this.#c
      .prepare(
        `SELECT * FROM memories WHERE namespace = ? OR namespace LIKE ? ESCAPE '\\' OR actor = ?
         ORDER BY n`,
      )
      .all(`/actor/${actor}`, prefix, actor) as unknown as MemoryRow[];
    return rows.map(toMemory);
  }

  async enqueueJob(
    job: Pick<ExtractionJob, 'runId' | 'fromSeq' | 'toSeq' | 'reason' | 'specPath'>,
    at: string,
  ): Promise<number> {
    const result = this.#c
      .prepare(
        `INSERT INTO memory_jobs (run_id, from_seq, to_seq, reason, spec_path, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
      )
      .run(job.runId, job.fromSeq, job.toSeq, job.reason, job.specPath ?? null, at, at);
    return Number(result.lastInsertRowid);
  }

  async claimJob(
    owner: string,
    at: string,
    isGone: (owner: string) => boolean,
    filter: { runId?: string } = {},
  ): Promise<ExtractionJob | undefined> {
    return this.#c.transaction(() => {
      const running = this.#c
        .prepare("SELECT id, owner FROM memory_jobs WHERE status = 'running'")
        .all() as unknown as { id: number; owner: string | null }[];
      for (const job of running) {
        if (!job.owner || isGone(job.owner)) {
          this.#c
            .prepare("UPDATE memory_jobs SET status = 'pending', owner = NULL WHERE id = ?")
            .run(job.id);
        }
      }
      const row = (
        filter.runId
          ? this.#c
              .prepare(
                "SELECT * FROM memory_jobs WHERE status = 'pending' AND run_id = ? ORDER BY id LIMIT 1",
              )
              .get(filter.runId)
          : this.#c
              .prepare("SELECT * FROM memory_jobs WHERE status = 'pending' ORDER BY id LIMIT 1")
              .get()
      ) as JobRow | undefined;
      if (!row) return undefined;
      this.#c
        .prepare(
          "UPDATE memory_jobs SET status = 'running', owner = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
        )
        .run(owner, at, row.id);
      return toJob({ ...row, status: 'running', owner, attempts: row.attempts + 1 });
    });
  }

  async finishJob(id: number, at: string, error?: string, maxAttempts = 3): Promise<void> {
    if (error === undefined) {
      this.#c
        .prepare(
          "UPDATE memory_jobs SET status = 'done', owner = NULL, error = NULL, updated_at = ? WHERE id = ?",
        )
        .run(at, id);
      return;
    }
    this.#c
      .prepare(
        `UPDATE memory_jobs SET status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'pending' END,
         owner = NULL, error = ?, updated_at = ? WHERE id = ?`,
      )
      .run(maxAttempts, this.#redact(error), at, id);
  }

  async listJobs(
    options: { status?: ExtractionJob['status']; runId?: string } = {},
  ): Promise<ExtractionJob[]> {
    const where: string[] = ['1'];
    const params: SQLInputValue[] = [];
    if (options.status) {
      where.push('status = ?');
      params.push(options.status);
    }
    if (options.runId) {
      where.push('run_id = ?');
      params.push(options.runId);
    }
    const rows = this.#c
      .prepare(`SELECT * FROM memory_jobs WHERE ${where.join(' AND ')} ORDER BY id`)
      .all(...params) as unknown as JobRow[];
    return rows.map(toJob);
  }

  async sessionRuns(actor: string, sessionId: string): Promise<string[]> {
    const rows = this.#c
      .prepare('SELECT id FROM runs WHERE actor = ? AND session_id = ? ORDER BY created_at, id')
      .all(actor, sessionId) as unknown as { id: string }[];
    return rows.map((row) => row.id);
  }
}

/** The WHERE clause of a filter over `memories` as alias `m`. */
function filterSql(
  filter: MemoryFilter,
  alias: string,
): { where: string; params: SQLInputValue[] } {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  if (!filter.includeSuperseded) where.push(`${alias}.status = 'active'`);
  if (filter.namespaces) {
    if (filter.namespaces.length === 0) where.push('0');
    else {
      const any: string[] = [];
      for (const root of filter.namespaces) {
        const trimmed = root.replace(/\/+$/, '');
        any.push(`${alias}.namespace = ?`, `${alias}.namespace LIKE ? ESCAPE '\\'`);
        params.push(trimmed, `${escapeLike(trimmed)}/%`);
      }
      where.push(`(${any.join(' OR ')})`);
    }
  }
  if (filter.kinds?.length) {
    where.push(`${alias}.kind IN (${filter.kinds.map(() => '?').join(',')})`);
    params.push(...filter.kinds);
  }
  if (filter.actor !== undefined) {
    where.push(
      `(${alias}.actor = ? OR ${alias}.namespace = ? OR ${alias}.namespace LIKE ? ESCAPE '\\')`,
    );
    params.push(filter.actor, `/actor/${filter.actor}`, `/actor/${escapeLike(filter.actor)}/%`);
  }
  if (filter.trustedOnly) where.push(`${alias}.trust = 'trusted'`);
  if (filter.since) {
    where.push(`${alias}.updated_at >= ?`);
    params.push(filter.since);
  }
  return { where: where.length ? where.join(' AND ') : '1', params };
}

/**
 * The words of a query as an FTS5 query: each word quoted (so no word is taken as syntax),
 * any of them matching; BM25 ranks memories with more of the rarer words first.
 */
function ftsQuery(query: string): string | undefined {
  const words = queryWords(query);
  return words.length ? words.map((word) => `"${word}"`).join(' OR ') : undefined;
}

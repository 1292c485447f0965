import type {
  ExtractionJob,
  Memory,
  MemoryFilter,
  MemoryKind,
  MemoryVector,
  VectorChange,
} from '../core/memory.ts';

export interface MemoryListOptions extends MemoryFilter {
  limit?: number;
}

/**
 * Where long-term memories live: each memory with its provenance, a full-text index over the
 * active ones (FTS5, BM25), their vectors (so the ANN index can always be rebuilt from here),
 * a log of vector changes the index replays, and the queue of extractions to do.
 */
export interface MemoryStore {
  /**
   * Adds a memory (with its vector, when there is one) to every index, in one transaction.
   * With `replaces`, that memory becomes a superseded earlier version and leaves the indexes.
   */
  add(memory: Memory, options?: { vector?: MemoryVector; replaces?: string }): Promise<void>;
  /** Adds many new memories in one transaction (imports, backfills): all or none. */
  addMany(entries: readonly { memory: Memory; vector?: MemoryVector }[]): Promise<void>;
  /** A memory by id or a unique prefix of one (superseded versions too). */
  get(idOrPrefix: string): Promise<Memory | undefined>;
  /** The memories with these index labels (row numbers), in no particular order. */
  byLabels(labels: readonly number[]): Promise<(Memory & { label: number })[]>;
  /** Active memories, newest first. */
  list(options?: MemoryListOptions): Promise<Memory[]>;
  /** Active memories matching the words of `query` (any of them), best BM25 first. */
  searchText(
    query: string,
    filter: MemoryFilter,
    limit: number,
  ): Promise<{ memory: Memory; score: number }[]>;
  /** The active memory of a kind in a namespace with this key, if any. */
  findByKey(namespace: string, kind: MemoryKind, key: string): Promise<Memory | undefined>;
  /** Records that a later run stated an active memory again (no duplicate is written). */
  confirm(id: string, runId: string | undefined, at: string): Promise<void>;
  /** The versions of a memory, newest first: it, the one it replaced, and so on. */
  history(id: string): Promise<Memory[]>;
  /**
   * Removes a memory and every earlier version it replaced: rows, full-text entries and
   * vectors (the index is told through the change log). The ids removed; none when unknown.
   */
  forget(id: string): Promise<string[]>;
  /** Adds (or replaces) the vector of an active memory. */
  putVector(id: string, vector: MemoryVector): Promise<void>;
  /** The embedding model of a memory's vector, if it has one. */
  vectorModelOf(id: string): Promise<string | undefined>;
  /** Active memories that have no vector of `model` yet, oldest first. */
  missingVectors(model: string, limit: number): Promise<{ id: string; text: string }[]>;
  /** How many vectors of `model` there are, and the last change to them. */
  vectorState(model: string): Promise<{ count: number; lastSeq: number }>;
  /** Changes to the vectors of `model` after `afterSeq`, in order, at most `limit`. */
  vectorChanges(model: string, afterSeq: number, limit: number): Promise<VectorChange[]>;
  /** Every memory whose namespace is under /actor/{actor} or whose provenance names the actor. */
  exportActor(actor: string): Promise<Memory[]>;

  /** Queues an extraction; its id. */
  enqueueJob(
    job: Pick<ExtractionJob, 'runId' | 'fromSeq' | 'toSeq' | 'reason' | 'specPath'>,
    at: string,
  ): Promise<number>;
  /**
   * Takes the oldest pending job for `owner` (running jobs whose owner `isGone` are pending
   * again first); undefined when there is none.
   */
  claimJob(
    owner: string,
    at: string,
    isGone: (owner: string) => boolean,
    filter?: { runId?: string },
  ): Promise<ExtractionJob | undefined>;
  /** Marks a job done, or failed with its error (failed jobs are retried up to `maxAttempts`). */
  finishJob(id: number, at: string, error?: string, maxAttempts?: number): Promise<void>;
  listJobs(options?: {
    status?: ExtractionJob['status'];
    runId?: string;
  }): Promise<ExtractionJob[]>;

  /** The runs of a session (same actor and session id), oldest first. */
  sessionRuns(actor: string, sessionId: string): Promise<string[]>;
}

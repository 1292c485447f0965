import { dirname, join } from 'node:path';
import { newId } from '../core/ids.ts';
import {
  type Memory,
  type MemoryFilter,
  type MemoryKind,
  type MemoryProvenance,
  trustOf,
} from '../core/memory.ts';
import type { Redactor } from '../core/redact.ts';
import type { MemoryStore } from '../store/memory-store.ts';
import { type Embedder, EmbeddingError } from './embeddings.ts';
import { VectorIndex } from './vector-index.ts';

/** A memory found by a search, with its fused score and its place in each ranking. */
export interface ScoredMemory {
  memory: Memory;
  /** Reciprocal rank fusion score (higher is better). */
  score: number;
  /** 1-based ranks in the full-text and vector rankings it appeared in. */
  ranks: { text?: number; vector?: number };
}

export type SearchMode = 'hybrid' | 'full-text' | 'vector';

export interface SearchResult {
  memories: ScoredMemory[];
  /** What was searched: full-text when there is no embedding model or it failed. */
  mode: SearchMode;
  /** Why the search is less than hybrid, for people and for the run log. */
  note?: string;
}

/** A memory to write, before consolidation decides what to do with it. */
export interface MemoryCandidate {
  namespace: string;
  kind: MemoryKind;
  text: string;
  key?: string;
  provenance: MemoryProvenance;
  /** An existing memory this one updates (from the extraction model). */
  replaces?: string;
}

/**
 * What consolidation did: `added` a new memory; `superseded` an earlier version (same key,
 * or named by the extractor) with this one; `duplicate`: the same memory is already there,
 * and it was confirmed instead; `kept-apart`: it would replace a trusted memory but is
 * untrusted, so it was added beside it instead.
 */
export interface WriteOutcome {
  action: 'added' | 'superseded' | 'duplicate' | 'kept-apart';
  memory: Memory;
  replaced?: Memory;
}

/** RRF's constant: ranks past the first few count less and less (Cormack et al. use 60). */
const rrfK = 60;

export const noEmbedderNote =
  'no embedding model is configured (memory.embeddings in config.yaml), so recall is full-text only';

/**
 * Long-term memory for agents and people: writes with consolidation (a memory restated is
 * confirmed, not duplicated; restated with a change, it supersedes the earlier version),
 * hybrid recall (full-text BM25 and vector similarity fused by reciprocal rank), and forget.
 */
export class MemoryBank {
  readonly store: MemoryStore;
  readonly embedder: Embedder | undefined;
  readonly #snapshotDir: string | undefined;
  readonly #now: () => Date;
  readonly #redact: Redactor;
  #index: Promise<VectorIndex> | undefined;

  constructor(options: {
    store: MemoryStore;
    embedder?: Embedder;
    /** Where the ANN index keeps its snapshot (e.g. beside the database); none: rebuilt per process. */
    snapshotDir?: string;
    /** An index of the embedder's vectors over this store, already open (shared by banks). */
    index?: VectorIndex;
    /** Applied to a memory's text before anything is done with it (embedding included). */
    redact?: Redactor;
    now?: () => Date;
  }) {
    this.store = options.store;
    this.embedder = options.embedder;
    this.#snapshotDir = options.snapshotDir;
    this.#now = options.now ?? (() => new Date());
    this.#redact = options.redact ?? ((text) => text);
    if (options.index) this.#index = Promise.resolve(options.index);
  }

  /** The snapshot folder for a store file: `memory-index/` beside it. */
  static snapshotDirFor(dbPath: string): string | undefined {
    return dbPath === ':memory:' ? undefined : join(dirname(dbPath), 'memory-index');
  }

  /** The ANN index of the embedding model's vectors, up to date with the store. */
  async index(): Promise<VectorIndex | undefined> {
    if (!this.embedder) return undefined;
    const model = this.embedder.model;
    this.#index ??= VectorIndex.open(this.store, model, {
      ...(this.#snapshotDir ? { snapshotDir: this.#snapshotDir } : {}),
    });
    const index = await this.#index;
    await index.sync();
    return index;
  }

  /**
   * Memories relevant to `query` within the filter, best first: full-text (BM25) and vector
   * similarity, fused by reciprocal rank. Without an embedding model (or when it fails) the
   * search is full-text only, and the result says so.
   */
  async search(
    query: string,
    filter: MemoryFilter,
    limit: number,
    mode: SearchMode = 'hybrid',
  ): Promise<SearchResult> {
    const depth = Math.max(limit * 4, 20);
    let note: string | undefined;
    let vector: Memory[] | undefined;
    if (mode !== 'full-text') {
      if (!this.embedder) note = noEmbedderNote;
      else {
        try {
          vector = await this.#vectorSearch(query, filter, depth);
        } catch (error) {
          if (!(error instanceof EmbeddingError)) throw error;
          note = `the embedding model failed (${error.message}), so this recall is full-text only`;
        }
      }
    }
    const text =
      mode === 'vector' && vector
        ? []
        : (await this.store.searchText(query, filter, depth)).map((r) => r.memory);
    const used: SearchMode = vector ? (mode === 'vector' ? 'vector' : 'hybrid') : 'full-text';
    const fused = fuse([
      ['text', text],
      ['vector', vector ?? []],
    ]);
    return {
      memories: fused.slice(0, limit),
      mode: used,
      ...(note ? { note } : {}),
    };
  }

  async #vectorSearch(query: string, filter: MemoryFilter, depth: number): Promise<Memory[]> {
    const [vector] = await this.embedder!.embed([query]);
    const index = await this.index();
    if (!index || !vector) return [];
    const namespaces = filter.actor
      ? [...(filter.namespaces ?? []), `/actor/${filter.actor}`]
      : filter.namespaces;
    const matches = index.search(vector, depth, {
      ...(namespaces ? { namespaces } : {}),
      ...(filter.trustedOnly ? { trustedOnly: true } : {}),
      ...(filter.since ? { since: filter.since } : {}),
    });
    const found = await this.store.byLabels(matches.map((m) => m.label));
    const byLabel = new Map(found.map((m) => [m.label, m]));
    const out: Memory[] = [];
    for (const match of matches) {
      const memory = byLabel.get(match.label);
      if (memory && passes(memory, filter)) {
        const { label: _, ...plain } = memory;
        out.push(plain);
      }
    }
    return out;
  }

  /** Writes a memory through consolidation; see WriteOutcome. */
  async write(candidate: MemoryCandidate): Promise<WriteOutcome> {
    const at = this.#now().toISOString();
    const trust = trustOf(candidate.provenance.source);
    const text = this.#redact(candidate.text.trim());
    const key = candidate.key ? this.#redact(candidate.key.trim()) || undefined : undefined;
    const runId = candidate.provenance.runId;
    // What it would replace: the memory the extractor named, else the one with the same key.
    let target: Memory | undefined;
    if (candidate.replaces) {
      const named = await this.store.get(candidate.replaces);
      if (
        named?.status === 'active' &&
        named.namespace === candidate.namespace &&
        named.kind === candidate.kind
      ) {
        target = named;
      }
    }
    if (!target && key)
      target = await this.store.findByKey(candidate.namespace, candidate.kind, key);
    // The same memory already there (as written, or nearly): confirm it instead.
    const same =
      target && sameText(target.text, text)
        ? target
        : await this.#duplicateOf(candidate.namespace, candidate.kind, text);
    if (same && (same.trust === trust || same.trust === 'trusted')) {
      await this.store.confirm(same.id, runId, at);
      return { action: 'duplicate', memory: (await this.store.get(same.id)) ?? same };
    }
    // The user (or the model) stating what only a tool had said: the trusted version replaces it.
    if (same && !target) target = same;
    const memory: Memory = {
      id: newId('mem', this.#now().getTime()),
      namespace: candidate.namespace,
      kind: candidate.kind,
      text,
      ...(key ? { key } : {}),
      trust,
      provenance: candidate.provenance,
      status: 'active',
      createdAt: at,
      updatedAt: at,
    };
    const vector = await this.#embedQuietly(text);
    // Tool output never replaces what the user or the model established.
    const keptApart = target && target.trust === 'trusted' && trust === 'untrusted';
    const replaces = target && !keptApart ? target.id : undefined;
    await this.store.add(memory, {
      ...(vector ? { vector } : {}),
      ...(replaces ? { replaces } : {}),
    });
    const written = (await this.store.get(memory.id)) ?? memory;
    if (replaces && target) return { action: 'superseded', memory: written, replaced: target };
    return { action: keptApart ? 'kept-apart' : 'added', memory: written };
  }

  /** Removes a memory and its earlier versions from the store, full-text and vector indexes. */
  async forget(id: string): Promise<string[]> {
    const removed = await this.store.forget(id);
    if (removed.length && this.#index) await (await this.#index).sync();
    return removed;
  }

  /** Embeds active memories that have no vector of the current model yet; how many. */
  async backfill(limit = 10_000): Promise<number> {
    if (!this.embedder) return 0;
    const missing = await this.store.missingVectors(this.embedder.model, limit);
    for (let i = 0; i < missing.length; i += 64) {
      const batch = missing.slice(i, i + 64);
      const vectors = await this.embedder.embed(batch.map((m) => m.text));
      for (const [j, m] of batch.entries()) {
        await this.store.putVector(m.id, { model: this.embedder.model, values: vectors[j]! });
      }
    }
    return missing.length;
  }

  async #embedQuietly(text: string) {
    if (!this.embedder) return undefined;
    try {
      const [values] = await this.embedder.embed([text]);
      return values ? { model: this.embedder.model, values } : undefined;
    } catch (error) {
      // Kept without a vector: full-text finds it, and a later backfill embeds it.
      if (error instanceof EmbeddingError) return undefined;
      throw error;
    }
  }

  /** An active memory of the kind in the namespace that says the same thing, if any. */
  async #duplicateOf(
    namespace: string,
    kind: MemoryKind,
    text: string,
  ): Promise<Memory | undefined> {
    const found = await this.store.searchText(text, { namespaces: [namespace], kinds: [kind] }, 10);
    for (const { memory } of found) {
      if (memory.namespace !== namespace) continue;
      if (sameText(memory.text, text) || similarity(memory.text, text) >= 0.85) return memory;
    }
    return undefined;
  }
}

/** Reciprocal rank fusion: each list adds 1 / (k + rank) for every memory it ranks. */
export function fuse(
  lists: readonly (readonly [keyof ScoredMemory['ranks'], readonly Memory[]])[],
) {
  const byId = new Map<string, ScoredMemory>();
  for (const [name, memories] of lists) {
    for (const [i, memory] of memories.entries()) {
      const entry = byId.get(memory.id) ?? { memory, score: 0, ranks: {} };
      if (entry.ranks[name] !== undefined) continue;
      entry.ranks[name] = i + 1;
      entry.score += 1 / (rrfK + i + 1);
      byId.set(memory.id, entry);
    }
  }
  return [...byId.values()].sort(
    (a, b) => b.score - a.score || b.memory.updatedAt.localeCompare(a.memory.updatedAt),
  );
}

function passes(memory: Memory, filter: MemoryFilter): boolean {
  if (memory.status !== 'active') return false;
  if (filter.kinds?.length && !filter.kinds.includes(memory.kind)) return false;
  if (filter.trustedOnly && memory.trust !== 'trusted') return false;
  if (filter.since && memory.updatedAt < filter.since) return false;
  const inRoot = (root: string) =>
    memory.namespace === root.replace(/\/+$/, '') ||
    memory.namespace.startsWith(`${root.replace(/\/+$/, '')}/`);
  if (filter.namespaces && !filter.namespaces.some(inRoot)) {
    if (!(filter.actor && inRoot(`/actor/${filter.actor}`))) return false;
  }
  if (
    filter.actor &&
    !filter.namespaces &&
    memory.provenance.actor !== filter.actor &&
    !inRoot(`/actor/${filter.actor}`)
  ) {
    return false;
  }
  return true;
}

/** Lowercased words, for comparing what two memories say. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

function sameText(a: string, b: string): boolean {
  return words(a).join(' ') === words(b).join(' ');
}

/** Jaccard similarity of the two texts' sets of words. */
function similarity(a: string, b: string): number {
  const x = new Set(words(a));
  const y = new Set(words(b));
  if (x.size === 0 || y.size === 0) return 0;
  let both = 0;
  for (const w of x) if (y.has(w)) both++;
  return both / (x.size + y.size - both);
}

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inNamespace } from '../core/memory.ts';
import type { MemoryStore } from '../store/memory-store.ts';
import { HnswIndex, type HnswMatch } from './hnsw.ts';

export interface VectorFilter {
  namespaces?: readonly string[];
  trustedOnly?: boolean;
  /** ISO time: only memories created at or after it. */
  since?: string;
}

/**
 * The graph's settings: 12 links a node (24 on the ground level), 40 candidates while
 * building (more cost build time and gave no better recall on clustered data) and 96 while
 * searching (see bench/protocols/memory.ts).
 */
const hnswSettings = { m: 12, efConstruction: 40, efSearch: 96 };

/** Changes read at once when the index is far behind the store. */
const bulkBatch = 200_000;

/** Below this share of the index, a filtered search looks at the matching vectors only. */
const scanShare = 0.05;
/** Changes applied since the last snapshot that make writing a new one worth it. */
const snapshotEvery = 20_000;

/**
 * The ANN index over one embedding model's vectors (HNSW, see hnsw.ts), kept in step with the
 * store: every change to the vectors is in the store's change log, and the index replays what
 * it has not seen before each search, so another process's writes show. The index is a cache:
 * it is rebuilt from the store's vectors when its snapshot is missing or does not fit.
 *
 * Filters (namespace roots, trust, recency) are checked per node while the graph is walked;
 * when they leave only a small share of the index, the matching vectors are compared exactly
 * instead (a filtered graph walk degrades when most nodes are filtered out).
 */
export class VectorIndex {
  readonly model: string;
  readonly #store: MemoryStore;
  readonly #snapshotPath: string | undefined;
  #hnsw: HnswIndex | undefined;
  #lastSeq = 0;
  #sinceSnapshot = 0;
  #fromSnapshot = false;
  /** Per label: its namespace's number, trust and creation time. */
  #namespaceOf = new Int32Array(1024).fill(-1);
  #trusted = new Uint8Array(1024);
  #createdAt = new Float64Array(1024);
  #namespaces: string[] = [];
  #namespaceIds = new Map<string, number>();
  #namespaceCounts: number[] = [];
  /** The labels in each namespace, and each label's place in its list (for exact scans). */
  #members: number[][] = [];
  #placeOf = new Int32Array(1024).fill(-1);

  private constructor(store: MemoryStore, model: string, snapshotDir: string | undefined) {
    this.#store = store;
    this.model = model;
    this.#snapshotPath = snapshotDir ? VectorIndex.snapshotFile(snapshotDir, model) : undefined;
  }

  /** The snapshot file of a model's index in a folder. */
  static snapshotFile(dir: string, model: string): string {
    return join(dir, `${createHash('sha256').update(model).digest('hex').slice(0, 16)}.hnsw`);
  }

  /**
   * The index of `model`'s vectors in `store`: from its snapshot in `snapshotDir` when there is
   * one that fits, then brought up to date from the change log.
   */
  static async open(
    store: MemoryStore,
    model: string,
    options: { snapshotDir?: string } = {},
  ): Promise<VectorIndex> {
    const index = new VectorIndex(store, model, options.snapshotDir);
    index.#loadSnapshot((await store.vectorState(model)).lastSeq);
    await index.sync();
    return index;
  }

  get size(): number {
    return this.#hnsw?.size ?? 0;
  }

  /** Where the index came from when opened: its snapshot file, or the store's vectors. */
  get loadedFrom(): 'snapshot' | 'store' {
    return this.#fromSnapshot ? 'snapshot' : 'store';
  }

  /** Bytes the index holds in memory (graph, vectors, per-node attributes). */
  get bytes(): number {
    return (
      (this.#hnsw?.bytes ?? 0) +
      this.#namespaceOf.byteLength +
      this.#trusted.byteLength +
      this.#createdAt.byteLength
    );
  }

  has(label: number): boolean {
    return this.#hnsw?.has(label) ?? false;
  }

  /** Applies the store's changes this index has not seen; the number applied. */
  async sync(): Promise<number> {
    let applied = 0;
    let limit = 5000;
    for (;;) {
      const changes = await this.#store.vectorChanges(this.model, this.#lastSeq, limit);
      if (changes.length === 0) break;
      for (const change of changes) {
        if (change.op === 'add' && change.values) {
          this.#add(change.label, change.values, {
            namespace: change.namespace!,
            trusted: change.trusted === true,
            createdAt: Date.parse(change.createdAt ?? '') || 0,
          });
        } else {
          this.#remove(change.label);
        }
      }
      this.#lastSeq = changes.at(-1)!.seq;
      applied += changes.length;
      // Far behind (a first build, a bulk import): take larger batches.
      if (changes.length === limit) limit = bulkBatch;
    }
    this.#sinceSnapshot += applied;
    if (this.#sinceSnapshot >= snapshotEvery) this.saveSnapshot();
    return applied;
  }

  /** The nearest labels to `vector` that pass the filter, closest first. */
  search(vector: Float32Array, k: number, filter: VectorFilter = {}): HnswMatch[] {
    const hnsw = this.#hnsw;
    if (!hnsw || hnsw.size === 0) return [];
    const accept = this.#accept(filter);
    if (!accept) return hnsw.search(vector, k, { ef: Math.max(hnsw.efSearch, 2 * k) });
    const matching = this.#estimateMatching(filter);
    if (matching <= Math.max(2000, scanShare * hnsw.size)) {
      // Few enough to compare them all: only the labels of the matching namespaces.
      if (!filter.namespaces) return hnsw.scan(vector, k, accept);
      const lists = this.#namespaces.flatMap((namespace, i) =>
        filter.namespaces!.some((root) => inNamespace(namespace, root)) ? [this.#members[i]!] : [],
      );
      return hnsw.scanLabels(vector, k, lists, accept);
    }
    return hnsw.search(vector, k, { ef: Math.max(96, 4 * k), accept });
  }

  /** The k nearest labels, exactly (every vector compared): for measuring the ANN search. */
  exactSearch(vector: Float32Array, k: number): HnswMatch[] {
    return this.#hnsw?.scan(vector, k) ?? [];
  }

  /** Writes the index to its snapshot file (replaced whole), or to one in `dir`. */
  saveSnapshot(dir?: string): void {
    const path = dir ? VectorIndex.snapshotFile(dir, this.model) : this.#snapshotPath;
    if (!path || !this.#hnsw) return;
    const graph = this.#hnsw.toBytes();
    const header = Buffer.from(
      `${JSON.stringify({
        model: this.model,
        lastSeq: this.#lastSeq,
        namespaces: this.#namespaces,
      })}\n`,
    );
    const labels = [...this.#hnsw.labels()];
    const attributes = new Float64Array(labels.length * 4);
    for (const [i, label] of labels.entries()) {
      attributes[i * 4] = label;
      attributes[i * 4 + 1] = this.#namespaceOf[label]!;
      attributes[i * 4 + 2] = this.#trusted[label]!;
      attributes[i * 4 + 3] = this.#createdAt[label]!;
    }
    const sizes = Buffer.alloc(16);
    sizes.writeDoubleLE(header.length, 0);
    sizes.writeDoubleLE(attributes.byteLength, 8);
    mkdirSync(join(path, '..'), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, Buffer.concat([sizes, header, Buffer.from(attributes.buffer), graph]));
    renameSync(temporary, path);
    this.#sinceSnapshot = 0;
  }

  #loadSnapshot(storeSeq: number): void {
    if (!this.#snapshotPath) return;
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.#snapshotPath);
    } catch {
      return;
    }
    try {
      const headerLength = bytes.readDoubleLE(0);
      const attributesLength = bytes.readDoubleLE(8);
      const header = JSON.parse(bytes.subarray(16, 16 + headerLength).toString()) as {
        model: string;
        lastSeq: number;
        namespaces: string[];
      };
      // A snapshot ahead of the store belongs to another store (or a restored one): rebuild.
      if (header.model !== this.model || header.lastSeq > storeSeq) return;
      const start = 16 + headerLength;
      const attributes = new Float64Array(
        bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + attributesLength),
      );
      const hnsw = HnswIndex.fromBytes(bytes.subarray(start + attributesLength));
      this.#hnsw = hnsw;
      this.#namespaces = header.namespaces;
      this.#namespaceIds = new Map(header.namespaces.map((n, i) => [n, i]));
      this.#namespaceCounts = header.namespaces.map(() => 0);
      this.#members = header.namespaces.map(() => []);
      for (let i = 0; i < attributes.length; i += 4) {
        const label = attributes[i]!;
        this.#attributes(label, {
          namespace: attributes[i + 1]!,
          trusted: attributes[i + 2] === 1,
          createdAt: attributes[i + 3]!,
        });
      }
      this.#lastSeq = header.lastSeq;
      this.#fromSnapshot = true;
    } catch {
      // An unreadable snapshot is rebuilt from the store.
      this.#hnsw = undefined;
      this.#lastSeq = 0;
    }
  }

  #add(
    label: number,
    values: Float32Array,
    attributes: { namespace: string; trusted: boolean; createdAt: number },
  ): void {
    if (this.#hnsw && this.#hnsw.dimensions !== values.length) {
      // The model's vectors changed length (a new dimensions setting): start again.
      this.#hnsw = undefined;
      this.#namespaceCounts = this.#namespaces.map(() => 0);
      this.#members = this.#namespaces.map(() => []);
      this.#placeOf.fill(-1);
    }
    this.#hnsw ??= new HnswIndex({ dimensions: values.length, ...hnswSettings });
    if (this.#hnsw.has(label)) this.#remove(label);
    this.#hnsw.add(label, values);
    let id = this.#namespaceIds.get(attributes.namespace);
    if (id === undefined) {
      id = this.#namespaces.length;
      this.#namespaces.push(attributes.namespace);
      this.#namespaceIds.set(attributes.namespace, id);
      this.#namespaceCounts.push(0);
      this.#members.push([]);
    }
    this.#attributes(label, { ...attributes, namespace: id });
  }

  #attributes(
    label: number,
    attributes: { namespace: number; trusted: boolean; createdAt: number },
  ): void {
    if (label >= this.#namespaceOf.length) {
      let length = this.#namespaceOf.length;
      while (length <= label) length *= 2;
      const namespaceOf = new Int32Array(length).fill(-1);
      namespaceOf.set(this.#namespaceOf);
      this.#namespaceOf = namespaceOf;
      const trusted = new Uint8Array(length);
      trusted.set(this.#trusted);
      this.#trusted = trusted;
      const createdAt = new Float64Array(length);
      createdAt.set(this.#createdAt);
      this.#createdAt = createdAt;
      const placeOf = new Int32Array(length).fill(-1);
      placeOf.set(this.#placeOf);
      this.#placeOf = placeOf;
    }
    this.#namespaceOf[label] = attributes.namespace;
    this.#trusted[label] = attributes.trusted ? 1 : 0;
    this.#createdAt[label] = attributes.createdAt;
    this.#namespaceCounts[attributes.namespace] =
      (this.#namespaceCounts[attributes.namespace] ?? 0) + 1;
    this.#members[attributes.namespace] ??= [];
    const members = this.#members[attributes.namespace]!;
    this.#placeOf[label] = members.length;
    members.push(label);
  }

  #remove(label: number): void {
    if (!this.#hnsw?.remove(label)) return;
    const namespace = this.#namespaceOf[label]!;
    if (namespace >= 0) {
      this.#namespaceCounts[namespace]!--;
      // Out of its namespace's list: the last one takes its place.
      const members = this.#members[namespace]!;
      const place = this.#placeOf[label]!;
      const last = members.pop()!;
      if (place >= 0 && place < members.length) {
        members[place] = last;
        this.#placeOf[last] = place;
      }
    }
    this.#namespaceOf[label] = -1;
    this.#placeOf[label] = -1;
  }

  /** A per-label test for the filter; undefined when it lets everything through. */
  #accept(filter: VectorFilter): ((label: number) => boolean) | undefined {
    const roots = filter.namespaces;
    const since = filter.since ? Date.parse(filter.since) : undefined;
    if (!roots && !filter.trustedOnly && since === undefined) return undefined;
    let allowed: Uint8Array | undefined;
    if (roots) {
      allowed = new Uint8Array(this.#namespaces.length);
      for (const [i, namespace] of this.#namespaces.entries()) {
        if (roots.some((root) => inNamespace(namespace, root))) allowed[i] = 1;
      }
    }
    const namespaceOf = this.#namespaceOf;
    const trusted = this.#trusted;
    const createdAt = this.#createdAt;
    const trustedOnly = filter.trustedOnly === true;
    return (label) => {
      if (allowed && allowed[namespaceOf[label]!] !== 1) return false;
      if (trustedOnly && trusted[label] !== 1) return false;
      if (since !== undefined && createdAt[label]! < since) return false;
      return true;
    };
  }

  /** How many nodes the namespace part of a filter leaves (trust and time are not counted). */
  #estimateMatching(filter: VectorFilter): number {
    if (!filter.namespaces) return this.#hnsw?.size ?? 0;
    let count = 0;
    for (const [i, namespace] of this.#namespaces.entries()) {
      if (filter.namespaces.some((root) => inNamespace(namespace, root))) {
        count += this.#namespaceCounts[i] ?? 0;
      }
    }
    return count;
  }
}

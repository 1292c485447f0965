/**
 * HNSW (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search using
 * Hierarchical Navigable Small World graphs", 2016) over unit vectors with cosine distance
 * (1 - dot product), in typed arrays: no object per node, no native code. Vectors are kept
 * quantized to 8 bits (each with its own scale: a quarter of the memory, and distances close to
 * the float ones), compared with a WebAssembly SIMD dot product where there is one.
 *
 * Nodes live in slots; a label (a memory's row id, a non-negative integer) names each one.
 * `remove` really removes a node: every link to it is dropped and the nodes that pointed at it
 * are reconnected through its neighbours, its vector is zeroed and its slot is reused.
 */

import { DistanceHeap } from './distance-heap.ts';
import { simdDotKernel, type WasmMemory, wasmLimit } from './int8-dot.ts';
import { mulberry32 } from './seeded-random.ts';

export interface HnswOptions {
  dimensions: number;
  /** Links per node on the upper levels (level 0 has twice as many). Default 16. */
  m?: number;
  /** Candidates kept while inserting. Default 100. */
  efConstruction?: number;
  /** Candidates kept while searching (at least k). Default 64. */
  efSearch?: number;
  /** Seeds the level generator, so a build is the same every time. */
  seed?: number;
  /** Slots to allocate up front (grows by doubling). */
  capacity?: number;
  /** False: compare vectors in JavaScript even where WebAssembly SIMD is available. */
  simd?: boolean;
}

export interface HnswMatch {
  label: number;
  /** 1 - cosine similarity: 0 is the same direction, 2 the opposite. */
  distance: number;
}

/** Decides which labels a search may return (it still walks through the others). */
export type LabelFilter = (label: number) => boolean;

const magic = 0x57534e48; // "HNSW"
const formatVersion = 3;

const headerInts = 11;

export class HnswIndex {
  readonly dimensions: number;
  /** Bytes per stored vector: the dimensions rounded up to 16 (zero padding changes no dot product). */
  readonly #stride: number;
  readonly m: number;
  readonly m0: number;
  readonly efConstruction: number;
  efSearch: number;
  #capacity: number;
  /** Slots ever used (live and free). */
  #used = 0;
  #size = 0;
  /** The vectors, `#stride` bytes each, then one more for the query being searched. */
  #vectors: Int8Array;
  /** Per slot (and the query after them): what one unit of its bytes is worth. */
  #scales: Float32Array;
  #memory: WasmMemory | undefined;
  #dot: ((a: number, b: number, n: number) => number) | undefined;
  /** Per slot: [count, neighbour...] with room for m0 neighbours. */
  #links0: Int32Array;
  /** Per slot with a level above 0: levels 1..L, each [count, neighbour...] with room for m. */
  #upper: (Int32Array | undefined)[];
  #levels: Uint8Array;
  /** Per slot: its label, or -1 when free. */
  #labels: Int32Array;
  /** Per label: its slot, or -1. */
  #slotOf: Int32Array;
  #free: number[] = [];
  #entry = -1;
  #maxLevel = -1;
  #visited: Uint32Array;
  #mark = 0;
  #random: () => number;
  readonly #levelFactor: number;
  // Scratch heaps, reused by every search.
  readonly #candidates = new DistanceHeap(true);
  readonly #results = new DistanceHeap(false);

  constructor(options: HnswOptions) {
    if (!Number.isInteger(options.dimensions) || options.dimensions <= 0) {
      throw new Error(`HNSW: dimensions must be a positive integer, not ${options.dimensions}`);
    }
    this.dimensions = options.dimensions;
    this.#stride = Math.ceil(options.dimensions / 16) * 16;
    this.m = options.m ?? 16;
    this.m0 = this.m * 2;
    this.efConstruction = Math.max(options.efConstruction ?? 100, this.m);
    this.efSearch = options.efSearch ?? 64;
    this.#levelFactor = 1 / Math.log(this.m);
    this.#random = mulberry32(options.seed ?? 42);
    this.#capacity = Math.max(16, options.capacity ?? 1024);
    const kernel =
      options.simd === false || (this.#capacity + 1) * this.#stride >= wasmLimit
        ? undefined
        : simdDotKernel();
    if (kernel) {
      this.#memory = kernel.memory;
      this.#dot = kernel.dot8;
    }
    this.#vectors = this.#vectorMemory(this.#capacity);
    this.#scales = new Float32Array(this.#capacity + 1);
    this.#links0 = new Int32Array(this.#capacity * (this.m0 + 1));
    this.#upper = new Array(this.#capacity);
    this.#levels = new Uint8Array(this.#capacity);
    this.#labels = new Int32Array(this.#capacity).fill(-1);
    this.#slotOf = new Int32Array(this.#capacity).fill(-1);
    this.#visited = new Uint32Array(this.#capacity);
  }

  /** Live nodes. */
  get size(): number {
    return this.#size;
  }

  /** Slots in use or free for reuse (removed nodes' slots are reused before new ones). */
  get slots(): number {
    return this.#used;
  }

  has(label: number): boolean {
    return label >= 0 && label < this.#slotOf.length && this.#slotOf[label]! >= 0;
  }

  /** Bytes the index holds in typed arrays (the vectors, the graph, the label maps). */
  get bytes(): number {
    let upper = 0;
    for (let slot = 0; slot < this.#used; slot++) upper += this.#upper[slot]?.byteLength ?? 0;
    return (
      this.#vectors.byteLength +
      this.#scales.byteLength +
      this.#links0.byteLength +
      this.#levels.byteLength +
      this.#labels.byteLength +
      this.#slotOf.byteLength +
      this.#visited.byteLength +
      upper +
      this.#capacity * 8 // the array of upper-level links itself
    );
  }

  /** Adds a vector under a label (normalized here); a label already present is replaced. */
  add(label: number, vector: ArrayLike<number>): void {
    if (!Number.isInteger(label) || label < 0 || label > 0x7fffffff) {
      throw new Error(`HNSW: a label is a non-negative 32-bit integer, not ${label}`);
    }
    if (vector.length !== this.dimensions) {
      throw new Error(
        `HNSW: the vector has ${vector.length} dimensions; this index has ${this.dimensions}`,
      );
    }
    if (this.has(label)) this.remove(label);
    const slot = this.#free.pop() ?? this.#allocate();
    const base = slot;
    this.#quantize(slot, vector);
    this.#labelSlot(label, slot);
    const level = Math.min(31, Math.floor(-Math.log(1 - this.#random()) * this.#levelFactor));
    this.#levels[slot] = level;
    this.#links0[slot * (this.m0 + 1)] = 0;
    this.#upper[slot] = level > 0 ? new Int32Array(level * (this.m + 1)) : undefined;
    this.#size++;
    if (this.#entry === -1) {
      this.#entry = slot;
      this.#maxLevel = level;
      return;
    }
    let entry = this.#entry;
    let entryDistance = this.#distanceTo(base, entry);
    for (let l = this.#maxLevel; l > level; l--) {
      [entry, entryDistance] = this.#greedy(base, entry, entryDistance, l);
    }
    for (let l = Math.min(level, this.#maxLevel); l >= 0; l--) {
      const found = this.#searchLayer(base, entry, entryDistance, this.efConstruction, l);
      const chosen = this.#selectNeighbours(slot, found.slots, found.distances, this.m);
      this.#setLinks(slot, l, chosen);
      const cap = l === 0 ? this.m0 : this.m;
      for (const neighbour of chosen) this.#link(neighbour, slot, l, cap);
      entry = found.slots[0]!;
      entryDistance = found.distances[0]!;
    }
    if (level > this.#maxLevel) {
      this.#maxLevel = level;
      this.#entry = slot;
    }
  }

  /**
   * Removes a label: links to it are dropped and the nodes that had them are reconnected
   * through its neighbours; its vector is zeroed and its slot reused. False when absent.
   */
  remove(label: number): boolean {
    if (!this.has(label)) return false;
    const slot = this.#slotOf[label]!;
    const level = this.#levels[slot]!;
    for (let l = 0; l <= level; l++) {
      const own = this.#linksOf(slot, l).filter((n) => n !== slot);
      const cap = l === 0 ? this.m0 : this.m;
      for (let other = 0; other < this.#used; other++) {
        if (other === slot || this.#labels[other]! < 0 || this.#levels[other]! < l) continue;
        const links = this.#linkArray(other, l);
        const offset = this.#linkOffset(other, l);
        const count = links[offset]!;
        let at = -1;
        for (let i = 1; i <= count; i++) {
          if (links[offset + i] === slot) {
            at = i;
            break;
          }
        }
        if (at === -1) continue;
        // Drop the link, then reconnect through the removed node's neighbours.
        const kept: number[] = [];
        for (let i = 1; i <= count; i++) if (i !== at) kept.push(links[offset + i]!);
        const pool = new Set(kept);
        for (const n of own) if (n !== other) pool.add(n);
        const candidates = [...pool];
        const base = other;
        const distances = candidates.map((c) => this.#distanceTo(base, c));
        const order = candidates.map((_, i) => i).sort((a, b) => distances[a]! - distances[b]!);
        const chosen = this.#selectNeighbours(
          other,
          order.map((i) => candidates[i]!),
          order.map((i) => distances[i]!),
          cap,
        );
        this.#setLinks(other, l, chosen);
      }
    }
    this.#vectors.fill(0, slot * this.#stride, (slot + 1) * this.#stride);
    this.#scales[slot] = 0;
    this.#links0[slot * (this.m0 + 1)] = 0;
    this.#upper[slot] = undefined;
    this.#levels[slot] = 0;
    this.#labels[slot] = -1;
    this.#slotOf[label] = -1;
    this.#free.push(slot);
    this.#size--;
    if (this.#entry === slot) {
      this.#entry = -1;
      this.#maxLevel = -1;
      for (let other = 0; other < this.#used; other++) {
        if (this.#labels[other]! < 0) continue;
        if (this.#levels[other]! > this.#maxLevel) {
          this.#maxLevel = this.#levels[other]!;
          this.#entry = other;
        }
      }
    }
    return true;
  }

  /**
   * The k nearest labels to `query` (closest first) that `accept` lets through, approximately:
   * the graph is walked with `ef` candidates (default efSearch, at least k).
   */
  search(
    query: ArrayLike<number>,
    k: number,
    options: { ef?: number; accept?: LabelFilter } = {},
  ): HnswMatch[] {
    if (this.#entry === -1 || k <= 0) return [];
    const base = this.#query(query);
    let entry = this.#entry;
    let entryDistance = this.#distanceTo(base, entry);
    for (let l = this.#maxLevel; l > 0; l--) {
      [entry, entryDistance] = this.#greedy(base, entry, entryDistance, l);
    }
    const ef = Math.max(options.ef ?? this.efSearch, k);
    const accept = options.accept;
    const found = this.#searchLayer(base, entry, entryDistance, ef, 0, accept);
    const out: HnswMatch[] = [];
    for (let i = 0; i < found.slots.length && out.length < k; i++) {
      out.push({ label: this.#labels[found.slots[i]!]!, distance: found.distances[i]! });
    }
    return out;
  }

  /** The k nearest labels that `accept` lets through, exactly: every live node is looked at. */
  scan(query: ArrayLike<number>, k: number, accept?: LabelFilter): HnswMatch[] {
    if (k <= 0 || this.#size === 0) return [];
    const base = this.#query(query);
    const heap = this.#results;
    heap.clear();
    for (let slot = 0; slot < this.#used; slot++) {
      const label = this.#labels[slot]!;
      if (label < 0 || (accept && !accept(label))) continue;
      const d = this.#distanceTo(base, slot);
      if (heap.size < k) heap.push(slot, d);
      else if (d < heap.topDistance()) {
        heap.pop();
        heap.push(slot, d);
      }
    }
    const out: HnswMatch[] = [];
    while (heap.size > 0) {
      const d = heap.topDistance();
      out.push({ label: this.#labels[heap.pop()]!, distance: d });
    }
    return out.reverse();
  }

  /**
   * The k nearest of the given labels (closest first), exactly: only their vectors are compared.
   * Labels not in the index are skipped.
   */
  scanLabels(
    query: ArrayLike<number>,
    k: number,
    lists: Iterable<ArrayLike<number>>,
    accept?: LabelFilter,
  ): HnswMatch[] {
    if (k <= 0 || this.#size === 0) return [];
    const base = this.#query(query);
    const heap = this.#results;
    heap.clear();
    for (const labels of lists) {
      for (let i = 0; i < labels.length; i++) {
        const label = labels[i]!;
        if (label >= this.#slotOf.length) continue;
        const slot = this.#slotOf[label]!;
        if (slot < 0 || (accept && !accept(label))) continue;
        const d = this.#distanceTo(base, slot);
        if (heap.size < k) heap.push(slot, d);
        else if (d < heap.topDistance()) {
          heap.pop();
          heap.push(slot, d);
        }
      }
    }
    const out: HnswMatch[] = [];
    while (heap.size > 0) {
      const d = heap.topDistance();
      out.push({ label: this.#labels[heap.pop()]!, distance: d });
    }
    return out.reverse();
  }

  /** Every live label. */
  *labels(): IterableIterator<number> {
    for (let slot = 0; slot < this.#used; slot++) {
      const label = this.#labels[slot]!;
      if (label >= 0) yield label;
    }
  }

  /** The index as bytes: load it back with `HnswIndex.fromBytes`. */
  toBytes(): Uint8Array {
    const used = this.#used;
    let upperInts = 0;
    for (let slot = 0; slot < used; slot++) upperInts += this.#upper[slot]?.length ?? 0;
    const vectorInts = (used * this.#stride) / 4;
    const ints = headerInts + vectorInts + used * (this.m0 + 2) + used * 2 + upperInts;
    const out = new Int32Array(ints);
    out.set([
      magic,
      formatVersion,
      this.dimensions,
      this.m,
      this.efConstruction,
      this.efSearch,
      used,
      this.#size,
      this.#entry,
      this.#maxLevel,
      Math.floor(this.#random() * 0x7fffffff),
    ]);
    let offset = headerInts;
    out.set(new Int32Array(this.#vectors.buffer, this.#vectors.byteOffset, vectorInts), offset);
    offset += vectorInts;
    out.set(new Int32Array(this.#scales.buffer, this.#scales.byteOffset, used), offset);
    offset += used;
    out.set(this.#links0.subarray(0, used * (this.m0 + 1)), offset);
    offset += used * (this.m0 + 1);
    out.set(this.#labels.subarray(0, used), offset);
    offset += used;
    for (let slot = 0; slot < used; slot++) out[offset + slot] = this.#levels[slot]!;
    offset += used;
    for (let slot = 0; slot < used; slot++) {
      const upper = this.#upper[slot];
      if (!upper) continue;
      out.set(upper, offset);
      offset += upper.length;
    }
    return new Uint8Array(out.buffer);
  }

  static fromBytes(bytes: Uint8Array): HnswIndex {
    if (bytes.byteLength < headerInts * 4) throw new Error('HNSW: not an index file');
    // A copy when unaligned (Buffer's slice is a view, so copy through the Uint8Array constructor).
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
    const all = new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
    if (all[0] !== magic || all[1] !== formatVersion) {
      throw new Error('HNSW: not an index file of this version');
    }
    const [, , dimensions, m, efConstruction, efSearch, used, size, entry, maxLevel, seed] = [
      ...all.subarray(0, headerInts),
    ] as number[];
    const index = new HnswIndex({
      dimensions: dimensions!,
      m: m!,
      efConstruction: efConstruction!,
      efSearch: efSearch!,
      capacity: Math.max(16, used!),
      seed: seed!,
    });
    let offset = headerInts;
    const take = (length: number): Int32Array => {
      const view = all.subarray(offset, offset + length);
      offset += length;
      return view;
    };
    const vectors = take((used! * index.#stride) / 4);
    index.#vectors.set(new Int8Array(vectors.slice().buffer));
    index.#scales.set(new Float32Array(take(used!).slice().buffer));
    index.#links0.set(take(used! * (index.m0 + 1)));
    const labels = take(used!);
    const levels = take(used!);
    for (let slot = 0; slot < used!; slot++) {
      const level = levels[slot]!;
      index.#levels[slot] = level;
      if (level > 0) index.#upper[slot] = take(level * (m! + 1)).slice();
    }
    index.#used = used!;
    index.#size = size!;
    index.#entry = entry!;
    index.#maxLevel = maxLevel!;
    for (let slot = 0; slot < used!; slot++) {
      const label = labels[slot]!;
      if (label >= 0) index.#labelSlot(label, slot);
      else index.#free.push(slot);
    }
    return index;
  }

  // --- internals ---------------------------------------------------------------------------

  #allocate(): number {
    if (this.#used === this.#capacity) this.#grow(this.#capacity * 2);
    return this.#used++;
  }

  #grow(capacity: number): void {
    this.#vectors = this.#vectorMemory(capacity);
    const scales = new Float32Array(capacity + 1);
    scales.set(this.#scales.subarray(0, this.#capacity));
    this.#scales = scales;
    const links0 = new Int32Array(capacity * (this.m0 + 1));
    links0.set(this.#links0);
    this.#links0 = links0;
    const levels = new Uint8Array(capacity);
    levels.set(this.#levels);
    this.#levels = levels;
    const labels = new Int32Array(capacity).fill(-1);
    labels.set(this.#labels);
    this.#labels = labels;
    this.#upper.length = capacity;
    this.#visited = new Uint32Array(capacity);
    this.#mark = 0;
    this.#capacity = capacity;
  }

  /**
   * Room for `capacity` vectors and the query after them, keeping the vectors there: in the
   * WebAssembly memory (grown in place) while it can hold them, else in JavaScript memory.
   */
  #vectorMemory(capacity: number): Int8Array {
    const bytes = (capacity + 1) * this.#stride;
    const old = this.#vectors as Int8Array | undefined;
    if (this.#memory && bytes < wasmLimit) {
      const pages = Math.ceil(bytes / 65536) - this.#memory.buffer.byteLength / 65536;
      try {
        if (pages > 0) this.#memory.grow(pages);
        return new Int8Array(this.#memory.buffer, 0, bytes);
      } catch {
        // no more WebAssembly memory: JavaScript from here on
      }
    }
    const vectors = new Int8Array(bytes);
    if (old) vectors.set(old.subarray(0, Math.min(old.length, bytes)));
    this.#memory = undefined;
    this.#dot = undefined;
    return vectors;
  }

  #labelSlot(label: number, slot: number): void {
    if (label >= this.#slotOf.length) {
      let length = this.#slotOf.length;
      while (length <= label) length *= 2;
      const grown = new Int32Array(length).fill(-1);
      grown.set(this.#slotOf);
      this.#slotOf = grown;
    }
    this.#slotOf[label] = slot;
    this.#labels[slot] = label;
  }

  /** A vector, normalized and quantized, into a slot. */
  #quantize(slot: number, vector: ArrayLike<number>): void {
    const dims = this.dimensions;
    let norm = 0;
    for (let i = 0; i < dims; i++) norm += vector[i]! * vector[i]!;
    norm = Math.sqrt(norm) || 1;
    let max = 0;
    for (let i = 0; i < dims; i++) max = Math.max(max, Math.abs(vector[i]! / norm));
    const scale = max / 127 || 1;
    const base = slot * this.#stride;
    for (let i = 0; i < dims; i++) this.#vectors[base + i] = Math.round(vector[i]! / norm / scale);
    this.#scales[slot] = scale;
  }

  /** The query, normalized and quantized, in the scratch slot past the vectors (its slot returned). */
  #query(query: ArrayLike<number>): number {
    if (query.length !== this.dimensions) {
      throw new Error(
        `HNSW: the query has ${query.length} dimensions; this index has ${this.dimensions}`,
      );
    }
    this.#quantize(this.#capacity, query);
    return this.#capacity;
  }

  /** 1 - the cosine of two slots' vectors (the query's slot is the one past the vectors). */
  #distanceTo(from: number, slot: number): number {
    const scale = this.#scales[from]! * this.#scales[slot]!;
    if (this.#dot)
      return 1 - scale * this.#dot(from * this.#stride, slot * this.#stride, this.#stride);
    const v = this.#vectors;
    const dims = this.dimensions;
    const base = from * this.#stride;
    const other = slot * this.#stride;
    let dot = 0;
    let i = 0;
    for (; i + 3 < dims; i += 4) {
      dot +=
        v[base + i]! * v[other + i]! +
        v[base + i + 1]! * v[other + i + 1]! +
        v[base + i + 2]! * v[other + i + 2]! +
        v[base + i + 3]! * v[other + i + 3]!;
    }
    for (; i < dims; i++) dot += v[base + i]! * v[other + i]!;
    return 1 - scale * dot;
  }

  #linkArray(slot: number, level: number): Int32Array {
    return level === 0 ? this.#links0 : this.#upper[slot]!;
  }

  #linkOffset(slot: number, level: number): number {
    return level === 0 ? slot * (this.m0 + 1) : (level - 1) * (this.m + 1);
  }

  #linksOf(slot: number, level: number): number[] {
    const links = this.#linkArray(slot, level);
    const offset = this.#linkOffset(slot, level);
    const count = links[offset]!;
    const out: number[] = [];
    for (let i = 1; i <= count; i++) out.push(links[offset + i]!);
    return out;
  }

  #setLinks(slot: number, level: number, neighbours: readonly number[]): void {
    const links = this.#linkArray(slot, level);
    const offset = this.#linkOffset(slot, level);
    links[offset] = neighbours.length;
    for (let i = 0; i < neighbours.length; i++) links[offset + 1 + i] = neighbours[i]!;
  }

  /** Adds `to` to `from`'s links at a level, pruning with the heuristic when full. */
  #link(from: number, to: number, level: number, cap: number): void {
    const links = this.#linkArray(from, level);
    const offset = this.#linkOffset(from, level);
    const count = links[offset]!;
    for (let i = 1; i <= count; i++) if (links[offset + i] === to) return;
    if (count < cap) {
      links[offset + 1 + count] = to;
      links[offset] = count + 1;
      return;
    }
    const base = from;
    const candidates: number[] = [to];
    for (let i = 1; i <= count; i++) candidates.push(links[offset + i]!);
    const distances = candidates.map((c) => this.#distanceTo(base, c));
    const order = candidates.map((_, i) => i).sort((a, b) => distances[a]! - distances[b]!);
    const chosen = this.#selectNeighbours(
      from,
      order.map((i) => candidates[i]!),
      order.map((i) => distances[i]!),
      cap,
    );
    this.#setLinks(from, level, chosen);
  }

  /**
   * The neighbour-selection heuristic: from candidates sorted by distance to `slot`, keep one
   * only if it is closer to `slot` than to every one kept so far (so links spread out).
   */
  #selectNeighbours(
    slot: number,
    candidates: readonly number[],
    distances: readonly number[],
    max: number,
  ): number[] {
    const chosen: number[] = [];
    for (let i = 0; i < candidates.length && chosen.length < max; i++) {
      const candidate = candidates[i]!;
      if (candidate === slot) continue;
      const base = candidate;
      let good = true;
      for (const kept of chosen) {
        if (this.#distanceTo(base, kept) < distances[i]!) {
          good = false;
          break;
        }
      }
      if (good) chosen.push(candidate);
    }
    return chosen;
  }

  #greedy(base: number, entry: number, entryDistance: number, level: number): [number, number] {
    let current = entry;
    let best = entryDistance;
    for (let changed = true; changed; ) {
      changed = false;
      const links = this.#linkArray(current, level);
      const offset = this.#linkOffset(current, level);
      const count = links[offset]!;
      for (let i = 1; i <= count; i++) {
        const n = links[offset + i]!;
        const d = this.#distanceTo(base, n);
        if (d < best) {
          best = d;
          current = n;
          changed = true;
        }
      }
    }
    return [current, best];
  }

  /** The `ef` nearest slots found from an entry point at one level, closest first. */
  #searchLayer(
    base: number,
    entry: number,
    entryDistance: number,
    ef: number,
    level: number,
    accept?: LabelFilter,
  ): { slots: number[]; distances: number[] } {
    if (++this.#mark === 0xffffffff) {
      this.#visited.fill(0);
      this.#mark = 1;
    }
    const mark = this.#mark;
    const visited = this.#visited;
    const candidates = this.#candidates;
    const results = this.#results;
    candidates.clear();
    results.clear();
    visited[entry] = mark;
    candidates.push(entry, entryDistance);
    if (!accept || accept(this.#labels[entry]!)) results.push(entry, entryDistance);
    let bound = results.size > 0 ? entryDistance : Number.POSITIVE_INFINITY;
    while (candidates.size > 0) {
      const closest = candidates.topDistance();
      if (closest > bound && (results.size >= ef || !accept)) break;
      const current = candidates.pop();
      const links = this.#linkArray(current, level);
      const offset = this.#linkOffset(current, level);
      const count = links[offset]!;
      for (let i = 1; i <= count; i++) {
        const n = links[offset + i]!;
        if (visited[n] === mark) continue;
        visited[n] = mark;
        const d = this.#distanceTo(base, n);
        if (results.size < ef || d < bound) {
          candidates.push(n, d);
          if (!accept || accept(this.#labels[n]!)) {
            results.push(n, d);
            if (results.size > ef) results.pop();
            bound = results.topDistance();
          }
        }
      }
    }
    const slots = new Array<number>(results.size);
    const distances = new Array<number>(results.size);
    for (let i = results.size - 1; i >= 0; i--) {
      distances[i] = results.topDistance();
      slots[i] = results.pop();
    }
    return { slots, distances };
  }
}

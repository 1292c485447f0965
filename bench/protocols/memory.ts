import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Memory, MemoryFilter } from '../../src/core/memory.ts';
import { MemoryBank } from '../../src/memory/bank.ts';
import type { Embedder } from '../../src/memory/embeddings.ts';
import { VectorIndex } from '../../src/memory/vector-index.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

export interface Latency {
  p50Ms: number;
  p95Ms: number;
}

export interface MemoryBenchLevel {
  memories: number;
  dimensions: number;
  /** Memories written through the store (row, full-text entry, vector, change log), per second. */
  storePerSecond: number;
  storeSeconds: number;
  /** Vectors added to the HNSW index (replayed from the store's change log), per second. */
  indexPerSecond: number;
  indexSeconds: number;
  /** Both: memories made searchable per second. */
  ingestPerSecond: number;
  /** One memory written alone (its own transaction) and added to the index, as extraction does. */
  singleWrite: Latency;
  recall: {
    /** MemoryBank.search: full-text and ANN in the recall namespaces, fused (the embedding call excluded). */
    hybrid: Latency;
    /** FTS5 BM25 in the recall namespaces. */
    fullText: Latency;
    /** The ANN index alone, no filter. */
    vector: Latency;
    /** The ANN index within one actor's, one agent's and one team's namespaces. */
    vectorFiltered: Latency;
  };
  /** The index's neighbours against an exact scan, on the same queries (k = 10). */
  annRecallAt10: number;
  /**
   * The same, counting a neighbour found when it is no farther than 1% past the exact 10th:
   * the synthetic topics have many near-ties (hundreds of points on a topic at 1M).
   */
  annRecallAt10Within1pct: number;
  /** Bytes in the index's typed arrays (vectors, graph, per-node attributes), MiB. */
  indexMib: number;
  /** Growth of the process's heap and array buffers while the index was built, MiB. */
  processGrowthMib: number;
  /** The snapshot file a new process loads instead of rebuilding, and how long loading takes. */
  snapshotMib: number;
  snapshotLoadSeconds: number;
}

export interface MemoryBenchResults {
  dimensions: number;
  queries: number;
  levels: MemoryBenchLevel[];
}

const dimensions = 128;
const topics = 2000;
const queriesPerLevel = 200;

/** A small deterministic PRNG (so every run ingests the same memories). */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  return { next, gauss };
}

const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'zi', 'pe', 'su', 'da', 'fo'];
function word(n: number): string {
  let out = '';
  let x = n + 1;
  while (x > 0) {
    out += syllables[x % syllables.length];
    x = Math.floor(x / syllables.length);
  }
  return out;
}

/**
 * The synthetic corpus: memories on 2,000 topics, each text ten words (six of its topic's, four
 * common ones) and each vector its topic's direction plus noise, as embeddings of texts on the
 * same subject cluster. Namespaces spread over 1,000 actors, 50 agents and 10 teams.
 */
function corpus(seed: number) {
  const random = prng(seed);
  const centers = Array.from({ length: topics }, () =>
    Float32Array.from({ length: dimensions }, random.gauss),
  );
  const topicWords = (topic: number) => Array.from({ length: 12 }, (_, i) => word(topic * 12 + i));
  const common = (i: number) => word(topics * 12 + (i % 3000));
  const vectorNear = (topic: number, noise: number) => {
    const center = centers[topic]!;
    const v = new Float32Array(dimensions);
    for (let d = 0; d < dimensions; d++) v[d] = center[d]! + noise * random.gauss();
    return v;
  };
  const memory = (i: number) => {
    const topic = Math.floor(random.next() * topics);
    const own = topicWords(topic);
    const words = [
      ...Array.from({ length: 6 }, () => own[Math.floor(random.next() * own.length)]!),
      ...Array.from({ length: 4 }, () => common(Math.floor(random.next() * 3000))),
    ];
    const kind = (['fact', 'preference', 'episode', 'summary'] as const)[i % 4]!;
    const namespace =
      i % 3 === 0
        ? `/actor/a${i % 1000}/${kind}s`
        : i % 3 === 1
          ? `/agent/g${i % 50}/${kind}s`
          : `/team/t${i % 10}/${kind}s`;
    return { topic, text: words.join(' '), vector: vectorNear(topic, 0.8), kind, namespace };
  };
  const query = () => {
    const topic = Math.floor(random.next() * topics);
    const own = topicWords(topic);
    const text = [0, 1, 2].map(() => own[Math.floor(random.next() * own.length)]!).join(' ');
    const actor = Math.floor(random.next() * 1000);
    return {
      text,
      vector: vectorNear(topic, 0.8),
      filter: {
        namespaces: [`/actor/a${actor}`, `/agent/g${actor % 50}`, `/team/t${actor % 10}`],
      } satisfies MemoryFilter,
    };
  };
  return { memory, query };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50Ms: Number(percentile(sorted, 0.5).toFixed(3)),
    p95Ms: Number(percentile(sorted, 0.95).toFixed(3)),
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
function heldMib(): number {
  gc?.();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

/** One level: ingest `count` memories into a fresh store, build the index, measure recall. */
export async function runMemoryLevel(
  count: number,
  log: (line: string) => void = () => {},
): Promise<MemoryBenchLevel> {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-memory-bench-'));
  const store = new SqliteStore({ path: join(dir, 'agentd.db'), durability: 'process' });
  const model = `bench/synthetic@${dimensions}`;
  try {
    const { memory, query } = corpus(count);
    const at = new Date().toISOString();
    const record = (i: number) => {
      const m = memory(i);
      const written: Memory = {
        id: `mem_${i.toString(36).padStart(8, '0')}`,
        namespace: m.namespace,
        kind: m.kind,
        text: m.text,
        trust: i % 10 === 0 ? 'untrusted' : 'trusted',
        provenance: { events: [], source: i % 10 === 0 ? 'tool' : 'user', via: 'extraction' },
        status: 'active',
        createdAt: at,
        updatedAt: at,
      };
      return { memory: written, vector: { model, values: m.vector } };
    };
    // Written in batches of 1,000 a transaction (an import); one at a time is measured below.
    let started = performance.now();
    for (let i = 0; i < count; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 1000); j++) batch.push(record(j));
      await store.memories.addMany(batch);
      if (i > 0 && i % 200_000 === 0) log(`  ${count}: ${i} memories written`);
    }
    const storeSeconds = (performance.now() - started) / 1000;
    log(`  ${count}: written in ${storeSeconds.toFixed(1)} s; building the index`);

    const before = heldMib();
    started = performance.now();
    const index = await VectorIndex.open(store.memories, model);
    const indexSeconds = (performance.now() - started) / 1000;
    const processGrowthMib = heldMib() - before;
    log(`  ${count}: index built in ${indexSeconds.toFixed(1)} s`);
    // One memory at a time, as extraction writes them: its own transaction, then the index.
    const singles: number[] = [];
    for (let i = 0; i < 200; i++) {
      const { memory: m, vector } = record(count + i);
      const t = performance.now();
      await store.memories.add(m, { vector });
      await index.sync();
      singles.push(performance.now() - t);
    }
    const singleWrite = latency(singles);

    const queries = Array.from({ length: queriesPerLevel }, query);
    const vectors = new Map(queries.map((q) => [q.text, q.vector]));
    const embedder: Embedder = {
      model,
      embed: async (texts) => texts.map((t) => vectors.get(t) ?? new Float32Array(dimensions)),
    };
    const bank = new MemoryBank({ store: store.memories, embedder, index });
    const time = async (fn: (q: (typeof queries)[number]) => unknown) => {
      for (const q of queries.slice(0, 20)) await fn(q); // warm-up
      const samples: number[] = [];
      for (const q of queries) {
        const t = performance.now();
        await fn(q);
        samples.push(performance.now() - t);
      }
      return latency(samples);
    };
    const hybrid = await time((q) => bank.search(q.text, q.filter, 10));
    const fullText = await time((q) => store.memories.searchText(q.text, q.filter, 40));
    const vector = await time((q) => index.search(q.vector, 40));
    const vectorFiltered = await time((q) => index.search(q.vector, 40, q.filter));
    // ANN against exact: the HNSW graph walk and a full scan of the same vectors.
    let found = 0;
    let close = 0;
    const sample = queries.slice(0, 50);
    for (const q of sample) {
      const approx = index.search(q.vector, 10);
      const exactMatches = index.exactSearch(q.vector, 10);
      const exact = new Set(exactMatches.map((m) => m.label));
      const tenth = exactMatches.at(-1)?.distance ?? 0;
      found += approx.filter((m) => exact.has(m.label)).length;
      close += approx.filter((m) => m.distance <= tenth * 1.01).length;
    }
    const annRecallAt10 = found / (sample.length * 10);

    const snapshotDir = join(dir, 'memory-index');
    index.saveSnapshot(snapshotDir);
    const snapshotFile = VectorIndex.snapshotFile(snapshotDir, model);
    const snapshotMib = statSync(snapshotFile).size / 2 ** 20;
    started = performance.now();
    const loaded = await VectorIndex.open(store.memories, model, { snapshotDir });
    const snapshotLoadSeconds = (performance.now() - started) / 1000;
    if (loaded.size !== index.size) throw new Error('the snapshot did not load whole');
    log(
      `  ${count}: hybrid p50 ${hybrid.p50Ms} ms, p95 ${hybrid.p95Ms} ms; index ${(index.bytes / 2 ** 20).toFixed(0)} MiB`,
    );
    return {
      memories: count,
      dimensions,
      storePerSecond: Math.round(count / storeSeconds),
      storeSeconds: Number(storeSeconds.toFixed(2)),
      indexPerSecond: Math.round(count / indexSeconds),
      indexSeconds: Number(indexSeconds.toFixed(2)),
      ingestPerSecond: Math.round(count / (storeSeconds + indexSeconds)),
      singleWrite,
      recall: { hybrid, fullText, vector, vectorFiltered },
      annRecallAt10: Number(annRecallAt10.toFixed(3)),
      annRecallAt10Within1pct: Number((close / (sample.length * 10)).toFixed(3)),
      indexMib: Number((index.bytes / 2 ** 20).toFixed(1)),
      processGrowthMib: Number(processGrowthMib.toFixed(1)),
      snapshotMib: Number(snapshotMib.toFixed(1)),
      snapshotLoadSeconds: Number(snapshotLoadSeconds.toFixed(2)),
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runMemoryBench(
  sizes: readonly number[] = [10_000, 100_000, 1_000_000],
  log: (line: string) => void = () => {},
): Promise<MemoryBenchResults> {
  const levels: MemoryBenchLevel[] = [];
  for (const size of sizes) levels.push(await runMemoryLevel(size, log));
  return { dimensions, queries: queriesPerLevel, levels };
}

// Run on its own (as the bench suite does, in a fresh process with --expose-gc): JSON on stdout.
if (import.meta.main) {
  const arg = process.argv.indexOf('--sizes');
  const sizes =
    arg !== -1 ? process.argv[arg + 1]!.split(',').map(Number) : [10_000, 100_000, 1_000_000];
  const results = await runMemoryBench(sizes, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

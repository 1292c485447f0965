import { describe, expect, it } from 'vitest';
import { HnswIndex } from '../../src/memory/hnsw.ts';

/** Clustered vectors, as embeddings of texts on a few topics are. */
function dataset(n: number, dims: number, seed = 7): Float32Array[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centers = Array.from({ length: 40 }, () => Float32Array.from({ length: dims }, gauss));
  return Array.from({ length: n }, () => {
    const center = centers[Math.floor(random() * centers.length)]!;
    return center.map((x) => x + 0.7 * gauss());
  });
}

describe('HNSW index', () => {
  const dims = 32;
  const data = dataset(3000, dims);

  it('finds nearly the same neighbours as an exact scan', () => {
    const index = new HnswIndex({ dimensions: dims });
    for (const [i, v] of data.entries()) index.add(i, v);
    expect(index.size).toBe(data.length);
    let found = 0;
    for (let q = 0; q < 100; q++) {
      const query = data[q * 17]!.map((x) => x + 0.1);
      const exact = new Set(index.scan(query, 10).map((m) => m.label));
      found += index.search(query, 10).filter((m) => exact.has(m.label)).length;
    }
    expect(found / 1000).toBeGreaterThan(0.95);
  });

  it('removes a node for real: never returned, no links to it, slot reused', () => {
    const index = new HnswIndex({ dimensions: dims });
    for (const [i, v] of data.slice(0, 1000).entries()) index.add(i, v);
    for (let i = 0; i < 1000; i += 3) expect(index.remove(i)).toBe(true);
    expect(index.remove(0)).toBe(false);
    expect(index.has(3)).toBe(false);
    expect(index.size).toBe(666);
    for (let q = 0; q < 50; q++) {
      const hits = index.search(data[q * 3]!, 20);
      expect(hits.some((m) => m.label % 3 === 0)).toBe(false);
      // the removed node's own vector still finds its live neighbours
      expect(hits.length).toBe(20);
    }
    const slots = index.slots;
    index.add(5000, data[1500]!);
    expect(index.slots).toBe(slots); // a freed slot, not a new one
    expect(index.search(data[1500]!, 1)[0]).toMatchObject({ label: 5000 });
  });

  it('filters labels while searching, and scans exactly when asked', () => {
    const index = new HnswIndex({ dimensions: dims });
    for (const [i, v] of data.slice(0, 2000).entries()) index.add(i, v);
    const even = (label: number) => label % 2 === 0;
    const hits = index.search(data[11]!, 10, { accept: even });
    expect(hits).toHaveLength(10);
    expect(hits.every((m) => m.label % 2 === 0)).toBe(true);
    const exact = index.scan(data[11]!, 10, even);
    expect(exact.every((m) => m.label % 2 === 0)).toBe(true);
    expect(exact[0]!.distance).toBeLessThanOrEqual(hits[0]!.distance + 1e-9);
  });

  it('saves and loads to the same answers', () => {
    const index = new HnswIndex({ dimensions: dims });
    for (const [i, v] of data.slice(0, 1500).entries()) index.add(i * 2, v);
    index.remove(10);
    const copy = HnswIndex.fromBytes(index.toBytes());
    expect(copy.size).toBe(index.size);
    for (let q = 0; q < 20; q++) {
      expect(copy.search(data[q * 31]!, 5)).toEqual(index.search(data[q * 31]!, 5));
    }
    expect(copy.has(10)).toBe(false);
    copy.add(10, data[5]!);
    expect(copy.search(data[5]!, 1)[0]!.label).toBe(10);
  });

  it('gives the same neighbours with the WebAssembly dot product and without it', () => {
    const simd = new HnswIndex({ dimensions: dims });
    const plain = new HnswIndex({ dimensions: dims, simd: false });
    for (const [i, v] of data.slice(0, 500).entries()) {
      simd.add(i, v);
      plain.add(i, v);
    }
    for (let q = 0; q < 20; q++) {
      const a = simd.search(data[q * 7]!, 5);
      const b = plain.search(data[q * 7]!, 5);
      expect(a.map((m) => m.label)).toEqual(b.map((m) => m.label));
      for (const [i, m] of a.entries()) expect(m.distance).toBeCloseTo(b[i]!.distance, 5);
    }
  });

  it('refuses vectors of the wrong length and labels that are not integers', () => {
    const index = new HnswIndex({ dimensions: 4 });
    expect(() => index.add(1, [1, 2, 3])).toThrow(/3 dimensions; this index has 4/);
    expect(() => index.add(-1, [1, 2, 3, 4])).toThrow(/non-negative/);
    expect(index.search([1, 0, 0, 0], 3)).toEqual([]);
  });
});

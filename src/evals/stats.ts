/** A small, seeded random number generator (mulberry32): the same seed, the same numbers. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function resampledMean(values: readonly number[], random: () => number): number {
  if (values.length === 1) return values[0]!;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)]!;
  return sum / values.length;
}

function percentile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

/** One case's scores in run A and in run B (one per trial). */
export interface Paired {
  a: readonly number[];
  b: readonly number[];
}

export interface Interval {
  /** Observed: the mean over cases of (B's mean − A's mean). */
  delta: number;
  low: number;
  high: number;
  /** Cases compared. */
  n: number;
  /** Whether the interval rests on enough data to tell a change from noise (see `enough`). */
  enough: boolean;
}

export const bootstrapDefaults = { resamples: 10_000, seed: 1, level: 0.95 };

/**
 * Whether there is enough to estimate noise: five cases or more, or at least three trials a
 * side in every case (then each case's own run-to-run spread is measured).
 */
export function enoughData(pairs: readonly Paired[]): boolean {
  return (
    pairs.length >= 5 ||
    (pairs.length > 0 && pairs.every((p) => p.a.length >= 3 && p.b.length >= 3))
  );
}

/**
 * A paired, two-level bootstrap confidence interval of the change from A to B: each resample
 * draws cases with replacement, then each drawn case's trials with replacement on each side,
 * and takes the mean over cases of (B − A). Drawing cases measures how much the change
 * depends on which cases the suite has; drawing trials measures run-to-run noise. The
 * interval is the percentile interval at `level`.
 */
export function pairedBootstrap(
  pairs: readonly Paired[],
  options: Partial<typeof bootstrapDefaults> = {},
): Interval | undefined {
  const usable = pairs.filter((p) => p.a.length > 0 && p.b.length > 0);
  if (usable.length === 0) return undefined;
  const { resamples, seed, level } = { ...bootstrapDefaults, ...options };
  const random = seededRandom(seed);
  const delta = mean(usable.map((p) => mean(p.b) - mean(p.a)));
  const draws = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < usable.length; i++) {
      const p = usable[Math.floor(random() * usable.length)]!;
      sum += resampledMean(p.b, random) - resampledMean(p.a, random);
    }
    draws[r] = sum / usable.length;
  }
  draws.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return {
    delta,
    low: percentile(draws, tail),
    high: percentile(draws, 1 - tail),
    n: usable.length,
    enough: enoughData(usable),
  };
}

/** `better`/`worse` when the interval leaves out 0 and rests on enough data. */
export function verdictOf(interval: Interval | undefined): 'better' | 'worse' | 'same' | 'unknown' {
  if (!interval?.enough) return 'unknown';
  // A change smaller than rounding noise in the scores is no change.
  if (interval.low > 1e-9) return 'better';
  if (interval.high < -1e-9) return 'worse';
  return 'same';
}

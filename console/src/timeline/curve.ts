import type { RunEvent } from '../api/client';

export interface CurvePoint {
  /** Milliseconds since the run started. */
  t: number;
  seq: number;
  /** Cumulative cost (USD) and tokens at this point. */
  costUsd: number;
  tokens: number;
}

/**
 * The run's cost and tokens over time: a point per model answer and per compaction (the
 * summarizer's usage counts too). Unknown prices add nothing to the cost.
 */
export function costCurve(events: readonly RunEvent[]): CurvePoint[] {
  const start = events[0] ? Date.parse(events[0].at) : 0;
  const points: CurvePoint[] = [];
  let costUsd = 0;
  let tokens = 0;
  for (const event of events) {
    if (event.type !== 'model.response' && event.type !== 'context.compacted') continue;
    costUsd += event.data.costUsd ?? 0;
    tokens += event.data.usage.inputTokens + event.data.usage.outputTokens;
    points.push({ t: Date.parse(event.at) - start, seq: event.seq, costUsd, tokens });
  }
  return points;
}

/** An SVG polyline's points for `values` over `times`, in a box of `width` × `height`. */
export function polyline(
  points: readonly { t: number; v: number }[],
  width: number,
  height: number,
): string {
  if (points.length === 0) return '';
  const maxT = Math.max(1, ...points.map((p) => p.t));
  const maxV = Math.max(Number.EPSILON, ...points.map((p) => p.v));
  return [{ t: 0, v: 0 }, ...points]
    .map(
      (p) => `${((p.t / maxT) * width).toFixed(1)},${(height - (p.v / maxV) * height).toFixed(1)}`,
    )
    .join(' ');
}

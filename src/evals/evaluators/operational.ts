import type { RunRecord } from '../run-record.ts';
import type { Evaluator, Outcome } from '../types.ts';
import { clipText } from './common.ts';

export const operationalKinds = [
  'turns',
  'tokens',
  'cost',
  'wall_time',
  'policy_denials',
  'errors',
] as const;
export type OperationalKind = (typeof operationalKinds)[number];

/** Kinds that measure a count of bad things: their `max` defaults to 0. */
export const countKinds: readonly OperationalKind[] = ['policy_denials', 'errors'];

/**
 * 1 within `max`; past it, `max / value` (so twice the budget scores 0.5); with `max` 0, any
 * amount scores 0.
 */
export function withinMax(value: number, max: number): number {
  if (value <= max) return 1;
  return max > 0 ? max / value : 0;
}

function measure(
  kind: OperationalKind,
  run: RunRecord,
): { value: number | null; shown: string; notes?: string } {
  switch (kind) {
    case 'turns':
      return {
        value: run.turns.length,
        shown: `${run.turns.length} turn${run.turns.length === 1 ? '' : 's'}`,
      };
    case 'tokens': {
      const n = run.usage.inputTokens + run.usage.outputTokens;
      return { value: n, shown: `${n.toLocaleString('en-US')} tokens` };
    }
    case 'cost':
      return run.costUsd === null
        ? { value: null, shown: 'cost unknown' }
        : { value: run.costUsd, shown: `$${run.costUsd.toFixed(4)}` };
    case 'wall_time':
      return { value: run.durationMs, shown: `${(run.durationMs / 1000).toFixed(1)} s` };
    case 'policy_denials':
      return {
        value: run.denials.length,
        shown: `${run.denials.length} polic${run.denials.length === 1 ? 'y denial' : 'y denials'}`,
        notes: run.denials.map((d) => `${d.name}: ${clipText(d.reason, 120)}`).join('; '),
      };
    case 'errors': {
      const errors = [...run.errors];
      if (run.status !== 'completed') {
        errors.push(`the run ended ${run.status}${run.reason ? ` (${run.reason})` : ''}`);
      }
      return {
        value: errors.length,
        shown: `${errors.length} error${errors.length === 1 ? '' : 's'}`,
        notes: errors
          .slice(0, 5)
          .map((e) => clipText(e, 160))
          .join('; '),
      };
    }
  }
}

function describeMax(kind: OperationalKind, max: number): string {
  switch (kind) {
    case 'cost':
      return `$${max}`;
    case 'wall_time':
      return `${max / 1000} s`;
    default:
      return String(max);
  }
}

/**
 * An operational measure of the run against a maximum: turns, tokens (input + output), cost
 * (USD; an unknown price is an error, never a pass), wall time (active ms), policy denials,
 * errors (tool errors, run errors, and a run that did not complete).
 */
export function operational(options: {
  name: string;
  kind: OperationalKind;
  threshold: number;
  max: number;
}): Evaluator {
  return {
    name: options.name,
    kind: options.kind,
    level: 'operational',
    threshold: options.threshold,
    judge: 'never',
    async evaluate({ run }): Promise<Outcome> {
      const m = measure(options.kind, run);
      if (m.value === null) {
        const error = `${run.model} has no known price, so the cost cannot be checked against $${options.max}`;
        return { score: 0, explanation: error, error };
      }
      const score = withinMax(m.value, options.max);
      const limit = describeMax(options.kind, options.max);
      return {
        score,
        explanation: `${m.shown} (max ${limit})${m.notes ? `: ${m.notes}` : ''}`,
        details: { value: m.value, max: options.max },
      };
    },
  };
}

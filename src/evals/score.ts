import { errorMessage } from '../core/errors.ts';
import type { RunEvent } from '../core/events.ts';
import type { Judge } from './judge.ts';
import { runRecord } from './run-record.ts';
import type { EvalCase, Evaluator, Outcome, Score } from './types.ts';

/**
 * Scores one run with each evaluator. An evaluator that does not apply (no expected answer,
 * no tool results to be faithful to) gives no score; one that throws or gets a bad answer
 * from its judge gives an error score (0, failed), never a crash. Scores are clamped to 0..1.
 */
export async function scoreRun(
  evaluators: readonly Evaluator[],
  events: readonly RunEvent[],
  options: { case?: EvalCase; workdir?: string; judge?: Judge; signal?: AbortSignal } = {},
): Promise<Score[]> {
  const run = runRecord(events);
  const context = {
    run,
    events,
    ...(options.case ? { case: options.case } : {}),
    ...(options.workdir ? { workdir: options.workdir } : {}),
    ...(options.judge ? { judge: options.judge } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const outcomes = await Promise.all(
    evaluators.map(async (evaluator): Promise<Outcome | undefined> => {
      try {
        return await evaluator.evaluate(context);
      } catch (error) {
        options.signal?.throwIfAborted();
        const message = `${evaluator.name} failed: ${errorMessage(error)}`;
        return { score: 0, explanation: message, error: message };
      }
    }),
  );
  const scores: Score[] = [];
  outcomes.forEach((outcome, i) => {
    if (!outcome) return;
    const evaluator = evaluators[i]!;
    const score = Number.isFinite(outcome.score) ? Math.min(1, Math.max(0, outcome.score)) : 0;
    scores.push({
      evaluator: evaluator.name,
      kind: evaluator.kind,
      level: evaluator.level,
      score: outcome.error ? 0 : score,
      pass: !outcome.error && score >= evaluator.threshold,
      threshold: evaluator.threshold,
      explanation: outcome.explanation,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.judge ? { judge: outcome.judge } : {}),
      ...(outcome.details ? { details: outcome.details } : {}),
    });
  });
  return scores;
}

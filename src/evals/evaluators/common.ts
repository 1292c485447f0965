import { SCRIPTED_PREFIX } from '../../models/scripted-model.ts';
import type { Verdict } from '../judge.ts';
import type { RunRecord } from '../run-record.ts';
import type { Outcome } from '../types.ts';

export function clipText(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** An error outcome: the evaluator could not score (it counts as 0 and fails). */
export function errorOutcome(error: string, extra: Partial<Outcome> = {}): Outcome {
  return { score: 0, explanation: error, error, ...extra };
}

/** The error for an evaluator that needs a judge when the suite names none. */
export function noJudge(kind: string, why?: string): Outcome {
  return errorOutcome(
    `${kind} needs a judge model${why ? ` (${why})` : ''}: add judge: { model: provider/model-id } to the suite`,
  );
}

/** A `{score, explanation}` verdict as an outcome; a failed verdict as an error outcome. */
export function judgeScore(
  verdict: Verdict<{ score: number; explanation?: string | undefined }>,
): Outcome {
  if (!verdict.ok) return errorOutcome(verdict.error, { judge: verdict.use });
  return {
    score: verdict.value.score,
    explanation: judgeText(
      verdict.value.explanation ?? '(the judge gave no explanation)',
      verdict.use.scripted,
    ),
    judge: verdict.use,
  };
}

/** A judge's words as recorded: marked when a script wrote them. */
export function judgeText(text: string, scripted: boolean | undefined): string {
  return scripted ? `${SCRIPTED_PREFIX}${text}` : text;
}

/**
 * The final answer as the agent wrote it: the scripted replay's `[scripted] ` mark (agentd's,
 * not the agent's words) is left out.
 */
export function answerOf(run: RunRecord): string | undefined {
  if (run.answer === undefined) return undefined;
  return run.scripted && run.answer.startsWith(SCRIPTED_PREFIX)
    ? run.answer.slice(SCRIPTED_PREFIX.length)
    : run.answer;
}

/** Why a run has no final answer, in a few words. */
export function noAnswer(run: RunRecord): string {
  return `the run gave no final answer (${run.status}${run.reason ? `: ${run.reason}` : ''}${run.detail ? `, ${clipText(run.detail, 120)}` : ''})`;
}

/**
 * Text for loose comparison: Unicode-normalized, lower case, punctuation dropped (except
 * inside numbers: 42.195 stays), whitespace collapsed.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/(?<!\d)[\p{P}\p{S}]|[\p{P}\p{S}](?!\d)/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

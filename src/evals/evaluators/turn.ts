import { z } from 'zod';
import { askJudge, mergeUse } from '../judge.ts';
import { type JudgePrompt, promptVersion } from '../prompts.ts';
import { resultsBefore, type TurnRecord, transcript } from '../run-record.ts';
import type { EvalContext, Evaluator, JudgeUse, Outcome } from '../types.ts';
import { clipText, errorOutcome, judgeText, noJudge, round } from './common.ts';

/** Judged turns per run at most: the first, the last, and evenly between. */
export const defaultMaxJudgedTurns = 20;

/** `limit` of `turns`, spread evenly, always with the first and the last. */
export function spread<T>(turns: readonly T[], limit: number): T[] {
  if (turns.length <= limit) return [...turns];
  if (limit <= 1) return turns.slice(-1);
  const picked = new Set<number>();
  for (let i = 0; i < limit; i++) picked.add(Math.round((i * (turns.length - 1)) / (limit - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => turns[i]!);
}

const faithfulSchema = z.object({
  score: z.number().min(0).max(1),
  unsupported: z.array(z.string()).optional(),
  explanation: z.string().optional(),
});
const scoreSchema = z.object({
  score: z.number().min(0).max(1),
  explanation: z.string().optional(),
});

type TurnVerdict = { turn: number; score: number; note: string };

/**
 * Asks the judge about each turn, one call per turn (at most `maxTurns`), and averages. Any
 * turn the judge cannot answer for makes the whole score an error: a partial mean could
 * pass a run whose worst turn went unjudged.
 */
async function perTurn(
  context: EvalContext,
  kind: string,
  turns: readonly TurnRecord[],
  maxTurns: number,
  judgeTurn: (
    turn: TurnRecord,
  ) => Promise<
    | { ok: true; score: number; note: string; use: JudgeUse }
    | { ok: false; error: string; use: JudgeUse }
  >,
): Promise<Outcome | undefined> {
  if (turns.length === 0) return undefined;
  if (!context.judge) return noJudge(kind);
  const chosen = spread(turns, maxTurns);
  const answers = await Promise.all(chosen.map((turn) => judgeTurn(turn)));
  let use: JudgeUse | undefined;
  for (const a of answers) use = mergeUse(use, a.use);
  const failed = answers.findIndex((a) => !a.ok);
  if (failed !== -1) {
    const a = answers[failed] as { error: string };
    return errorOutcome(`turn ${chosen[failed]!.turn}: ${a.error}`, { judge: use! });
  }
  const verdicts: TurnVerdict[] = answers.map((a, i) => {
    const ok = a as { score: number; note: string };
    return { turn: chosen[i]!.turn, score: ok.score, note: ok.note };
  });
  const score = verdicts.reduce((n, v) => n + v.score, 0) / verdicts.length;
  const last = verdicts.at(-1);
  const shown = verdicts
    .filter((v) => v.score < 1)
    .slice(0, 5)
    .map(
      (v) =>
        `turn ${v.turn}: ${round(v.score)} (${clipText(judgeText(v.note, use?.scripted), 200)})`,
    );
  const judged =
    chosen.length < turns.length
      ? `${chosen.length} of ${turns.length} turns judged`
      : `${chosen.length} turn${chosen.length === 1 ? '' : 's'} judged`;
  return {
    score,
    explanation:
      shown.length === 0
        ? `${judged}, all at 1${last?.note ? `: ${clipText(judgeText(last.note, use?.scripted), 200)}` : ''}`
        : `${judged}; ${shown.join('; ')}`,
    judge: use!,
    details: { turns: verdicts.map((v) => ({ turn: v.turn, score: v.score })) },
  };
}

/**
 * Faithfulness: whether what the agent says rests on what its tools returned. Judged for each
 * turn with words that comes after at least one tool result; a run without one does not apply.
 */
export function faithfulness(options: {
  name: string;
  threshold: number;
  prompt: JudgePrompt;
  maxTurns: number;
}): Evaluator {
  return {
    name: options.name,
    kind: 'faithfulness',
    level: 'turn',
    threshold: options.threshold,
    judge: 'always',
    promptVersion: promptVersion(options.prompt),
    async evaluate(context) {
      const { run } = context;
      const turns = run.turns.filter(
        (t) => t.text.trim() && run.calls.some((c) => c.turn < t.turn && c.output !== undefined),
      );
      return perTurn(context, 'faithfulness', turns, options.maxTurns, async (turn) => {
        const verdict = await askJudge(
          context.judge!,
          options.prompt,
          {
            tool_results: resultsBefore(run, turn.turn),
            turn: String(turn.turn),
            turn_text: turn.text,
          },
          faithfulSchema,
          context.signal,
        );
        if (!verdict.ok) return verdict;
        const unsupported = verdict.value.unsupported ?? [];
        const note = [
          verdict.value.explanation ?? '',
          unsupported.length ? `unsupported: ${unsupported.join('; ')}` : '',
        ]
          .filter(Boolean)
          .join('; ');
        return { ok: true, score: verdict.value.score, note, use: verdict.use };
      });
    },
  };
}

/** Instruction following: whether each turn follows the agent's instructions and the task's. */
export function instructionFollowing(options: {
  name: string;
  threshold: number;
  prompt: JudgePrompt;
  maxTurns: number;
}): Evaluator {
  return {
    name: options.name,
    kind: 'instruction_following',
    level: 'turn',
    threshold: options.threshold,
    judge: 'always',
    promptVersion: promptVersion(options.prompt),
    async evaluate(context) {
      const { run } = context;
      return perTurn(
        context,
        'instruction_following',
        run.turns,
        options.maxTurns,
        async (turn) => {
          const calls = turn.calls.map((c) => `-> call ${c.name} ${JSON.stringify(c.input)}`);
          const verdict = await askJudge(
            context.judge!,
            options.prompt,
            {
              instructions: run.instructions || '(none)',
              task: run.task,
              earlier:
                turn.turn > 1 ? transcript(run, { upToTurn: turn.turn - 1, max: 8000 }) : '(none)',
              turn: String(turn.turn),
              turn_text: [turn.text.trim() || '(no text)', ...calls].join('\n'),
            },
            scoreSchema,
            context.signal,
          );
          if (!verdict.ok) return verdict;
          return {
            ok: true,
            score: verdict.value.score,
            note: verdict.value.explanation ?? '',
            use: verdict.use,
          };
        },
      );
    },
  };
}

import { z } from 'zod';
import { askJudge, type Judge } from '../judge.ts';
import { type JudgePrompt, promptVersion } from '../prompts.ts';
import { type RunRecord, transcript } from '../run-record.ts';
import type { Assertion, EvalContext, Evaluator, JudgeUse, Outcome } from '../types.ts';
import {
  answerOf,
  clipText,
  errorOutcome,
  judgeScore,
  judgeText,
  noAnswer,
  noJudge,
  normalizeText,
} from './common.ts';
import { toolName } from './tool-call.ts';

/** What a run is judged against when its case asserts nothing: the task itself. */
export const implicitAssertion = 'The agent accomplished the task it was given.';

export function describeAssertion(assertion: Assertion): string {
  if (typeof assertion === 'string') return assertion;
  const [key, value] = Object.entries(assertion)[0]!;
  return `${key}: ${JSON.stringify(value)}`;
}

/** Checks an assertion agentd can check itself; undefined for a sentence the judge must read. */
export function checkAssertion(
  assertion: Assertion,
  run: RunRecord,
): { met: boolean; reason: string } | undefined {
  if (typeof assertion === 'string') return undefined;
  const answer = answerOf(run) ?? '';
  const has = (text: string) => normalizeText(answer).includes(normalizeText(text));
  if ('contains' in assertion) {
    const met = has(assertion.contains);
    return {
      met,
      reason: met
        ? 'the answer contains it'
        : run.answer === undefined
          ? noAnswer(run)
          : 'the answer does not contain it',
    };
  }
  if ('not_contains' in assertion) {
    const met = !has(assertion.not_contains);
    return { met, reason: met ? 'the answer does not contain it' : 'the answer contains it' };
  }
  if ('regex' in assertion) {
    const met = new RegExp(assertion.regex, 'u').test(answer);
    return { met, reason: met ? 'the answer matches' : 'the answer does not match' };
  }
  if ('tool_called' in assertion) {
    const n = run.calls.filter((c) => toolName(c.name) === toolName(assertion.tool_called)).length;
    return { met: n > 0, reason: n > 0 ? `called ${n} time${n === 1 ? '' : 's'}` : 'never called' };
  }
  const n = run.calls.filter(
    (c) => toolName(c.name) === toolName(assertion.tool_not_called),
  ).length;
  return {
    met: n === 0,
    reason: n === 0 ? 'never called' : `called ${n} time${n === 1 ? '' : 's'}`,
  };
}

const goalSchema = z.object({
  assertions: z.array(
    z.object({ index: z.int(), met: z.boolean(), reason: z.string().optional() }),
  ),
  explanation: z.string().optional(),
});

/**
 * Goal success: the share of the case's assertions the run meets. Checks (`contains`,
 * `regex`, `tool_called`, ...) are made here; sentences go to the judge, all in one call. A
 * case without assertions is judged on the task itself.
 */
export function goalSuccess(options: {
  name: string;
  threshold: number;
  prompt: JudgePrompt;
}): Evaluator {
  return {
    name: options.name,
    kind: 'goal_success',
    level: 'session',
    threshold: options.threshold,
    judge: 'sometimes',
    promptVersion: promptVersion(options.prompt),
    async evaluate({ run, case: c, judge, signal }) {
      const assertions: Assertion[] = c?.assertions.length ? c.assertions : [implicitAssertion];
      const results: { assertion: Assertion; met: boolean; reason: string }[] = [];
      const toJudge: { index: number; text: string }[] = [];
      assertions.forEach((assertion, index) => {
        const checked = checkAssertion(assertion, run);
        if (checked) results[index] = { assertion, ...checked };
        else toJudge.push({ index, text: assertion as string });
      });
      let use: JudgeUse | undefined;
      let overall: string | undefined;
      if (toJudge.length) {
        if (!judge)
          return noJudge(
            'goal_success',
            `${toJudge.length} assertion${toJudge.length === 1 ? ' is a sentence' : 's are sentences'} only a judge can check`,
          );
        const verdict = await askJudge(
          judge,
          options.prompt,
          {
            task: run.task,
            transcript: transcript(run),
            answer: answerOf(run) ?? `(none: ${noAnswer(run)})`,
            assertions: toJudge.map((a, i) => `${i + 1}. ${a.text}`).join('\n'),
          },
          goalSchema,
          signal,
        );
        if (!verdict.ok) return errorOutcome(verdict.error, { judge: verdict.use });
        use = verdict.use;
        const byIndex = new Map(verdict.value.assertions.map((a) => [a.index, a]));
        const missing = toJudge.map((_, i) => i + 1).filter((i) => !byIndex.has(i));
        if (missing.length || byIndex.size !== toJudge.length) {
          return errorOutcome(
            `the judge's answer does not fit the format asked for: it gives verdicts for assertions ${[...byIndex.keys()].join(', ') || 'none'} of 1 to ${toJudge.length}`,
            { judge: use },
          );
        }
        toJudge.forEach((a, i) => {
          const v = byIndex.get(i + 1)!;
          results[a.index] = {
            assertion: a.text,
            met: v.met,
            reason: v.reason ? judgeText(v.reason, use!.scripted) : '',
          };
        });
        overall = verdict.value.explanation;
      }
      const met = results.filter((r) => r.met).length;
      const unmet = results.filter((r) => !r.met);
      const parts = [`${met} of ${results.length} assertion${results.length === 1 ? '' : 's'} met`];
      for (const r of unmet.slice(0, 5)) {
        parts.push(
          `not met: ${clipText(describeAssertion(r.assertion), 120)}${r.reason ? ` (${clipText(r.reason, 160)})` : ''}`,
        );
      }
      if (overall) parts.push(judgeText(clipText(overall, 300), use?.scripted));
      return {
        score: met / results.length,
        explanation: parts.join('; '),
        ...(use ? { judge: use } : {}),
        details: {
          assertions: results.map((r) => ({
            assertion: describeAssertion(r.assertion),
            met: r.met,
            reason: r.reason,
          })),
        },
      };
    },
  };
}

export const correctnessModes = ['exact', 'normalized', 'contains', 'judge'] as const;
export type CorrectnessMode = (typeof correctnessModes)[number];

/**
 * Correctness against the case's expected response: `exact` (same text, surrounding
 * whitespace aside), `normalized` (same after normalizeText), `contains` (the expected text,
 * normalized, appears in the normalized answer), or `judge` (the judge compares meaning).
 */
export function correctness(options: {
  name: string;
  threshold: number;
  mode: CorrectnessMode;
  prompt: JudgePrompt;
}): Evaluator {
  return {
    name: options.name,
    kind: 'correctness',
    level: 'session',
    threshold: options.threshold,
    judge: options.mode === 'judge' ? 'always' : 'never',
    ...(options.mode === 'judge' ? { promptVersion: promptVersion(options.prompt) } : {}),
    async evaluate({ run, case: c, judge, signal }) {
      const expected = c?.expectedResponse;
      if (expected === undefined) return undefined;
      const answer = answerOf(run);
      if (answer === undefined) return { score: 0, explanation: noAnswer(run) };
      if (options.mode === 'judge') {
        if (!judge) return noJudge('correctness', 'mode: judge');
        const verdict = await askJudge(
          judge,
          options.prompt,
          { task: run.task, expected, answer },
          z.object({ score: z.number().min(0).max(1), explanation: z.string().optional() }),
          signal,
        );
        return judgeScore(verdict);
      }
      const right =
        options.mode === 'exact'
          ? answer.trim() === expected.trim()
          : options.mode === 'normalized'
            ? normalizeText(answer) === normalizeText(expected)
            : normalizeText(answer).includes(normalizeText(expected));
      const how =
        options.mode === 'contains'
          ? 'contains the expected text'
          : `matches the expected answer (${options.mode})`;
      return {
        score: right ? 1 : 0,
        explanation: right
          ? `the answer ${how}`
          : `the answer does not ${options.mode === 'contains' ? 'contain' : 'match'} the expected ${options.mode === 'contains' ? 'text' : `answer (${options.mode})`}: expected "${clipText(expected, 120)}", got "${clipText(answer, 160)}"`,
      };
    },
  };
}

const scoreSchema = z.object({
  score: z.number().min(0).max(1),
  explanation: z.string().optional(),
});

/** Helpfulness of the final answer to the person who asked (judged). */
export function helpfulness(options: {
  name: string;
  threshold: number;
  prompt: JudgePrompt;
}): Evaluator {
  return {
    name: options.name,
    kind: 'helpfulness',
    level: 'session',
    threshold: options.threshold,
    judge: 'always',
    promptVersion: promptVersion(options.prompt),
    async evaluate(context: EvalContext): Promise<Outcome> {
      const { run } = context;
      const answer = answerOf(run);
      if (answer === undefined) return { score: 0, explanation: noAnswer(run) };
      return judged(
        context.judge,
        options.prompt,
        'helpfulness',
        {
          task: run.task,
          transcript: transcript(run),
          answer,
        },
        context.signal,
      );
    },
  };
}

async function judged(
  judge: Judge | undefined,
  prompt: JudgePrompt,
  kind: string,
  vars: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  if (!judge) return noJudge(kind);
  return judgeScore(await askJudge(judge, prompt, vars, scoreSchema, signal));
}

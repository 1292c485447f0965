import { z } from 'zod';
import type { JsonValue } from '../../core/messages.ts';
import { askJudge, type Judge } from '../judge.ts';
import { type JudgePrompt, promptVersion } from '../prompts.ts';
import type { CallRecord, RunRecord } from '../run-record.ts';
import type { EvalContext, Evaluator, ExpectedCall, Outcome } from '../types.ts';
import { clipText, judgeScore, noJudge, round } from './common.ts';

export const trajectoryModes = ['exact', 'in_order', 'any_order'] as const;
export type TrajectoryMode = (typeof trajectoryModes)[number];

/** A tool's name as the model sees it: `fs.search` in a case is `fs__search` in the log. */
export function toolName(name: string): string {
  return name.replaceAll('.', '__');
}

/**
 * Whether an actual value fits an expected one: objects match when every expected key
 * matches (the call may pass more), arrays element by element, numbers to 1e-9 relative.
 */
export function valueMatches(expected: JsonValue, actual: JsonValue | undefined): boolean {
  if (actual === undefined) return false;
  if (typeof expected === 'number' && typeof actual === 'number') {
    return Math.abs(expected - actual) <= 1e-9 * Math.max(1, Math.abs(expected));
  }
  if (expected === null || typeof expected !== 'object') return expected === actual;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => valueMatches(e, actual[i]))
    );
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  return Object.entries(expected).every(([key, value]) => valueMatches(value, actual[key]));
}

/** Whether a call is the expected one: same tool, and the expected arguments (if any) match. */
export function callMatches(expected: ExpectedCall, actual: CallRecord): boolean {
  if (toolName(expected.tool) !== toolName(actual.name)) return false;
  return expected.input === undefined || valueMatches(expected.input, actual.input);
}

export function describeExpected(call: ExpectedCall): string {
  return call.input ? `${call.tool} ${clipText(JSON.stringify(call.input), 80)}` : call.tool;
}

function describeActual(call: CallRecord): string {
  return `${call.name} ${clipText(JSON.stringify(call.input), 80)}`;
}

/** The longest run of expected calls found in order among the actual ones (indexes of both). */
function inOrderMatch(expected: readonly ExpectedCall[], actual: readonly CallRecord[]) {
  const n = expected.length;
  const m = actual.length;
  const table = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i]![j] = callMatches(expected[i]!, actual[j]!)
        ? 1 + table[i + 1]![j + 1]!
        : Math.max(table[i + 1]![j]!, table[i]![j + 1]!);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (callMatches(expected[i]!, actual[j]!) && table[i]![j] === 1 + table[i + 1]![j + 1]!) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (table[i + 1]![j]! >= table[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

/** The most expected calls that can each be paired with a different actual call, in any order. */
function anyOrderMatch(expected: readonly ExpectedCall[], actual: readonly CallRecord[]) {
  const owner = new Array<number>(actual.length).fill(-1);
  const tryAssign = (i: number, seen: boolean[]): boolean => {
    for (let j = 0; j < actual.length; j++) {
      if (seen[j] || !callMatches(expected[i]!, actual[j]!)) continue;
      seen[j] = true;
      if (owner[j] === -1 || tryAssign(owner[j]!, seen)) {
        owner[j] = i;
        return true;
      }
    }
    return false;
  };
  for (let i = 0; i < expected.length; i++) tryAssign(i, new Array(actual.length).fill(false));
  const pairs: [number, number][] = [];
  owner.forEach((i, j) => {
    if (i !== -1) pairs.push([i, j]);
  });
  return pairs.sort((a, b) => a[0] - b[0]);
}

/**
 * Trajectory match against the case's expected calls. `exact`: the same calls in the same
 * order and nothing else (score: positions that agree over the longer of the two). `in_order`:
 * the expected calls appear in this order (score: the longest such run over the expected
 * count). `any_order`: each expected call is made, in any order. Extra calls are allowed in
 * the last two unless `allowExtra` is false, when they count against the score.
 */
export function scoreTrajectory(
  expected: readonly ExpectedCall[],
  actual: readonly CallRecord[],
  mode: TrajectoryMode,
  allowExtra = true,
): Outcome {
  if (mode === 'exact') {
    const longest = Math.max(expected.length, actual.length);
    let agree = 0;
    const differences: string[] = [];
    for (let i = 0; i < longest; i++) {
      const e = expected[i];
      const a = actual[i];
      if (e && a && callMatches(e, a)) agree++;
      else if (differences.length < 3) {
        differences.push(
          `call ${i + 1}: expected ${e ? describeExpected(e) : 'nothing'}, got ${a ? describeActual(a) : 'nothing'}`,
        );
      }
    }
    const score = longest === 0 ? 1 : agree / longest;
    return {
      score,
      explanation:
        score === 1
          ? `exact: the ${expected.length} expected call${expected.length === 1 ? '' : 's'} in order, nothing else`
          : `exact: ${agree} of ${longest} positions agree; ${differences.join('; ')}`,
      details: { mode, matched: agree, expected: expected.length, actual: actual.length },
    };
  }
  const pairs =
    mode === 'in_order' ? inOrderMatch(expected, actual) : anyOrderMatch(expected, actual);
  const matchedExpected = new Set(pairs.map(([i]) => i));
  const matchedActual = new Set(pairs.map(([, j]) => j));
  const missing = expected.filter((_, i) => !matchedExpected.has(i));
  const extra = actual.filter((_, j) => !matchedActual.has(j));
  const denominator = allowExtra ? expected.length : Math.max(expected.length, actual.length);
  const score = denominator === 0 ? 1 : pairs.length / denominator;
  const label = mode === 'in_order' ? 'in order' : 'any order';
  const parts = [
    `${label}: ${pairs.length} of ${expected.length} expected call${expected.length === 1 ? '' : 's'} found`,
  ];
  if (missing.length) {
    const hint =
      mode === 'in_order' && missing.some((e) => actual.some((a) => callMatches(e, a)))
        ? ' (made, but out of order)'
        : '';
    parts.push(`missing ${missing.map(describeExpected).join(', ')}${hint}`);
  }
  if (extra.length) {
    parts.push(
      `${extra.length} extra call${extra.length === 1 ? '' : 's'} (${extra.map((c) => c.name).join(', ')})${allowExtra ? ', allowed' : ', not allowed'}`,
    );
  }
  return {
    score,
    explanation: parts.join('; '),
    details: {
      mode,
      matched: pairs.length,
      expected: expected.length,
      actual: actual.length,
      extra: extra.length,
    },
  };
}

export function trajectory(options: {
  name: string;
  threshold: number;
  mode: TrajectoryMode;
  allowExtra: boolean;
}): Evaluator {
  return {
    name: options.name,
    kind: 'trajectory',
    level: 'tool',
    threshold: options.threshold,
    judge: 'never',
    async evaluate({ run, case: c }) {
      if (!c?.expectedTrajectory) return undefined;
      return scoreTrajectory(c.expectedTrajectory, run.calls, options.mode, options.allowExtra);
    },
  };
}

/** Tool selection against expected calls: F1 of the tools called against the tools expected (as multisets). */
export function scoreSelection(
  expected: readonly ExpectedCall[],
  actual: readonly CallRecord[],
): Outcome {
  const want = countNames(expected.map((e) => toolName(e.tool)));
  const got = countNames(actual.map((a) => toolName(a.name)));
  let overlap = 0;
  for (const [name, n] of want) overlap += Math.min(n, got.get(name) ?? 0);
  if (expected.length === 0 && actual.length === 0) {
    return { score: 1, explanation: 'no tools expected, none called' };
  }
  const precision = actual.length ? overlap / actual.length : 0;
  const recall = expected.length ? overlap / expected.length : 0;
  const score = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const missing = [...want].filter(([name, n]) => (got.get(name) ?? 0) < n).map(([name]) => name);
  const unneeded = [...got].filter(([name, n]) => (want.get(name) ?? 0) < n).map(([name]) => name);
  const parts = [`precision ${round(precision)}, recall ${round(recall)}`];
  if (missing.length) parts.push(`not called (enough): ${missing.join(', ')}`);
  if (unneeded.length) parts.push(`called beyond what was expected: ${unneeded.join(', ')}`);
  return {
    score,
    explanation: parts.join('; '),
    details: { precision: round(precision), recall: round(recall) },
  };
}

function countNames(names: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/**
 * Parameter accuracy against expected calls that give arguments: each is paired with a call
 * of its tool (in order, each call used once) and scores the share of its expected arguments
 * the call got right; an expected call never made scores 0.
 */
export function scoreParameters(
  expected: readonly ExpectedCall[],
  actual: readonly CallRecord[],
): Outcome | undefined {
  const withInput = expected.filter((e) => e.input !== undefined);
  if (withInput.length === 0) return undefined;
  const used = new Set<number>();
  const parts: string[] = [];
  let total = 0;
  for (const e of withInput) {
    const keys = Object.entries(e.input!);
    // Prefer the call of this tool that gets the most arguments right.
    let best = -1;
    let bestRight = -1;
    actual.forEach((a, j) => {
      if (used.has(j) || toolName(a.name) !== toolName(e.tool)) return;
      const right = keys.filter(([k, v]) => valueMatches(v, fieldOf(a.input, k))).length;
      if (right > bestRight) {
        best = j;
        bestRight = right;
      }
    });
    if (best === -1) {
      parts.push(`${describeExpected(e)}: not called`);
      continue;
    }
    used.add(best);
    const share = keys.length === 0 ? 1 : bestRight / keys.length;
    total += share;
    if (share < 1) {
      const wrong = keys
        .filter(([k, v]) => !valueMatches(v, fieldOf(actual[best]!.input, k)))
        .map(
          ([k, v]) =>
            `${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(fieldOf(actual[best]!.input, k) ?? null)}`,
        );
      parts.push(`${e.tool}: ${wrong.join(', ')}`);
    }
  }
  const score = total / withInput.length;
  return {
    score,
    explanation:
      parts.length === 0
        ? `all arguments right in the ${withInput.length} expected call${withInput.length === 1 ? '' : 's'}`
        : clipText(parts.join('; '), 600),
  };
}

function fieldOf(input: JsonValue, key: string): JsonValue | undefined {
  return input && typeof input === 'object' && !Array.isArray(input) ? input[key] : undefined;
}

function toolList(run: RunRecord): string {
  return run.tools.map((t) => `- ${t.name}: ${t.description}`).join('\n') || '(none)';
}

function callList(run: RunRecord, withResults: boolean): string {
  if (run.calls.length === 0) return '(the agent called no tools)';
  return run.calls
    .map((c, i) => {
      const head = `${i + 1}. turn ${c.turn}: ${c.name} ${JSON.stringify(c.input)}`;
      if (!withResults || c.output === undefined) return head;
      const text = typeof c.output === 'string' ? c.output : JSON.stringify(c.output);
      return `${head}\n   result${c.isError ? ' (error)' : ''}: ${clipText(text, 400)}`;
    })
    .join('\n');
}

const scoreSchema = z.object({
  score: z.number().min(0).max(1),
  explanation: z.string().optional(),
});

async function judged(
  judge: Judge | undefined,
  prompt: JudgePrompt,
  context: EvalContext,
  withResults: boolean,
): Promise<Outcome> {
  if (!judge) return noJudge(prompt.id, 'the case has no expected trajectory');
  const verdict = await askJudge(
    judge,
    prompt,
    {
      task: context.run.task,
      tools: toolList(context.run),
      calls: callList(context.run, withResults),
    },
    scoreSchema,
    context.signal,
  );
  return judgeScore(verdict);
}

export function toolSelection(options: {
  name: string;
  threshold: number;
  prompt: JudgePrompt;
}): Evaluator {
  return {
    name: options.name,
    kind: 'tool_selection',
    level: 'tool',
    threshold: options.threshold,
    judge: 'sometimes',
    promptVersion: promptVersion(options.prompt),
    async evaluate(context) {
      const expected = context.case?.expectedTrajectory;
      if (expected) return scoreSelection(expected, context.run.calls);
      return judged(context.judge, options.prompt, context, false);
    },
  };
}

export function toolParameters(options: {
  name: string;
  threshold: number;
  prompt: JudgePrompt;
}): Evaluator {
  return {
    name: options.name,
    kind: 'tool_parameters',
    level: 'tool',
    threshold: options.threshold,
    judge: 'sometimes',
    promptVersion: promptVersion(options.prompt),
    async evaluate(context) {
      const expected = context.case?.expectedTrajectory;
      if (expected) return scoreParameters(expected, context.run.calls);
      if (context.run.calls.length === 0) return undefined;
      return judged(context.judge, options.prompt, context, true);
    },
  };
}

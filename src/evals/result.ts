import { readFileSync } from 'node:fs';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { RunStatus } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import { addUsage, type Usage, zeroUsage } from '../core/usage.ts';
import { clipMiddle, type RunRecord } from './run-record.ts';
import type { Assertion, EvalLevel, Evaluator, ExpectedCall, Score } from './types.ts';

export const resultFormat = 'agentd.eval.result/1';

/** A tool call as a result file keeps it (long outputs clipped). */
export interface ResultCall {
  name: string;
  input: JsonValue;
  output?: string;
  isError: boolean;
}

export interface ResultTurn {
  turn: number;
  text: string;
  calls: ResultCall[];
}

/** One run of one case. */
export interface TrialResult {
  trial: number;
  runId?: string;
  status?: RunStatus;
  reason?: string;
  answer?: string;
  turns: number;
  usage: Usage;
  costUsd: number | null;
  durationMs: number;
  trajectory: ResultTurn[];
  scores: Score[];
  /** Mean of the scores; 0 when the trial could not run; null when no evaluator applied. */
  score: number | null;
  /** The case could not run (the agent failed to start, the run threw). */
  error?: string;
}

export type CaseStatus = 'passed' | 'failed' | 'error' | 'skipped';

export interface EvaluatorSummary {
  /** Mean score (over trials for a case, over cases for the suite). */
  mean: number;
  /** Share of scores that passed. */
  passRate: number;
  n: number;
  errors: number;
}

export interface CaseResult {
  id: string;
  input: string;
  tags: string[];
  /** The spec file of the agent that ran it. */
  agent: string;
  expectedResponse?: string;
  expectedTrajectory?: ExpectedCall[];
  assertions: Assertion[];
  origin?: string;
  sourceRun?: string;
  trials: TrialResult[];
  evaluators: Record<string, EvaluatorSummary>;
  /** Mean of the trials' scores; null when nothing was scored. */
  score: number | null;
  /**
   * `error`: a trial could not run or an evaluator could not score; `failed`: a score fell
   * under its threshold in some trial; `skipped`: no evaluator applied; else `passed`.
   */
  status: CaseStatus;
}

export interface EvaluatorInfo {
  name: string;
  kind: string;
  level: EvalLevel;
  threshold: number;
  promptVersion?: string;
}

/** What `agentd eval run` and `agentd eval score` write: everything the reports are made of. */
export interface EvalResult {
  format: typeof resultFormat;
  suite: { name: string; path?: string; description?: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  trials: number;
  judge?: { model: string; scripted: boolean };
  evaluators: EvaluatorInfo[];
  summary: {
    /** Mean of the cases' scores (cases with none left out); null when none has one. */
    score: number | null;
    cases: number;
    passed: number;
    failed: number;
    errors: number;
    skipped: number;
    byEvaluator: Record<string, EvaluatorSummary>;
    usage: Usage;
    /** What the agents' runs cost; null when a model had no known price. */
    costUsd: number | null;
    judgeCostUsd: number | null;
  };
  cases: CaseResult[];
}

export function evaluatorInfo(evaluators: readonly Evaluator[]): EvaluatorInfo[] {
  return evaluators.map((e) => ({
    name: e.name,
    kind: e.kind,
    level: e.level,
    threshold: e.threshold,
    ...(e.promptVersion ? { promptVersion: e.promptVersion } : {}),
  }));
}

/** A run's turns as a result keeps them. */
export function resultTrajectory(run: RunRecord, maxOutput = 4000): ResultTurn[] {
  return run.turns.map((turn) => ({
    turn: turn.turn,
    text: turn.text,
    calls: turn.calls.map((call) => ({
      name: call.name,
      input: call.input,
      ...(call.output !== undefined
        ? {
            output: clipMiddle(
              typeof call.output === 'string' ? call.output : JSON.stringify(call.output),
              maxOutput,
            ),
          }
        : {}),
      isError: call.isError,
    })),
  }));
}

export function trialScore(scores: readonly Score[], error: string | undefined): number | null {
  if (error) return 0;
  if (scores.length === 0) return null;
  return mean(scores.map((s) => s.score));
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function summarize(scores: readonly Score[]): EvaluatorSummary {
  return {
    mean: mean(scores.map((s) => s.score)),
    passRate: scores.length ? scores.filter((s) => s.pass).length / scores.length : 0,
    n: scores.length,
    errors: scores.filter((s) => s.error).length,
  };
}

/** A case's verdict from its trials. */
export function caseOutcome(
  trials: readonly TrialResult[],
): Pick<CaseResult, 'evaluators' | 'score' | 'status'> {
  const byName = new Map<string, Score[]>();
  for (const trial of trials) {
    for (const s of trial.scores) byName.set(s.evaluator, [...(byName.get(s.evaluator) ?? []), s]);
  }
  const evaluators: Record<string, EvaluatorSummary> = {};
  for (const [name, scores] of byName) evaluators[name] = summarize(scores);
  const scored = trials.map((t) => t.score).filter((s): s is number => s !== null);
  const score = scored.length ? mean(scored) : null;
  const all = trials.flatMap((t) => t.scores);
  const status: CaseStatus =
    trials.some((t) => t.error) || all.some((s) => s.error)
      ? 'error'
      : all.some((s) => !s.pass)
        ? 'failed'
        : all.length === 0
          ? 'skipped'
          : 'passed';
  return { evaluators, score, status };
}

/** The suite's summary from its cases. */
export function summarizeCases(
  cases: readonly CaseResult[],
  evaluators: readonly EvaluatorInfo[],
): EvalResult['summary'] {
  const byEvaluator: Record<string, EvaluatorSummary> = {};
  for (const e of evaluators) {
    const perCase = cases.map((c) => c.evaluators[e.name]).filter((s) => s !== undefined);
    if (perCase.length === 0) continue;
    byEvaluator[e.name] = {
      mean: mean(perCase.map((s) => s.mean)),
      passRate: mean(perCase.map((s) => s.passRate)),
      n: perCase.reduce((n, s) => n + s.n, 0),
      errors: perCase.reduce((n, s) => n + s.errors, 0),
    };
  }
  const scored = cases.map((c) => c.score).filter((s): s is number => s !== null);
  let usage = zeroUsage;
  let costUsd: number | null = 0;
  let judgeCostUsd: number | null = 0;
  for (const trial of cases.flatMap((c) => c.trials)) {
    usage = addUsage(usage, trial.usage);
    costUsd = costUsd === null || trial.costUsd === null ? null : costUsd + trial.costUsd;
    for (const s of trial.scores) {
      if (!s.judge) continue;
      judgeCostUsd =
        judgeCostUsd === null || s.judge.costUsd === null ? null : judgeCostUsd + s.judge.costUsd;
    }
  }
  const count = (status: CaseStatus) => cases.filter((c) => c.status === status).length;
  return {
    score: scored.length ? mean(scored) : null,
    cases: cases.length,
    passed: count('passed'),
    failed: count('failed'),
    errors: count('error'),
    skipped: count('skipped'),
    byEvaluator,
    usage,
    costUsd,
    judgeCostUsd,
  };
}

/** Reads a result file; a file that is not one is a one-line error. */
export function loadResult(path: string): EvalResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AgentdError(
      'spec_not_found',
      `${path}: result file not found (agentd eval run writes result.json)`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new AgentdError('spec_invalid', `${path}: not JSON (${errorMessage(error)})`);
  }
  const format = (data as { format?: unknown } | null)?.format;
  if (format !== resultFormat) {
    throw new AgentdError(
      'spec_invalid',
      `${path}: not an agentd eval result (format ${JSON.stringify(format ?? null)}, expected "${resultFormat}")`,
    );
  }
  const result = data as EvalResult;
  if (!Array.isArray(result.cases) || !Array.isArray(result.evaluators)) {
    throw new AgentdError('spec_invalid', `${path}: the result has no cases or evaluators list`);
  }
  return result;
}

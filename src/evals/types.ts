import type { Limits, RunEvent } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import type { Usage } from '../core/usage.ts';
import type { Judge } from './judge.ts';
import type { RunRecord } from './run-record.ts';

/** Where in a run an evaluator looks. */
export const evalLevels = ['session', 'turn', 'tool', 'operational', 'custom'] as const;
export type EvalLevel = (typeof evalLevels)[number];

/** A tool call a case expects: the tool, and optionally the arguments (a subset must match). */
export interface ExpectedCall {
  tool: string;
  input?: { [key: string]: JsonValue };
}

/**
 * What a case asserts about a run: a sentence for the judge, or a check agentd makes itself
 * on the final answer or the tools called.
 */
export type Assertion =
  | string
  | { contains: string }
  | { not_contains: string }
  | { regex: string }
  | { tool_called: string }
  | { tool_not_called: string };

/** One case of a dataset. */
export interface EvalCase {
  id: string;
  input: string;
  expectedResponse?: string;
  expectedTrajectory?: ExpectedCall[];
  assertions: Assertion[];
  tags: string[];
  /** The agent to run: a name from the suite's `agents`, a spec path, or a catalog name. */
  agent?: string;
  /** Budgets for this case, over the suite's. */
  budget?: Partial<Limits>;
  /** The run a case was made from (`eval dataset from-runs`). */
  sourceRun?: string;
  /** `file:line` it was read from. */
  origin?: string;
  /**
   * A folder (absolute) the case runs in: each trial gets a fresh copy of it, a git
   * repository with one commit, removed after scoring (evaluators get it as `workdir`).
   */
  workdir?: string;
  /** The scripted replay (absolute path) the agent plays for this case when it replays one. */
  script?: string;
  /**
   * How the case's person answers the run's approval requests, at once: a scripted incident
   * says whether its change is approved. Absent: nobody answers, and a request times out.
   */
  approvals?: 'approve' | 'deny';
  /** What else the dataset line keeps (custom evaluators read their expectations here). */
  metadata?: { [key: string]: JsonValue };
}

/** What an evaluator found; `undefined` from an evaluator means it does not apply to this run. */
export interface Outcome {
  /** 0..1 */
  score: number;
  explanation: string;
  /** Set when the evaluator could not score (a judge's malformed answer, a throw): counts as 0. */
  error?: string;
  judge?: JudgeUse;
  details?: { [key: string]: JsonValue };
}

/** The judge calls behind a score: which model, which prompt at which version, what it cost. */
export interface JudgeUse {
  model: string;
  /** The scripted judge stood in for a model. */
  scripted?: boolean;
  prompt: string;
  /** `<prompt>/v<n>+<sha-256 prefix of its text>`: changes whenever the prompt's text does. */
  promptVersion: string;
  calls: number;
  usage: Usage;
  costUsd: number | null;
}

/** One evaluator's verdict on one run. */
export interface Score {
  /** The evaluator's name in the suite (unique there). */
  evaluator: string;
  /** What kind of evaluator it is: `trajectory`, `helpfulness`, `custom`, ... */
  kind: string;
  level: EvalLevel;
  score: number;
  pass: boolean;
  threshold: number;
  explanation: string;
  error?: string;
  judge?: JudgeUse;
  details?: { [key: string]: JsonValue };
}

/** What an evaluator is given. */
export interface EvalContext {
  run: RunRecord;
  events: readonly RunEvent[];
  /** The case the run was made for; absent when scoring recorded or production runs. */
  case?: EvalCase;
  /** The fresh copy of the case's `workdir` the run worked in, until scoring ends. */
  workdir?: string;
  judge?: Judge;
  signal?: AbortSignal;
}

export interface Evaluator {
  name: string;
  kind: string;
  level: EvalLevel;
  threshold: number;
  /** Whether it may ask the judge (always, or when the case lacks what it needs). */
  judge: 'always' | 'sometimes' | 'never';
  /** The judge prompt's version, when it has one. */
  promptVersion?: string;
  evaluate(context: EvalContext): Promise<Outcome | undefined>;
}

/** What a custom evaluator function may return: a score, a full outcome, or undefined (n/a). */
export type CustomResult =
  | number
  | boolean
  | { score: number | boolean; explanation?: string; details?: { [key: string]: JsonValue } }
  | undefined;

/** A custom evaluator, as a module exports it (`defineEvaluator`), or a bare function. */
export interface CustomEvaluatorDefinition {
  name?: string;
  level?: EvalLevel;
  threshold?: number;
  evaluate(context: EvalContext): CustomResult | Promise<CustomResult>;
}

/** Declares a custom evaluator in TypeScript (see docs/evals.md). */
export function defineEvaluator(definition: CustomEvaluatorDefinition): CustomEvaluatorDefinition {
  return definition;
}

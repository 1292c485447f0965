import { rmSync } from 'node:fs';
import { errorMessage } from '../core/errors.ts';
import type { Limits, RunEvent } from '../core/events.ts';
import { zeroUsage } from '../core/usage.ts';
import { loadAgentSpec } from '../definition/agent-spec.ts';
import { runAgent } from '../runtime/agent-loop.ts';
import { prepareAgent, prepareAgentSpec } from '../runtime/prepare-agent.ts';
import { redactingStore } from '../store/redacting-store.ts';
import type { Store } from '../store/store.ts';
import type { Judge } from './judge.ts';
import { mapConcurrent } from './pool.ts';
import {
  type CaseResult,
  caseOutcome,
  type EvalResult,
  evaluatorInfo,
  resultFormat,
  resultTrajectory,
  summarizeCases,
  type TrialResult,
  trialScore,
} from './result.ts';
import { runRecord } from './run-record.ts';
import { scoreRun } from './score.ts';
import type { Suite } from './suite.ts';
import type { EvalCase } from './types.ts';
import { freshWorkdir } from './workdir.ts';

export type Progress =
  | { type: 'started'; total: number }
  | {
      type: 'trial';
      done: number;
      total: number;
      trials: number;
      case: EvalCase;
      trial: TrialResult;
    };

export interface RunSuiteOptions {
  suite: Suite;
  /** The cases to run (default: all the suite's). */
  cases?: readonly EvalCase[];
  store: Store;
  judge?: Judge;
  concurrency?: number;
  trials?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Told what a person should know (each distinct notice once). */
  onNotice?: (notice: string) => void;
  now?: () => number;
}

/**
 * Checks that every agent the cases use can start (spec, model, credentials, tools) before
 * any case runs, so a broken agent is one error, not one per case.
 */
export async function checkAgents(
  suite: Suite,
  cases: readonly EvalCase[],
  notice: (n: string) => void,
): Promise<void> {
  const specs = new Set(cases.map((c) => suite.specs.get(c.id)!));
  for (const spec of specs) {
    const prepared = await prepareAgent(
      spec,
      { limits: suite.budget },
      { cwd: suite.cwd, onNotice: notice },
    );
    await prepared.toolset.close();
  }
}

/**
 * Runs each case (times the suite's trials) through its agent, at most `concurrency` at
 * once, each within the suite's and the case's budgets; scores each run as it ends; and
 * returns the result the reports are made of. Runs are recorded in `store` like any other.
 */
export async function runSuite(options: RunSuiteOptions): Promise<EvalResult> {
  const { suite } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const cases = options.cases ?? suite.cases;
  const trials = options.trials ?? suite.trials;
  const seen = new Set<string>();
  const notice = (text: string) => {
    if (seen.has(text)) return;
    seen.add(text);
    options.onNotice?.(text);
  };
  await checkAgents(suite, cases, notice);
  const work = cases.flatMap((c) =>
    Array.from({ length: trials }, (_, i) => ({ c, trial: i + 1 })),
  );
  options.onProgress?.({ type: 'started', total: work.length });
  let done = 0;
  const results = await mapConcurrent(
    work,
    options.concurrency ?? suite.concurrency,
    async ({ c, trial }) => {
      options.signal?.throwIfAborted();
      const result = await runTrial(options, c, trial, notice);
      done++;
      options.onProgress?.({
        type: 'trial',
        done,
        total: work.length,
        trials,
        case: c,
        trial: result,
      });
      return result;
    },
  );
  const caseResults: CaseResult[] = cases.map((c, i) => {
    const caseTrials = results.slice(i * trials, (i + 1) * trials);
    const r: CaseResult = {
      id: c.id,
      input: c.input,
      tags: c.tags,
      agent: suite.specs.get(c.id)!,
      assertions: c.assertions,
      trials: caseTrials,
      ...caseOutcome(caseTrials),
    };
    if (c.expectedResponse !== undefined) r.expectedResponse = c.expectedResponse;
    if (c.expectedTrajectory) r.expectedTrajectory = c.expectedTrajectory;
    if (c.origin) r.origin = c.origin;
    if (c.sourceRun) r.sourceRun = c.sourceRun;
    return r;
  });
  const evaluators = evaluatorInfo(suite.evaluators);
  const finished = now();
  const result: EvalResult = {
    format: resultFormat,
    suite: { name: suite.name, path: suite.shownAs },
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    trials,
    evaluators,
    summary: summarizeCases(caseResults, evaluators),
    cases: caseResults,
  };
  if (suite.description) result.suite.description = suite.description;
  if (options.judge) result.judge = { model: options.judge.ref, scripted: options.judge.scripted };
  return result;
}

async function runTrial(
  options: RunSuiteOptions,
  c: EvalCase,
  trial: number,
  notice: (n: string) => void,
): Promise<TrialResult> {
  const { suite } = options;
  const limits: Partial<Limits> = { ...suite.budget, ...c.budget };
  const failed = (error: string, runId?: string): TrialResult => ({
    trial,
    ...(runId ? { runId } : {}),
    turns: 0,
    usage: zeroUsage,
    costUsd: 0,
    durationMs: 0,
    trajectory: [],
    scores: [],
    score: 0,
    error,
  });
  let runId: string;
  let workdir: string | undefined;
  try {
    workdir = c.workdir ? freshWorkdir(c.workdir) : undefined;
    const spec = loadAgentSpec(suite.specs.get(c.id)!);
    if (c.script) spec.script = c.script;
    const prepared = await prepareAgentSpec(
      spec,
      { limits },
      { cwd: suite.cwd, ...(workdir ? { workdir } : {}), onNotice: notice },
    );
    try {
      const result = await runAgent({
        store: redactingStore(options.store, prepared.redact),
        agent: prepared.agent,
        task: c.input,
        specPath: prepared.spec.path,
        cwd: prepared.cwd,
        ...(prepared.resolved.scripted ? { scripted: prepared.resolved.scripted } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(c.approvals ? { onEvent: answerAs(options.store, c) } : {}),
      });
      runId = result.runId;
    } finally {
      await prepared.toolset.close();
    }
  } catch (error) {
    if (workdir) rmSync(workdir, { recursive: true, force: true });
    options.signal?.throwIfAborted();
    return failed(`the case could not run: ${errorMessage(error)}`);
  }
  const events = await options.store.readEvents(runId);
  const run = runRecord(events);
  let scores: TrialResult['scores'];
  try {
    scores = await scoreRun(suite.evaluators, events, {
      case: c,
      ...(workdir ? { workdir } : {}),
      ...(options.judge ? { judge: options.judge } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    options.signal?.throwIfAborted();
    return failed(`the run could not be scored: ${errorMessage(error)}`, runId);
  } finally {
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  }
  const result: TrialResult = {
    trial,
    runId,
    status: run.status,
    turns: run.turns.length,
    usage: run.usage,
    costUsd: run.costUsd,
    durationMs: run.durationMs,
    trajectory: resultTrajectory(run),
    scores,
    score: trialScore(scores, undefined),
  };
  if (run.reason) result.reason = run.reason;
  if (run.answer !== undefined) result.answer = run.answer;
  return result;
}

/** The case's person: answers each approval request of the run as the case says, at once. */
function answerAs(store: Store, c: EvalCase): (event: RunEvent) => void {
  return (event) => {
    if (event.type !== 'approval.requested' || event.data.resumed) return;
    void store
      .answerApproval(event.data.approvalId, {
        status: c.approvals === 'approve' ? 'approved' : 'denied',
        by: `eval case ${c.id}`,
        reason: `the case ${c.approvals === 'approve' ? 'approves' : 'denies'} its changes`,
        at: new Date().toISOString(),
      })
      .catch(() => {
        // The request closed another way (its run was cancelled): nothing to answer.
      });
  };
}

/**
 * Scores recorded runs without running anything: each run is a case (its id, its task), with
 * the expectations of a suite case made from it (`source_run`, or the run's id as the case's
 * id) when `cases` has one.
 */
export async function scoreRuns(options: {
  store: Store;
  runIds: readonly string[];
  evaluators: Suite['evaluators'];
  name: string;
  path?: string;
  judge?: Judge;
  cases?: readonly EvalCase[];
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  now?: () => number;
}): Promise<EvalResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const byRun = new Map<string, EvalCase>();
  for (const c of options.cases ?? []) {
    if (c.sourceRun) byRun.set(c.sourceRun, c);
    if (!byRun.has(c.id)) byRun.set(c.id, c);
  }
  options.onProgress?.({ type: 'started', total: options.runIds.length });
  let done = 0;
  const cases = await mapConcurrent(options.runIds, options.concurrency ?? 4, async (runId) => {
    const events = await options.store.readEvents(runId);
    const run = runRecord(events);
    const known = byRun.get(runId);
    const c: EvalCase = known
      ? { ...known, id: runId, input: run.task }
      : { id: runId, input: run.task, assertions: [], tags: [] };
    const scores = await scoreRun(options.evaluators, events, {
      case: c,
      ...(options.judge ? { judge: options.judge } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const trial: TrialResult = {
      trial: 1,
      runId,
      status: run.status,
      turns: run.turns.length,
      usage: run.usage,
      costUsd: run.costUsd,
      durationMs: run.durationMs,
      trajectory: resultTrajectory(run),
      scores,
      score: trialScore(scores, undefined),
    };
    if (run.reason) trial.reason = run.reason;
    if (run.answer !== undefined) trial.answer = run.answer;
    done++;
    options.onProgress?.({
      type: 'trial',
      done,
      total: options.runIds.length,
      trials: 1,
      case: c,
      trial,
    });
    const result: CaseResult = {
      id: runId,
      input: run.task,
      tags: c.tags,
      agent: run.agent,
      assertions: c.assertions,
      trials: [trial],
      ...caseOutcome([trial]),
    };
    if (c.expectedResponse !== undefined) result.expectedResponse = c.expectedResponse;
    if (c.expectedTrajectory) result.expectedTrajectory = c.expectedTrajectory;
    if (c.origin) result.origin = c.origin;
    return result;
  });
  const evaluators = evaluatorInfo(options.evaluators);
  const finished = now();
  const result: EvalResult = {
    format: resultFormat,
    suite: { name: options.name, ...(options.path ? { path: options.path } : {}) },
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    trials: 1,
    evaluators,
    summary: summarizeCases(cases, evaluators),
    cases,
  };
  if (options.judge) result.judge = { model: options.judge.ref, scripted: options.judge.scripted };
  return result;
}

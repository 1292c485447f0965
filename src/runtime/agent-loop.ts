import { AgentdError, errorMessage } from '../core/errors.ts';
import type {
  Limits,
  RecallRecord,
  RunEvent,
  RunSession,
  VoiceTranscriptData,
} from '../core/events.ts';
import { newId } from '../core/ids.ts';
import { checkTags, mergeTags } from '../core/run-tags.ts';
import { modelRef } from '../models/model.ts';
import { permissiveAuthorizer } from '../policy/authorizer.ts';
import type { Tool } from '../tools/tool.ts';
import { checkBudgets } from './budget-step.ts';
import { compactContext } from './compaction-step.ts';
import { finish, recordCrash, stopped } from './finish.ts';
import { type DriveOptions, type Loop, openLoop, type RunResult } from './loop-context.ts';
import { callModel, logModelRequest } from './model-step.ts';
import { acquireLease } from './run-lease.ts';
import { RunLog } from './run-log.ts';
import { logToolCalls, runPendingCalls } from './tool-step.ts';

export type { AgentDefinition } from './agent-definition.ts';
export type { DriveOptions, LiveUpdate, RunResult } from './loop-context.ts';
export { RunSuspension } from './run-suspension.ts';

export const defaultLimits: Limits = { maxTurns: 20, maxToolRepairs: 3 };

export interface RunOptions extends DriveOptions {
  task: string;
  runId?: string;
  parentRunId?: string;
  specPath?: string;
  /** The folder the run works in, recorded with `specPath` (default: this process's). */
  cwd?: string;
  /** Set when the model is the scripted replay: recorded so nobody mistakes it for a model. */
  scripted?: { script: string };
  /** Who the run works for (memory namespaces /actor/{actor}). */
  actor?: string;
  /** The session the run continues. */
  session?: RunSession;
  /** Pinned before the task in the first message: the session so far, recalled data. */
  context?: string;
  /** What long-term memory recalled for this run (trusted memories join the instructions). */
  memory?: RecallRecord;
  /** The caller's W3C `traceparent`, recorded so the run's spans join the caller's trace. */
  traceparent?: string;
  /** The task was spoken: its transcript, logged right after `run.started`. */
  transcript?: VoiceTranscriptData;
  /** The run's own tags (`agentd run --tag`, `POST /runs`), after its agent's. */
  tags?: readonly string[];
}

export interface UserTurnOptions extends DriveOptions {
  runId: string;
  text: string;
  /** The turn was spoken: its transcript, logged before the turn. */
  transcript?: VoiceTranscriptData;
}

export interface ResumeOptions extends DriveOptions {
  runId: string;
  /** Limits from here on; the run's own limits otherwise. */
  limits?: Partial<Limits>;
  /** A person's decision for tool calls whose outcome the crash left unknown. */
  inDoubt?: 'rerun' | 'skip';
  /**
   * The run was queued for a worker (`run.started` written by the server): when nothing but
   * `run.started` is in its log, this is its start, not a resume, and no `run.resumed` is logged.
   */
  queued?: boolean;
}

/** Starts a run and drives it to its end. */
export async function runAgent(options: RunOptions): Promise<RunResult> {
  const { agent } = options;
  const runId = options.runId ?? newId('run');
  const limits: Limits = { ...defaultLimits, ...agent.limits };
  const tags = checkTags(mergeTags(agent.tags, options.tags), 'tags');
  const log = new RunLog(runId, options.store, logOptions(options));
  await log.append({
    type: 'run.started',
    data: {
      agent: agent.name,
      model: modelRef(agent.model),
      task: options.task,
      instructions: agent.instructions,
      tools: agent.tools.map((tool) => ({ name: tool.name, description: tool.description })),
      limits,
      ...(options.scripted ? { scripted: options.scripted } : {}),
      ...(options.specPath
        ? { specPath: options.specPath, cwd: options.cwd ?? process.cwd() }
        : {}),
      ...(options.parentRunId ? { parentRunId: options.parentRunId } : {}),
      policy: (agent.policy ?? permissiveAuthorizer).policy,
      ...(options.actor ? { actor: options.actor } : {}),
      ...(options.session ? { session: options.session } : {}),
      ...(options.context ? { context: options.context } : {}),
      ...(options.memory ? { memory: options.memory } : {}),
      ...(options.traceparent ? { traceparent: options.traceparent } : {}),
      ...(tags.length ? { tags } : {}),
    },
  });
  if (options.transcript) await log.append({ type: 'voice.transcript', data: options.transcript });
  const lease = options.lease ?? (await acquireLease(options.store, runId));
  log.fence = lease.fence;
  try {
    return await drive(log, options, new Set());
  } finally {
    if (!options.lease) await lease.release();
  }
}

/**
 * A person's next turn in a run that answered (or was stopped): the run goes on from its
 * log with the turn as the newest message, as a new session of the run (`run.resumed`).
 */
export async function continueWithTurn(options: UserTurnOptions): Promise<RunResult> {
  const { store, runId } = options;
  const lease = await acquireLease(store, runId);
  try {
    const events = await store.readEvents(runId);
    if (events[0]?.type !== 'run.started') {
      throw new AgentdError('run_not_found', `no run "${runId}": see agentd runs list`);
    }
    const log = RunLog.fromEvents(runId, store, events, logOptions(options));
    const state = log.state;
    await log.append({
      type: 'run.resumed',
      data: {
        session: state.session + 1,
        policy: (options.agent.policy ?? permissiveAuthorizer).policy,
      },
    });
    let transcriptSeq: number | undefined;
    if (options.transcript) {
      await log.append({ type: 'voice.transcript', data: options.transcript });
      transcriptSeq = state.lastSeq;
    }
    await log.append({
      type: 'user.message',
      data: {
        text: options.text,
        source: options.transcript ? 'voice' : 'text',
        ...(transcriptSeq !== undefined ? { transcriptSeq } : {}),
      },
    });
    // Calls logged without a result (the run was stopped while they ran) are in doubt.
    return await drive(log, options, new Set(state.pendingCalls.keys()));
  } finally {
    await lease.release();
  }
}

/**
 * Continues an interrupted run from its last durable event: a model call in flight is made
 * again; a tool call in flight is run again when the tool is idempotent or checks its
 * idempotency key, and otherwise waits for a person (`needs_attention`) unless `inDoubt`
 * says what to do.
 */
export async function resumeRun(options: ResumeOptions): Promise<RunResult> {
  const { store, runId } = options;
  const lease = options.lease ?? (await acquireLease(store, runId));
  try {
    const events = await store.readEvents(runId);
    if (events[0]?.type !== 'run.started') {
      throw new AgentdError('run_not_found', `no run "${runId}": see agentd runs list`);
    }
    const log = RunLog.fromEvents(runId, store, events, logOptions(options));
    log.fence = lease.fence;
    if (log.state.status === 'completed') {
      throw new AgentdError(
        'run_not_resumable',
        `run ${runId} already completed; there is nothing to resume`,
      );
    }
    await restoreTools(options.agent.tools, events, runId, options.signal);
    return await continueRun(log, options);
  } finally {
    if (!options.lease) await lease.release();
  }
}

/** Tools that keep state across a run's calls rebuild it from the log before the run goes on. */
async function restoreTools(
  tools: readonly Tool[],
  events: readonly RunEvent[],
  runId: string,
  signal?: AbortSignal,
): Promise<void> {
  for (const tool of tools) {
    if (!tool.restore) continue;
    try {
      await tool.restore(events, signal);
    } catch (error) {
      throw new AgentdError(
        'run_not_resumable',
        `run ${runId}: tool ${tool.name} cannot restore its state from the log: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}

async function continueRun(log: RunLog, options: ResumeOptions): Promise<RunResult> {
  const state = log.state;
  const limits = options.limits ? { ...state.limits, ...options.limits } : undefined;
  // nothing but `run.started` (and tags put on while it waited for a worker)
  const firstDrive = options.queued === true && state.lastSeq === state.tagChanges && !limits;
  if (!firstDrive)
    await log.append({
      type: 'run.resumed',
      data: {
        session: state.session + 1,
        ...(limits ? { limits } : {}),
        ...(options.inDoubt ? { inDoubt: options.inDoubt } : {}),
        policy: (options.agent.policy ?? permissiveAuthorizer).policy,
      },
    });
  // Calls logged but without a result were running when the process stopped.
  const inDoubt = new Set(state.pendingCalls.keys());
  return drive(log, options, inDoubt, options.inDoubt);
}

/**
 * The agent loop: send the context, stream the answer, run the tool calls it asks for (in
 * parallel), feed the results back, until a final answer, a budget, cancellation or a
 * failure. What to do next is decided from the folded state alone (`nextStep`), so the same
 * loop starts a run and continues one after a crash. Every step is durable before the next
 * one starts.
 */
async function drive(
  log: RunLog,
  options: DriveOptions,
  inDoubt: Set<string>,
  decision?: 'rerun' | 'skip',
): Promise<RunResult> {
  const loop = openLoop(log, options);
  try {
    for (;;) {
      const end = await nextStep(loop, inDoubt, decision);
      if (end) return end;
    }
  } catch (error) {
    // A bug or a store failure: recorded if the log still takes writes, then surfaced.
    await recordCrash(loop, error);
    throw error;
  }
}

/** Takes the one step the folded state calls for; the run's end, or undefined to go on. */
async function nextStep(
  loop: Loop,
  inDoubt: Set<string>,
  decision: 'rerun' | 'skip' | undefined,
): Promise<RunResult | undefined> {
  const { state } = loop;
  if (loop.signal.aborted) return await stopped(loop);
  // 1. Tool calls logged without a result: run them (after a crash, only if safe).
  if (state.pendingCalls.size > 0) return await runPendingCalls(loop, inDoubt, decision);
  const last = state.messages.at(-1);
  if (last?.role === 'assistant' && !state.awaitingModel) {
    // 2. The model asked for tools: log every call, unless a budget stops the run first.
    if (last.toolCalls.length > 0) return await logToolCalls(loop, last.toolCalls);
    // 3. It answered without tool calls: that is the final answer.
    return await finish(loop, 'completed', 'final_answer');
  }
  // 4. Otherwise the model's turn (again, if a crash interrupted it).
  return await modelTurn(loop);
}

/**
 * The model's turn: budgets first, then (unless a crash interrupted the call, which is then
 * made again) compaction and the `model.request`, then the call itself.
 */
async function modelTurn(loop: Loop): Promise<RunResult | undefined> {
  const { state } = loop;
  const over = await checkBudgets(loop, [], !state.awaitingModel);
  if (over) return over;
  const turn = state.awaitingModel ? state.turns : state.turns + 1;
  if (!state.awaitingModel) {
    const tokens = await compactContext(loop, turn);
    if (typeof tokens !== 'number') return tokens;
    await logModelRequest(loop, turn, tokens);
  }
  return await callModel(loop, turn);
}

/** The log stamps events with the run's clock, so time budgets and event times agree. */
function logOptions(options: DriveOptions): {
  onEvent?: (event: RunEvent) => void;
  now?: () => Date;
} {
  const now = options.now;
  return {
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(now ? { now: () => new Date(now()) } : {}),
  };
}

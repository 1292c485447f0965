import { defaultApprovalTimeoutMs } from '../core/approval.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type {
  EventOf,
  FinalStatus,
  FinishReason,
  Limits,
  NewEvent,
  RecallRecord,
  RunEvent,
  RunFinishedData,
  RunSession,
  StopReason,
  VoiceTranscriptData,
} from '../core/events.ts';
import { newId } from '../core/ids.ts';
import type { Message, ProviderCompaction, ToolCall } from '../core/messages.ts';
import {
  instructionsOf,
  type PendingCall,
  pinnedText,
  type RunState,
  withSummary,
} from '../core/run-state.ts';
import { checkTags, mergeTags } from '../core/run-tags.ts';
import { estimateTokens, messageTokens } from '../core/tokens.ts';
import { type Usage, zeroUsage } from '../core/usage.ts';
import { costOf } from '../models/catalog.ts';
import {
  type ImageSource,
  type Model,
  ModelCallError,
  type ModelSettings,
  modelRef,
} from '../models/model.ts';
import { type RetryPolicy, streamWithRetry } from '../models/retry.ts';
import {
  type Authorizer,
  auditEntryOf,
  type Decision,
  permissiveAuthorizer,
} from '../policy/authorizer.ts';
import { ToolGate } from '../policy/gate.ts';
import type { Store } from '../store/store.ts';
import type { Tool, ToolProgress } from '../tools/tool.ts';
import { ApprovalDesk } from './approvals.ts';
import {
  budgetReasons,
  budgetUse,
  dueWarnings,
  exceededDetail,
  exhausted,
  progressSummary,
} from './budgets.ts';
import {
  type CompactionSettings,
  calibrate,
  contextTokens,
  defaultCompaction,
  messagesToCompact,
  pinnedResults,
  providerTrigger,
  summarize,
  unmeasuredTokens,
} from './compaction.ts';
import { acquireLease, type HeldLease } from './run-lease.ts';
import { RunLog } from './run-log.ts';
import { runToolCall } from './tool-runner.ts';

export const defaultLimits: Limits = { maxTurns: 20, maxToolRepairs: 3 };

export interface AgentDefinition {
  name: string;
  instructions: string;
  model: Model;
  tools: readonly Tool[];
  settings?: ModelSettings;
  limits?: Partial<Limits>;
  compaction?: Partial<CompactionSettings>;
  /**
   * Decides every tool call before it runs (see src/policy). Without one, every call is
   * allowed, and the run records that no policy set applies.
   */
  policy?: Authorizer;
  /** Images tool results name by digest (a world model's frames), shown to the model. */
  images?: ImageSource;
  /** Tags every run of the agent gets (its spec's `tags:`), before the run's own. */
  tags?: readonly string[];
}

/** What streams while a model answers: shown live, never logged (the response event is). */
export type LiveUpdate =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-start'; id: string; name: string };

interface DriveOptions {
  store: Store;
  agent: AgentDefinition;
  signal?: AbortSignal;
  retryPolicy?: RetryPolicy;
  /** Called with each event once it is durable. */
  onEvent?: (event: RunEvent) => void;
  onLive?: (update: LiveUpdate) => void;
  now?: () => number;
  /**
   * The run's lease, taken by the caller (a worker): the run is driven under it (its appends
   * fenced by it) and the caller releases it. Without one, the run takes and releases its own.
   */
  lease?: HeldLease;
}

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

/**
 * Abort a run's signal with this as the reason to stop it between steps without ending it:
 * tool calls in flight finish and are logged, a model call in flight is dropped (resume makes
 * it again), and the run is left `suspended`, to be resumed later.
 */
export class RunSuspension {
  readonly reason: string;
  /**
   * Nothing is logged: the run keeps the status it had (a worker letting go of a run that waits
   * for an approval, which wakes it again, or of one it leaves to another worker).
   */
  readonly quiet: boolean;
  constructor(reason: string, options: { quiet?: boolean } = {}) {
    this.reason = reason;
    this.quiet = options.quiet === true;
  }
}

export interface RunResult {
  runId: string;
  state: RunState;
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
 * failure. What to do next is decided from the folded state alone, so the same loop starts a
 * run and continues one after a crash. Every step is durable before the next one starts.
 */
async function drive(
  log: RunLog,
  options: DriveOptions,
  inDoubt: Set<string>,
  decision?: 'rerun' | 'skip',
): Promise<RunResult> {
  const { agent } = options;
  const state = log.state;
  const runId = log.runId;
  const signal = options.signal ?? new AbortController().signal;
  // Tool calls stop on cancellation, not on suspension: they finish and are logged first.
  const toolAbort = new AbortController();
  const stopTools = () => {
    if (!(signal.reason instanceof RunSuspension)) toolAbort.abort(signal.reason);
  };
  if (signal.aborted) stopTools();
  else signal.addEventListener('abort', stopTools, { once: true });
  const now = options.now ?? Date.now;
  const model = agent.model;
  const tools = new Map(agent.tools.map((tool) => [tool.name, tool]));
  // Every call goes through the gate: authorized, its decision in the audit log and the run
  // log, before it may run.
  // A call the policies allow only with a person's approval waits for it here.
  const runPolicy = (agent.policy ?? permissiveAuthorizer).policy;
  const approvals = new ApprovalDesk({
    store: options.store,
    log,
    signal,
    suspending: () => signal.reason instanceof RunSuspension,
    timeoutMs:
      (runPolicy.mode === 'none' ? undefined : runPolicy.approvalTimeoutMs) ??
      defaultApprovalTimeoutMs,
    now,
  });
  const recordDecision = async (decision: Decision, call: { id: string; name: string }) => {
    const audit = await options.store.appendAudit(
      auditEntryOf(decision, { at: new Date(now()).toISOString(), runId, callId: call.id }),
    );
    approvals.recorded(call.id, audit.seq);
    await log.append({ type: 'policy.decision', data: decisionData(call, decision, audit.seq) });
  };
  const gate = new ToolGate(agent.tools, agent.policy, recordDecision, approvals);
  const toolDefinitions = agent.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
  }));
  const repairs = new Map<string, number>();
  const compaction: CompactionSettings = { ...defaultCompaction, ...agent.compaction };
  const window = compaction.contextWindow ?? model.entry?.contextWindow;
  const serverTrigger = providerTrigger(compaction, model, window);
  const settings: ModelSettings = {
    ...agent.settings,
    ...(serverTrigger !== undefined
      ? { providerCompaction: { triggerTokens: serverTrigger } }
      : {}),
  };
  // What the instructions and tool schemas take in every request.
  let tokenRatio = 1;
  const instructions = instructionsOf(agent.instructions, state);
  const overhead = estimateTokens(instructions) + estimateTokens(JSON.stringify(toolDefinitions));

  const finish = async (
    status: FinalStatus,
    reason: FinishReason,
    extra: { detail?: string; summary?: string } = {},
  ): Promise<RunResult> => {
    const data: RunFinishedData = {
      status,
      reason,
      turns: state.turns,
      usage: state.usage,
      costUsd: state.costKnown ? state.costUsd : null,
      durationMs: Math.round(state.activeMs + Math.max(0, now() - Date.parse(state.lastEventAt))),
      ...extra,
    };
    if (state.output !== undefined && status === 'completed') data.output = state.output;
    await log.append({ type: 'run.finished', data });
    return { runId, state };
  };
  const cancelled = async (): Promise<RunResult> => {
    if (signal.reason instanceof RunSuspension) {
      if (!signal.reason.quiet) {
        await log.append({ type: 'run.suspended', data: { reason: signal.reason.reason } });
      }
      return { runId, state };
    }
    return finish('cancelled', 'cancelled', { detail: 'cancelled by the user' });
  };

  /**
   * Records a long call's progress as `tool.progress` events: at most one every half second
   * for a call, and always the one that says it is done. Recording never holds the call up.
   */
  const progressRecorder = (call: PendingCall) => {
    let last = 0;
    return (p: ToolProgress) => {
      const at = now();
      const done = p.total !== undefined && p.progress >= p.total;
      if (!done && at - last < 500) return;
      last = at;
      log
        .append({
          type: 'tool.progress',
          data: {
            callId: call.callId,
            name: call.name,
            progress: p.progress,
            ...(p.total !== undefined ? { total: p.total } : {}),
            ...(p.message ? { message: p.message } : {}),
          },
        })
        .catch(() => undefined); // the result's append reports a dead store
    };
  };

  /**
   * Warns at 80% of each budget; stops the run when one is used up. The turn budget counts
   * only before work that leads to another turn (`unrun` calls, or a new model call).
   */
  const checkBudgets = async (
    unrun: readonly string[],
    newTurn: boolean,
  ): Promise<RunResult | undefined> => {
    const uses = budgetUse(state, state.limits, now());
    const warnings = dueWarnings(state, uses);
    if (warnings.length)
      await log.append(...warnings.map((data): NewEvent => ({ type: 'budget.warning', data })));
    const over = exhausted(uses.filter((u) => u.budget !== 'turns' || newTurn || unrun.length > 0));
    if (!over) return undefined;
    return finish('budget_exceeded', budgetReasons[over.budget], {
      detail: exceededDetail(over),
      summary: progressSummary(state, unrun),
    });
  };

  try {
    for (;;) {
      if (signal.aborted) return await cancelled();

      // 1. Tool calls logged without a result: run them (after a crash, only if safe).
      if (state.pendingCalls.size > 0) {
        const pending = [...state.pendingCalls.values()];
        const doubtful = pending.filter(
          (call) => inDoubt.has(call.callId) && !safeToRepeat(call, tools),
        );
        if (doubtful.length > 0 && decision === undefined) {
          await log.append({
            type: 'run.needs_attention',
            data: {
              message: `the run stopped while ${doubtful.map((c) => c.name).join(', ')} ran; ${doubtful.length === 1 ? 'it is' : 'they are'} not idempotent and ${doubtful.length === 1 ? 'does' : 'do'} not check an idempotency key, so ${doubtful.length === 1 ? 'its' : 'their'} outcome is unknown: resume with --rerun-in-doubt to run ${doubtful.length === 1 ? 'it' : 'them'} again, or --skip-in-doubt to tell the agent ${doubtful.length === 1 ? 'it' : 'they'} may or may not have happened`,
              calls: doubtful.map(({ callId, name, input, idempotencyKey }) => ({
                callId,
                name,
                input,
                idempotencyKey,
              })),
            },
          });
          return { runId, state };
        }
        await Promise.all(
          pending.map(async (call) => {
            const repeated = inDoubt.has(call.callId);
            if (repeated && decision === 'skip' && !safeToRepeat(call, tools)) {
              await log.append({
                type: 'tool.result',
                data: {
                  callId: call.callId,
                  name: call.name,
                  output: `The run was interrupted while ${call.name} ran, and it was not repeated: it may or may not have taken effect. Check before relying on it.`,
                  isError: true,
                  errorKind: 'in_doubt',
                  durationMs: 0,
                },
              });
              return;
            }
            const outcome = await runToolCall(
              { id: call.callId, name: call.name, input: call.input },
              gate,
              {
                runId,
                idempotencyKey: call.idempotencyKey,
                signal: toolAbort.signal,
                repeated,
                onProgress: progressRecorder(call),
              },
            );
            // It waited for approval when the run stopped: it is asked again on resume.
            if (outcome.interrupted) return;
            await log.append({
              type: 'tool.result',
              data: {
                callId: call.callId,
                name: call.name,
                output: outcome.output,
                isError: outcome.isError,
                ...(outcome.errorKind ? { errorKind: outcome.errorKind } : {}),
                durationMs: outcome.durationMs,
              },
            });
            const invalid =
              outcome.errorKind === 'validation' || outcome.errorKind === 'unknown_tool';
            repairs.set(call.name, invalid ? (repairs.get(call.name) ?? 0) + 1 : 0);
          }),
        );
        inDoubt.clear();
        if (signal.aborted) return await cancelled();
        for (const [name, count] of repairs) {
          if (count > state.limits.maxToolRepairs) {
            return await finish('failed', 'tool_arguments_invalid', {
              detail: `the model sent invalid arguments for ${name} ${count} times in a row (limits.max_tool_repairs is ${state.limits.maxToolRepairs})`,
            });
          }
        }
        continue;
      }

      const last = state.messages.at(-1);
      if (last?.role === 'assistant' && !state.awaitingModel) {
        // 2. The model asked for tools: log every call (durable before any runs; its key
        // is its own place in the log), unless a budget stops the run first.
        if (last.toolCalls.length > 0) {
          const over = await checkBudgets(
            last.toolCalls.map((c) => c.name),
            true,
          );
          if (over) return over;
          const firstSeq = state.lastSeq + 1;
          await log.append(
            ...last.toolCalls.map(
              (call, i): NewEvent => ({
                type: 'tool.call',
                data: {
                  callId: call.id,
                  name: call.name,
                  input: call.input,
                  idempotencyKey: `${runId}:${firstSeq + i}`,
                },
              }),
            ),
          );
          continue;
        }
        // 3. It answered without tool calls: that is the final answer.
        return await finish('completed', 'final_answer');
      }

      // 4. Otherwise the model's turn (again, if a crash interrupted it).
      const stopped = await checkBudgets([], !state.awaitingModel);
      if (stopped) return stopped;
      const turn = state.awaitingModel ? state.turns : state.turns + 1;
      if (!state.awaitingModel) {
        // When the context would pass the threshold, older turns give way to a summary.
        let tokens = contextTokens(state, overhead, tokenRatio);
        const runtimeCompaction = compaction.enabled && serverTrigger === undefined;
        if (window && runtimeCompaction && tokens > compaction.threshold * window) {
          const removed = messagesToCompact(state.messages, compaction.keepRecentTurns);
          if (removed > 0) {
            try {
              const written = await summarize({
                state,
                removed,
                model: compaction.model ?? model,
                turn,
                signal,
                ...(options.retryPolicy ? { retryPolicy: options.retryPolicy } : {}),
              });
              const kept = [state.messages[0]!, ...state.messages.slice(1 + removed)];
              const pinned = compaction.pin?.length
                ? pinnedResults(state, removed, compaction.pin)
                : [];
              const after =
                overhead +
                estimateTokens(withSummary(pinnedText(state), written.summary, pinned)) +
                kept.slice(1).reduce((n, m) => n + messageTokens(m), 0);
              await log.append({
                type: 'context.compacted',
                data: {
                  mode: 'runtime',
                  removedMessages: removed,
                  removedEvents: state.messageEvents.slice(1, 1 + removed).flat(),
                  tokensBefore: tokens,
                  tokensAfter: after,
                  ...written,
                  ...(compaction.pin?.length ? { pinned } : {}),
                },
              });
              tokens = after;
            } catch (error) {
              if (signal.aborted) return await cancelled();
              const message = `compaction failed: ${errorMessage(error)}`;
              await log.append({ type: 'run.error', data: { code: 'compaction_failed', message } });
              return await finish('failed', 'model_error', { detail: message });
            }
          }
        }
        await log.append({
          type: 'model.request',
          data: {
            turn,
            model: modelRef(model),
            messageCount: state.messages.length,
            toolCount: tools.size,
            ...(agent.settings?.effort ? { effort: agent.settings.effort } : {}),
            contextTokens: tokens,
            ...(window ? { contextWindow: window } : {}),
          },
        });
      }

      let text = '';
      let toolCalls: ToolCall[] = [];
      let usage: Usage = zeroUsage;
      let stopReason: StopReason = 'other';
      let serverCompaction: ProviderCompaction | undefined;
      const tokensBefore = contextTokens(state, overhead, tokenRatio);
      // For calibration: what the provider counted before, and the raw estimate of what is new.
      const countedBefore = state.context.tokens;
      const estimatedNew = countedBefore ? unmeasuredTokens(state) : 0;
      const turnStarted = performance.now();
      try {
        const request = {
          // After the provider compacted, it ignores what came before its compaction: the task
          // stays pinned in the instructions.
          instructions:
            serverTrigger !== undefined && state.compactions > 0
              ? `${instructions}\n\nYour task (pinned; earlier turns were compacted):\n${state.task}`.trim()
              : instructions,
          messages: state.messages,
          tools: toolDefinitions,
          settings,
          turn,
          ...(agent.images ? { images: agent.images } : {}),
          live: options.onLive !== undefined,
        };
        const stream = streamWithRetry(model, request, { signal, policy: options.retryPolicy });
        for await (const part of stream) {
          switch (part.type) {
            case 'text-delta':
              text += part.text;
              options.onLive?.(part);
              break;
            case 'tool-call-start':
              options.onLive?.(part);
              break;
            case 'tool-call':
              toolCalls.push(part.call);
              break;
            case 'compaction':
              serverCompaction = part.compaction;
              break;
            case 'finish':
              usage = part.usage;
              stopReason = part.stopReason;
              break;
            case 'retry':
              text = '';
              toolCalls = [];
              serverCompaction = undefined;
              await log.append({
                type: 'model.retry',
                data: {
                  turn,
                  attempt: part.attempt,
                  delayMs: part.delayMs,
                  error: part.error.message,
                  ...(part.error.status !== undefined ? { status: part.error.status } : {}),
                },
              });
              break;
          }
        }
      } catch (error) {
        if (signal.aborted) return await cancelled();
        const message = errorMessage(error);
        const isModel = error instanceof ModelCallError;
        await log.append({
          type: 'run.error',
          data: { code: isModel ? 'model_error' : 'internal_error', message },
        });
        return await finish('failed', isModel ? 'model_error' : 'internal_error', {
          detail: message,
        });
      }

      const response: NewEvent = {
        type: 'model.response',
        data: {
          turn,
          text,
          toolCalls,
          usage,
          costUsd: costOf(usage, model.entry?.pricing),
          stopReason,
          durationMs: Math.round(performance.now() - turnStarted),
          ...(serverCompaction ? { compaction: serverCompaction } : {}),
        },
      };
      if (!serverCompaction) {
        await log.append(response);
        if (countedBefore)
          tokenRatio = calibrate(tokenRatio, estimatedNew, usage.inputTokens - countedBefore);
        continue;
      }
      // Everything between the pinned task and this answer is behind the provider's
      // compaction: logged with the answer, in one append.
      const answer: Message = { role: 'assistant', text, toolCalls, compaction: serverCompaction };
      const removed = state.messages.length - 1;
      await log.append(response, {
        type: 'context.compacted',
        data: {
          mode: 'provider',
          removedMessages: removed,
          removedEvents: state.messageEvents.slice(1).flat(),
          tokensBefore,
          tokensAfter: overhead + messageTokens(state.messages[0]!) + messageTokens(answer),
          summary: serverCompaction.summary ?? '(encrypted by the provider)',
          model: modelRef(model),
          usage: zeroUsage, // counted in the response's usage
          costUsd: 0,
          durationMs: 0,
        },
      });
    }
  } catch (error) {
    // A bug or a store failure: record it if the log still takes writes, then surface it.
    const message = errorMessage(error);
    try {
      await log.append({ type: 'run.error', data: { code: 'internal_error', message } });
      await finish('failed', 'internal_error', { detail: message });
    } catch {
      // the store is gone; the caller gets the original error
    }
    throw error;
  }
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

function decisionData(
  call: { id: string; name: string },
  d: Decision,
  auditSeq: number,
): EventOf<'policy.decision'>['data'] {
  return {
    callId: call.id,
    name: call.name,
    action: d.action,
    principal: d.principal,
    resource: d.resource,
    decision: d.decision,
    effect: d.effect,
    mode: d.mode,
    policies: d.policies,
    ...(d.approvalPolicies ? { approvalPolicies: d.approvalPolicies } : {}),
    ...(d.errors.length ? { errors: d.errors } : {}),
    reason: d.reason,
    ...(d.logOnly ? { logOnly: d.logOnly } : {}),
    inputDigest: d.inputDigest,
    latencyUs: d.latencyUs,
    auditSeq,
  };
}

/** A call whose effect is safe to cause again, or that the tool itself dedupes by key. */
function safeToRepeat(call: PendingCall, tools: ReadonlyMap<string, Tool>): boolean {
  // waiting for a person's approval, or refused it: it never ran
  if (call.approval === 'requested' || call.approval === 'refused') return true;
  const tool = tools.get(call.name);
  if (!tool) return true; // an unknown tool never ran
  if (typeof call.input === 'string' || !tool.validate(call.input).ok) return true; // never ran either
  return tool.idempotent === true || tool.checksIdempotencyKey === true;
}

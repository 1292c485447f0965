import type { RunEvent } from '../core/events.ts';
import { instructionsOf, type RunState } from '../core/run-state.ts';
import { estimateTokens } from '../core/tokens.ts';
import type { Model, ModelSettings, ToolDefinition } from '../models/model.ts';
import type { RetryPolicy } from '../models/retry.ts';
import type { ToolGate } from '../policy/gate.ts';
import type { Store } from '../store/store.ts';
import type { Tool } from '../tools/tool.ts';
import type { AgentDefinition } from './agent-definition.ts';
import { type CompactionSettings, defaultCompaction, providerTrigger } from './compaction.ts';
import { openRunGate } from './run-gate.ts';
import type { HeldLease } from './run-lease.ts';
import type { RunLog } from './run-log.ts';
import { suspending } from './run-suspension.ts';

/** What streams while a model answers: shown live, never logged (the response event is). */
export type LiveUpdate =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-start'; id: string; name: string };

export interface DriveOptions {
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

export interface RunResult {
  runId: string;
  state: RunState;
}

/**
 * Everything the steps of one drive of a run share: the log and its folded state, the run's
 * signals and clock, its tools behind the gate, and what every model request is made of.
 * Built once per drive by `openLoop`; the steps read it and never keep state of their own.
 */
export interface Loop {
  readonly log: RunLog;
  readonly state: RunState;
  readonly runId: string;
  readonly options: DriveOptions;
  readonly agent: AgentDefinition;
  readonly model: Model;
  /** The run's signal: cancellation, or a suspension (`RunSuspension` as its reason). */
  readonly signal: AbortSignal;
  /** What tool calls stop on: cancellation, not suspension (they finish and are logged first). */
  readonly toolSignal: AbortSignal;
  readonly now: () => number;
  readonly tools: ReadonlyMap<string, Tool>;
  readonly gate: ToolGate;
  /** Invalid-argument calls in a row, per tool name (reset by a valid call). */
  readonly repairs: Map<string, number>;
  readonly compaction: CompactionSettings;
  /** The context window compaction measures against, when known. */
  readonly window: number | undefined;
  /** The provider compacts server-side at this many tokens (runtime compaction is then off). */
  readonly serverTrigger: number | undefined;
  readonly toolDefinitions: readonly ToolDefinition[];
  readonly settings: ModelSettings;
  readonly instructions: string;
  /** What the instructions and tool schemas take in every request (estimated tokens). */
  readonly overhead: number;
  /** Provider-counted tokens per estimated one, calibrated after each response. */
  tokenRatio: number;
}

/** Sets up one drive of a run over its log. */
export function openLoop(log: RunLog, options: DriveOptions): Loop {
  const { agent } = options;
  const state = log.state;
  const signal = options.signal ?? new AbortController().signal;
  // Tool calls stop on cancellation, not on suspension: they finish and are logged first.
  const toolAbort = new AbortController();
  const stopTools = () => {
    if (!suspending(signal)) toolAbort.abort(signal.reason);
  };
  if (signal.aborted) stopTools();
  else signal.addEventListener('abort', stopTools, { once: true });
  const now = options.now ?? Date.now;
  const model = agent.model;
  const gate = openRunGate({ agent, store: options.store, log, signal, now });
  const toolDefinitions = agent.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
  }));
  const compaction: CompactionSettings = { ...defaultCompaction, ...agent.compaction };
  const window = compaction.contextWindow ?? model.entry?.contextWindow;
  const serverTrigger = providerTrigger(compaction, model, window);
  const settings: ModelSettings = {
    ...agent.settings,
    ...(serverTrigger !== undefined
      ? { providerCompaction: { triggerTokens: serverTrigger } }
      : {}),
  };
  const instructions = instructionsOf(agent.instructions, state);
  return {
    log,
    state,
    runId: log.runId,
    options,
    agent,
    model,
    signal,
    toolSignal: toolAbort.signal,
    now,
    tools: new Map(agent.tools.map((tool) => [tool.name, tool])),
    gate,
    repairs: new Map(),
    compaction,
    window,
    serverTrigger,
    toolDefinitions,
    settings,
    instructions,
    overhead: estimateTokens(instructions) + estimateTokens(JSON.stringify(toolDefinitions)),
    tokenRatio: 1,
  };
}

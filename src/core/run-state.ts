import type {
  BudgetName,
  EventOf,
  FinishReason,
  Limits,
  PinnedResult,
  RunEvent,
  RunStatus,
} from './events.ts';
import type { JsonValue, Message, ToolResult } from './messages.ts';
import { applyTagChange } from './run-tags.ts';
import { addUsage, type Usage, zeroUsage } from './usage.ts';

export interface PendingCall {
  callId: string;
  name: string;
  input: JsonValue;
  idempotencyKey: string;
  seq: number;
  /**
   * Where its request for a person's approval stands, when it needed one: `requested`
   * (waiting, or the wait was interrupted), `approved` (it may have run), or `refused`
   * (denied, timed out, cancelled). A call requested or refused never ran.
   */
  approval?: 'requested' | 'approved' | 'refused';
}

/** A run as its events describe it. Never stored: always folded from the log. */
export interface RunState {
  runId: string;
  status: RunStatus;
  reason?: FinishReason;
  detail?: string;
  agent: string;
  model: string;
  task: string;
  instructions: string;
  /** Recalled trusted memories, sent after the agent's instructions. */
  recalledInstructions?: string;
  /** What the first message carries before the task (session so far, recalled data). */
  pinnedContext?: string;
  /** Tool results compaction keeps verbatim beside its summary (the latest of each pinned tool). */
  pinnedResults: PinnedResult[];
  limits: Limits;
  /** The run's tags, sorted: those it started with, as later changed (`run.tagged`). */
  tags: string[];
  /** How many `run.tagged` events the log has (bookkeeping, not steps of the run). */
  tagChanges: number;
  /** What the model sees next. */
  messages: Message[];
  /** For each message, the events it came from (what leaves the context when it does). */
  messageEvents: number[][];
  /**
   * How full the context is: `tokens` as the provider last counted them (or as compaction
   * left them), covering `messages` up to `measuredAt`; later messages are estimated.
   */
  context: { tokens: number; measuredAt: number };
  compactions: number;
  turns: number;
  /** True between a model request and its response: a crash here re-issues the request. */
  awaitingModel: boolean;
  usage: Usage;
  /** Sum of priced responses; `costKnown` is false when any response had no price. */
  costUsd: number;
  costKnown: boolean;
  toolCalls: number;
  toolErrors: number;
  /** Tool calls whose result is not in the log yet, by call id, in the order they were made. */
  pendingCalls: Map<string, PendingCall>;
  /** Budgets that have had their 80% warning. */
  budgetWarnings: Set<BudgetName>;
  /** 0 for the first session, +1 for each resume. */
  session: number;
  /** Milliseconds the run has been active: the time between its events, within sessions. */
  activeMs: number;
  output?: string;
  startedAt: string;
  lastEventAt: string;
  finishedAt?: string;
  lastSeq: number;
}

export function emptyRunState(runId: string): RunState {
  return {
    runId,
    status: 'running',
    agent: '',
    model: '',
    task: '',
    instructions: '',
    limits: { maxTurns: 0, maxToolRepairs: 0 },
    tags: [],
    tagChanges: 0,
    messages: [],
    messageEvents: [],
    context: { tokens: 0, measuredAt: 0 },
    compactions: 0,
    pinnedResults: [],
    turns: 0,
    awaitingModel: false,
    usage: zeroUsage,
    costUsd: 0,
    costKnown: true,
    toolCalls: 0,
    toolErrors: 0,
    pendingCalls: new Map(),
    budgetWarnings: new Set(),
    session: 0,
    activeMs: 0,
    startedAt: '',
    lastEventAt: '',
    lastSeq: -1,
  };
}

/**
 * Applies one event to a state, in place (folding a long run must stay linear). The loop
 * applies every event it appends with this same function, so what it sees and what a fold
 * of the stored log gives are the same by construction.
 */
export function applyEvent(state: RunState, event: RunEvent): void {
  state.lastSeq = event.seq;
  // Tagging is bookkeeping, not activity: it may come long after the run stopped.
  if (event.type === 'run.tagged') {
    state.tags = applyTagChange(state.tags, event.data);
    state.tagChanges++;
    return;
  }
  // Waiting for a person's approval is not activity: the time budget does not count it.
  if (state.lastEventAt && event.type !== 'run.resumed' && event.type !== 'approval.answered') {
    state.activeMs += Math.max(0, Date.parse(event.at) - Date.parse(state.lastEventAt));
  }
  state.lastEventAt = event.at;
  switch (event.type) {
    case 'run.started':
      applyStarted(state, event);
      return;
    case 'model.request':
      state.turns = event.data.turn;
      state.awaitingModel = true;
      return;
    case 'model.response':
      applyModelResponse(state, event);
      return;
    case 'tool.call':
      applyToolCall(state, event);
      return;
    case 'tool.result':
      applyToolResult(state, event);
      return;
    case 'context.compacted':
      applyCompacted(state, event);
      return;
    case 'budget.warning':
      state.budgetWarnings.add(event.data.budget);
      return;
    case 'run.needs_attention':
      state.status = 'needs_attention';
      state.detail = event.data.message;
      return;
    case 'run.suspended':
      state.status = 'suspended';
      state.detail = event.data.reason;
      return;
    case 'approval.requested': {
      const call = state.pendingCalls.get(event.data.callId);
      if (call) call.approval = 'requested';
      state.status = 'awaiting_approval';
      return;
    }
    case 'approval.answered':
      applyApprovalAnswered(state, event);
      return;
    case 'run.resumed':
      applyResumed(state, event);
      return;
    case 'voice.transcript':
      // Transcription is paid for like model calls, and counts toward the cost budget.
      addCost(state, event.data.costUsd);
      return;
    case 'user.message':
      state.messages.push({ role: 'user', text: event.data.text });
      state.messageEvents.push([event.seq]);
      // An answer cut off (barge-in) is not asked for again: the new turn is.
      state.awaitingModel = false;
      return;
    case 'model.retry':
    case 'tool.progress':
    case 'policy.decision':
    case 'run.error':
      return;
    case 'run.finished':
      state.status = event.data.status;
      state.reason = event.data.reason;
      state.detail = event.data.detail;
      state.finishedAt = event.at;
      return;
  }
}

/** A priced step (a response, a compaction, a transcription): `null` is a step without a price. */
function addCost(state: RunState, costUsd: number | null): void {
  if (costUsd === null) state.costKnown = false;
  else state.costUsd += costUsd;
}

function applyStarted(state: RunState, event: EventOf<'run.started'>): void {
  const d = event.data;
  state.agent = d.agent;
  state.model = d.model;
  state.task = d.task;
  state.instructions = d.instructions;
  state.limits = d.limits;
  state.startedAt = event.at;
  state.tags = applyTagChange([], { added: d.tags ?? [], removed: [] });
  if (d.context) state.pinnedContext = d.context;
  if (d.memory?.instructions) state.recalledInstructions = d.memory.instructions;
  state.messages.push({ role: 'user', text: pinnedText(state) });
  state.messageEvents.push([event.seq]);
}

function applyModelResponse(state: RunState, event: EventOf<'model.response'>): void {
  const d = event.data;
  state.awaitingModel = false;
  state.usage = addUsage(state.usage, d.usage);
  addCost(state, d.costUsd);
  state.messages.push({
    role: 'assistant',
    text: d.text,
    toolCalls: d.toolCalls,
    ...(d.compaction ? { compaction: d.compaction } : {}),
  });
  state.messageEvents.push([event.seq]);
  state.context = {
    tokens: d.usage.inputTokens + d.usage.outputTokens,
    measuredAt: state.messages.length,
  };
  if (d.toolCalls.length === 0 && d.text) state.output = d.text;
}

function applyToolCall(state: RunState, event: EventOf<'tool.call'>): void {
  const d = event.data;
  state.toolCalls++;
  state.pendingCalls.set(d.callId, {
    callId: d.callId,
    name: d.name,
    input: d.input,
    idempotencyKey: d.idempotencyKey,
    seq: event.seq,
  });
}

function applyToolResult(state: RunState, event: EventOf<'tool.result'>): void {
  const d = event.data;
  state.pendingCalls.delete(d.callId);
  if (d.isError) state.toolErrors++;
  addToolResult(state, event.seq, {
    callId: d.callId,
    name: d.name,
    output: d.output,
    isError: d.isError,
  });
}

function applyCompacted(state: RunState, event: EventOf<'context.compacted'>): void {
  const d = event.data;
  state.messages.splice(1, d.removedMessages);
  state.messageEvents.splice(1, d.removedMessages);
  // runtime: the summary joins the pinned task; provider: it is in the answer that carries it
  if (d.mode === 'runtime') {
    if (d.pinned) state.pinnedResults = d.pinned;
    state.messages[0] = {
      role: 'user',
      text: withSummary(pinnedText(state), d.summary, state.pinnedResults),
    };
  }
  state.usage = addUsage(state.usage, d.usage);
  addCost(state, d.costUsd);
  state.context = { tokens: d.tokensAfter, measuredAt: state.messages.length };
  state.compactions++;
}

function applyApprovalAnswered(state: RunState, event: EventOf<'approval.answered'>): void {
  const call = state.pendingCalls.get(event.data.callId);
  const answer = event.data.answer;
  // withdrawn: decided again without approval, the call is like any other from here
  if (call && answer === 'withdrawn') delete call.approval;
  else if (call) call.approval = answer === 'approved' ? 'approved' : 'refused';
  const waiting = [...state.pendingCalls.values()].some((c) => c.approval === 'requested');
  if (state.status === 'awaiting_approval' && !waiting) state.status = 'running';
}

function applyResumed(state: RunState, event: EventOf<'run.resumed'>): void {
  state.status = 'running';
  state.session = event.data.session;
  state.detail = undefined;
  state.reason = undefined;
  state.finishedAt = undefined;
  if (event.data.limits) state.limits = event.data.limits;
}

/**
 * Results go into one tool message after the assistant message that asked for them, in the
 * order the calls were made (not the order they finished), whatever order they were logged.
 */
function addToolResult(state: RunState, seq: number, result: ToolResult): void {
  const messages = state.messages;
  const last = messages.at(-1);
  let toolMessage: Extract<Message, { role: 'tool' }>;
  if (last?.role === 'tool') {
    toolMessage = last;
    state.messageEvents.at(-1)!.push(seq);
  } else {
    toolMessage = { role: 'tool', results: [] };
    messages.push(toolMessage);
    state.messageEvents.push([seq]);
  }
  toolMessage.results.push(result);
  const asking = messages.at(-2);
  if (asking?.role === 'assistant') {
    const order = new Map(asking.toolCalls.map((call, i) => [call.id, i]));
    const place = (r: ToolResult) => order.get(r.callId) ?? Number.MAX_SAFE_INTEGER;
    toolMessage.results.sort((a, b) => place(a) - place(b));
  }
}

/**
 * The first message, which compaction never removes: the context a run started with (the
 * session so far, recalled memories quoted as data), then the task.
 */
export function pinnedText(state: Pick<RunState, 'task' | 'pinnedContext'>): string {
  return state.pinnedContext ? `${state.pinnedContext}\n\n${state.task}` : state.task;
}

/** The model's instructions: the agent's, then the trusted memories recalled at the start. */
export function instructionsOf(
  instructions: string,
  state: Pick<RunState, 'recalledInstructions'>,
): string {
  return state.recalledInstructions
    ? `${instructions}\n\n${state.recalledInstructions}`.trim()
    : instructions;
}

/** The pinned task, followed by the summary of what compaction took out of the context. */
export function withSummary(
  task: string,
  summary: string,
  pinned: readonly PinnedResult[] = [],
): string {
  const kept = pinned.map((p) => `\n\n[The latest result of ${p.name}, kept as it was]\n${p.text}`);
  return `${task}\n\n[Summary of the earlier part of this run, written when the context filled up. The full history is in the run log.]\n${summary}${kept.join('')}`;
}

export function foldRun(runId: string, events: Iterable<RunEvent>): RunState {
  const state = emptyRunState(runId);
  for (const event of events) applyEvent(state, event);
  return state;
}

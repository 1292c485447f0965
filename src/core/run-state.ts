import type { FinishReason, RunEvent, RunStatus } from './events.ts';
import type { Message, ToolResult } from './messages.ts';
import { addUsage, type Usage, zeroUsage } from './usage.ts';

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
  /** What the model sees next. */
  messages: Message[];
  turns: number;
  usage: Usage;
  /** Sum of priced responses; `costKnown` is false when any response had no price. */
  costUsd: number;
  costKnown: boolean;
  toolCalls: number;
  toolErrors: number;
  /** Tool calls whose result is not in the log yet, by call id. */
  pendingCalls: Map<string, { name: string; seq: number }>;
  output?: string;
  startedAt: string;
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
    messages: [],
    turns: 0,
    usage: zeroUsage,
    costUsd: 0,
    costKnown: true,
    toolCalls: 0,
    toolErrors: 0,
    pendingCalls: new Map(),
    startedAt: '',
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
  switch (event.type) {
    case 'run.started': {
      const d = event.data;
      state.agent = d.agent;
      state.model = d.model;
      state.task = d.task;
      state.instructions = d.instructions;
      state.startedAt = event.at;
      state.messages.push({ role: 'user', text: d.task });
      return;
    }
    case 'model.request':
      state.turns = event.data.turn;
      return;
    case 'model.response': {
      const d = event.data;
      state.usage = addUsage(state.usage, d.usage);
      if (d.costUsd === null) state.costKnown = false;
      else state.costUsd += d.costUsd;
      state.messages.push({ role: 'assistant', text: d.text, toolCalls: d.toolCalls });
      if (d.toolCalls.length === 0 && d.text) state.output = d.text;
      return;
    }
    case 'tool.call':
      state.toolCalls++;
      state.pendingCalls.set(event.data.callId, { name: event.data.name, seq: event.seq });
      return;
    case 'tool.result': {
      const d = event.data;
      state.pendingCalls.delete(d.callId);
      if (d.isError) state.toolErrors++;
      addToolResult(state.messages, {
        callId: d.callId,
        name: d.name,
        output: d.output,
        isError: d.isError,
      });
      return;
    }
    case 'model.retry':
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

/**
 * Results go into one tool message after the assistant message that asked for them, in the
 * order the calls were made (not the order they finished), whatever order they were logged.
 */
function addToolResult(messages: Message[], result: ToolResult): void {
  const last = messages.at(-1);
  const toolMessage =
    last?.role === 'tool'
      ? last
      : (messages[messages.push({ role: 'tool', results: [] }) - 1] as Extract<
          Message,
          { role: 'tool' }
        >);
  toolMessage.results.push(result);
  const asking = messages.at(-2);
  if (asking?.role === 'assistant') {
    const order = new Map(asking.toolCalls.map((call, i) => [call.id, i]));
    toolMessage.results.sort(
      (a, b) =>
        (order.get(a.callId) ?? Number.MAX_SAFE_INTEGER) -
        (order.get(b.callId) ?? Number.MAX_SAFE_INTEGER),
    );
  }
}

export function foldRun(runId: string, events: Iterable<RunEvent>): RunState {
  const state = emptyRunState(runId);
  for (const event of events) applyEvent(state, event);
  return state;
}

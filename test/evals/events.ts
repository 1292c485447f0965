import type { FinalStatus, NewEvent, RunEvent } from '../../src/core/events.ts';
import type { JsonValue } from '../../src/core/messages.ts';
import type { Usage } from '../../src/core/usage.ts';

export interface HandCall {
  name: string;
  input?: JsonValue;
  output?: JsonValue;
  isError?: boolean;
  errorKind?: string;
}

export interface HandTurn {
  text?: string;
  /** The model that wrote the turn (default anthropic/claude-sonnet-4-5). */
  model?: string;
  calls?: HandCall[];
  usage?: Partial<Usage>;
  costUsd?: number | null;
}

/**
 * A run's event log written by hand: the turns as given, then run.finished (the last turn's
 * text is the answer when it has no calls and the status is completed).
 */
export function handRun(options: {
  runId?: string;
  task?: string;
  instructions?: string;
  tools?: string[];
  turns: HandTurn[];
  status?: FinalStatus;
  scripted?: boolean;
  /** Extra events after everything else, before run.finished. */
  extra?: NewEvent[];
  agent?: string;
  /** When the run started (ISO; default 2026-11-01T10:00:00Z). */
  at?: string;
  durationMs?: number;
}): RunEvent[] {
  const runId = options.runId ?? 'run_hand';
  const events: RunEvent[] = [];
  let t = Date.parse(options.at ?? '2026-11-01T10:00:00.000Z');
  const push = (event: NewEvent) => {
    events.push({
      runId,
      seq: events.length,
      at: new Date(t).toISOString(),
      ...event,
    } as RunEvent);
    t += 100;
  };
  push({
    type: 'run.started',
    data: {
      agent: options.agent ?? 'hand',
      model: options.scripted ? 'scripted/hand' : 'anthropic/claude-sonnet-4-5',
      task: options.task ?? 'Convert 10 miles to km.',
      instructions: options.instructions ?? 'Use the tools; answer briefly.',
      tools: (options.tools ?? ['convert', 'list_units']).map((name) => ({
        name,
        description: `the ${name} tool`,
      })),
      limits: { maxTurns: 20, maxToolRepairs: 3 },
      ...(options.scripted ? { scripted: { script: 'script.yaml' } } : {}),
    },
  });
  let callNo = 0;
  let output: string | undefined;
  for (const [i, turn] of options.turns.entries()) {
    const n = i + 1;
    push({
      type: 'model.request',
      data: {
        turn: n,
        model: turn.model ?? 'anthropic/claude-sonnet-4-5',
        messageCount: 1,
        toolCount: 2,
      },
    });
    const calls = (turn.calls ?? []).map((call) => ({ ...call, id: `call_${++callNo}` }));
    push({
      type: 'model.response',
      data: {
        turn: n,
        text: turn.text ?? '',
        toolCalls: calls.map((c) => ({ id: c.id, name: c.name, input: c.input ?? {} })),
        usage: {
          inputTokens: 100,
          outputTokens: 20,
          cachedInputTokens: 0,
          cacheWriteTokens: 0,
          reasoningTokens: 0,
          ...turn.usage,
        },
        costUsd: turn.costUsd === undefined ? 0.001 : turn.costUsd,
        stopReason: calls.length ? 'tool_calls' : 'end_turn',
        durationMs: 50,
      },
    });
    for (const c of calls) {
      push({
        type: 'tool.call',
        data: { callId: c.id, name: c.name, input: c.input ?? {}, idempotencyKey: `${runId}:x` },
      });
    }
    for (const c of calls) {
      if (c.output === undefined) continue;
      push({
        type: 'tool.result',
        data: {
          callId: c.id,
          name: c.name,
          output: c.output,
          isError: c.isError ?? false,
          ...(c.errorKind ? { errorKind: c.errorKind as 'execution' } : {}),
          durationMs: 5,
        },
      });
    }
    if (calls.length === 0 && turn.text) output = turn.text;
  }
  for (const event of options.extra ?? []) push(event);
  const status = options.status ?? 'completed';
  push({
    type: 'run.finished',
    data: {
      status,
      reason:
        status === 'completed' ? 'final_answer' : status === 'failed' ? 'model_error' : 'max_turns',
      ...(status === 'completed' && output !== undefined ? { output } : {}),
      turns: options.turns.length,
      usage: {
        inputTokens: 100 * options.turns.length,
        outputTokens: 20 * options.turns.length,
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
      costUsd: 0.001 * options.turns.length,
      durationMs: options.durationMs ?? 1000,
    },
  });
  return events;
}

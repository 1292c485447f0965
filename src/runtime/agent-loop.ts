import { errorMessage } from '../core/errors.ts';
import type {
  FinishReason,
  NewEvent,
  RunEvent,
  RunFinishedData,
  StopReason,
} from '../core/events.ts';
import { newId } from '../core/ids.ts';
import type { ToolCall } from '../core/messages.ts';
import type { RunState } from '../core/run-state.ts';
import { zeroUsage } from '../core/usage.ts';
import { costOf } from '../models/catalog.ts';
import { type Model, ModelCallError, type ModelSettings, modelRef } from '../models/model.ts';
import { type RetryPolicy, streamWithRetry } from '../models/retry.ts';
import type { Store } from '../store/store.ts';
import type { Tool } from '../tools/tool.ts';
import { RunLog } from './run-log.ts';
import { runToolCall } from './tool-runner.ts';

export interface AgentLimits {
  /** Model calls a run may make. */
  maxTurns: number;
  /** Invalid-argument results in a row for one tool before the run fails. */
  maxToolRepairs: number;
}

export const defaultLimits: AgentLimits = { maxTurns: 20, maxToolRepairs: 3 };

export interface AgentDefinition {
  name: string;
  instructions: string;
  model: Model;
  tools: readonly Tool[];
  settings?: ModelSettings;
  limits?: Partial<AgentLimits>;
}

/** What streams while a model answers: shown live, never logged (the response event is). */
export type LiveUpdate =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-start'; id: string; name: string };

export interface RunOptions {
  store: Store;
  agent: AgentDefinition;
  task: string;
  runId?: string;
  parentRunId?: string;
  specPath?: string;
  /** Set when the model is the scripted replay: recorded so nobody mistakes it for a model. */
  scripted?: { script: string };
  signal?: AbortSignal;
  retryPolicy?: RetryPolicy;
  /** Called with each event once it is durable. */
  onEvent?: (event: RunEvent) => void;
  onLive?: (update: LiveUpdate) => void;
}

export interface RunResult {
  runId: string;
  state: RunState;
}

/**
 * The agent loop: send the context, stream the answer, run the tool calls it asks for (in
 * parallel), feed the results back, until a final answer, the turn limit, cancellation or a
 * failure. Every step is an event appended before the next step starts; the run's state is
 * the fold of those events.
 */
export async function runAgent(options: RunOptions): Promise<RunResult> {
  const { agent, store } = options;
  const runId = options.runId ?? newId('run');
  const limits: AgentLimits = { ...defaultLimits, ...agent.limits };
  const signal = options.signal ?? new AbortController().signal;
  const log = new RunLog(runId, store, { onEvent: options.onEvent });
  const state = log.state;
  const started = performance.now();
  const model = agent.model;
  const tools = new Map(agent.tools.map((tool) => [tool.name, tool]));
  const toolDefinitions = agent.tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: tool.inputSchema,
  }));

  const finish = async (
    status: RunFinishedData['status'],
    reason: FinishReason,
    detail?: string,
  ): Promise<RunResult> => {
    const data: RunFinishedData = {
      status,
      reason,
      turns: state.turns,
      usage: state.usage,
      costUsd: state.costKnown ? state.costUsd : null,
      durationMs: Math.round(performance.now() - started),
    };
    if (detail) data.detail = detail;
    if (state.output !== undefined && status === 'completed') data.output = state.output;
    await log.append({ type: 'run.finished', data });
    return { runId, state };
  };

  await log.append({
    type: 'run.started',
    data: {
      agent: agent.name,
      model: modelRef(model),
      task: options.task,
      instructions: agent.instructions,
      tools: agent.tools.map((tool) => ({ name: tool.name, description: tool.description })),
      limits,
      ...(options.scripted ? { scripted: options.scripted } : {}),
      ...(options.specPath ? { specPath: options.specPath } : {}),
      ...(options.parentRunId ? { parentRunId: options.parentRunId } : {}),
    },
  });

  const repairs = new Map<string, number>();
  try {
    for (;;) {
      if (signal.aborted) return await finish('cancelled', 'cancelled', 'cancelled by the user');
      const turn = state.turns + 1;
      await log.append({
        type: 'model.request',
        data: {
          turn,
          model: modelRef(model),
          messageCount: state.messages.length,
          toolCount: tools.size,
        },
      });

      let text = '';
      let toolCalls: ToolCall[] = [];
      let usage = zeroUsage;
      let stopReason: StopReason = 'other';
      const turnStarted = performance.now();
      try {
        const request = {
          instructions: agent.instructions,
          messages: state.messages,
          tools: toolDefinitions,
          settings: agent.settings ?? {},
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
            case 'finish':
              usage = part.usage;
              stopReason = part.stopReason;
              break;
            case 'retry':
              text = '';
              toolCalls = [];
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
        if (signal.aborted) return await finish('cancelled', 'cancelled', 'cancelled by the user');
        const message = errorMessage(error);
        await log.append({
          type: 'run.error',
          data: {
            code: error instanceof ModelCallError ? 'model_error' : 'internal_error',
            message,
          },
        });
        return await finish(
          'failed',
          error instanceof ModelCallError ? 'model_error' : 'internal_error',
          message,
        );
      }
      await log.append({
        type: 'model.response',
        data: {
          turn,
          text,
          toolCalls,
          usage,
          costUsd: costOf(usage, model.entry?.pricing),
          stopReason,
          durationMs: Math.round(performance.now() - turnStarted),
        },
      });

      if (toolCalls.length === 0) return await finish('completed', 'final_answer');
      if (turn >= limits.maxTurns) {
        return await finish(
          'budget_exceeded',
          'max_turns',
          `reached limits.max_turns (${limits.maxTurns}) with ${toolCalls.length} tool call(s) not run; raise limits.max_turns to let the agent go on`,
        );
      }

      // Every call is durable before any of them runs; its key is its own place in the log.
      const firstSeq = state.lastSeq + 1;
      const keys = toolCalls.map((_, i) => `${runId}:${firstSeq + i}`);
      await log.append(
        ...toolCalls.map(
          (call, i): NewEvent => ({
            type: 'tool.call',
            data: { callId: call.id, name: call.name, input: call.input, idempotencyKey: keys[i]! },
          }),
        ),
      );
      await Promise.all(
        toolCalls.map(async (call, i) => {
          const outcome = await runToolCall(call, tools, {
            runId,
            idempotencyKey: keys[i]!,
            signal,
          });
          await log.append({
            type: 'tool.result',
            data: {
              callId: call.id,
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
      if (signal.aborted) return await finish('cancelled', 'cancelled', 'cancelled by the user');
      for (const [name, count] of repairs) {
        if (count > limits.maxToolRepairs) {
          return await finish(
            'failed',
            'tool_arguments_invalid',
            `the model sent invalid arguments for ${name} ${count} times in a row (limits.max_tool_repairs is ${limits.maxToolRepairs})`,
          );
        }
      }
    }
  } catch (error) {
    // A bug or a store failure: record it if the log still takes writes, then surface it.
    const message = errorMessage(error);
    try {
      await log.append({ type: 'run.error', data: { code: 'internal_error', message } });
      await finish('failed', 'internal_error', message);
    } catch {
      // the store is gone; the caller gets the original error
    }
    throw error;
  }
}

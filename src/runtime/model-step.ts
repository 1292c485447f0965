import { errorMessage } from '../core/errors.ts';
import type { NewEvent, StopReason } from '../core/events.ts';
import type { Message, ProviderCompaction, ToolCall } from '../core/messages.ts';
import { messageTokens } from '../core/tokens.ts';
import { type Usage, zeroUsage } from '../core/usage.ts';
import { costOf } from '../models/catalog.ts';
import { ModelCallError, type ModelRequest, modelRef } from '../models/model.ts';
import { streamWithRetry } from '../models/retry.ts';
import { calibrate, contextTokens, unmeasuredTokens } from './compaction.ts';
import { failed, stopped } from './finish.ts';
import type { Loop, RunResult } from './loop-context.ts';

/** `model.request`: what the model is about to be sent, durable before it is. */
export async function logModelRequest(loop: Loop, turn: number, tokens: number): Promise<void> {
  const { agent, model, window } = loop;
  await loop.log.append({
    type: 'model.request',
    data: {
      turn,
      model: modelRef(model),
      messageCount: loop.state.messages.length,
      toolCount: loop.tools.size,
      ...(agent.settings?.effort ? { effort: agent.settings.effort } : {}),
      contextTokens: tokens,
      ...(window ? { contextWindow: window } : {}),
    },
  });
}

/** What the model answered in one turn, as it streamed in. */
interface Answer {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  stopReason: StopReason;
  serverCompaction: ProviderCompaction | undefined;
}

/**
 * The model's turn: sends the context, streams the answer (text shown live, retries logged as
 * `model.retry`), and logs it as `model.response`, with the provider's compaction when it
 * compacted. A failed call ends the run as failed; a stopped run ends as its signal says.
 * Undefined when the run goes on.
 */
export async function callModel(loop: Loop, turn: number): Promise<RunResult | undefined> {
  const { state, overhead } = loop;
  const tokensBefore = contextTokens(state, overhead, loop.tokenRatio);
  // For calibration: what the provider counted before, and the raw estimate of what is new.
  const countedBefore = state.context.tokens;
  const estimatedNew = countedBefore ? unmeasuredTokens(state) : 0;
  const turnStarted = performance.now();
  let answer: Answer;
  try {
    answer = await streamAnswer(loop, modelRequest(loop, turn), turn);
  } catch (error) {
    if (loop.signal.aborted) return await stopped(loop);
    const isModel = error instanceof ModelCallError;
    const code = isModel ? 'model_error' : 'internal_error';
    return await failed(loop, code, code, errorMessage(error));
  }
  const { text, toolCalls, usage, stopReason, serverCompaction } = answer;
  const response: NewEvent = {
    type: 'model.response',
    data: {
      turn,
      text,
      toolCalls,
      usage,
      costUsd: costOf(usage, loop.model.entry?.pricing),
      stopReason,
      durationMs: Math.round(performance.now() - turnStarted),
      ...(serverCompaction ? { compaction: serverCompaction } : {}),
    },
  };
  if (!serverCompaction) {
    await loop.log.append(response);
    if (countedBefore)
      loop.tokenRatio = calibrate(loop.tokenRatio, estimatedNew, usage.inputTokens - countedBefore);
    return undefined;
  }
  // Everything between the pinned task and this answer is behind the provider's
  // compaction: logged with the answer, in one append.
  const message: Message = { role: 'assistant', text, toolCalls, compaction: serverCompaction };
  await loop.log.append(response, {
    type: 'context.compacted',
    data: {
      mode: 'provider',
      removedMessages: state.messages.length - 1,
      removedEvents: state.messageEvents.slice(1).flat(),
      tokensBefore,
      tokensAfter: overhead + messageTokens(state.messages[0]!) + messageTokens(message),
      summary: serverCompaction.summary ?? '(encrypted by the provider)',
      model: modelRef(loop.model),
      usage: zeroUsage, // counted in the response's usage
      costUsd: 0,
      durationMs: 0,
    },
  });
  return undefined;
}

/** The request of a turn: the run's context, its tools and settings. */
function modelRequest(loop: Loop, turn: number): ModelRequest {
  const { state, agent } = loop;
  return {
    // After the provider compacted, it ignores what came before its compaction: the task
    // stays pinned in the instructions.
    instructions:
      loop.serverTrigger !== undefined && state.compactions > 0
        ? `${loop.instructions}\n\nYour task (pinned; earlier turns were compacted):\n${state.task}`.trim()
        : loop.instructions,
    messages: state.messages,
    tools: loop.toolDefinitions,
    settings: loop.settings,
    turn,
    ...(agent.images ? { images: agent.images } : {}),
    // Nobody watches the answer live: the provider may send it whole.
    live: loop.options.onLive !== undefined,
  };
}

/** Streams one answer; a retry drops what came before it and is logged. */
async function streamAnswer(loop: Loop, request: ModelRequest, turn: number): Promise<Answer> {
  const { options } = loop;
  const answer: Answer = {
    text: '',
    toolCalls: [],
    usage: zeroUsage,
    stopReason: 'other',
    serverCompaction: undefined,
  };
  const stream = streamWithRetry(loop.model, request, {
    signal: loop.signal,
    policy: options.retryPolicy,
  });
  for await (const part of stream) {
    switch (part.type) {
      case 'text-delta':
        answer.text += part.text;
        options.onLive?.(part);
        break;
      case 'tool-call-start':
        options.onLive?.(part);
        break;
      case 'tool-call':
        answer.toolCalls.push(part.call);
        break;
      case 'compaction':
        answer.serverCompaction = part.compaction;
        break;
      case 'finish':
        answer.usage = part.usage;
        answer.stopReason = part.stopReason;
        break;
      case 'retry':
        answer.text = '';
        answer.toolCalls = [];
        answer.serverCompaction = undefined;
        await loop.log.append({
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
  return answer;
}

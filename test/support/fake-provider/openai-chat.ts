import { openaiHeaders } from './openai-responses.ts';
import type { JsonObject, JsonValue, ReplyUsage } from './reply.ts';
import { doneFrame, sseFrame } from './sse.ts';
import type { WireFormat } from './wire-format.ts';

/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`, `stream: true`), also what
 * OpenAI-compatible servers speak: `data:` lines only, tool-call fragments keyed by `index`
 * (the first one of a call carries id and name), a chunk with `finish_reason`, then, when
 * `stream_options.include_usage` is set, a usage chunk with `choices: []`, then `data: [DONE]`.
 * Without `stream`, one `chat.completion` object with the message and its usage.
 */
export const openaiChat: WireFormat = {
  route: 'openai-chat',
  responseHeaders: openaiHeaders,

  streamFrames(reply, request, requestId) {
    const includeUsage =
      isObject(request.stream_options) && request.stream_options.include_usage === true;
    const base = {
      id: `chatcmpl-${requestId.slice(4)}`,
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: typeof request.model === 'string' ? request.model : 'gpt-4o',
      service_tier: 'default',
      system_fingerprint: 'fp_fake0001',
    };
    const frames: string[] = [];
    const chunk = (delta: JsonObject, finishReason: string | null = null) =>
      frames.push(
        sseFrame({
          ...base,
          choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
          ...(includeUsage ? { usage: null } : {}),
        }),
      );

    const hasText = reply.textChunks.length > 0;
    chunk({ role: 'assistant', content: hasText ? '' : null, refusal: null });
    for (const content of reply.textChunks) chunk({ content });

    const fragments: { index: number; fragment: JsonObject }[] = [];
    for (const [index, call] of reply.calls.entries()) {
      const id = call.id ?? `call_${requestId.slice(-8)}${index}`;
      fragments.push({
        index,
        fragment: { index, id, type: 'function', function: { name: call.name, arguments: '' } },
      });
      for (const piece of call.argumentChunks) {
        fragments.push({ index, fragment: { index, function: { arguments: piece } } });
      }
    }
    const ordered = reply.interleaveCalls ? roundRobin(fragments) : fragments;
    for (const { fragment } of ordered) chunk({ tool_calls: [fragment] });

    const stop = reply.stop ?? (reply.calls.length > 0 ? 'tool-calls' : 'end');
    const finishReason =
      stop === 'tool-calls' ? 'tool_calls' : stop === 'max-tokens' ? 'length' : 'stop';
    chunk({}, finishReason);

    if (includeUsage)
      frames.push(sseFrame({ ...base, choices: [], usage: chatUsage(reply.usage) }));
    frames.push(doneFrame);
    return frames;
  },

  wholeBody(reply, request, requestId) {
    const stop = reply.stop ?? (reply.calls.length > 0 ? 'tool-calls' : 'end');
    const text = reply.textChunks.join('');
    return {
      id: `chatcmpl-${requestId.slice(4)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: typeof request.model === 'string' ? request.model : 'gpt-4o',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: text === '' && reply.calls.length > 0 ? null : text,
            refusal: null,
            annotations: [],
            ...(reply.calls.length > 0
              ? {
                  tool_calls: reply.calls.map((call, index) => ({
                    id: call.id ?? `call_${requestId.slice(-8)}${index}`,
                    type: 'function',
                    function: { name: call.name, arguments: call.argumentChunks.join('') },
                  })),
                }
              : {}),
          },
          logprobs: null,
          finish_reason:
            stop === 'tool-calls' ? 'tool_calls' : stop === 'max-tokens' ? 'length' : 'stop',
        },
      ],
      usage: chatUsage(reply.usage),
      service_tier: 'default',
      system_fingerprint: 'fp_fake0001',
    };
  },

  streamErrorFrame(error) {
    return sseFrame({ error: { ...error.openai } });
  },

  errorBody(error) {
    return { error: { ...error.openai } };
  },
};

function chatUsage(usage: ReplyUsage): JsonObject {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoningTokens ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Takes one fragment of each call in turn, keeping each call's own order. */
function roundRobin<T extends { index: number }>(items: T[]): T[] {
  const queues = new Map<number, T[]>();
  for (const item of items) {
    const queue = queues.get(item.index) ?? [];
    queue.push(item);
    queues.set(item.index, queue);
  }
  const out: T[] = [];
  while (out.length < items.length) {
    for (const queue of queues.values()) {
      const next = queue.shift();
      if (next) out.push(next);
    }
  }
  return out;
}

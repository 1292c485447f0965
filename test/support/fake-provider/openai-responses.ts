import type { JsonObject, JsonValue, StreamReply } from './reply.ts';
import { sseFrame } from './sse.ts';
import type { WireFormat } from './wire-format.ts';

/** The headers every OpenAI API response carries (Responses and Chat alike). */
export function openaiHeaders(requestId: string): Record<string, string> {
  return {
    'x-request-id': requestId,
    'openai-processing-ms': '42',
    'openai-version': '2020-10-01',
  };
}

/**
 * OpenAI Responses API (`POST /v1/responses`, `stream: true`): named SSE events, each with
 * a `sequence_number`; the stream ends after `response.completed` (or `response.incomplete`),
 * with no `[DONE]`. `input_tokens` includes `input_tokens_details.cached_tokens`. Without
 * `stream`, the body is the response object the last event carries.
 */
export const openaiResponses: WireFormat = {
  route: 'openai-responses',
  responseHeaders: openaiHeaders,

  streamFrames(reply, request, requestId) {
    return responseEvents(reply, request, requestId).map((data, index) =>
      sseFrame({ ...data, sequence_number: index }, data.type),
    );
  },

  wholeBody(reply, request, requestId) {
    // The unstreamed body is the response the stream's last event carries.
    const events = responseEvents(reply, request, requestId);
    return events[events.length - 1]!.response as JsonObject;
  },

  streamErrorFrame(error, position) {
    const { type, message, code, param } = error.openai;
    return sseFrame(
      { type: 'error', code: code ?? type, message, param, sequence_number: position },
      'error',
    );
  },

  errorBody(error) {
    return { error: { ...error.openai } };
  },
};

/** The events of a streamed reply, in order, without their sequence numbers. */
function responseEvents(
  reply: StreamReply,
  request: JsonObject,
  requestId: string,
): (JsonObject & { type: string })[] {
  const frames: (JsonObject & { type: string })[] = [];
  const event = (data: JsonObject & { type: string }) => frames.push(data);
  const responseId = `resp_${requestId.slice(4)}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const envelope = (status: string, output: JsonValue[], usage: JsonValue): JsonObject => ({
    id: responseId,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: typeof request.model === 'string' ? request.model : 'gpt-5',
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: status === 'in_progress' ? 'auto' : 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: request.tools ?? [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  });

  event({ type: 'response.created', response: envelope('in_progress', [], null) });
  event({ type: 'response.in_progress', response: envelope('in_progress', [], null) });

  const output: JsonValue[] = [];
  if (reply.textChunks.length > 0) {
    const outputIndex = output.length;
    const itemId = `msg_${requestId.slice(4)}`;
    const text = reply.textChunks.join('');
    const part = (value: string) => ({
      type: 'output_text',
      annotations: [],
      logprobs: [],
      text: value,
    });
    const message = (status: string, content: JsonValue[]) => ({
      id: itemId,
      type: 'message',
      status,
      content,
      role: 'assistant',
    });
    const where = { item_id: itemId, output_index: outputIndex, content_index: 0 };
    event({
      type: 'response.output_item.added',
      output_index: outputIndex,
      item: message('in_progress', []),
    });
    event({ type: 'response.content_part.added', ...where, part: part('') });
    for (const delta of reply.textChunks) {
      event({
        type: 'response.output_text.delta',
        ...where,
        delta,
        logprobs: [],
        obfuscation: 'Xk3p',
      });
    }
    event({ type: 'response.output_text.done', ...where, text, logprobs: [] });
    event({ type: 'response.content_part.done', ...where, part: part(text) });
    const done = message('completed', [part(text)]);
    event({ type: 'response.output_item.done', output_index: outputIndex, item: done });
    output.push(done);
  }
  for (const [i, call] of reply.calls.entries()) {
    const outputIndex = output.length;
    const itemId = `fc_${requestId.slice(4)}${i}`;
    const callId = call.id ?? `call_${requestId.slice(-8)}${i}`;
    const args = call.argumentChunks.join('');
    const item = (status: string, argumentsText: string) => ({
      id: itemId,
      type: 'function_call',
      status,
      arguments: argumentsText,
      call_id: callId,
      name: call.name,
    });
    const where = { item_id: itemId, output_index: outputIndex };
    event({
      type: 'response.output_item.added',
      output_index: outputIndex,
      item: item('in_progress', ''),
    });
    for (const delta of call.argumentChunks) {
      event({
        type: 'response.function_call_arguments.delta',
        ...where,
        delta,
        obfuscation: 'Qq7',
      });
    }
    event({ type: 'response.function_call_arguments.done', ...where, arguments: args });
    const done = item('completed', args);
    event({ type: 'response.output_item.done', output_index: outputIndex, item: done });
    output.push(done);
  }
  if (reply.compaction !== undefined) {
    // As recorded: the compaction item after the message, added and done, no deltas.
    const item = {
      id: `cmp_${requestId.slice(4)}`,
      type: 'compaction',
      encrypted_content: reply.compaction,
    };
    const outputIndex = output.length;
    event({ type: 'response.output_item.added', output_index: outputIndex, item });
    event({ type: 'response.output_item.done', output_index: outputIndex, item });
    output.push(item);
  }

  const usage = reply.usage;
  const incomplete = reply.stop === 'max-tokens';
  event({
    type: incomplete ? 'response.incomplete' : 'response.completed',
    response: {
      ...envelope(incomplete ? 'incomplete' : 'completed', output, {
        input_tokens: usage.inputTokens,
        input_tokens_details: {
          cache_write_tokens: usage.cacheWriteTokens ?? 0,
          cached_tokens: usage.cachedInputTokens ?? 0,
        },
        output_tokens: usage.outputTokens,
        output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
        total_tokens: usage.inputTokens + usage.outputTokens,
      }),
      completed_at: incomplete ? null : createdAt + 1,
    },
  });
  return frames;
}

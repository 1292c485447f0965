import type { ErrorReply, FakeStop, JsonObject, JsonValue } from './reply.ts';
import { sseFrame } from './sse.ts';
import type { WireFormat } from './wire-format.ts';

const stopReasons: Record<FakeStop, string> = {
  end: 'end_turn',
  'tool-calls': 'tool_use',
  'max-tokens': 'max_tokens',
};

/**
 * Anthropic Messages API (`POST /v1/messages`, `stream: true`): named SSE events whose name
 * equals the data's `type`, `ping`s along the way, no `[DONE]`; the stream ends after
 * `message_stop`. Usage splits input into uncached, cache-read and cache-written tokens.
 * Without `stream`, one `message` object with every content block whole.
 */
export const anthropicMessages: WireFormat = {
  route: 'anthropic-messages',

  responseHeaders(requestId) {
    return { 'request-id': requestId, 'anthropic-organization-id': 'org-fake' };
  },

  streamFrames(reply, request, requestId) {
    const frames: string[] = [];
    const event = (data: JsonObject & { type: string }) => frames.push(sseFrame(data, data.type));
    const usage = reply.usage;
    const cacheRead = usage.cachedInputTokens ?? 0;
    const cacheWrite = usage.cacheWriteTokens ?? 0;
    const stop = reply.stop ?? (reply.calls.length > 0 ? 'tool-calls' : 'end');

    event({
      type: 'message_start',
      message: {
        id: `msg_${requestId.slice(4)}`,
        type: 'message',
        role: 'assistant',
        model: typeof request.model === 'string' ? request.model : 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: usage.inputTokens - cacheRead - cacheWrite,
          cache_creation_input_tokens: cacheWrite,
          cache_read_input_tokens: cacheRead,
          cache_creation: { ephemeral_5m_input_tokens: cacheWrite, ephemeral_1h_input_tokens: 0 },
          output_tokens: 1,
          service_tier: 'standard',
        },
      },
    });
    event({ type: 'ping' });

    let index = 0;
    if (reply.compaction !== undefined) {
      // As the docs and the recorded wire show it: one delta with the whole summary.
      event({
        type: 'content_block_start',
        index,
        content_block: { type: 'compaction', content: null },
      });
      event({
        type: 'content_block_delta',
        index,
        delta: { type: 'compaction_delta', content: reply.compaction },
      });
      event({ type: 'content_block_stop', index });
      index++;
    }
    if (reply.textChunks.length > 0) {
      event({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const text of reply.textChunks) {
        event({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });
      }
      event({ type: 'content_block_stop', index });
      index++;
    }
    for (const call of reply.calls) {
      event({
        type: 'content_block_start',
        index,
        content_block: {
          type: 'tool_use',
          id: call.id ?? `toolu_01Fake${index}${requestId.slice(-6)}`,
          name: call.name,
          input: {},
        },
      });
      // The real API opens every tool input with an empty partial_json.
      for (const partial_json of ['', ...call.argumentChunks]) {
        event({
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json },
        });
      }
      event({ type: 'content_block_stop', index });
      index++;
    }
    event({
      type: 'message_delta',
      delta: { stop_reason: stopReasons[stop], stop_sequence: null },
      usage: {
        input_tokens: usage.inputTokens - cacheRead - cacheWrite,
        cache_creation_input_tokens: cacheWrite,
        cache_read_input_tokens: cacheRead,
        output_tokens: usage.outputTokens,
        ...(usage.reasoningTokens
          ? { output_tokens_details: { thinking_tokens: usage.reasoningTokens } }
          : {}),
      },
    });
    event({ type: 'message_stop' });
    return frames;
  },

  wholeBody(reply, request, requestId) {
    const usage = reply.usage;
    const cacheRead = usage.cachedInputTokens ?? 0;
    const cacheWrite = usage.cacheWriteTokens ?? 0;
    const stop = reply.stop ?? (reply.calls.length > 0 ? 'tool-calls' : 'end');
    const content: JsonObject[] = [];
    if (reply.compaction !== undefined)
      content.push({ type: 'compaction', content: reply.compaction });
    if (reply.textChunks.length > 0)
      content.push({ type: 'text', text: reply.textChunks.join('') });
    for (const call of reply.calls) {
      const args = call.argumentChunks.join('');
      content.push({
        type: 'tool_use',
        id: call.id ?? `toolu_01Fake${content.length}${requestId.slice(-6)}`,
        name: call.name,
        input: args === '' ? {} : (JSON.parse(args) as JsonValue),
      });
    }
    return {
      id: `msg_${requestId.slice(4)}`,
      type: 'message',
      role: 'assistant',
      model: typeof request.model === 'string' ? request.model : 'claude-sonnet-4-5',
      content,
      stop_reason: stopReasons[stop],
      stop_sequence: null,
      usage: {
        input_tokens: usage.inputTokens - cacheRead - cacheWrite,
        cache_creation_input_tokens: cacheWrite,
        cache_read_input_tokens: cacheRead,
        cache_creation: { ephemeral_5m_input_tokens: cacheWrite, ephemeral_1h_input_tokens: 0 },
        output_tokens: usage.outputTokens,
        service_tier: 'standard',
        ...(usage.reasoningTokens
          ? { output_tokens_details: { thinking_tokens: usage.reasoningTokens } }
          : {}),
      },
    };
  },

  streamErrorFrame(error) {
    return sseFrame({ type: 'error', error: { ...error.anthropic } }, 'error');
  },

  errorBody(error: ErrorReply, requestId: string) {
    return { type: 'error', error: { ...error.anthropic }, request_id: requestId };
  },
};

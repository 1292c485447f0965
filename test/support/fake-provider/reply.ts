import type { JsonValue } from '../../../src/core/messages.ts';

/** What a test queues on the fake provider; each route renders it in its own wire format. */
export type Reply = StreamReply | ErrorReply | StreamErrorReply | CutReply | RawReply | BytesReply;

/** Token counts as agentd counts them: `inputTokens` includes cached and cache-written tokens. */
export interface ReplyUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

export interface FakeToolCall {
  /** The call id the model gives; each format makes one up in its own style when absent. */
  id?: string;
  name: string;
  /** The JSON arguments, in the pieces they are streamed in. */
  argumentChunks: string[];
}

export type FakeStop = 'end' | 'tool-calls' | 'max-tokens';

/** A successful streamed answer: text deltas, then tool calls, then usage and stop reason. */
export interface StreamReply {
  kind: 'stream';
  textChunks: string[];
  calls: FakeToolCall[];
  usage: ReplyUsage;
  /** Defaults to `tool-calls` when there are calls, else `end`. */
  stop?: FakeStop;
  /** Chat Completions only: stream the calls' argument chunks round-robin by index. */
  interleaveCalls?: boolean;
  /**
   * The provider compacted the context in this response: Anthropic's summary text (a
   * `compaction` block first), OpenAI's encrypted content (a `compaction` item after the message).
   */
  compaction?: string;
}

/** An HTTP error answer, with the body each provider sends. */
export interface ErrorReply {
  kind: 'error';
  status: number;
  headers: Record<string, string>;
  anthropic: { type: string; message: string };
  openai: { type: string; message: string; code: string | null; param: string | null };
}

/** A 200 stream that reports an error as an event after `afterEvents` events of `reply`. */
export interface StreamErrorReply {
  kind: 'stream-error';
  reply: StreamReply;
  afterEvents: number;
  error: ErrorReply;
}

/**
 * A stream cut after `afterEvents` events: `destroy` drops the connection (the socket is
 * destroyed mid-body), `end` finishes the HTTP response cleanly without the closing events.
 */
export interface CutReply {
  kind: 'cut';
  mode: 'destroy' | 'end';
  reply: StreamReply;
  afterEvents: number;
}

/**
 * Bytes given by the test, served verbatim whether the request streams or not: each chunk is
 * written on its own; `end` finishes the response, `destroy` drops the connection after them.
 */
export interface BytesReply {
  kind: 'bytes';
  status: number;
  contentType: string;
  chunks: (string | Uint8Array)[];
  close: 'end' | 'destroy';
}

/** A file served verbatim. */
export interface RawReply {
  kind: 'raw';
  file: string;
  contentType: string;
  status: number;
  headers: Record<string, string>;
}

export type { JsonValue };
export type JsonObject = { [key: string]: JsonValue };

const defaultUsage: ReplyUsage = { inputTokens: 100, outputTokens: 20 };

/** Splits text into word-sized deltas (each keeps its trailing space). */
export function textChunks(text: string): string[] {
  return text.split(/(?<= )/).filter((chunk) => chunk !== '');
}

/** Splits a string into pieces of `size` characters, the way arguments arrive. */
export function pieces(text: string, size = 6): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Builders for the replies tests queue. */
export const reply = {
  /** A text answer streamed in several deltas. */
  text(text: string, options: { usage?: ReplyUsage; stop?: FakeStop } = {}): StreamReply {
    return {
      kind: 'stream',
      textChunks: textChunks(text),
      calls: [],
      usage: options.usage ?? defaultUsage,
      ...(options.stop ? { stop: options.stop } : {}),
    };
  },

  /** One or several (parallel) tool calls, arguments streamed in pieces, optional text first. */
  toolCalls(
    calls: readonly { name: string; input: JsonValue; id?: string }[],
    options: { text?: string; usage?: ReplyUsage; interleave?: boolean } = {},
  ): StreamReply {
    return {
      kind: 'stream',
      textChunks: options.text ? textChunks(options.text) : [],
      calls: calls.map((call) => ({
        ...(call.id ? { id: call.id } : {}),
        name: call.name,
        argumentChunks: pieces(JSON.stringify(call.input)),
      })),
      usage: options.usage ?? defaultUsage,
      ...(options.interleave ? { interleaveCalls: true } : {}),
    };
  },

  /** Any HTTP error; the message goes in both providers' bodies unless given per provider. */
  error(
    status: number,
    options: {
      message: string;
      anthropicType: string;
      openaiType: string;
      openaiCode?: string | null;
      openaiMessage?: string;
      headers?: Record<string, string>;
    },
  ): ErrorReply {
    return {
      kind: 'error',
      status,
      headers: options.headers ?? {},
      anthropic: { type: options.anthropicType, message: options.message },
      openai: {
        type: options.openaiType,
        message: options.openaiMessage ?? options.message,
        code: options.openaiCode ?? null,
        param: null,
      },
    };
  },

  /** 400 with the provider's explanation. */
  badRequest(message: string): ErrorReply {
    return reply.error(400, {
      message,
      anthropicType: 'invalid_request_error',
      openaiType: 'invalid_request_error',
    });
  },

  /** 401: the key was refused. */
  unauthorized(): ErrorReply {
    return reply.error(401, {
      message: 'invalid x-api-key',
      anthropicType: 'authentication_error',
      openaiType: 'invalid_request_error',
      openaiCode: 'invalid_api_key',
      openaiMessage:
        'Incorrect API key provided: sk-test-*****-key. You can find your API key at https://platform.openai.com/account/api-keys.',
    });
  },

  /** 429 with `retry-after` in seconds (0 keeps tests fast). */
  rateLimited(retryAfterSeconds = 0, headers: Record<string, string> = {}): ErrorReply {
    return reply.error(429, {
      message:
        'This request would exceed the rate limit for your organization of 20,000 input tokens per minute.',
      anthropicType: 'rate_limit_error',
      openaiType: 'requests',
      openaiCode: 'rate_limit_exceeded',
      openaiMessage: 'Rate limit reached for requests. Please try again in 20ms.',
      headers: { 'retry-after': String(retryAfterSeconds), ...headers },
    });
  },

  /** 500 from the provider. */
  serverError(message = 'Internal server error'): ErrorReply {
    return reply.error(500, { message, anthropicType: 'api_error', openaiType: 'server_error' });
  },

  /** Anthropic's 529 overloaded. */
  overloaded(): ErrorReply {
    return reply.error(529, {
      message: 'Overloaded',
      anthropicType: 'overloaded_error',
      openaiType: 'server_error',
    });
  },

  /** A 200 stream that turns into an error event after `afterEvents` events. */
  streamError(error: ErrorReply, streamed: StreamReply, afterEvents: number): StreamErrorReply {
    return { kind: 'stream-error', reply: streamed, afterEvents, error };
  },

  /** The connection is destroyed after `afterEvents` events of `streamed`. */
  drop(streamed: StreamReply, afterEvents: number): CutReply {
    return { kind: 'cut', mode: 'destroy', reply: streamed, afterEvents };
  },

  /** The response ends cleanly after `afterEvents` events, without the closing ones. */
  truncate(streamed: StreamReply, afterEvents: number): CutReply {
    return { kind: 'cut', mode: 'end', reply: streamed, afterEvents };
  },

  /** A file served as it is. */
  raw(
    file: string,
    contentType = 'text/event-stream; charset=utf-8',
    options: { status?: number; headers?: Record<string, string> } = {},
  ): RawReply {
    return {
      kind: 'raw',
      file,
      contentType,
      status: options.status ?? 200,
      headers: options.headers ?? {},
    };
  },
} as const;

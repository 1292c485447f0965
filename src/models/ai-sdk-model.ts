import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4FinishReason,
  type LanguageModelV4Message,
  type LanguageModelV4Prompt,
  type LanguageModelV4Usage,
} from '@ai-sdk/provider';
import { isProviderStreamError } from '@ai-sdk/provider-utils';
import type { StopReason } from '../core/events.ts';
import type { JsonValue, Message, ToolCall } from '../core/messages.ts';
import type { Usage } from '../core/usage.ts';
import type { CatalogEntry, EffortLevel, ProviderName } from './catalog.ts';
import {
  type ImageSource,
  type Model,
  ModelCallError,
  type ModelRequest,
  type ModelStreamPart,
} from './model.ts';

/**
 * A `Model` over an AI SDK provider's language model, called at the provider level
 * (`doStream`, or `doGenerate` when nobody watches the answer live), without the SDK's own loop, retries or tool execution: agentd owns those.
 */
export class AiSdkModel implements Model {
  readonly provider: ProviderName;
  readonly id: string;
  readonly entry: CatalogEntry | undefined;
  readonly serverCompaction: boolean;
  readonly #model: LanguageModelV4;
  /** Where the key came from (e.g. `ANTHROPIC_API_KEY`), named when the provider rejects it. */
  readonly #keyName: string | undefined;
  readonly #toolResultImages: boolean;

  constructor(
    provider: ProviderName,
    id: string,
    entry: CatalogEntry | undefined,
    model: LanguageModelV4,
    keyName?: string,
  ) {
    this.provider = provider;
    this.id = id;
    this.entry = entry;
    this.#model = model;
    this.#keyName = keyName;
    // Anthropic Messages and OpenAI Responses compact server-side and take images in tool
    // results; Chat Completions does neither (its tool messages are text).
    this.serverCompaction =
      model.provider === 'anthropic.messages' || model.provider === 'openai.responses';
    this.#toolResultImages = this.serverCompaction;
  }

  /**
   * Streams the answer (`doStream`), or, when nobody watches it live and the response is not
   * expected to be long, fetches it whole (`doGenerate`) and yields the same parts from it.
   */
  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart> {
    const stall = stallGuard(this.provider, signal);
    try {
      if (wantsWhole(this.provider, request)) yield* this.#generate(request, stall.signal);
      else yield* this.#stream(request, stall.signal, stall.alive);
    } finally {
      stall.end();
    }
  }

  #callOptions(request: ModelRequest, signal: AbortSignal): LanguageModelV4CallOptions {
    return {
      prompt: toPrompt(request, this.#toolResultImages ? request.images : undefined),
      tools: request.tools.map((tool) => ({
        type: 'function' as const,
        name: tool.name,
        description: tool.description,
        inputSchema: tool.inputSchema,
      })),
      toolChoice: request.tools.length > 0 ? { type: 'auto' } : undefined,
      maxOutputTokens: request.settings.maxOutputTokens,
      temperature: request.settings.temperature,
      topP: request.settings.topP,
      stopSequences: request.settings.stopSequences,
      seed: request.settings.seed,
      ...providerSettings(this.provider, request.settings),
      abortSignal: signal,
    };
  }

  /** The whole response at once, as the parts a stream of it would have yielded. */
  async *#generate(request: ModelRequest, signal: AbortSignal): AsyncIterable<ModelStreamPart> {
    let result: Awaited<ReturnType<LanguageModelV4['doGenerate']>>;
    try {
      result = await this.#model.doGenerate(this.#callOptions(request, signal));
    } catch (error) {
      throw toModelCallError(this.provider, error, signal, this.#keyName);
    }
    for (const part of result.content) {
      switch (part.type) {
        case 'text': {
          const meta = part.providerMetadata?.anthropic as
            | { type?: unknown; signature?: unknown }
            | undefined;
          if (meta?.type === 'compaction') {
            yield {
              type: 'compaction',
              compaction: {
                provider: 'anthropic',
                summary: part.text,
                data: typeof meta.signature === 'string' ? { signature: meta.signature } : {},
              },
            };
          } else if (part.text) {
            yield { type: 'text-delta', text: part.text };
          }
          break;
        }
        case 'custom': {
          const meta = part.providerMetadata?.openai as { [key: string]: JsonValue } | undefined;
          if (part.kind === 'openai.compaction' && meta) {
            yield { type: 'compaction', compaction: { provider: 'openai', data: meta } };
          }
          break;
        }
        case 'tool-call':
          if (!part.providerExecuted) {
            yield { type: 'tool-call-start', id: part.toolCallId, name: part.toolName };
            yield {
              type: 'tool-call',
              call: { id: part.toolCallId, name: part.toolName, input: parseInput(part.input) },
            };
          }
          break;
        default:
          break;
      }
    }
    yield {
      type: 'finish',
      usage: toUsage(result.usage),
      stopReason: toStopReason(result.finishReason),
      rawStopReason: result.finishReason.raw,
    };
  }

  async *#stream(
    request: ModelRequest,
    signal: AbortSignal,
    alive: () => void,
  ): AsyncIterable<ModelStreamPart> {
    let result: Awaited<ReturnType<LanguageModelV4['doStream']>>;
    try {
      result = await this.#model.doStream(this.#callOptions(request, signal));
    } catch (error) {
      throw toModelCallError(this.provider, error, signal, this.#keyName);
    }
    let finished = false;
    // Anthropic streams its compaction block as text marked `type: 'compaction'`.
    const compactionBlocks = new Map<string, { text: string; signature?: string }>();
    try {
      for await (const part of result.stream) {
        alive();
        switch (part.type) {
          case 'text-start': {
            const meta = part.providerMetadata?.anthropic as
              | { type?: unknown; signature?: unknown }
              | undefined;
            if (meta?.type === 'compaction') {
              compactionBlocks.set(part.id, {
                text: '',
                ...(typeof meta.signature === 'string' ? { signature: meta.signature } : {}),
              });
            }
            break;
          }
          case 'text-delta': {
            const block = compactionBlocks.get(part.id);
            if (block) block.text += part.delta;
            else if (part.delta) yield { type: 'text-delta', text: part.delta };
            break;
          }
          case 'text-end': {
            const block = compactionBlocks.get(part.id);
            if (block) {
              compactionBlocks.delete(part.id);
              yield {
                type: 'compaction',
                compaction: {
                  provider: 'anthropic',
                  summary: block.text,
                  data: block.signature ? { signature: block.signature } : {},
                },
              };
            }
            break;
          }
          case 'custom': {
            const meta = part.providerMetadata?.openai as { [key: string]: JsonValue } | undefined;
            if (part.kind === 'openai.compaction' && meta) {
              yield { type: 'compaction', compaction: { provider: 'openai', data: meta } };
            }
            break;
          }
          case 'tool-input-start':
            yield { type: 'tool-call-start', id: part.id, name: part.toolName };
            break;
          case 'tool-call':
            if (!part.providerExecuted) {
              yield {
                type: 'tool-call',
                call: { id: part.toolCallId, name: part.toolName, input: parseInput(part.input) },
              };
            }
            break;
          case 'finish':
            // The provider saw the stream end without its closing event: the answer is partial.
            if (part.finishReason.unified === 'interrupted') break;
            finished = true;
            yield {
              type: 'finish',
              usage: toUsage(part.usage),
              stopReason: toStopReason(part.finishReason),
              rawStopReason: part.finishReason.raw,
            };
            break;
          case 'error':
            throw part.error;
          default:
            break;
        }
      }
    } catch (error) {
      throw toModelCallError(this.provider, error, signal, this.#keyName);
    }
    if (!finished) {
      throw new ModelCallError(`${this.provider}: the response stream ended before it finished`, {
        retryable: true,
      });
    }
  }
}

/**
 * Anthropic's own SDK refuses unstreamed requests that may take over ten minutes (more than
 * 21,333 output tokens at its reckoning, and an unset limit is the model's maximum); networks
 * drop idle connections that long. Such requests stream even when nobody watches.
 */
const longestWholeAnthropicTokens = 21_333;

/** Nobody watches this answer live, and fetching it whole cannot outlast a connection. */
function wantsWhole(provider: ProviderName, request: ModelRequest): boolean {
  if (request.live !== false) return false;
  if (provider !== 'anthropic') return true;
  const limit = request.settings.maxOutputTokens;
  return limit !== undefined && limit <= longestWholeAnthropicTokens;
}

/** Effort and server-side compaction, in the provider's own options. */
function providerSettings(
  provider: ProviderName,
  settings: ModelRequest['settings'],
): Pick<LanguageModelV4CallOptions, 'providerOptions' | 'reasoning'> {
  const out = effortOptions(provider, settings.effort);
  const trigger = settings.providerCompaction?.triggerTokens;
  if (trigger === undefined) return out;
  if (provider === 'anthropic') {
    const edit = { type: 'compact_20260112', trigger: { type: 'input_tokens', value: trigger } };
    out.providerOptions = {
      ...out.providerOptions,
      anthropic: { ...out.providerOptions?.anthropic, contextManagement: { edits: [edit] } },
    };
  } else if (provider === 'openai') {
    out.providerOptions = {
      ...out.providerOptions,
      openai: {
        ...out.providerOptions?.openai,
        contextManagement: [{ type: 'compaction', compactThreshold: trigger }],
      },
    };
  }
  return out;
}

/**
 * Effort in each provider's own terms: Anthropic `output_config.effort`, OpenAI
 * `reasoning.effort` / `reasoning_effort`; OpenAI-compatible servers get the portable
 * setting, which their adapter sends as `reasoning_effort`.
 */
function effortOptions(
  provider: ProviderName,
  effort: EffortLevel | undefined,
): Pick<LanguageModelV4CallOptions, 'providerOptions' | 'reasoning'> {
  if (!effort) return {};
  switch (provider) {
    case 'anthropic':
      return { providerOptions: { anthropic: { effort } } };
    case 'openai':
      return { providerOptions: { openai: { reasoningEffort: effort } } };
    default:
      return { reasoning: effort };
  }
}

function parseInput(text: string): JsonValue {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function toPrompt(request: ModelRequest, images: ImageSource | undefined): LanguageModelV4Prompt {
  const prompt: LanguageModelV4Prompt = [];
  if (request.instructions) prompt.push({ role: 'system', content: request.instructions });
  for (const message of request.messages) prompt.push(toMessage(message, images));
  return prompt;
}

function toMessage(message: Message, images?: ImageSource): LanguageModelV4Message {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: [{ type: 'text', text: message.text }] };
    case 'assistant':
      return {
        role: 'assistant',
        content: [
          // Anthropic's compaction block leads the answer it came in.
          ...(message.compaction?.provider === 'anthropic'
            ? [
                {
                  type: 'text' as const,
                  text: message.compaction.summary ?? '',
                  providerOptions: {
                    anthropic: { type: 'compaction', ...message.compaction.data },
                  },
                },
              ]
            : []),
          ...(message.text ? [{ type: 'text' as const, text: message.text }] : []),
          ...message.toolCalls.map((call: ToolCall) => ({
            type: 'tool-call' as const,
            toolCallId: call.id,
            toolName: call.name,
            // Providers require an object; arguments that were not JSON were answered
            // with an error result that quotes them.
            input: isObject(call.input) ? call.input : {},
          })),
          // OpenAI's compaction item follows the message it came with.
          ...(message.compaction?.provider === 'openai'
            ? [
                {
                  type: 'custom' as const,
                  kind: 'openai.compaction' as const,
                  providerOptions: { openai: message.compaction.data },
                },
              ]
            : []),
        ],
      };
    case 'tool':
      return {
        role: 'tool',
        content: message.results.map((result) => ({
          type: 'tool-result' as const,
          toolCallId: result.callId,
          toolName: result.name,
          output: result.isError
            ? { type: 'error-text' as const, value: textOf(result.output) }
            : typeof result.output === 'string'
              ? { type: 'text' as const, value: result.output }
              : (withImages(result.output, images) ?? {
                  type: 'json' as const,
                  value: result.output,
                }),
        })),
      };
  }
}

/**
 * A tool result whose observation names images by digest (an environment's frames), as
 * content the model sees: the result's JSON, then each image it has the bytes of.
 */
function withImages(output: JsonValue, images: ImageSource | undefined) {
  if (!images || !isObject(output)) return undefined;
  const observation = output.observation;
  const named = isObject(observation ?? null)
    ? (observation as { images?: JsonValue }).images
    : undefined;
  if (!Array.isArray(named)) return undefined;
  const files = named.flatMap((image) => {
    const digest = isObject(image) ? image.digest : undefined;
    const bytes = typeof digest === 'string' ? images(digest) : undefined;
    return bytes
      ? [
          {
            type: 'file' as const,
            data: { type: 'data' as const, data: bytes },
            mediaType: 'image/png',
          },
        ]
      : [];
  });
  if (!files.length) return undefined;
  return {
    type: 'content' as const,
    value: [{ type: 'text' as const, text: JSON.stringify(output) }, ...files],
  };
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function toUsage(usage: LanguageModelV4Usage): Usage {
  return {
    inputTokens: usage.inputTokens.total ?? 0,
    outputTokens: usage.outputTokens.total ?? 0,
    cachedInputTokens: usage.inputTokens.cacheRead ?? 0,
    cacheWriteTokens: usage.inputTokens.cacheWrite ?? 0,
    reasoningTokens: usage.outputTokens.reasoning ?? 0,
  };
}

function toStopReason(reason: LanguageModelV4FinishReason): StopReason {
  switch (reason.unified) {
    case 'stop':
      return 'end_turn';
    case 'tool-calls':
      return 'tool_calls';
    case 'length':
      return 'max_tokens';
    case 'content-filter':
      return 'content_filter';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

/** How long a provider may send nothing (no headers, no event) before the call is given up. */
function stallTimeoutMs(): number {
  const seconds = Number(process.env.AGENTD_MODEL_STALL_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 600_000;
}

/**
 * A signal that aborts the call when the provider has sent nothing for the stall timeout
 * (AGENTD_MODEL_STALL_TIMEOUT seconds, default 600): a server that accepted the request and
 * then hung, before or after its headers. The abort is a retryable ModelCallError, so the call
 * is tried again like a dropped connection, then the run fails with that line.
 */
function stallGuard(
  provider: string,
  signal: AbortSignal | undefined,
): { signal: AbortSignal; alive: () => void; end: () => void } {
  const ms = stallTimeoutMs();
  const stalled = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const alive = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled.abort(
        new ModelCallError(
          `${provider}: the provider sent nothing for ${ms / 1000} s and the call was given up (try again later; AGENTD_MODEL_STALL_TIMEOUT sets the wait)`,
          { retryable: true },
        ),
      );
    }, ms);
  };
  alive();
  return {
    signal: signal ? AbortSignal.any([signal, stalled.signal]) : stalled.signal,
    alive,
    end: () => clearTimeout(timer),
  };
}

/** Turns whatever a provider call threw into one message a person can act on. */
export function toModelCallError(
  provider: string,
  error: unknown,
  signal?: AbortSignal,
  keyName?: string,
): Error {
  if (error instanceof ModelCallError) return error;
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error('aborted');
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status !== undefined && status < 300 && error.cause instanceof Error) {
      // The response started well and its body failed (a connection cut mid-stream).
      return new ModelCallError(
        `${provider}: the response stream broke off: ${describeNetworkError(error.cause)}`,
        { retryable: true, cause: error },
      );
    }
    const detail = providerMessage(error) ?? error.message;
    return new ModelCallError(
      `${provider} returned ${status ?? 'an error'}: ${oneLine(detail)}${statusHint(provider, status, keyName)}`,
      {
        status,
        retryable: shouldRetry(error.responseHeaders) ?? error.isRetryable,
        retryAfterMs: retryAfter(error.responseHeaders),
        cause: error,
      },
    );
  }
  if (isProviderStreamError(error)) {
    // An error event inside a 200 stream, after output had started.
    const status = error.statusCode;
    return new ModelCallError(
      `${provider} reported an error mid-stream${status ? ` (${status})` : ''}: ${oneLine(error.message)}${statusHint(provider, status, keyName)}`,
      { status, retryable: error.isRetryable ?? true, cause: error },
    );
  }
  if (isMessageObject(error)) {
    // OpenAI-compatible servers' in-stream `{"error": {...}}`, passed through as it came.
    return new ModelCallError(
      `${provider} reported an error mid-stream: ${oneLine(error.message)}`,
      { retryable: true, cause: error },
    );
  }
  const message = error instanceof Error ? describeNetworkError(error) : String(error);
  return new ModelCallError(`${provider}: ${message}`, { retryable: true, cause: error });
}

function statusHint(provider: string, status: number | undefined, keyName?: string): string {
  if (status === 401 || status === 403) return ` (check ${keyName ?? `the ${provider} API key`})`;
  if (status === 404) return ' (check the model id and base URL)';
  return '';
}

function isMessageObject(value: unknown): value is { message: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Error) &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

function providerMessage(error: APICallError): string | undefined {
  if (!error.responseBody) return undefined;
  try {
    const body = JSON.parse(error.responseBody) as {
      error?: { message?: unknown } | string;
      message?: unknown;
    };
    if (typeof body.error === 'string') return body.error;
    if (typeof body.error?.message === 'string') return body.error.message;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: fall back to the SDK's message
  }
  return undefined;
}

function describeNetworkError(error: Error): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${error.message} (${cause.code})`;
  return error.message;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The provider's own verdict, `x-should-retry: true|false`, which overrides the status. */
function shouldRetry(headers: Record<string, string> | undefined): boolean | undefined {
  const value = headers?.['x-should-retry'];
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

/** `retry-after-ms` (ms), then `retry-after` (seconds or an HTTP date). */
export function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  if (Number.isFinite(Number(value))) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

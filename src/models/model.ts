import type { StopReason } from '../core/events.ts';
import type { Message, ProviderCompaction, ToolCall } from '../core/messages.ts';
import type { Usage } from '../core/usage.ts';
import type { CatalogEntry, EffortLevel, ProviderName } from './catalog.ts';

/** A JSON Schema object, as models and MCP take tool inputs. */
export type JsonSchema = { [key: string]: unknown };

export interface ToolDefinition {
  name: string;
  description: string;
  inputSchema: JsonSchema;
}

/** Sampling settings an agent spec may set; providers ignore what they do not support. */
export interface ModelSettings {
  temperature?: number;
  topP?: number;
  maxOutputTokens?: number;
  stopSequences?: string[];
  seed?: number;
  /** Server-side compaction, where the provider has it: compact past this many input tokens. */
  providerCompaction?: { triggerTokens: number };
  /** How hard the model should think: Anthropic `output_config.effort`, OpenAI `reasoning.effort`, a local model's thought-token budget. */
  effort?: EffortLevel;
}

export interface ModelRequest {
  instructions: string;
  messages: readonly Message[];
  tools: readonly ToolDefinition[];
  settings: ModelSettings;
  /** The run's turn this request is for (1-based); compaction requests carry the turn they precede. */
  turn?: number;
  /** `compaction`: summarize the conversation instead of acting (runtime compaction). */
  purpose?: 'turn' | 'compaction';
  /**
   * The bytes of images tool results name by digest (`observation.images[].digest`: an
   * environment's frames), so they reach the model as images and not only as their digests.
   */
  images?: ImageSource;
  /**
   * Whether anyone watches this answer as it comes (a terminal, a voice session). `false`
   * lets the model ask the provider for the whole response at once, which costs less than a
   * stream; the parts yielded are the same either way. Unset: streamed.
   */
  live?: boolean;
}

/** The PNG bytes of an image by its SHA-256 digest; undefined when not stored. */
export type ImageSource = (digest: string) => Uint8Array | undefined;

export type ModelStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-start'; id: string; name: string }
  | { type: 'tool-call'; call: ToolCall }
  | { type: 'compaction'; compaction: ProviderCompaction }
  | { type: 'finish'; usage: Usage; stopReason: StopReason; rawStopReason?: string };

/**
 * One interface over every provider. `stream` yields text as it comes, each tool call once
 * complete (several per response when the model calls tools in parallel), then `finish`.
 * When the request is not `live`, a model may fetch the whole response and yield the same
 * parts from it. Failures are thrown as `ModelCallError`.
 */
export interface Model {
  readonly provider: ProviderName;
  readonly id: string;
  /** What the catalog knows of this model; undefined for unknown models (no price). */
  readonly entry: CatalogEntry | undefined;
  /** The API this model is reached through can compact the context server-side. */
  readonly serverCompaction?: boolean;
  stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart>;
}

/** A provider call that failed; `retryable` says whether trying again may succeed. */
export class ModelCallError extends Error {
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** How long the provider asked us to wait, from `retry-after-ms` / `retry-after`. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { status?: number; retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, { cause: options.cause });
    this.name = 'ModelCallError';
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function modelRef(model: Pick<Model, 'provider' | 'id'>): string {
  return `${model.provider}/${model.id}`;
}

/** What a model sees: provider-neutral conversation messages. */

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

export interface ToolCall {
  /** The id the model gave the call; results refer to it. */
  id: string;
  name: string;
  /** The parsed arguments, or the raw text when the model sent something that is not JSON. */
  input: JsonValue;
}

export interface ToolResult {
  callId: string;
  name: string;
  /** What the model is shown: text, or JSON for structured output. */
  output: JsonValue;
  isError: boolean;
}

/**
 * A provider's own compaction of the context (Anthropic `compaction` block, OpenAI
 * `compaction` item): sent back as it came on every later request; the provider ignores what
 * came before it.
 */
export interface ProviderCompaction {
  provider: 'anthropic' | 'openai';
  /** Readable summary, when the provider gives one (Anthropic); OpenAI's is encrypted. */
  summary?: string;
  /** What the provider needs back, opaque to agentd. */
  data: { [key: string]: JsonValue };
}

export type Message =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCall[]; compaction?: ProviderCompaction }
  | { role: 'tool'; results: ToolResult[] };

/** The text a model is given for a tool result. */
export function resultText(output: JsonValue): string {
  return typeof output === 'string' ? output : JSON.stringify(output);
}

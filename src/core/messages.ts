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

export type Message =
  | { role: 'user'; text: string }
  | { role: 'assistant'; text: string; toolCalls: ToolCall[] }
  | { role: 'tool'; results: ToolResult[] };

/** The text a model is given for a tool result. */
export function resultText(output: JsonValue): string {
  return typeof output === 'string' ? output : JSON.stringify(output);
}

import type { JsonValue, ToolCall } from '../../core/messages.ts';
import type { JsonSchema, ToolDefinition } from '../model.ts';

/**
 * How a local model answers when it has tools: one JSON object, either
 * `{"answer": "..."}` or `{"tool_calls": [{"name": ..., "arguments": {...}}, ...]}`, its
 * sampling constrained by a grammar made from this schema (node-llama-cpp's
 * `createGrammarForJsonSchema`), so a tool call is always JSON of one tool's input schema.
 *
 * The grammar takes the subset of JSON Schema that node-llama-cpp's GBNF converter speaks;
 * keywords outside it are dropped (the grammar is then looser than the schema, never
 * stricter), and the tool runner validates arguments against the full schema as for any model.
 */

/** At most this many calls in one answer. */
export const maxParallelCalls = 8;

export function responseSchema(tools: readonly ToolDefinition[]): JsonSchema {
  return {
    oneOf: [
      { type: 'object', properties: { answer: { type: 'string' } } },
      {
        type: 'object',
        properties: {
          tool_calls: {
            type: 'array',
            minItems: 1,
            maxItems: maxParallelCalls,
            items: {
              oneOf: tools.map((tool) => ({
                type: 'object',
                properties: {
                  name: { const: tool.name },
                  arguments: grammarSchema(tool.inputSchema),
                },
              })),
            },
          },
        },
      },
    ],
  };
}

/** The instructions that tell the model the answer format and its tools. */
export function toolInstructions(tools: readonly ToolDefinition[]): string {
  const lines = [
    'Reply with one JSON object and nothing else.',
    'To answer the user: {"answer": "<your answer>"}.',
    'To call tools: {"tool_calls": [{"name": "<tool name>", "arguments": {<arguments>}}]}; list several calls to run them in parallel. Their results come back in the next message.',
    'Tools:',
  ];
  for (const tool of tools) {
    lines.push(
      `- ${tool.name}: ${tool.description || '(no description)'} Arguments: ${JSON.stringify(tool.inputSchema)}`,
    );
  }
  return lines.join('\n');
}

const anyValue: JsonSchema = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', additionalProperties: true },
    { type: 'array' },
  ],
};

/** A tool's JSON Schema as the grammar converter takes it (see the module comment). */
export function grammarSchema(schema: unknown): JsonSchema {
  if (typeof schema !== 'object' || schema === null) return anyValue;
  const defs = collectDefs(schema);
  const out = convert(schema as JsonSchema, defs);
  if (defs.size === 0) return out;
  const $defs = Object.fromEntries(
    [...defs].map(([name, def]) => [
      name,
      typeof def === 'object' && def !== null ? convert(def as JsonSchema, defs) : anyValue,
    ]),
  );
  return { ...out, $defs };
}

function collectDefs(schema: unknown): Map<string, unknown> {
  const defs = new Map<string, unknown>();
  if (typeof schema !== 'object' || schema === null) return defs;
  const s = schema as { $defs?: unknown; definitions?: unknown };
  for (const group of [s.definitions, s.$defs]) {
    if (group && typeof group === 'object') {
      for (const [name, def] of Object.entries(group)) defs.set(name, def);
    }
  }
  return defs;
}

function convert(s: JsonSchema, defs: Map<string, unknown>): JsonSchema {
  const sub = (value: unknown): JsonSchema =>
    typeof value === 'object' && value !== null ? convert(value as JsonSchema, defs) : anyValue;
  if (typeof s.$ref === 'string') {
    const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(s.$ref)?.[1];
    return name && defs.has(name) ? { $ref: `#/$defs/${name}` } : anyValue;
  }
  if ('const' in s && isScalar(s.const)) return { const: s.const as JsonValue };
  if (Array.isArray(s.enum) && s.enum.every(isScalar)) return { enum: s.enum };
  const union = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
  if (Array.isArray(union) && union.length > 0) {
    const { oneOf: _o, anyOf: _a, ...rest } = s;
    const base = Object.keys(rest).some((k) => k === 'type' || k === 'properties')
      ? rest
      : undefined;
    return {
      oneOf: union.map((option) => sub(base ? { ...base, ...(option as object) } : option)),
    };
  }
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return sub(s.allOf[0]);
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t): t is string => typeof t === 'string');
    if (types.length === 1) return convert({ ...s, type: types[0] }, defs);
    return { oneOf: types.map((type) => convert({ ...s, type }, defs)) };
  }
  const nullable = s.nullable === true;
  const typed = convertTyped(s, sub);
  return nullable ? { oneOf: [typed, { type: 'null' }] } : typed;
}

function convertTyped(s: JsonSchema, sub: (value: unknown) => JsonSchema): JsonSchema {
  switch (s.type) {
    case 'string': {
      const out: JsonSchema = { type: 'string' };
      if (s.format === 'date-time' || s.format === 'date' || s.format === 'time') {
        out.format = s.format;
        return out;
      }
      if (typeof s.minLength === 'number') out.minLength = s.minLength;
      if (typeof s.maxLength === 'number') out.maxLength = s.maxLength;
      return out;
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type: s.type };
    case 'array': {
      const out: JsonSchema = { type: 'array' };
      if (s.items !== undefined && typeof s.items === 'object') out.items = sub(s.items);
      if (Array.isArray(s.prefixItems)) out.prefixItems = s.prefixItems.map(sub);
      if (typeof s.minItems === 'number') out.minItems = s.minItems;
      if (typeof s.maxItems === 'number') out.maxItems = s.maxItems;
      return out;
    }
    case 'object':
      return objectSchema(s, sub);
    default:
      return s.properties ? objectSchema(s, sub) : anyValue;
  }
}

function objectSchema(s: JsonSchema, sub: (value: unknown) => JsonSchema): JsonSchema {
  const properties = (s.properties ?? {}) as { [key: string]: unknown };
  const out: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, sub(v)])),
  };
  // The grammar writes every listed property; further ones only where the schema asks for them.
  if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) {
    out.additionalProperties = sub(s.additionalProperties);
  } else if (s.additionalProperties === true && Object.keys(properties).length === 0) {
    out.additionalProperties = true;
  }
  return out;
}

function isScalar(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

/** What the model's JSON answer says: the answer text, or the tool calls. */
export type ParsedResponse =
  | { kind: 'answer'; text: string }
  | { kind: 'tool_calls'; calls: { name: string; input: JsonValue }[] }
  | { kind: 'incomplete' };

export function parseResponse(text: string): ParsedResponse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'incomplete' };
  }
  if (typeof value !== 'object' || value === null) return { kind: 'incomplete' };
  const v = value as { answer?: unknown; tool_calls?: unknown };
  if (typeof v.answer === 'string') return { kind: 'answer', text: v.answer };
  if (Array.isArray(v.tool_calls)) {
    return {
      kind: 'tool_calls',
      calls: v.tool_calls.map((call: { name?: unknown; arguments?: unknown }) => ({
        name: String(call.name),
        input: (call.arguments ?? {}) as JsonValue,
      })),
    };
  }
  return { kind: 'incomplete' };
}

/** The text of an assistant turn as the model wrote it, for the history it is shown. */
export function renderAssistantTurn(text: string, calls: readonly ToolCall[]): string {
  if (calls.length === 0) return JSON.stringify({ answer: text });
  return JSON.stringify({
    tool_calls: calls.map((call) => ({ name: call.name, arguments: call.input })),
  });
}

/**
 * Streams the answer's text out of the JSON as the model writes it: after the object's
 * `"answer": "` opening, each decoded character of the string, until its closing quote.
 */
export class AnswerStream {
  #raw = '';
  #start = -1;
  #pos = 0;
  #done = false;
  #escape: string | null = null;

  /** Feeds more of the model's output; returns the answer text it adds. */
  push(chunk: string): string {
    this.#raw += chunk;
    if (this.#done) return '';
    if (this.#start < 0) {
      const open = /^\s*\{\s*"answer"\s*:\s*"/.exec(this.#raw);
      if (!open) return '';
      this.#start = open[0].length;
      this.#pos = this.#start;
    }
    let out = '';
    while (this.#pos < this.#raw.length && !this.#done) {
      const ch = this.#raw[this.#pos++]!;
      if (this.#escape !== null) {
        this.#escape += ch;
        const decoded = decodeEscape(this.#escape);
        if (decoded !== undefined) {
          out += decoded;
          this.#escape = null;
        }
      } else if (ch === '\\') {
        this.#escape = '\\';
      } else if (ch === '"') {
        this.#done = true;
      } else {
        out += ch;
      }
    }
    return out;
  }
}

function decodeEscape(seq: string): string | undefined {
  if (seq.length < 2) return undefined;
  if (seq[1] === 'u') {
    if (seq.length < 6) return undefined;
    return String.fromCharCode(Number.parseInt(seq.slice(2, 6), 16));
  }
  const simple: { [key: string]: string } = {
    '"': '"',
    '\\': '\\',
    '/': '/',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
  };
  return simple[seq[1]!] ?? seq[1];
}

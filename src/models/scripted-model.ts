import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentdError } from '../core/errors.ts';
import { type JsonValue, type Message, resultText } from '../core/messages.ts';
import { estimateTokens, messageTokens } from '../core/tokens.ts';
import { parseYamlFile } from '../definition/yaml-file.ts';
import { type CatalogEntry, findModel } from './catalog.ts';
import type { Model, ModelRequest, ModelStreamPart } from './model.ts';

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const scriptSchema = z.strictObject({
  description: z.string().optional(),
  turns: z
    .array(
      z.strictObject({
        text: z.string().optional(),
        /** Play this turn this many times in a row (long runs in a few lines). */
        repeat: z.int().positive().optional(),
        tool_calls: z
          .array(z.strictObject({ name: z.string().min(1), input: jsonValue.optional() }))
          .optional(),
      }),
    )
    .min(1),
});

export type Script = z.output<typeof scriptSchema>;

/** One turn of a scripted model: what it says and the tools it calls. */
export type ScriptedTurn = Script['turns'][number];

/**
 * A scripted policy: code that decides each turn from what the run has seen so far (an
 * environment's observations), for agents whose right moves depend on a seed. Like a script it
 * is deterministic and written by a person: a baseline, not a model.
 */
export type ScriptedPolicy = (request: {
  /** 1-based turn of the run. */
  turn: number;
  task: string;
  messages: readonly Message[];
  tools: readonly string[];
}) => ScriptedTurn | Promise<ScriptedTurn>;

/** Declares a scripted policy in TypeScript (a spec's `script: ./policy.ts`; see docs/environments.md). */
export function definePolicy(policy: ScriptedPolicy): ScriptedPolicy {
  return policy;
}

export const SCRIPTED_PREFIX = '[scripted] ';

export function loadScript(path: string): Script {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AgentdError(
      'spec_not_found',
      `${path}: script file not found (check the spec's script field)`,
    );
  }
  return parseYamlFile(path, text, scriptSchema);
}

/**
 * A deterministic stand-in for a model: replays a script of turns (text and tool calls) for
 * tests and offline demos. It plays the run's turn number (or, without one, the number of
 * assistant messages so far), so a replay is the same however often it runs, and after a
 * resume or a compaction. Asked to compact, it writes a plain summary of what it is given. Every text it writes starts with
 * `[scripted]`: it is a replay written by a person, not intelligence.
 *
 * Texts may use `{{task}}`, `{{message}}` (the latest user message), `{{results}}` (every result of the previous turn) and
 * `{{result:<tool>}}` (the latest result of that tool), so a demo can report what its tools
 * really returned.
 */
export class ScriptedModel implements Model {
  readonly provider = 'scripted' as const;
  readonly id: string;
  readonly entry: CatalogEntry | undefined;
  readonly #script: Script | ScriptedPolicy;

  constructor(id: string, script: Script | ScriptedPolicy) {
    this.id = id;
    this.#script = script;
    this.entry = findModel('scripted', id);
  }

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart> {
    if (request.purpose === 'compaction') {
      yield* this.#summarize(request);
      return;
    }
    const turnIndex =
      (request.turn ?? request.messages.filter((m) => m.role === 'assistant').length + 1) - 1;
    const turn =
      typeof this.#script === 'function'
        ? checkedTurn(
            await this.#script({
              turn: turnIndex + 1,
              task: request.messages.find((m) => m.role === 'user')?.text ?? '',
              messages: request.messages,
              tools: request.tools.map((t) => t.name),
            }),
            turnIndex + 1,
          )
        : this.#turnAt(turnIndex);
    const text = turn
      ? turn.text !== undefined
        ? SCRIPTED_PREFIX + fill(turn.text, request.messages)
        : ''
      : `${SCRIPTED_PREFIX}The script has no turn ${turnIndex + 1}; it ends here.`;
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      signal?.throwIfAborted();
      yield { type: 'text-delta', text: piece };
    }
    // A turn of tool calls alone stops on cancellation too, as a provider's request would.
    signal?.throwIfAborted();
    const calls = turn?.tool_calls ?? [];
    for (const [i, call] of calls.entries()) {
      const id = `call_${turnIndex + 1}_${i + 1}`;
      yield { type: 'tool-call-start', id, name: call.name };
      yield { type: 'tool-call', call: { id, name: call.name, input: call.input ?? {} } };
    }
    yield {
      type: 'finish',
      stopReason: calls.length > 0 ? 'tool_calls' : 'end_turn',
      usage: {
        inputTokens: requestTokens(request),
        outputTokens:
          estimateTokens(text) +
          calls.reduce((n, c) => n + estimateTokens(c.name + JSON.stringify(c.input ?? {})), 0),
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
    };
  }

  /** The script's turn at a 0-based index, counting repeated turns as many times as they repeat. */
  #turnAt(index: number): ScriptedTurn | undefined {
    let left = index;
    for (const turn of (this.#script as Script).turns) {
      const times = turn.repeat ?? 1;
      if (left < times) return turn;
      left -= times;
    }
    return undefined;
  }

  /** A replay cannot summarize: it keeps the first and the last lines of what it is given. */
  async *#summarize(request: ModelRequest): AsyncIterable<ModelStreamPart> {
    const given = request.messages.map((m) => (m.role === 'user' ? m.text : '')).join('\n');
    const lines = given.split('\n').filter((line) => line.trim());
    const kept = lines.length <= 6 ? lines : [...lines.slice(0, 2), '...', ...lines.slice(-3)];
    const text = `${SCRIPTED_PREFIX}Summary (kept lines, not a model's summary) of ${lines.length} lines:\n${kept.join('\n')}`;
    yield { type: 'text-delta', text };
    yield {
      type: 'finish',
      stopReason: 'end_turn',
      usage: {
        inputTokens: requestTokens(request),
        outputTokens: estimateTokens(text),
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
    };
  }
}

/** What a scripted policy returned, checked as a script's turn is: a bad one is a one-line error. */
function checkedTurn(turn: unknown, n: number): ScriptedTurn {
  const parsed = scriptSchema.shape.turns.element.safeParse(turn);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AgentdError(
    'spec_invalid',
    `the scripted policy's turn ${n} is not a turn (${issue.path.join('.') || 'turn'}: ${issue.message}); return { text, tool_calls: [{ name, input }] }`,
  );
}

/** The tokens a request would take, estimated as the scripted model's usage. */
function requestTokens(request: ModelRequest): number {
  return (
    estimateTokens(request.instructions) +
    (request.tools.length ? estimateTokens(JSON.stringify(request.tools)) : 0) +
    request.messages.reduce((n, m) => n + messageTokens(m), 0)
  );
}

function fill(template: string, messages: readonly Message[]): string {
  return template.replace(
    /\{\{\s*(task|message|results|result:([\w-]+))\s*\}\}/g,
    (_, key: string, tool?: string) => {
      if (key === 'task') return messages.find((m) => m.role === 'user')?.text ?? '';
      if (key === 'message') return messages.findLast((m) => m.role === 'user')?.text ?? '';
      const toolMessages = messages.filter((m) => m.role === 'tool');
      if (key === 'results') {
        return (toolMessages.at(-1)?.results ?? []).map((r) => resultText(r.output)).join('\n');
      }
      for (let i = toolMessages.length - 1; i >= 0; i--) {
        const found = toolMessages[i]!.results.findLast((r) => r.name === tool);
        if (found) return resultText(found.output);
      }
      return `(no result from ${tool})`;
    },
  );
}

import type { Usage } from '../../src/core/usage.ts';
import { findModel } from '../../src/models/catalog.ts';
import type { ModelStreamPart } from '../../src/models/model.ts';
import { type Model, ModelCallError, type ModelRequest } from '../../src/models/model.ts';

export type Turn =
  | {
      text?: string;
      calls?: { name: string; input: unknown; id?: string }[];
      usage?: Partial<Usage>;
    }
  | { fail: ModelCallError }
  | { hang: true };

/**
 * A model for loop tests: plays the given turns and records each request it gets. (Provider
 * wire formats are tested over HTTP against the fake provider server.)
 */
export class TurnModel implements Model {
  readonly provider = 'anthropic' as const;
  readonly id = 'claude-sonnet-4-5';
  readonly entry = findModel('anthropic', 'claude-sonnet-4-5');
  readonly requests: ModelRequest[] = [];
  #turns: Turn[];

  constructor(turns: Turn[]) {
    this.#turns = [...turns];
  }

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart> {
    this.requests.push(structuredClone({ ...request, messages: [...request.messages] }));
    const turn = this.#turns.shift();
    if (!turn) throw new ModelCallError('TurnModel: no turn left', { retryable: false });
    if ('fail' in turn) throw turn.fail;
    if ('hang' in turn) {
      await new Promise((_, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      return;
    }
    if (turn.text) {
      for (const word of turn.text.split(/(?<= )/)) yield { type: 'text-delta', text: word };
    }
    const calls = turn.calls ?? [];
    for (const [i, call] of calls.entries()) {
      yield {
        type: 'tool-call',
        call: {
          // by turn of the conversation, so a re-issued request gets the same ids
          id:
            call.id ??
            `call_${request.messages.filter((m) => m.role === 'assistant').length + 1}_${i}`,
          name: call.name,
          input: call.input as never,
        },
      };
    }
    yield {
      type: 'finish',
      stopReason: calls.length ? 'tool_calls' : 'end_turn',
      usage: {
        inputTokens: 100,
        outputTokens: 20,
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        ...turn.usage,
      },
    };
  }
}

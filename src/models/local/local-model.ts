import { randomBytes } from 'node:crypto';
import type {
  ChatHistoryItem,
  LlamaContextSequence,
  LlamaGrammarEvaluationState,
  Token,
} from 'node-llama-cpp';
import type { StopReason } from '../../core/events.ts';
import { type Message, resultText } from '../../core/messages.ts';
import type { Usage } from '../../core/usage.ts';
import type { CatalogEntry } from '../catalog.ts';
import { type Model, ModelCallError, type ModelRequest, type ModelStreamPart } from '../model.ts';
import type { LoadedModel } from './llama-runtime.ts';
import { nodeLlamaCpp } from './llama-runtime.ts';
import {
  AnswerStream,
  parseResponse,
  renderAssistantTurn,
  responseSchema,
  toolInstructions,
} from './tool-grammar.ts';

/**
 * A GGUF model on this machine through node-llama-cpp. The prompt is the model's own chat
 * template (from the GGUF, else node-llama-cpp's wrapper for its architecture); with tools,
 * sampling is constrained to the JSON answer of `tool-grammar.ts`. Each call borrows one of
 * the loaded model's sequences and reuses what that sequence already holds of the prompt.
 */
export class LocalModel implements Model {
  readonly provider = 'local' as const;
  readonly id: string;
  readonly entry: CatalogEntry;
  readonly loaded: LoadedModel;

  constructor(id: string, entry: CatalogEntry, loaded: LoadedModel) {
    this.id = id;
    this.entry = entry;
    this.loaded = loaded;
  }

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart> {
    const { model, chatWrapper } = this.loaded;
    const tools = request.purpose === 'compaction' ? [] : request.tools;
    const history = chatHistory(request, tools.length > 0);
    const { contextText, stopGenerationTriggers } = chatWrapper.generateContextState({
      chatHistory: history,
    });
    const prompt = contextText.tokenize(model.tokenizer);
    const contextSize = this.loaded.context.contextSize;
    if (prompt.length >= contextSize) {
      throw new ModelCallError(
        `local/${this.id}: the prompt is ${prompt.length} tokens and the context holds ${contextSize}; compact the run or load a larger context (provider.context_size)`,
        { retryable: false },
      );
    }
    const grammar =
      tools.length > 0 ? await this.loaded.grammarFor(responseSchema(tools)) : undefined;
    const { LlamaGrammarEvaluationState } = await nodeLlamaCpp();
    const lease = await this.loaded.acquire(signal);
    try {
      const sequence = lease.sequence;
      const cached = await reusePrefix(sequence, prompt);
      const stops = [
        ...stopGenerationTriggers.flatMap((t) => plainText(t.values)),
        ...(request.settings.stopSequences ?? []),
      ];
      const room = contextSize - prompt.length;
      const maxTokens = Math.min(request.settings.maxOutputTokens ?? room, room);
      const grammarState: LlamaGrammarEvaluationState | undefined = grammar
        ? new LlamaGrammarEvaluationState({ model, grammar })
        : undefined;
      const answer = grammar ? new AnswerStream() : undefined;

      const out: Token[] = [];
      let pending: Token[] = [];
      let text = '';
      let generated = 0;
      let stopReason: StopReason = 'end_turn';
      const iterator = sequence.evaluate(prompt.slice(cached), {
        ...(request.settings.temperature !== undefined
          ? { temperature: request.settings.temperature }
          : {}),
        ...(request.settings.topP !== undefined ? { topP: request.settings.topP } : {}),
        ...(request.settings.seed !== undefined ? { seed: request.settings.seed } : {}),
        ...(grammarState ? { grammarEvaluationState: grammarState } : {}),
      });
      try {
        for await (const token of iterator) {
          if (signal?.aborted) break;
          generated++;
          if (model.isEogToken(token)) break;
          pending.push(token);
          const piece = model.detokenize(pending, false, out);
          // A character split over tokens shows as U+FFFD until its last byte comes.
          const split = piece.endsWith('\uFFFD') && pending.length < 4;
          if (split && generated < maxTokens) continue;
          out.push(...pending);
          pending = [];
          const before = text.length;
          text += piece;
          const stop = firstStop(text, stops, before);
          if (stop !== undefined) text = text.slice(0, stop);
          const delta = text.slice(before);
          if (delta) {
            if (answer) {
              const shown = answer.push(delta);
              if (shown) yield { type: 'text-delta', text: shown };
            } else {
              yield { type: 'text-delta', text: delta };
            }
          }
          if (stop !== undefined) break;
          // The grammar lets whitespace follow the object; the answer is complete at its end.
          if (
            grammar &&
            delta.trimEnd().endsWith('}') &&
            parseResponse(text).kind !== 'incomplete'
          ) {
            break;
          }
          if (generated >= maxTokens) {
            stopReason = 'max_tokens';
            break;
          }
        }
      } finally {
        await iterator.return();
      }
      if (signal?.aborted) throw signal.reason;

      const usage: Usage = {
        inputTokens: prompt.length,
        outputTokens: generated,
        cachedInputTokens: cached,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      };
      if (grammar) {
        const parsed = parseResponse(text);
        if (parsed.kind === 'tool_calls') {
          for (const call of parsed.calls) {
            const id = `call_${randomBytes(6).toString('hex')}`;
            yield { type: 'tool-call-start', id, name: call.name };
            yield { type: 'tool-call', call: { id, name: call.name, input: call.input } };
          }
          stopReason = 'tool_calls';
        } else if (parsed.kind === 'incomplete' && stopReason !== 'max_tokens') {
          stopReason = 'other';
        }
      }
      yield { type: 'finish', usage, stopReason };
    } finally {
      lease.release();
    }
  }
}

/** The conversation in node-llama-cpp's chat history form. */
function chatHistory(request: ModelRequest, withTools: boolean): ChatHistoryItem[] {
  const system = [request.instructions, withTools ? toolInstructions(request.tools) : '']
    .filter((part) => part.trim().length > 0)
    .join('\n\n');
  const items: ChatHistoryItem[] = [];
  if (system) items.push({ type: 'system', text: system });
  for (const message of request.messages) items.push(historyItem(message, withTools));
  return items;
}

function historyItem(message: Message, withTools: boolean): ChatHistoryItem {
  switch (message.role) {
    case 'user':
      return { type: 'user', text: message.text };
    case 'assistant':
      return {
        type: 'model',
        response: [
          withTools || message.toolCalls.length > 0
            ? renderAssistantTurn(message.text, message.toolCalls)
            : message.text,
        ],
      };
    case 'tool':
      return {
        type: 'user',
        text: `Tool results:\n${message.results
          .map((r) =>
            JSON.stringify({
              name: r.name,
              ...(r.isError ? { error: resultText(r.output) } : { result: r.output }),
            }),
          )
          .join('\n')}`,
      };
  }
}

/**
 * Keeps what the sequence already holds of `prompt` (an earlier turn of the same run, say) and
 * returns how many tokens of it need no evaluation. At least one token is always evaluated, so
 * the model has logits to sample from.
 */
async function reusePrefix(sequence: LlamaContextSequence, prompt: Token[]): Promise<number> {
  await sequence.adaptStateToTokens(prompt, false);
  let cached = sequence.nextTokenIndex;
  if (cached >= prompt.length) {
    await sequence.adaptStateToTokens(prompt.slice(0, prompt.length - 1), false);
    cached = sequence.nextTokenIndex;
  }
  return cached;
}

/** A stop trigger as text, when it is text: special tokens end generation as end-of-generation tokens. */
function plainText(values: readonly unknown[]): string[] {
  if (values.length === 0 || !values.every((v) => typeof v === 'string')) return [];
  const text = values.join('');
  return text ? [text] : [];
}

/** Where the first stop string in `text` starts, looking only where new text could complete one. */
function firstStop(text: string, stops: readonly string[], from: number): number | undefined {
  let first: number | undefined;
  for (const stop of stops) {
    const at = text.indexOf(stop, Math.max(0, from - stop.length + 1));
    if (at >= 0 && (first === undefined || at < first)) first = at;
  }
  return first;
}

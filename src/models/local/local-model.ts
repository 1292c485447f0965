import { randomBytes } from 'node:crypto';
import type {
  ChatHistoryItem,
  ChatWrapper,
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
import { type ThoughtSegment, thoughtBudget } from './thinking.ts';
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
  /** The chat template the prompt is written in (the spec's `provider.chat_template`, else the GGUF's). */
  readonly chatWrapper: ChatWrapper;
  /** How that template marks thinking; undefined when it has no thought segment. */
  readonly thought: ThoughtSegment | undefined;

  constructor(
    id: string,
    entry: CatalogEntry,
    loaded: LoadedModel,
    chatWrapper: ChatWrapper = loaded.chatWrapper,
    thought: ThoughtSegment | undefined = undefined,
  ) {
    this.id = id;
    this.entry = entry;
    this.loaded = loaded;
    this.chatWrapper = chatWrapper;
    this.thought = thought;
  }

  async *stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart> {
    const { model } = this.loaded;
    const { chatWrapper, thought } = this;
    const tools = request.purpose === 'compaction' ? [] : request.tools;
    const history = chatHistory(request, tools.length > 0);
    const { contextText, stopGenerationTriggers } = chatWrapper.generateContextState({
      chatHistory: history,
    });
    let prompt = contextText.tokenize(model.tokenizer);
    const contextSize = this.loaded.context.contextSize;
    // Room for the thought's opening and closing, should agentd insert them.
    const reserved = thought ? thought.prefixTokens.length + thought.suffixTokens.length : 0;
    const room = contextSize - prompt.length - reserved;
    if (room <= 0) {
      throw new ModelCallError(
        `local/${this.id}: the prompt is ${prompt.length} tokens and the context holds ${contextSize}; compact the run or load a larger context (provider.context_size)`,
        { retryable: false },
      );
    }
    const maxTokens = Math.min(request.settings.maxOutputTokens ?? room, room);

    // Thinking: with effort, at most the effort's share of the output room; `minimal` none.
    // agentd opens the thought itself when effort asks for one (or node-llama-cpp would for
    // this template) and closes it when the budget is spent, as node-llama-cpp's LlamaChat does.
    const effort = request.settings.effort;
    const budget = thought && effort ? thoughtBudget(effort, maxTokens) : Number.POSITIVE_INFINITY;
    let phase: 'lead' | 'thought' | 'answer' = 'answer';
    let inserted = 0;
    if (thought) {
      if (thought.openedOnStart) {
        if (budget > 0) phase = 'thought';
        else {
          prompt = [...prompt, ...thought.suffixTokens];
        }
      } else if (budget > 0 && (effort || thought.openOnResponseStart)) {
        prompt = [...prompt, ...thought.prefixTokens];
        phase = 'thought';
      } else if (tools.length === 0) {
        // The model may open a thought itself: hold the first text back until it is clear.
        phase = 'lead';
      }
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
      const grammarState: LlamaGrammarEvaluationState | undefined = grammar
        ? new LlamaGrammarEvaluationState({ model, grammar })
        : undefined;
      const answer = grammar ? new AnswerStream() : undefined;
      const sampling = {
        ...(request.settings.temperature !== undefined
          ? { temperature: request.settings.temperature }
          : {}),
        ...(request.settings.topP !== undefined ? { topP: request.settings.topP } : {}),
        ...(request.settings.seed !== undefined ? { seed: request.settings.seed } : {}),
      };
      // The answer's grammar holds from the answer's first token: after the thought, if any.
      const evaluate = (tokens: Token[]) =>
        sequence.evaluate(tokens, {
          ...sampling,
          ...(grammarState && phase === 'answer' ? { grammarEvaluationState: grammarState } : {}),
        });

      const out: Token[] = [];
      let pending: Token[] = [];
      let text = '';
      let lead = '';
      let thinking = '';
      let trimStart = thought !== undefined;
      let generated = 0;
      let reasoning = 0;
      let stopReason: StopReason = 'end_turn';
      let done = false;

      /** Answer text as it comes: the deltas to show, and whether a stop was reached. */
      const answerPiece = (piece: string): string | undefined => {
        if (trimStart) {
          piece = piece.trimStart();
          if (!piece) return undefined;
          trimStart = false;
        }
        const before = text.length;
        text += piece;
        const stop = firstStop(text, stops, before);
        if (stop !== undefined) text = text.slice(0, stop);
        const delta = text.slice(before);
        if (stop !== undefined) done = true;
        // The grammar lets whitespace follow the object; the answer is complete at its end.
        else if (
          grammar &&
          delta.trimEnd().endsWith('}') &&
          parseResponse(text).kind !== 'incomplete'
        ) {
          done = true;
        }
        if (!delta) return undefined;
        return answer ? answer.push(delta) || undefined : delta;
      };

      let iterator = evaluate(prompt.slice(cached));
      let replacement: Token[] | undefined;
      try {
        while (!done) {
          const step = await iterator.next(replacement);
          replacement = undefined;
          if (step.done || signal?.aborted) break;
          const token = step.value;
          generated++;
          if (model.isEogToken(token)) break;
          if (phase === 'thought') reasoning++;
          pending.push(token);
          const piece = model.detokenize(pending, thought !== undefined, out);
          // A character split over tokens shows as U+FFFD until its last byte comes (unless
          // the thought's budget is spent: then it is closed at this token).
          const split = piece.endsWith('\uFFFD') && pending.length < 4;
          if (split && generated < maxTokens && !(phase === 'thought' && reasoning >= budget))
            continue;
          out.push(...pending);
          pending = [];

          let shown: string | undefined;
          let close = false;
          let closed = false;
          if (phase === 'lead' && thought) {
            lead += piece;
            const start = lead.trimStart();
            if (start.startsWith(thought.prefix)) {
              phase = 'thought';
              thinking = start.slice(thought.prefix.length);
              close = reasoning >= budget;
            } else if (!thought.prefix.startsWith(start) || generated >= maxTokens) {
              phase = 'answer';
              shown = answerPiece(lead);
            }
          } else if (phase === 'thought' && thought) {
            thinking += piece;
            const end = thinking.indexOf(thought.suffix);
            if (end >= 0) {
              phase = 'answer';
              closed = true;
              shown = answerPiece(thinking.slice(end + thought.suffix.length));
            } else {
              close = reasoning >= budget;
            }
          } else {
            shown = answerPiece(piece);
          }
          if (shown) yield { type: 'text-delta', text: shown };
          if (done) break;
          if (generated >= maxTokens) {
            stopReason = 'max_tokens';
            break;
          }
          if (close && thought) {
            // The budget is spent: close the thought for the model and go on with the answer.
            phase = 'answer';
            inserted += thought.suffixTokens.length;
            out.push(...thought.suffixTokens);
            const next = [token, ...thought.suffixTokens];
            if (grammarState) {
              await iterator.return();
              iterator = evaluate(next);
            } else {
              replacement = next;
            }
          } else if (closed && grammarState) {
            await iterator.return();
            iterator = evaluate([token]);
          }
        }
      } finally {
        await iterator.return();
      }
      if (signal?.aborted) throw signal.reason;
      if (phase === 'lead' && lead) {
        const shown = answerPiece(lead);
        if (shown) yield { type: 'text-delta', text: shown };
      }

      const usage: Usage = {
        inputTokens: prompt.length + inserted,
        outputTokens: generated,
        cachedInputTokens: cached,
        cacheWriteTokens: 0,
        reasoningTokens: reasoning,
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

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
    const { thought } = this;
    const tools = request.purpose === 'compaction' ? [] : request.tools;
    const plan = this.#plan(request, tools);
    const { prompt, maxTokens, budget } = plan;
    const grammar =
      tools.length > 0 ? await this.loaded.grammarFor(responseSchema(tools)) : undefined;
    const { LlamaGrammarEvaluationState } = await nodeLlamaCpp();
    const lease = await this.loaded.acquire(signal);
    try {
      const sequence = lease.sequence;
      const cached = await reusePrefix(sequence, prompt);
      const grammarState: LlamaGrammarEvaluationState | undefined = grammar
        ? new LlamaGrammarEvaluationState({ model, grammar })
        : undefined;
      const reply = new GeneratedReply(plan.phase, thought, plan.stops, grammar !== undefined);
      const sampling = samplingOf(request);
      // The answer's grammar holds from the answer's first token: after the thought, if any.
      const evaluate = (tokens: Token[]) =>
        sequence.evaluate(tokens, {
          ...sampling,
          ...(grammarState && reply.phase === 'answer'
            ? { grammarEvaluationState: grammarState }
            : {}),
        });

      const out: Token[] = [];
      let pending: Token[] = [];
      let inserted = 0;
      let generated = 0;
      let reasoning = 0;
      let stopReason: StopReason = 'end_turn';
      let iterator = evaluate(prompt.slice(cached));
      let replacement: Token[] | undefined;
      try {
        while (!reply.done) {
          const step = await iterator.next(replacement);
          replacement = undefined;
          if (step.done || signal?.aborted) break;
          const token = step.value;
          generated++;
          if (model.isEogToken(token)) break;
          if (reply.phase === 'thought') reasoning++;
          pending.push(token);
          const piece = model.detokenize(pending, thought !== undefined, out);
          // A character split over tokens shows as U+FFFD until its last byte comes (unless
          // the thought's budget is spent: then it is closed at this token).
          const split = piece.endsWith('\uFFFD') && pending.length < 4;
          if (split && generated < maxTokens && !(reply.phase === 'thought' && reasoning >= budget))
            continue;
          out.push(...pending);
          pending = [];

          const shown = reply.take(piece, reasoning >= budget, generated >= maxTokens);
          if (shown) yield { type: 'text-delta', text: shown };
          if (reply.done) break;
          if (generated >= maxTokens) {
            stopReason = 'max_tokens';
            break;
          }
          if (reply.close && thought) {
            // The budget is spent: close the thought for the model and go on with the answer.
            reply.phase = 'answer';
            inserted += thought.suffixTokens.length;
            out.push(...thought.suffixTokens);
            const next = [token, ...thought.suffixTokens];
            if (grammarState) {
              await iterator.return();
              iterator = evaluate(next);
            } else {
              replacement = next;
            }
          } else if (reply.closed && grammarState) {
            await iterator.return();
            iterator = evaluate([token]);
          }
        }
      } finally {
        await iterator.return();
      }
      if (signal?.aborted) throw signal.reason;
      const rest = reply.flushLead();
      if (rest) yield { type: 'text-delta', text: rest };

      const usage: Usage = {
        inputTokens: prompt.length + inserted,
        outputTokens: generated,
        cachedInputTokens: cached,
        cacheWriteTokens: 0,
        reasoningTokens: reasoning,
      };
      yield* finishParts(reply.text, grammar !== undefined, stopReason, usage);
    } finally {
      lease.release();
    }
  }

  /**
   * The prompt in the model's template, the room left for output, and the thinking budget.
   * With effort, the thought gets at most the effort's share of the output room; `minimal`
   * none. agentd opens the thought itself when effort asks for one (or node-llama-cpp would
   * for this template) and closes it when the budget is spent, as node-llama-cpp's LlamaChat does.
   */
  #plan(request: ModelRequest, tools: ModelRequest['tools']): PromptPlan {
    const { model } = this.loaded;
    const { chatWrapper, thought } = this;
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
    const effort = request.settings.effort;
    const budget = thought && effort ? thoughtBudget(effort, maxTokens) : Number.POSITIVE_INFINITY;
    let phase: Phase = 'answer';
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
    const stops = [
      ...stopGenerationTriggers.flatMap((t) => plainText(t.values)),
      ...(request.settings.stopSequences ?? []),
    ];
    return { prompt, maxTokens, budget, phase, stops };
  }
}

/** Where generation is: before it is clear whether a thought opens, in a thought, in the answer. */
type Phase = 'lead' | 'thought' | 'answer';

interface PromptPlan {
  prompt: Token[];
  /** The output room: at most the request's limit, never past the context. */
  maxTokens: number;
  /** Tokens the thought may take (infinite without effort). */
  budget: number;
  /** Where the first generated token is. */
  phase: Phase;
  /** Text that ends the answer: the template's triggers that are text, and the request's. */
  stops: string[];
}

function samplingOf(request: ModelRequest): { temperature?: number; topP?: number; seed?: number } {
  const { temperature, topP, seed } = request.settings;
  return {
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/**
 * The text of one generation as its pieces come: a lead held back until it is clear whether
 * the model opens a thought, the thought, and the answer (trimmed at its start, cut at a stop,
 * complete at the end of its JSON object under the grammar).
 */
class GeneratedReply {
  phase: Phase;
  /** The answer so far. */
  text = '';
  done = false;
  /** The last piece spent the thought's budget: the thought is to be closed. */
  close = false;
  /** The last piece closed the thought (the model wrote its end). */
  closed = false;
  #lead = '';
  #thinking = '';
  #trimStart: boolean;
  readonly #thought: ThoughtSegment | undefined;
  readonly #stops: readonly string[];
  readonly #grammar: boolean;
  readonly #answer: AnswerStream | undefined;

  constructor(
    phase: Phase,
    thought: ThoughtSegment | undefined,
    stops: readonly string[],
    grammar: boolean,
  ) {
    this.phase = phase;
    this.#thought = thought;
    this.#stops = stops;
    this.#grammar = grammar;
    this.#trimStart = thought !== undefined;
    this.#answer = grammar ? new AnswerStream() : undefined;
  }

  /** One decoded piece; returns the text to show, if any. */
  take(piece: string, budgetSpent: boolean, last: boolean): string | undefined {
    const thought = this.#thought;
    this.close = false;
    this.closed = false;
    if (this.phase === 'lead' && thought) {
      this.#lead += piece;
      const start = this.#lead.trimStart();
      if (start.startsWith(thought.prefix)) {
        this.phase = 'thought';
        this.#thinking = start.slice(thought.prefix.length);
        this.close = budgetSpent;
      } else if (!thought.prefix.startsWith(start) || last) {
        this.phase = 'answer';
        return this.#answerPiece(this.#lead);
      }
      return undefined;
    }
    if (this.phase === 'thought' && thought) {
      this.#thinking += piece;
      const end = this.#thinking.indexOf(thought.suffix);
      if (end >= 0) {
        this.phase = 'answer';
        this.closed = true;
        return this.#answerPiece(this.#thinking.slice(end + thought.suffix.length));
      }
      this.close = budgetSpent;
      return undefined;
    }
    return this.#answerPiece(piece);
  }

  /** A lead still held back when generation ended is the answer. */
  flushLead(): string | undefined {
    return this.phase === 'lead' && this.#lead ? this.#answerPiece(this.#lead) : undefined;
  }

  /** Answer text as it comes: the delta to show; sets `done` when a stop was reached. */
  #answerPiece(piece: string): string | undefined {
    if (this.#trimStart) {
      piece = piece.trimStart();
      if (!piece) return undefined;
      this.#trimStart = false;
    }
    const before = this.text.length;
    this.text += piece;
    const stop = firstStop(this.text, this.#stops, before);
    if (stop !== undefined) this.text = this.text.slice(0, stop);
    const delta = this.text.slice(before);
    if (stop !== undefined) this.done = true;
    // The grammar lets whitespace follow the object; the answer is complete at its end.
    else if (
      this.#grammar &&
      delta.trimEnd().endsWith('}') &&
      parseResponse(this.text).kind !== 'incomplete'
    ) {
      this.done = true;
    }
    if (!delta) return undefined;
    return this.#answer ? this.#answer.push(delta) || undefined : delta;
  }
}

/** The end of a reply: the tool calls of a grammar answer, then `finish`. */
function* finishParts(
  text: string,
  withGrammar: boolean,
  stopReason: StopReason,
  usage: Usage,
): Iterable<ModelStreamPart> {
  if (withGrammar) {
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

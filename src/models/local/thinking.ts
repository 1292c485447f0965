import type { ChatWrapper, LlamaModel, LlamaText, Token } from 'node-llama-cpp';
import type { EffortLevel } from '../catalog.ts';

/**
 * The share of a generation's output room (`max_output_tokens`, or the context left after the
 * prompt) a thought may take, by effort level: `minimal` does not think, `max` may think until
 * the room is spent.
 */
export const thoughtShare: Readonly<Record<EffortLevel, number>> = {
  minimal: 0,
  low: 0.2,
  medium: 0.5,
  high: 0.8,
  xhigh: 0.9,
  max: 1,
};

/** Thought tokens allowed for an effort level in a generation of `room` output tokens. */
export function thoughtBudget(effort: EffortLevel, room: number): number {
  return Math.floor(room * thoughtShare[effort]);
}

/**
 * How a chat template marks the model's thinking (node-llama-cpp's `settings.segments.thought`),
 * as tokens to insert and text to look for in what the model writes.
 */
export interface ThoughtSegment {
  /** The template itself opens the thought at the start of every response. */
  openedOnStart: boolean;
  /** node-llama-cpp opens the thought at the start of a response for this template. */
  openOnResponseStart: boolean;
  /** What opens a thought (empty when the template opens it). */
  prefix: string;
  prefixTokens: Token[];
  /** What closes a thought. */
  suffix: string;
  suffixTokens: Token[];
}

/** The thought segment of a chat wrapper, or undefined when its template has none to budget. */
export function thoughtSegment(
  wrapper: ChatWrapper,
  model: LlamaModel,
): ThoughtSegment | undefined {
  const thought = wrapper.settings.segments?.thought;
  if (!thought?.suffix) return undefined;
  const suffixTokens = tokens(thought.suffix, model);
  if (suffixTokens.length === 0) return undefined;
  const prefix = thought.prefix;
  const openedOnStart =
    typeof prefix === 'object' && 'type' in prefix && prefix.type === 'openedOnStart';
  const prefixTokens = openedOnStart ? [] : tokens(prefix as string | LlamaText, model);
  if (!openedOnStart && prefixTokens.length === 0) return undefined;
  return {
    openedOnStart,
    openOnResponseStart: thought.openOnResponseStart === true,
    prefix: model.detokenize(prefixTokens, true),
    prefixTokens,
    suffix: model.detokenize(suffixTokens, true),
    suffixTokens,
  };
}

/** The chat template in words, for messages: the GGUF's own, or node-llama-cpp's wrapper. */
export function describeTemplate(wrapper: ChatWrapper): string {
  return wrapper.wrapperName === 'JinjaTemplate'
    ? "the GGUF's own Jinja chat template"
    : `node-llama-cpp's ${wrapper.wrapperName} chat template`;
}

function tokens(text: string | LlamaText, model: LlamaModel): Token[] {
  return typeof text === 'string' ? model.tokenize(text, false) : text.tokenize(model.tokenizer);
}

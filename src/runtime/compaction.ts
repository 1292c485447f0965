import type { ContextCompactedData, PinnedResult } from '../core/events.ts';
import { type Message, resultText } from '../core/messages.ts';
import { pinnedText, type RunState } from '../core/run-state.ts';
import { messageTokens } from '../core/tokens.ts';
import { type Usage, zeroUsage } from '../core/usage.ts';
import { costOf } from '../models/catalog.ts';
import { type Model, ModelCallError, modelRef } from '../models/model.ts';
import { type RetryPolicy, streamWithRetry } from '../models/retry.ts';

export interface CompactionSettings {
  /** Compact when the context passes this share of the window (default 0.8). */
  threshold: number;
  /** Turns (a model answer and its tool results) kept verbatim at the end (default 3). */
  keepRecentTurns: number;
  /** Overrides the catalog's context window (and gives one to models it does not know). */
  contextWindow?: number;
  /** Writes the summaries; the agent's own model when unset. */
  model?: Model;
  /** Off: never compact (a run that outgrows the window fails at the provider). */
  enabled: boolean;
  /**
   * `runtime`: agentd summarizes (any model). `provider`: the provider compacts server-side
   * (Anthropic compact_20260112, OpenAI Responses compaction) where the catalog says the model
   * can, runtime otherwise. `auto`: the same as provider.
   */
  mode: 'runtime' | 'provider' | 'auto';
  /**
   * Tools (as the model calls them) whose latest result stays verbatim through compaction,
   * beside the summary: a plan, the last failing test output.
   */
  pin?: readonly string[];
}

export const defaultCompaction: CompactionSettings = {
  threshold: 0.8,
  keepRecentTurns: 3,
  enabled: true,
  mode: 'runtime',
};

/** Anthropic will not compact below this many input tokens. */
const anthropicMinimumTrigger = 50_000;

/**
 * The input-token count at which the provider should compact server-side, or undefined when
 * this model compacts at the runtime instead.
 */
export function providerTrigger(
  settings: CompactionSettings,
  model: Model,
  window: number | undefined,
): number | undefined {
  if (!settings.enabled || settings.mode === 'runtime' || !window) return undefined;
  if (!model.serverCompaction) return undefined;
  // `auto` goes by the catalog; `provider` was asked for by name: tried wherever the API has it.
  if (settings.mode === 'auto' && !model.entry?.providerCompaction) return undefined;
  const trigger = Math.floor(settings.threshold * window);
  return model.provider === 'anthropic' ? Math.max(anthropicMinimumTrigger, trigger) : trigger;
}

/** The instructions the summarizing model gets. Versioned with agentd; recorded as text in the log. */
export const compactionInstructions = `You compact the context of a long-running agent. You are given the earlier part of its conversation (and any summary written before). Write a summary the agent can continue from without it, in these sections, brief and specific:
## Goal
## Plan and status (done, remaining, next)
## Decisions (and why)
## Open questions
## Key facts and identifiers (files, commands, ids, names, numbers: exact)
## Tried and failed
Keep identifiers exactly as written. Do not invent anything. Do not address anyone.`;

/**
 * Tokens the next request would take: the provider's last count, plus an estimate of the
 * messages since, scaled by `ratio` (what the provider counted per estimated token so far).
 */
export function contextTokens(state: RunState, overhead: number, ratio = 1): number {
  const { tokens } = state.context;
  return (tokens || overhead) + Math.round(ratio * unmeasuredTokens(state));
}

/** The raw estimate of the messages the provider has not counted yet. */
export function unmeasuredTokens(state: RunState): number {
  const { tokens, measuredAt } = state.context;
  let total = 0;
  for (let i = tokens ? measuredAt : 0; i < state.messages.length; i++)
    total += messageTokens(state.messages[i]!);
  return total;
}

/**
 * Calibrates the estimate against the provider's count: after a response, the tokens the
 * provider counted beyond its previous count, per token the estimate gave those messages.
 * Smoothed, and bounded so one odd response cannot skew it far.
 */
export function calibrate(ratio: number, estimated: number, counted: number): number {
  if (estimated < 256 || counted <= 0) return ratio;
  const observed = counted / estimated;
  return Math.min(4, Math.max(0.25, 0.7 * ratio + 0.3 * observed));
}

/**
 * How many messages after the pinned task to replace by a summary: everything before the
 * last `keep` turns. The kept part starts at a model answer, so no tool result loses the call
 * it answers. Zero when there is nothing old enough to take out.
 */
export function messagesToCompact(messages: readonly Message[], keep: number): number {
  let assistants = 0;
  for (let i = messages.length - 1; i >= 1; i--) {
    if (messages[i]!.role === 'assistant' && ++assistants === keep) return i - 1;
  }
  return 0;
}

/** The part of the conversation to summarize, as plain text for the summarizing model. */
export function transcript(
  task: string,
  firstMessage: string,
  messages: readonly Message[],
): string {
  const lines: string[] = [];
  const earlier = firstMessage.slice(task.length).trim();
  lines.push(`[task] ${task}`);
  if (earlier) lines.push(`[earlier summary]\n${earlier}`);
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        lines.push(`[user] ${message.text}`);
        break;
      case 'assistant':
        if (message.text.trim()) lines.push(`[assistant] ${message.text}`);
        for (const call of message.toolCalls)
          lines.push(`[assistant calls ${call.name}] ${clip(JSON.stringify(call.input), 1000)}`);
        break;
      case 'tool':
        for (const r of message.results) {
          lines.push(
            `[${r.name} ${r.isError ? 'error' : 'result'}] ${clip(resultText(r.output), 2000)}`,
          );
        }
        break;
    }
  }
  return lines.join('\n');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/**
 * Writes the summary that replaces the older turns. Throws a ModelCallError when the
 * summarizing model fails (after its retries).
 */
export async function summarize(options: {
  state: RunState;
  removed: number;
  model: Model;
  turn: number;
  signal: AbortSignal;
  retryPolicy?: RetryPolicy;
}): Promise<Pick<ContextCompactedData, 'summary' | 'model' | 'usage' | 'costUsd' | 'durationMs'>> {
  const { state, removed, model } = options;
  const text = transcript(
    pinnedText(state),
    (state.messages[0] as { text?: string }).text ?? state.task,
    state.messages.slice(1, 1 + removed),
  );
  const started = performance.now();
  let summary = '';
  let usage: Usage = zeroUsage;
  const stream = streamWithRetry(
    model,
    {
      instructions: compactionInstructions,
      messages: [{ role: 'user', text }],
      tools: [],
      settings: {},
      turn: options.turn,
      purpose: 'compaction',
    },
    { signal: options.signal, ...(options.retryPolicy ? { policy: options.retryPolicy } : {}) },
  );
  for await (const part of stream) {
    if (part.type === 'text-delta') summary += part.text;
    else if (part.type === 'retry') summary = '';
    else if (part.type === 'finish') usage = part.usage;
  }
  if (!summary.trim()) {
    throw new ModelCallError(`${modelRef(model)} returned an empty summary`, { retryable: false });
  }
  return {
    summary: summary.trim(),
    model: modelRef(model),
    usage,
    costUsd: costOf(usage, model.entry?.pricing),
    durationMs: Math.round(performance.now() - started),
  };
}

/** The most characters of one pinned result kept (its end is cut, and says so). */
const maxPinnedChars = 6_000;

/**
 * What a compaction that takes out `removed` messages keeps verbatim: for each pinned tool,
 * its latest result among them, or else what an earlier compaction pinned; nothing for a tool
 * whose newer result is still in the context (the model sees it there).
 */
export function pinnedResults(
  state: Pick<RunState, 'messages' | 'pinnedResults'>,
  removed: number,
  pin: readonly string[],
): PinnedResult[] {
  const latest = (messages: readonly Message[], name: string) => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i]!;
      if (m.role !== 'tool') continue;
      const found = m.results.findLast((r) => r.name === name);
      if (found) return found;
    }
    return undefined;
  };
  const leaving = state.messages.slice(1, 1 + removed);
  const staying = state.messages.slice(1 + removed);
  const out: PinnedResult[] = [];
  for (const name of pin) {
    if (latest(staying, name)) continue;
    const result = latest(leaving, name);
    const text = result ? clip(resultText(result.output), maxPinnedChars) : undefined;
    const earlier = state.pinnedResults.find((p) => p.name === name);
    if (text !== undefined) out.push({ name, text });
    else if (earlier) out.push(earlier);
  }
  return out;
}

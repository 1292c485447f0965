import type { BudgetName, BudgetWarningData, FinishReason, Limits } from '../core/events.ts';
import { resultText } from '../core/messages.ts';
import type { RunState } from '../core/run-state.ts';

export interface BudgetUse {
  budget: BudgetName;
  used: number;
  limit: number;
}

export const budgetReasons: Record<BudgetName, FinishReason> = {
  turns: 'max_turns',
  tokens: 'max_tokens',
  cost: 'max_cost',
  time: 'max_time',
};

const limitNames: Record<BudgetName, string> = {
  turns: 'max_turns',
  tokens: 'max_tokens',
  cost: 'max_cost_usd',
  time: 'max_time',
};

/** Each set budget with what the run has used of it, `nowMs` being the current time. */
export function budgetUse(state: RunState, limits: Limits, nowMs: number): BudgetUse[] {
  const out: BudgetUse[] = [{ budget: 'turns', used: state.turns, limit: limits.maxTurns }];
  if (limits.maxTokens !== undefined) {
    out.push({
      budget: 'tokens',
      used: state.usage.inputTokens + state.usage.outputTokens,
      limit: limits.maxTokens,
    });
  }
  if (limits.maxCostUsd !== undefined) {
    out.push({ budget: 'cost', used: state.costUsd, limit: limits.maxCostUsd });
  }
  if (limits.maxTimeMs !== undefined) {
    const live = state.lastEventAt ? Math.max(0, nowMs - Date.parse(state.lastEventAt)) : 0;
    out.push({ budget: 'time', used: state.activeMs + live, limit: limits.maxTimeMs });
  }
  return out;
}

/** The first budget used up, if any. */
export function exhausted(uses: readonly BudgetUse[]): BudgetUse | undefined {
  return uses.find((u) => u.used >= u.limit);
}

/** Budgets past 80% that have not had their warning yet. */
export function dueWarnings(state: RunState, uses: readonly BudgetUse[]): BudgetWarningData[] {
  return uses.filter((u) => u.used >= 0.8 * u.limit && !state.budgetWarnings.has(u.budget));
}

export function describeUse(use: { budget: BudgetName; used: number; limit: number }): string {
  switch (use.budget) {
    case 'turns':
      return `${use.used} of ${use.limit} turns`;
    case 'tokens':
      return `${Math.round(use.used).toLocaleString('en-US')} of ${use.limit.toLocaleString('en-US')} tokens`;
    case 'cost':
      return `$${use.used.toFixed(4)} of $${use.limit}`;
    case 'time':
      return `${(use.used / 1000).toFixed(1)} s of ${(use.limit / 1000).toFixed(1)} s`;
  }
}

/** One line: which budget stopped the run, and how to let it go further. */
export function exceededDetail(use: BudgetUse): string {
  return `reached limits.${limitNames[use.budget]} (${describeUse(use)}); raise it and resume the run (agentd runs resume) to let the agent go on`;
}

/**
 * Where a run stands when a budget stops it: what it did, what it last said, what it was
 * about to do. Written from the log, so it costs nothing more.
 */
export function progressSummary(state: RunState, unrun: readonly string[]): string {
  const parts = [
    `${state.turns} turn${state.turns === 1 ? '' : 's'}, ${state.toolCalls} tool call${state.toolCalls === 1 ? '' : 's'}${state.toolErrors ? ` (${state.toolErrors} failed)` : ''}.`,
  ];
  const lastText = state.messages.findLast((m) => m.role === 'assistant' && m.text.trim());
  if (lastText?.role === 'assistant')
    parts.push(`Last message from the agent: ${clip(lastText.text, 400)}`);
  const lastTool = state.messages.findLast((m) => m.role === 'tool');
  if (lastTool?.role === 'tool') {
    const r = lastTool.results.at(-1)!;
    parts.push(`Last tool result (${r.name}): ${clip(resultText(r.output), 200)}`);
  }
  if (unrun.length) parts.push(`Not run: ${unrun.join(', ')}.`);
  return parts.join('\n');
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

import type { BudgetName, RunEvent } from '../core/events.ts';
import { describeUse } from '../runtime/budgets.ts';
import type { TeamBudget, TeamEvent } from '../store/team-store.ts';

/** What a team has used: the sum over every member's runs, and the team's active time. */
export interface TeamUsage {
  turns: number;
  tokens: number;
  costUsd: number;
  /** False when some response had no known price. */
  costKnown: boolean;
  activeMs: number;
}

interface RunUse {
  turns: number;
  tokens: number;
  costUsd: number;
  costKnown: boolean;
}

/**
 * Counts what the runs of a team use, from their events: turns from `model.request`, tokens
 * and cost from responses and compactions. Fed a run's whole log on resume, then its events
 * as they are appended.
 */
export class TeamMeter {
  readonly #runs = new Map<string, RunUse>();

  add(event: RunEvent): void {
    let use = this.#runs.get(event.runId);
    if (!use) {
      use = { turns: 0, tokens: 0, costUsd: 0, costKnown: true };
      this.#runs.set(event.runId, use);
    }
    switch (event.type) {
      case 'model.request':
        use.turns = Math.max(use.turns, event.data.turn);
        return;
      case 'model.response':
      case 'context.compacted': {
        const d = event.data;
        use.tokens += d.usage.inputTokens + d.usage.outputTokens;
        if (d.costUsd === null) use.costKnown = false;
        else use.costUsd += d.costUsd;
        return;
      }
      default:
        return;
    }
  }

  usage(activeMs: number): TeamUsage {
    const out: TeamUsage = { turns: 0, tokens: 0, costUsd: 0, costKnown: true, activeMs };
    for (const use of this.#runs.values()) {
      out.turns += use.turns;
      out.tokens += use.tokens;
      out.costUsd += use.costUsd;
      if (!use.costKnown) out.costKnown = false;
    }
    return out;
  }
}

const fields: Record<BudgetName, string> = {
  turns: 'max_turns',
  tokens: 'max_tokens',
  cost: 'max_cost_usd',
  time: 'max_time',
};

/** The first team budget used up, as one line saying what to do; undefined while none is. */
export function teamBudgetExceeded(
  budget: TeamBudget,
  usage: TeamUsage,
  teamId: string,
): string | undefined {
  const uses: { budget: BudgetName; used: number; limit: number | undefined }[] = [
    { budget: 'turns', used: usage.turns, limit: budget.maxTurns },
    { budget: 'tokens', used: usage.tokens, limit: budget.maxTokens },
    { budget: 'cost', used: usage.costUsd, limit: budget.maxCostUsd },
    { budget: 'time', used: usage.activeMs, limit: budget.maxTimeMs },
  ];
  // Turns are counted as model calls are made: the budget is spent when one more is asked for.
  const over = uses.find(
    (u) => u.limit !== undefined && (u.budget === 'turns' ? u.used > u.limit : u.used >= u.limit),
  );
  if (!over) return undefined;
  const limit = over.limit!;
  const used = over.budget === 'turns' ? limit : over.used;
  const flag = `--${fields[over.budget].replaceAll('_', '-')}`;
  return `the team reached budget.${fields[over.budget]} (${describeUse({ budget: over.budget, used, limit })}); raise it and resume the team (agentd team resume ${teamId} ${flag} ...) to let it go on`;
}

/**
 * The team's active time before this session, from its log: each session runs from its
 * `team.started` or `team.resumed` to its last entry.
 */
export function priorActiveMs(events: readonly TeamEvent[]): number {
  let total = 0;
  let start: number | undefined;
  let last: number | undefined;
  for (const event of events) {
    const at = Date.parse(event.at);
    if (event.type === 'team.started' || event.type === 'team.resumed') {
      if (start !== undefined && last !== undefined) total += Math.max(0, last - start);
      start = at;
    }
    last = at;
  }
  if (start !== undefined && last !== undefined) total += Math.max(0, last - start);
  return total;
}

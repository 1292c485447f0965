import type { NewEvent } from '../core/events.ts';
import {
  budgetReasons,
  budgetUse,
  dueWarnings,
  exceededDetail,
  exhausted,
  progressSummary,
} from './budgets.ts';
import { finish } from './finish.ts';
import type { Loop, RunResult } from './loop-context.ts';

/**
 * Warns at 80% of each budget (`budget.warning`, once per budget); stops the run
 * (`budget_exceeded`, with a summary of where it stands) when one is used up. The turn budget
 * counts only before work that leads to another turn: calls not yet run (`unrun`, their names)
 * or a new model call (`newTurn`). Undefined when the run may go on.
 */
export async function checkBudgets(
  loop: Loop,
  unrun: readonly string[],
  newTurn: boolean,
): Promise<RunResult | undefined> {
  const { state } = loop;
  const uses = budgetUse(state, state.limits, loop.now());
  const warnings = dueWarnings(state, uses);
  if (warnings.length)
    await loop.log.append(...warnings.map((data): NewEvent => ({ type: 'budget.warning', data })));
  const over = exhausted(uses.filter((u) => u.budget !== 'turns' || newTurn || unrun.length > 0));
  if (!over) return undefined;
  return finish(loop, 'budget_exceeded', budgetReasons[over.budget], {
    detail: exceededDetail(over),
    summary: progressSummary(state, unrun),
  });
}

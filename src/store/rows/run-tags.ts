import { AgentdError } from '../../core/errors.ts';
import type { RunEvent } from '../../core/events.ts';
import { checkTags, maxTagsPerRun } from '../../core/run-tags.ts';

/**
 * Checks the tags an append sets (`run.started`) or changes (`run.tagged`), the same in every
 * store, before anything is written; returns the runs whose tag count must be checked once
 * the change is in (the `run_tags` index is kept by a trigger).
 */
export function checkTagEvents(events: readonly RunEvent[]): string[] {
  const changed = new Set<string>();
  for (const event of events) {
    if (event.type === 'run.started' && event.data.tags) {
      checkTags(event.data.tags, `run ${event.runId}`);
    }
    if (event.type === 'run.tagged') {
      checkTags(event.data.added, `run ${event.runId}`);
      checkTags(event.data.removed, `run ${event.runId}`);
      changed.add(event.runId);
    }
  }
  return [...changed];
}

/** The one line for a run a change would leave with too many tags. */
export function tooManyTags(runId: string, count: number): AgentdError {
  return new AgentdError(
    'tag_invalid',
    `run ${runId} would have ${count} tags; a run has at most ${maxTagsPerRun} (take some off first: agentd runs untag ${runId} <tag>...)`,
  );
}

import { AgentdError } from '../core/errors.ts';
import type { RunTaggedData } from '../core/events.ts';
import { foldRun } from '../core/run-state.ts';
import { applyTagChange, checkTags, maxTagsPerRun } from '../core/run-tags.ts';
import type { Store } from '../store/store.ts';
import { leaseIsLive, thisProcess } from './run-lease.ts';

export interface TagChange {
  add?: readonly string[];
  remove?: readonly string[];
  /** Who makes the change (the user, an API key's name): recorded with it. */
  by: string;
}

/**
 * Puts tags on a run or takes them off after it started, as a `run.tagged` event in its log
 * (exports and replays see it). The event is appended under the run's lease, so it never
 * takes a place (`seq`) a driver of the run is about to write: a run a live process drives
 * (even this one) is refused in one line, to be tagged once it stops. Returns the run's tags
 * after the change; a change that changes nothing appends nothing.
 */
export async function tagRun(store: Store, runId: string, change: TagChange): Promise<string[]> {
  const add = checkTags(change.add ?? [], 'tag');
  const remove = checkTags(change.remove ?? [], 'untag');
  if ((await store.getRun(runId))?.id !== runId) {
    throw new AgentdError('run_not_found', `no run "${runId}": see agentd runs list`);
  }
  const current = await store.getLease(runId);
  if (current && leaseIsLive(current)) {
    throw new AgentdError(
      'run_busy',
      `run ${runId} is being run by process ${current.owner === thisProcess ? `${current.owner} (this one)` : current.owner}; change its tags once it stops (or give them when it starts: agentd run --tag)`,
    );
  }
  const at = new Date().toISOString();
  const lease = await store.claimLease(runId, thisProcess, current?.owner ?? null, at);
  if (!lease) {
    throw new AgentdError(
      'run_busy',
      `run ${runId} was taken by another process at the same moment; try again once it stops`,
    );
  }
  try {
    const state = foldRun(runId, await store.readEvents(runId));
    const have = new Set(state.tags);
    const data: RunTaggedData = {
      added: add.filter((tag) => !have.has(tag)),
      removed: remove.filter((tag) => have.has(tag) && !add.includes(tag)),
      by: change.by,
    };
    const after = applyTagChange(state.tags, data);
    if (data.added.length === 0 && data.removed.length === 0) return after;
    if (after.length > maxTagsPerRun) {
      throw new AgentdError(
        'tag_invalid',
        `run ${runId} would have ${after.length} tags; a run has at most ${maxTagsPerRun} (take some off first: agentd runs untag ${runId} <tag>...)`,
      );
    }
    await store.append([{ type: 'run.tagged', runId, seq: state.lastSeq + 1, at, data }], {
      owner: lease.owner,
      generation: lease.generation,
    });
    return after;
  } finally {
    await store.releaseLease(runId, thisProcess);
  }
}

import type { EventOf, RunEvent } from '../core/events.ts';
import type { Store } from '../store/store.ts';
import type { RunTraceContext } from './run-spans.ts';
import { parseTraceparent, spanIdOf, traceIdOf } from './trace-ids.ts';

/**
 * Where a run's spans belong, from its `run.started` event: the trace of the caller that
 * started it (its recorded `traceparent`), else its parent run's trace under the parent's
 * first span (team members, sub-agents), else a trace of its own.
 */
export async function traceContextOf(
  store: Pick<Store, 'readEvents'>,
  started: EventOf<'run.started'>,
  seen: ReadonlySet<string> = new Set(),
): Promise<RunTraceContext> {
  const caller = parseTraceparent(started.data.traceparent);
  if (caller) {
    return {
      traceId: caller.traceId,
      parent: { spanId: caller.spanId, remote: true },
      sampled: caller.sampled,
    };
  }
  const parentId = started.data.parentRunId;
  if (parentId && !seen.has(parentId)) {
    const [first] = await store.readEvents(parentId, { limit: 1 });
    if (first?.type === 'run.started') {
      const parent = await traceContextOf(store, first, new Set([...seen, started.runId]));
      return {
        traceId: parent.traceId,
        parent: { spanId: spanIdOf(parentId, first.seq), remote: false },
        sampled: parent.sampled,
      };
    }
  }
  return { traceId: traceIdOf(started.runId), sampled: true };
}

/** The context when nothing needs reading: no caller's, no parent run. */
export function ownTraceContext(started: RunEvent): RunTraceContext | undefined {
  if (started.type !== 'run.started') return undefined;
  if (started.data.traceparent || started.data.parentRunId) return undefined;
  return { traceId: traceIdOf(started.runId), sampled: true };
}

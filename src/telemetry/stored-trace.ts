import type { Store } from '../store/store.ts';
import { type RunSpanOptions, RunSpans } from './run-spans.ts';
import type { SpanRecord } from './span-record.ts';
import { traceContextOf } from './trace-context.ts';

/**
 * The spans of a stored run and of the runs under it (team members, sub-agents), built from
 * their logs with the same rules as the live export, so the ids, times and attributes are
 * the ones exported while the runs ran. `isRunning` says which runs a live process still
 * drives: their open spans stay out; other runs' open spans end at their last event, marked
 * interrupted (a crash nobody resumed).
 */
export async function storedTrace(
  store: Pick<Store, 'readEvents' | 'listRuns'>,
  runId: string,
  options: RunSpanOptions & { isRunning: (runId: string) => Promise<boolean> },
): Promise<{ traceId: string; runs: string[]; spans: SpanRecord[] }> {
  const runs = [runId];
  const children = new Map<string, string[]>();
  for (const run of await store.listRuns({ limit: 1_000_000 })) {
    if (run.parentRunId)
      children.set(run.parentRunId, [...(children.get(run.parentRunId) ?? []), run.id]);
  }
  for (let i = 0; i < runs.length; i++) runs.push(...(children.get(runs[i]!) ?? []).reverse());
  const spans: SpanRecord[] = [];
  let traceId = '';
  for (const id of runs) {
    const events = await store.readEvents(id);
    const started = events[0];
    if (started?.type !== 'run.started') continue;
    const builder = new RunSpans(id, await traceContextOf(store, started), options);
    if (id === runId) traceId = builder.context.traceId;
    for (const event of events) spans.push(...builder.add(event));
    if (!(await options.isRunning(id))) spans.push(...builder.closeOpen());
  }
  return { traceId, runs, spans };
}

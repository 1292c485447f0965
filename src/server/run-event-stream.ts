import type { SSEStreamingApi } from 'hono/streaming';
import type { Store } from '../store/store.ts';
import type { RunManager } from './run-manager.ts';

/** How long a quiet event stream waits before sending a keep-alive comment. */
const keepAliveMs = 15_000;

/**
 * Writes a run's events after seq `after` to a Server-Sent Events stream (id: seq, event:
 * type), then each new one as it is appended, until the run stops (a run waiting for an
 * approval has not), the client goes or the server closes. News wakes the loop: this
 * server's runs, a store that tells of appends (Postgres); otherwise it looks again each
 * second (runs driven by another process on SQLite).
 */
export async function streamRunEvents(
  stream: SSEStreamingApi,
  runId: string,
  after: number,
  store: Store,
  manager: RunManager,
): Promise<void> {
  let wake: (() => void) | undefined;
  // Set by anything that happens while the loop is busy, so no news waits for a timer.
  let dirty = false;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const onEvent = (event: { runId: string }) => {
    if (event.runId === runId) poke();
  };
  const onStopped = (id: string) => {
    if (id === runId) poke();
  };
  manager.events.on('event', onEvent);
  manager.events.on('stopped', onStopped);
  manager.events.on('closing', poke);
  stream.onAbort(poke);
  // Runs driven elsewhere (workers): a store that tells of appends (Postgres) says when.
  const unsubscribe = await store
    .subscribe?.('events', (id) => {
      if (id === runId) poke();
    })
    .catch(() => undefined);
  try {
    while (!stream.aborted) {
      dirty = false;
      const events = await store.readEvents(runId, { afterSeq: after, limit: 500 });
      for (const event of events) {
        await stream.writeSSE({
          id: String(event.seq),
          event: event.type,
          data: JSON.stringify(event),
        });
        after = event.seq;
      }
      if (events.length === 500) {
        // let the page just written reach the socket before reading the next one
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (manager.closing) break;
      const active = manager.isActive(runId);
      const latest = await store.getRun(runId);
      // A run waiting for approval is still going: its stream stays open for the answer.
      const going = latest?.status === 'running' || latest?.status === 'awaiting_approval';
      if (!active && !going) break;
      if (dirty) continue;
      // Another process may be driving the run: look again now and then (SQLite).
      const told = active || unsubscribe !== undefined;
      const waited = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), told ? keepAliveMs : 1000);
        wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      wake = undefined;
      if (!waited && told) await stream.write(': keep-alive\n\n');
    }
  } finally {
    unsubscribe?.();
    manager.events.off('event', onEvent);
    manager.events.off('stopped', onStopped);
    manager.events.off('closing', poke);
  }
}

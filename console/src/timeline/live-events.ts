import { useEffect, useRef, useState } from 'react';
import type { RunEvent } from '../api/client';

/** Every event type a run's stream sends (its SSE `event:` names). */
export const eventTypes = [
  'run.started',
  'model.request',
  'model.retry',
  'model.response',
  'tool.call',
  'tool.progress',
  'tool.result',
  'policy.decision',
  'run.error',
  'run.resumed',
  'context.compacted',
  'run.needs_attention',
  'run.suspended',
  'approval.requested',
  'approval.answered',
  'budget.warning',
  'run.finished',
] as const satisfies readonly RunEvent['type'][];

/**
 * A run's events, live: the stream (`GET /runs/{id}/events`) from the start, appended in
 * batches of one animation frame so a long log renders once, not once per event. The stream
 * closes when the run finishes (and the browser resumes it after a drop from the last event).
 */
export function useRunEvents(runId: string): { events: RunEvent[]; live: boolean } {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [live, setLive] = useState(true);
  const pending = useRef<RunEvent[]>([]);
  useEffect(() => {
    setEvents([]);
    setLive(true);
    pending.current = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending.current;
      pending.current = [];
      setEvents((now) => {
        const last = now.at(-1)?.seq ?? -1;
        const fresh = batch.filter((e) => e.seq > last);
        return fresh.length ? [...now, ...fresh] : now;
      });
    };
    const source = new EventSource(`/runs/${encodeURIComponent(runId)}/events`);
    const onEvent = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as RunEvent;
      pending.current.push(event);
      frame ||= requestAnimationFrame(flush);
      if (event.type === 'run.finished') {
        source.close();
        setLive(false);
      }
    };
    for (const type of eventTypes) source.addEventListener(type, onEvent);
    return () => {
      source.close();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [runId]);
  return { events, live };
}

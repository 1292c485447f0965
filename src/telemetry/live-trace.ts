import type { RunEvent } from '../core/events.ts';
import type { Store } from '../store/store.ts';
import { type RunSpanOptions, RunSpans } from './run-spans.ts';
import type { SpanRecord } from './span-record.ts';
import { ownTraceContext, traceContextOf } from './trace-context.ts';

/** Where spans go once built, and what metrics see. */
export interface SpanSink {
  spans(records: readonly SpanRecord[]): void;
  runStarted(event: RunEvent & { type: 'run.started' }): void;
}

interface RunEntry {
  spans?: RunSpans;
  /** Events waiting while the run's context or earlier log is read. */
  waiting: RunEvent[];
}

/**
 * Spans of the runs whose events this process makes durable, built as each append commits.
 * A run seen first in the middle (resumed by this process) has its earlier log read and
 * folded without exporting it: those spans were the earlier process's to send, and only
 * what that process left open is ended here. Nothing here is awaited by a run.
 */
export class LiveTrace {
  readonly #store: Pick<Store, 'readEvents'>;
  readonly #options: RunSpanOptions;
  readonly #sink: SpanSink;
  readonly #runs = new Map<string, RunEntry>();
  readonly #reading = new Set<Promise<void>>();
  /** Events made durable and not yet folded: spans are built after the append returns. */
  #pending: RunEvent[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  constructor(store: Pick<Store, 'readEvents'>, options: RunSpanOptions, sink: SpanSink) {
    this.#store = store;
    this.#options = options;
    this.#sink = sink;
  }

  /**
   * Events just made durable, in order. They are folded into spans once the run has moved on
   * (the next turn of the event loop), never on the append's path; a long burst with no turn
   * in between is folded when it reaches a bound.
   */
  observe(events: readonly RunEvent[]): void {
    for (const event of events) this.#pending.push(event);
    if (this.#pending.length >= 4096) this.#drain();
    else this.#scheduled ??= setImmediate(() => this.#drain());
  }

  #drain(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const events = this.#pending;
    this.#pending = [];
    for (const event of events) {
      const entry = this.#runs.get(event.runId);
      if (entry?.spans && entry.waiting.length === 0) this.#add(entry, entry.spans, event);
      else if (entry) entry.waiting.push(event);
      else this.#begin(event);
    }
  }

  /** The `traceparent` for an MCP call of a run this process is running. */
  traceparentOf(runId: string, callId: string): string | undefined {
    this.#drain();
    const spans = this.#runs.get(runId)?.spans;
    return spans?.context.sampled ? spans.traceparentOf(callId) : undefined;
  }

  /** Resolves once every log being read has been read and folded. */
  async idle(): Promise<void> {
    this.#drain();
    while (this.#reading.size > 0) await Promise.all(this.#reading);
  }

  #begin(event: RunEvent): void {
    const own = ownTraceContext(event);
    if (own) {
      const entry: RunEntry = { spans: new RunSpans(event.runId, own, this.#options), waiting: [] };
      this.#runs.set(event.runId, entry);
      this.#add(entry, entry.spans!, event);
      return;
    }
    const entry: RunEntry = { waiting: [event] };
    this.#runs.set(event.runId, entry);
    const reading = this.#read(event.runId, entry)
      .catch(() => {
        // An unreadable log gives no spans; the run itself is unaffected.
        this.#runs.delete(event.runId);
      })
      .finally(() => this.#reading.delete(reading));
    this.#reading.add(reading);
  }

  async #read(runId: string, entry: RunEntry): Promise<void> {
    const first = entry.waiting[0]!;
    const earlier = first.type === 'run.started' ? [first] : await this.#store.readEvents(runId);
    const started = earlier[0];
    if (started?.type !== 'run.started') throw new Error(`run ${runId} has no start`);
    const spans = new RunSpans(runId, await traceContextOf(this.#store, started), this.#options);
    // The log before this process's first event: folded, not exported.
    for (const event of earlier) if (event.seq < first.seq) spans.add(event);
    entry.spans = spans;
    const waiting = entry.waiting;
    entry.waiting = [];
    for (const event of waiting) this.#add(entry, spans, event);
  }

  #add(entry: RunEntry, spans: RunSpans, event: RunEvent): void {
    if (entry.spans !== spans) return;
    const ended = spans.add(event);
    if (event.type === 'run.started') this.#sink.runStarted(event);
    if (ended.length && spans.context.sampled) this.#sink.spans(ended);
    // A segment that ended leaves nothing open: a later resume reads the log again.
    if (
      event.type === 'run.finished' ||
      event.type === 'run.suspended' ||
      event.type === 'run.needs_attention'
    ) {
      this.#runs.delete(event.runId);
    }
  }
}

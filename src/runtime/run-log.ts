import type { NewEvent, RunEvent } from '../core/events.ts';
import { applyEvent, emptyRunState, type RunState } from '../core/run-state.ts';
import type { LeaseFence, Store } from '../store/store.ts';

/**
 * A run's log as the loop writes it: gives each event its place (`seq`), makes it durable in
 * the store, then folds it into the state the loop reads. Nothing the loop does is based on
 * an event that is not yet durable. Appends from parallel work (tool calls finishing at
 * once) are taken one at a time, so seqs stay dense and in the order events were made.
 */
export class RunLog {
  readonly runId: string;
  readonly state: RunState;
  readonly #store: Store;
  readonly #onEvent: ((event: RunEvent) => void) | undefined;
  readonly #now: () => Date;
  #tail: Promise<unknown> = Promise.resolve();
  /** The lease the appends are fenced by, once the run's driver holds one. */
  fence: LeaseFence | undefined;

  constructor(
    runId: string,
    store: Store,
    options: { onEvent?: (event: RunEvent) => void; now?: () => Date } = {},
  ) {
    this.runId = runId;
    this.state = emptyRunState(runId);
    this.#store = store;
    this.#onEvent = options.onEvent;
    this.#now = options.now ?? (() => new Date());
  }

  /** The log of a run already in the store, folded from its events, to append to. */
  static fromEvents(
    runId: string,
    store: Store,
    events: readonly RunEvent[],
    options: { onEvent?: (event: RunEvent) => void; now?: () => Date } = {},
  ): RunLog {
    const log = new RunLog(runId, store, options);
    for (const event of events) applyEvent(log.state, event);
    return log;
  }

  append(...events: NewEvent[]): Promise<RunEvent[]> {
    const next = this.#tail.then(() => this.#write(events));
    this.#tail = next.catch(() => undefined);
    return next;
  }

  async #write(events: NewEvent[]): Promise<RunEvent[]> {
    let seq = this.state.lastSeq;
    const at = this.#now().toISOString();
    const placed = events.map((e) => ({ ...e, runId: this.runId, seq: ++seq, at }) as RunEvent);
    await this.#store.append(placed, this.fence);
    for (const event of placed) {
      applyEvent(this.state, event);
      this.#onEvent?.(event);
    }
    return placed;
  }
}

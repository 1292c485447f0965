import type { RunEvent } from '../../src/core/events.ts';
import type { ListRunsOptions, RunLease, RunSummary, Store } from '../../src/store/store.ts';

/**
 * A store that dies after a given number of appends, as if the process were killed there:
 * that append and every later one fail, and nothing of them reaches the real store.
 */
export class DyingStore implements Store {
  readonly #store: Store;
  #appendsLeft: number;

  constructor(store: Store, appendsBeforeDeath: number) {
    this.#store = store;
    this.#appendsLeft = appendsBeforeDeath;
  }

  get dead(): boolean {
    return this.#appendsLeft <= 0;
  }

  append(events: readonly RunEvent[]): Promise<void> {
    if (this.#appendsLeft <= 0) return Promise.reject(new Error('the process died'));
    this.#appendsLeft--;
    return this.#store.append(events);
  }

  readEvents(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<RunEvent[]> {
    return this.#store.readEvents(runId, options);
  }
  getRun(idOrPrefix: string): Promise<RunSummary | undefined> {
    return this.#store.getRun(idOrPrefix);
  }
  listRuns(options?: ListRunsOptions): Promise<RunSummary[]> {
    return this.#store.listRuns(options);
  }
  getLease(runId: string): Promise<RunLease | undefined> {
    return this.#store.getLease(runId);
  }
  claimLease(
    runId: string,
    owner: string,
    expectedOwner: string | null,
    at: string,
  ): Promise<boolean> {
    return this.#store.claimLease(runId, owner, expectedOwner, at);
  }
  renewLease(runId: string, owner: string, at: string): Promise<void> {
    return this.#store.renewLease(runId, owner, at);
  }
  releaseLease(runId: string, owner: string): Promise<void> {
    return this.#store.releaseLease(runId, owner);
  }
  listLeases(): Promise<RunLease[]> {
    return this.#store.listLeases();
  }
  async close(): Promise<void> {}
}

import type { Store } from '../store/store.ts';
import type {
  ClaimRequest,
  NewTeamEvent,
  NewTeamTask,
  TaskChange,
  TeamEvent,
  TeamMessage,
  TeamTask,
} from '../store/team-store.ts';

/**
 * One team's task board and mailboxes over the store, for the process running the team:
 * every write goes to the store (durable, atomic) and then tells this process's listeners,
 * so a lead waiting on the board wakes at once instead of polling. Writes by other processes
 * are told by the store when it can (Postgres, NOTIFY), and found by re-reading it otherwise.
 */
export class TeamBoard {
  readonly teamId: string;
  readonly store: Store;
  readonly #listeners = new Set<(events: readonly TeamEvent[]) => void>();
  readonly #now: () => number;
  readonly #reported = new Set<number>();
  #lastReported = 0;
  /** Subscribed to other processes' changes (Postgres), from the first wait on. */
  #remote: Promise<(() => void) | undefined> | undefined;

  constructor(store: Store, teamId: string, now: () => number = Date.now) {
    this.store = store;
    this.teamId = teamId;
    this.#now = now;
  }

  #at(): string {
    return new Date(this.#now()).toISOString();
  }

  /** Calls `listener` after every write this process makes to the team; returns its removal. */
  onChange(listener: (events: readonly TeamEvent[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves at the next write (or when `signal` fires, or after `ms`): this process's, or, on
   * a store that tells of changes (Postgres), any process's.
   */
  async nextChange(signal: AbortSignal, ms: number): Promise<void> {
    this.#remote ??= (
      this.store.subscribe?.('board', (teamId) => {
        if (teamId === this.teamId) void this.#refresh();
      }) ?? Promise.resolve(undefined)
    ).catch(() => undefined);
    await this.#remote;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const off = this.onChange(done);
      if (signal.aborted) done();
      else signal.addEventListener('abort', done, { once: true });
    });
  }

  #changed(events: readonly TeamEvent[]): void {
    // Concurrent writes may read each other's entries: each is reported once.
    const fresh = events.filter((e) => !this.#reported.has(e.seq));
    if (fresh.length === 0) return;
    for (const e of fresh) {
      this.#reported.add(e.seq);
      this.#lastReported = Math.max(this.#lastReported, e.seq);
    }
    for (const listener of [...this.#listeners]) listener(fresh);
  }

  /** Tells listeners what other processes added to the team's log. */
  async #refresh(): Promise<void> {
    this.#changed(await this.#events(this.#lastReported).catch(() => []));
  }

  async #events(afterSeq: number): Promise<TeamEvent[]> {
    return this.store.teams.readTeamEvents(this.teamId, { afterSeq });
  }

  /** Runs a write and tells listeners what it added to the team's log. */
  async #write<T>(write: () => Promise<T>): Promise<T> {
    const before = await this.store.teams.lastTeamSeq(this.teamId);
    const result = await write();
    this.#changed(await this.#events(before));
    return result;
  }

  createTasks(
    by: string,
    tasks: readonly NewTeamTask[],
    opKey?: string,
  ): Promise<{ ok: true; tasks: TeamTask[] } | { ok: false; error: string }> {
    return this.#write(() =>
      this.store.teams.createTasks(this.teamId, tasks, by, this.#at(), opKey),
    );
  }

  claim(request: ClaimRequest, opKey?: string): Promise<TeamTask | undefined> {
    return this.#write(() => this.store.teams.claimTask(this.teamId, request, this.#at(), opKey));
  }

  change(taskId: string, change: TaskChange, opKey?: string): Promise<TeamTask | undefined> {
    return this.#write(() =>
      this.store.teams.changeTask(this.teamId, taskId, change, this.#at(), opKey),
    );
  }

  /** Sends a message (to a member or `all`): an entry of the team's log. */
  async send(
    from: string,
    to: string,
    text: string,
    options: { auto?: boolean; opKey?: string } = {},
  ): Promise<TeamEvent> {
    const [event] = await this.append(
      [{ type: 'message', data: { from, to, text, ...(options.auto ? { auto: true } : {}) } }],
      options.opKey,
    );
    return event!;
  }

  append(events: readonly NewTeamEvent[], opKey?: string): Promise<TeamEvent[]> {
    return this.#write(() =>
      this.store.teams.appendTeamEvents(this.teamId, events, this.#at(), opKey),
    );
  }

  /** Unread messages of a member, marked read. */
  inbox(member: string, opKey?: string): Promise<TeamMessage[]> {
    return this.store.teams.readInbox(this.teamId, member, opKey);
  }

  tasks(): Promise<TeamTask[]> {
    return this.store.teams.listTasks(this.teamId);
  }

  task(id: string): Promise<TeamTask | undefined> {
    return this.store.teams.getTask(this.teamId, id);
  }
}

/** Whether a task's dependencies are all done, given the board. */
export function unblocked(task: TeamTask, byId: ReadonlyMap<string, TeamTask>): boolean {
  return task.dependsOn.every((id) => byId.get(id)?.status === 'done');
}

/** A dependency that failed (or is missing): the task can never start as it stands. */
export function failedDependency(
  task: TeamTask,
  byId: ReadonlyMap<string, TeamTask>,
): string | undefined {
  return task.dependsOn.find((id) => {
    const dep = byId.get(id);
    return !dep || dep.status === 'failed';
  });
}

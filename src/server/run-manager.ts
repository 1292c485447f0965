import { EventEmitter } from 'node:events';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { Limits, RunEvent } from '../core/events.ts';
import { newId } from '../core/ids.ts';
import type { EffortLevel } from '../models/catalog.ts';
import { type RunResult, RunSuspension, resumeRun, runAgent } from '../runtime/agent-loop.ts';
import { type PreparedAgent, prepareAgent } from '../runtime/prepare-agent.ts';
import { leaseIsLive } from '../runtime/run-lease.ts';
import type { PostgresWorkQueue } from '../store/postgres/postgres-work-queue.ts';
import { redactingStore } from '../store/redacting-store.ts';
import type { Store } from '../store/store.ts';

export interface StartRun {
  /** Absolute path of the agent spec. */
  specPath: string;
  task: string;
  /** The folder the agent works in. */
  cwd: string;
  model?: string;
  effort?: EffortLevel;
  limits?: Partial<Limits>;
  /** The caller's W3C trace context: the run's spans join its trace. */
  traceparent?: string;
  /** The run's own tags, after its spec's. */
  tags?: string[];
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The runs a server drives: started and resumed in this process, each with its own tools and
 * secrets, cancelled or suspended through its signal. Every durable event is announced on
 * `events` ('event', RunEvent) so streams see it at once. With a `queue` (a Postgres store
 * whose runs are driven by `agentd worker`s), a run is prepared here (a bad spec still fails
 * the request), its `run.started` written, and it is queued for a worker instead.
 */
export class RunManager {
  readonly events = new EventEmitter();
  readonly #store: Store;
  readonly #config: Config;
  readonly #log: (line: string) => void;
  readonly #active = new Map<string, ActiveRun>();
  readonly #queue: PostgresWorkQueue | undefined;
  #closing = false;

  constructor(options: {
    store: Store;
    config: Config;
    log?: (line: string) => void;
    queue?: PostgresWorkQueue;
  }) {
    this.#store = options.store;
    this.#config = options.config;
    this.#queue = options.queue;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.events.setMaxListeners(0);
  }

  /** True once the server is shutting down: streams end after what is logged so far. */
  get closing(): boolean {
    return this.#closing;
  }

  isActive(runId: string): boolean {
    return this.#active.has(runId);
  }

  /**
   * Prepares the agent (a bad spec, model or tool throws here, before anything is recorded)
   * and starts the run; resolves with its id once `run.started` is durable.
   */
  async start(request: StartRun): Promise<string> {
    this.#assertOpen();
    const prepared = await this.#prepare(request.specPath, request, request.cwd);
    const runId = newId('run');
    if (this.#queue) {
      // Only `run.started` is written here (the run is let go at once); a worker drives it.
      const queued = new AbortController();
      queued.abort(new RunSuspension('queued for a worker', { quiet: true }));
      try {
        await runAgent({
          store: redactingStore(this.#store, prepared.redact),
          agent: prepared.agent,
          signal: queued.signal,
          runId,
          task: request.task,
          specPath: prepared.spec.path,
          cwd: request.cwd,
          ...(prepared.resolved.scripted ? { scripted: prepared.resolved.scripted } : {}),
          ...(request.traceparent ? { traceparent: request.traceparent } : {}),
          ...(request.tags?.length ? { tags: request.tags } : {}),
          onEvent: (event) => this.events.emit('event', event),
        });
      } finally {
        await prepared.toolset.close();
      }
      await this.#queue.enqueue({ runId, reason: 'start' });
      return runId;
    }
    return this.#launch(runId, prepared, (io) =>
      runAgent({
        ...io,
        runId,
        task: request.task,
        specPath: prepared.spec.path,
        cwd: prepared.cwd,
        ...(prepared.resolved.scripted ? { scripted: prepared.resolved.scripted } : {}),
        ...(request.traceparent ? { traceparent: request.traceparent } : {}),
        ...(request.tags?.length ? { tags: request.tags } : {}),
      }),
    );
  }

  /** Continues a run that is not running anywhere (suspended, failed, cancelled, interrupted). */
  async resume(
    runId: string,
    options: { limits?: Partial<Limits>; inDoubt?: 'rerun' | 'skip' } = {},
  ): Promise<string> {
    this.#assertOpen();
    if (this.#active.has(runId)) {
      throw new AgentdError('run_busy', `run ${runId} is already running here`);
    }
    const [started] = await this.#store.readEvents(runId, { limit: 1 });
    if (started?.type !== 'run.started') {
      throw new AgentdError('run_not_found', `no run "${runId}"`);
    }
    if (!started.data.specPath) {
      throw new AgentdError(
        'run_not_resumable',
        `run ${runId} was not started from an agent spec; resume it from code with resumeRun()`,
      );
    }
    if (this.#queue) {
      await this.#queue.enqueue({
        runId,
        reason: 'resume',
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.inDoubt ? { inDoubt: options.inDoubt } : {}),
      });
      return runId;
    }
    const cwd = started.data.cwd ?? process.cwd();
    const prepared = await this.#prepare(
      started.data.specPath,
      { model: started.data.model },
      cwd,
      {
        resumed: true,
      },
    );
    return this.#launch(runId, prepared, (io) =>
      resumeRun({
        ...io,
        runId,
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.inDoubt ? { inDoubt: options.inDoubt } : {}),
      }),
    );
  }

  /**
   * Cancels a run that workers drive (with a queue): the worker driving it is told (NOTIFY),
   * and a job ends it if none does (it waits for an approval, say). False without a queue, or
   * when the run is not going.
   */
  async cancelQueued(runId: string, status: string): Promise<boolean> {
    if (!this.#queue || !['running', 'awaiting_approval', 'suspended'].includes(status)) {
      return false;
    }
    await this.#store.publish?.('cancel', runId);
    await this.#queue.enqueue({ runId, reason: 'cancel' });
    return true;
  }

  /** Cancels a run running here; false when it is not. */
  cancel(runId: string): boolean {
    const run = this.#active.get(runId);
    if (!run) return false;
    run.controller.abort();
    return true;
  }

  /**
   * Resumes the runs a stopped server left: suspended ones, and running ones (or ones waiting
   * for approval, which wait again for the same request) whose process is gone (no live
   * lease). Returns their ids; a run that cannot be resumed is logged and skipped.
   */
  async recover(): Promise<string[]> {
    // Workers take over what a stopped process left (see src/worker).
    if (this.#queue) return [];
    const leases = new Map((await this.#store.listLeases()).map((l) => [l.runId, l]));
    const resumed: string[] = [];
    for (const status of ['suspended', 'running', 'awaiting_approval'] as const) {
      for (const run of await this.#store.listRuns({ status, limit: 10_000 })) {
        const lease = leases.get(run.id);
        if (lease && leaseIsLive(lease)) continue;
        const [started] = await this.#store.readEvents(run.id, { limit: 1 });
        if (started?.type !== 'run.started' || !started.data.specPath) continue;
        try {
          await this.resume(run.id);
          resumed.push(run.id);
        } catch (error) {
          this.#log(`agentd serve: cannot resume run ${run.id}: ${errorMessage(error)}`);
        }
      }
    }
    return resumed;
  }

  /**
   * Stops every run between steps (tool calls in flight finish first) and leaves them
   * `suspended`; resolves when all have stopped.
   */
  async suspendAll(reason: string): Promise<void> {
    this.#closing = true;
    const runs = [...this.#active.values()];
    for (const run of runs) run.controller.abort(new RunSuspension(reason));
    await Promise.all(runs.map((run) => run.done));
    this.events.emit('closing');
  }

  #assertOpen(): void {
    if (this.#closing) throw new AgentdError('run_busy', 'the server is shutting down');
  }

  #prepare(
    specPath: string,
    overrides: Pick<StartRun, 'model' | 'effort' | 'limits'>,
    cwd: string,
    { resumed = false } = {},
  ): Promise<PreparedAgent> {
    return prepareAgent(specPath, overrides, {
      config: this.#config,
      // A resumed run works where it worked before; a new one where its spec says.
      ...(resumed ? { workdir: cwd } : { cwd }),
      onNotice: (notice) => this.#log(`agentd serve: ${specPath}: ${notice}`),
    });
  }

  /** Drives a run in the background; resolves with its id once its first new event is durable. */
  #launch(
    runId: string,
    prepared: PreparedAgent,
    drive: (io: {
      store: Store;
      agent: PreparedAgent['agent'];
      signal: AbortSignal;
      onEvent: (event: RunEvent) => void;
    }) => Promise<RunResult>,
  ): Promise<string> {
    const controller = new AbortController();
    const store = redactingStore(this.#store, prepared.redact);
    let announce: (() => void) | undefined;
    const first = new Promise<void>((resolve) => {
      announce = resolve;
    });
    const done = drive({
      store,
      agent: prepared.agent,
      signal: controller.signal,
      onEvent: (event) => {
        announce?.();
        this.events.emit('event', event);
      },
    })
      .then(
        (result) => this.#log(`agentd serve: run ${runId} ${result.state.status}`),
        (error: unknown) => {
          this.#log(`agentd serve: run ${runId} stopped: ${errorMessage(error)}`);
          this.events.emit('stopped', runId);
          throw error;
        },
      )
      .finally(async () => {
        this.#active.delete(runId);
        await prepared.toolset.close();
      });
    this.#active.set(runId, { controller, done: done.catch(() => {}) });
    return Promise.race([first.then(() => runId), done.then(() => runId)]);
  }
}

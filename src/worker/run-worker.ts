import { hostname } from 'node:os';
import type { Runner } from 'graphile-worker';
import type { Config } from '../config/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Limits, RunEvent } from '../core/events.ts';
import { foldRun, type RunState } from '../core/run-state.ts';
import { RunSuspension, resumeRun } from '../runtime/agent-loop.ts';
import { prepareAgent } from '../runtime/prepare-agent.ts';
import { claimWorkerLease, type HeldLease } from '../runtime/run-lease.ts';
import type { DriveJob, PostgresWorkQueue } from '../store/postgres/postgres-work-queue.ts';
import { redactingStore } from '../store/redacting-store.ts';
import { LeaseLostError, type Store } from '../store/store.ts';

export interface RunWorkerOptions {
  store: Store;
  queue: PostgresWorkQueue;
  config: Config;
  /** Runs driven at once. */
  concurrency: number;
  /** A run whose lease is not renewed for this long is taken over by another worker. */
  leaseMs: number;
  /** What the worker does, one line each (stderr by default). */
  log?: (line: string) => void;
  /** Called with every event a run here made durable. */
  onEvent?: (event: RunEvent) => void;
  /** Called when a job for a run is taken, before anything else is done for it. */
  onTake?: (job: DriveJob) => void;
  /** Called as each part of starting is done (`queue`, `cancel`, `runner`). */
  onStarted?: (part: string) => void;
}

/** Statuses after which a run waits for nobody: a job for it has nothing to do. */
const ended = new Set(['completed', 'failed', 'cancelled', 'budget_exceeded', 'needs_attention']);

interface Driving {
  controller: AbortController;
  done: Promise<void>;
}

/**
 * `agentd worker`: drives runs queued on Postgres (new ones, ones woken by an answered approval,
 * ones another worker left), each under a lease it renews and that fences its appends. A run
 * that comes to wait for a person's approval is let go (no event, the lease released): the
 * answer queues it again. A worker that dies or stops past its lease loses its runs to the
 * others, which resume them from their logs.
 */
export class RunWorker {
  readonly #o: RunWorkerOptions;
  readonly #log: (line: string) => void;
  readonly #driving = new Map<string, Driving>();
  #runner: Runner | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  /** The job engine's ids for this process's workers, as jobs name them (`locked_by`). */
  readonly #ownIds = new Set<string>();
  #stopping = false;
  #unsubscribe: (() => void) | undefined;

  constructor(options: RunWorkerOptions) {
    this.#o = options;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Installs the queue if needed and starts taking jobs. */
  async start(): Promise<void> {
    const started = this.#o.onStarted ?? (() => undefined);
    await this.#o.queue.install();
    started('queue');
    // A run cancelled through a server stops here at once if it runs here.
    this.#unsubscribe = await this.#o.store.subscribe?.('cancel', (runId) => {
      this.#driving.get(runId)?.controller.abort();
    });
    started('cancel');
    this.#runner = await this.#o.queue.work({
      concurrency: this.#o.concurrency,
      pollMs: Math.max(1000, this.#o.leaseMs),
      handle: (job, workerId) => this.#handle(job, workerId),
      log: this.#log,
    });
    started('runner');
    const every = Math.max(50, Math.floor(this.#o.leaseMs / 2));
    this.#sweeper = setInterval(() => void this.#sweep(), every);
  }

  /** Resolves when the runner stops (after `stop`, or when its database connection fails). */
  get done(): Promise<void> {
    return this.#runner?.promise ?? Promise.resolve();
  }

  /**
   * Lets go of every run between steps (tool calls in flight finish first) and queues them for
   * the other workers, then stops taking jobs.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#sweeper);
    this.#unsubscribe?.();
    const runs = [...this.#driving.values()];
    for (const run of runs)
      run.controller.abort(new RunSuspension('the worker stopped', { quiet: true }));
    await Promise.all(runs.map((run) => run.done));
    await this.#runner?.stop();
  }

  async #handle(job: DriveJob, workerId: string): Promise<void> {
    const { store, leaseMs } = this.#o;
    if (typeof job?.runId !== 'string') {
      this.#log(`agentd worker: skipped a job without a run id: ${JSON.stringify(job)}`);
      return;
    }
    const { runId } = job;
    this.#o.onTake?.(job);
    this.#ownIds.add(workerId);
    // One driver of a run per process: a job for a run driven here waits for that driver to
    // end (it is letting go, say, as an answer queues the run again), then goes on.
    for (let other = this.#driving.get(runId); other; other = this.#driving.get(runId)) {
      await other.done;
    }
    const controller = new AbortController();
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finished = resolve;
    });
    this.#driving.set(runId, { controller, done });
    let lease: HeldLease | undefined;
    try {
      lease = await claimWorkerLease(store, runId, {
        owner: `${hostname()}:${process.pid}#${workerId}`,
        leaseMs,
        waitMs: leaseMs / 2,
        onLost: () =>
          controller.abort(new RunSuspension('another worker took the run', { quiet: true })),
      });
      // Another process drives it and did not let go: it is in good hands.
      if (!lease) return;
      if (this.#stopping) {
        await this.#o.queue.enqueue({ runId, reason: 'recover' });
        return;
      }
      await this.#drive(job, lease, controller);
    } finally {
      await lease?.release().catch(() => undefined);
      this.#driving.delete(runId);
      finished();
      if (this.#stopping && controller.signal.aborted) {
        await this.#o.queue.enqueue({ runId, reason: 'recover' }).catch(() => undefined);
      }
    }
  }

  async #drive(job: DriveJob, lease: HeldLease, controller: AbortController): Promise<void> {
    const { store, config } = this.#o;
    const { runId } = job;
    const events = await store.readEvents(runId);
    const started = events[0];
    if (started?.type !== 'run.started') {
      this.#log(`agentd worker: run ${runId}: not in the store; job dropped`);
      return;
    }
    if (!started.data.specPath) {
      this.#log(
        `agentd worker: run ${runId}: not started from an agent spec; a worker cannot run it`,
      );
      return;
    }
    const state = foldRun(runId, events);
    if (state.status === 'completed') return;
    if (ended.has(state.status) && job.reason !== 'resume') return;
    if (job.reason === 'cancel') {
      await this.#closeApprovals(runId);
      controller.abort();
    } else if (state.status === 'awaiting_approval' && (await this.#stillWaiting(state))) {
      return;
    }

    const prepared = await prepareAgent(
      started.data.specPath,
      { model: started.data.model },
      {
        config,
        cwd: started.data.cwd ?? process.cwd(),
        onNotice: (notice) => this.#log(`agentd worker: ${started.data.specPath}: ${notice}`),
      },
    );
    try {
      const result = await resumeRun({
        store: redactingStore(store, prepared.redact),
        agent: prepared.agent,
        runId,
        lease,
        queued: job.reason === 'start',
        signal: controller.signal,
        ...(job.reason === 'resume' && job.limits ? { limits: job.limits as Partial<Limits> } : {}),
        ...(job.reason === 'resume' && job.inDoubt ? { inDoubt: job.inDoubt } : {}),
        onEvent: (event) => {
          this.#o.onEvent?.(event);
          // A call waits for a person: let go of the run; the answer queues it again.
          if (event.type === 'approval.requested') {
            controller.abort(new RunSuspension('waiting for an approval', { quiet: true }));
          }
        },
      });
      const reason = controller.signal.reason;
      const letGo = reason instanceof RunSuspension ? ` (let go: ${reason.reason})` : '';
      this.#log(`agentd worker: run ${runId} ${result.state.status}${letGo}`);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.#log(`agentd worker: run ${runId}: another worker took it over; stopped here`);
        return;
      }
      this.#log(`agentd worker: run ${runId} stopped: ${errorMessage(error)}`);
    } finally {
      await prepared.toolset.close();
    }
  }

  /**
   * Stops a run whose job no worker will take again (every worker that took it died or failed)
   * for a person: it is marked as needing attention, with why, resumable as any other.
   */
  async #giveUp(runId: string, attempts: number, lastError: string | undefined): Promise<void> {
    const { store, leaseMs } = this.#o;
    const lease = await claimWorkerLease(store, runId, {
      owner: `${hostname()}:${process.pid}#sweep`,
      leaseMs,
      waitMs: 0,
    });
    if (!lease) return; // a worker drives it after all
    try {
      const state = foldRun(runId, await store.readEvents(runId));
      if (state.lastSeq < 0 || ended.has(state.status)) return;
      const why = lastError ? `; the last error: ${lastError.split('\n')[0]}` : '';
      const message = `${attempts} workers took this run and none finished it: each died or failed while driving it${why}. Find out why (agentd runs show ${runId}), then resume it with agentd runs resume ${runId}`;
      await store.append(
        [
          {
            type: 'run.needs_attention',
            runId,
            seq: state.lastSeq + 1,
            at: new Date().toISOString(),
            data: { message, calls: [] },
          },
        ],
        lease.fence,
      );
      this.#log(`agentd worker: run ${runId}: gave up after ${attempts} workers; needs attention`);
    } finally {
      await lease.release();
    }
  }

  /** Closes the run's open requests for approval: it is being cancelled. */
  async #closeApprovals(runId: string): Promise<void> {
    for (const approval of await this.#o.store.listApprovals({ runId, status: 'pending' })) {
      await this.#o.store.answerApproval(approval.id, {
        status: 'cancelled',
        by: 'agentd',
        reason: 'the run was cancelled',
        at: new Date().toISOString(),
      });
    }
  }

  /** Whether every call of the run waiting for approval is still unanswered (nothing to do). */
  async #stillWaiting(state: RunState): Promise<boolean> {
    const waiting = new Set(
      [...state.pendingCalls.values()]
        .filter((c) => c.approval === 'requested')
        .map((c) => c.callId),
    );
    if (waiting.size === 0) return false;
    const approvals = await this.#o.store.listApprovals({ runId: state.runId });
    return approvals.filter((a) => waiting.has(a.callId)).every((a) => a.status === 'pending');
  }

  /**
   * Gives the jobs of workers that stopped renewing their leases to the others, and closes
   * requests for approval past their deadline (their runs, let go, wait for nobody else).
   */
  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#stopping) return;
    this.#sweeping = true;
    try {
      // This process is alive: its own jobs are never stale, however slow it is to take a lease.
      const stale = await this.#o.queue.staleWorkers(this.#o.leaseMs, [...this.#ownIds]);
      if (stale.length) {
        await this.#o.queue.unlockWorkers(stale);
        this.#log(`agentd worker: took back the jobs of ${stale.length} stopped worker(s)`);
      }
      for (const job of await this.#o.queue.exhaustedJobs()) {
        if (job.runId) await this.#giveUp(job.runId, job.attempts, job.lastError);
        await this.#o.queue.drop([job.id]);
      }
      const now = new Date();
      for (const approval of await this.#o.store.listApprovals({ status: 'pending' })) {
        if (Date.parse(approval.expiresAt) > now.getTime()) continue;
        await this.#o.store.answerApproval(approval.id, {
          status: 'timed_out',
          by: 'agentd',
          reason: 'no answer before its deadline',
          at: now.toISOString(),
        });
      }
    } catch (error) {
      this.#log(`agentd worker: sweep failed: ${errorMessage(error)}`);
    } finally {
      this.#sweeping = false;
    }
  }
}

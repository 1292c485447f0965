import { hostname } from 'node:os';
import { AgentdError } from '../core/errors.ts';
import type { LeaseFence, RunLease, Store } from '../store/store.ts';

/** A lease nobody renewed for this long belongs to a process that is gone. */
const staleAfterMs = 60_000;
const renewEveryMs = 15_000;

export const thisProcess = `${hostname()}:${process.pid}`;

/**
 * Whether the process holding a lease still runs: on this machine, ask the OS about its pid;
 * elsewhere, trust a recent heartbeat.
 */
export function leaseIsLive(lease: RunLease, now: number = Date.now()): boolean {
  const colon = lease.owner.lastIndexOf(':');
  const host = lease.owner.slice(0, colon);
  const pid = Number(lease.owner.slice(colon + 1));
  if (host === hostname() && Number.isInteger(pid)) {
    if (pid === process.pid) return true;
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return now - Date.parse(lease.heartbeatAt) < staleAfterMs;
}

export interface HeldLease {
  /** What this holder's appends carry: refused once another process took the run. */
  readonly fence: LeaseFence;
  release(): Promise<void>;
}

/**
 * Keeps a lease just taken fresh every `renewMs` until released; `onLost` is told when a
 * renewal finds it taken by another process.
 */
function holdLease(store: Store, lease: RunLease, renewMs: number, onLost?: () => void): HeldLease {
  const { runId, owner } = lease;
  const timer = setInterval(() => {
    store
      .renewLease(runId, owner, new Date().toISOString())
      .then((held) => {
        if (!held) {
          clearInterval(timer);
          onLost?.();
        }
      })
      .catch(() => undefined);
  }, renewMs);
  timer.unref();
  return {
    fence: { owner, generation: lease.generation },
    async release() {
      clearInterval(timer);
      await store.releaseLease(runId, owner);
    },
  };
}

/**
 * Takes the lease on a run for this process, so two processes never drive one run, and keeps
 * it fresh until released. A run held by a live process is refused with a clear message.
 */
export async function acquireLease(store: Store, runId: string): Promise<HeldLease> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await store.getLease(runId);
    if (current && current.owner !== thisProcess && leaseIsLive(current)) {
      throw new AgentdError(
        'run_busy',
        `run ${runId} is being run by process ${current.owner}; stop that process first (or wait for it to finish)`,
      );
    }
    const at = new Date().toISOString();
    const taken = await store.claimLease(runId, thisProcess, current?.owner ?? null, at);
    if (taken) return holdLease(store, taken, renewEveryMs);
  }
  throw new AgentdError(
    'run_busy',
    `run ${runId} was taken by another process at the same moment; try again`,
  );
}

export interface WorkerLeaseOptions {
  /** Who takes it: the worker's `host:pid`. */
  owner: string;
  /** A lease whose heartbeat is older than this is free to take; it is renewed 4 times as often. */
  leaseMs: number;
  /** How long to wait for a live holder to let go before giving up (undefined returned). */
  waitMs: number;
  /** Told when a renewal finds the lease taken by another worker. */
  onLost?: () => void;
}

/**
 * A worker's claim of a run: free leases and leases whose heartbeat is older than `leaseMs`
 * are taken (a worker on another machine, or stopped, is judged by its heartbeat alone); a
 * live holder is waited for (it is letting go between steps, or still driving the run).
 */
export async function claimWorkerLease(
  store: Store,
  runId: string,
  options: WorkerLeaseOptions,
): Promise<HeldLease | undefined> {
  const giveUpAt = Date.now() + options.waitMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    const current = await store.getLease(runId);
    const fresh =
      current !== undefined && Date.now() - Date.parse(current.heartbeatAt) < options.leaseMs;
    if (!fresh || current?.owner === options.owner) {
      const at = new Date().toISOString();
      const taken = await store.claimLease(runId, options.owner, current?.owner ?? null, at);
      if (taken) return holdLease(store, taken, Math.max(1, options.leaseMs / 4), options.onLost);
    }
    if (Date.now() >= giveUpAt) return undefined;
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

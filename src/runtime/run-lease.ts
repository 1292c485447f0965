import { hostname } from 'node:os';
import { AgentdError } from '../core/errors.ts';
import type { RunLease, Store } from '../store/store.ts';

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
  release(): Promise<void>;
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
    if (await store.claimLease(runId, thisProcess, current?.owner ?? null, at)) {
      const timer = setInterval(() => {
        store.renewLease(runId, thisProcess, new Date().toISOString()).catch(() => undefined);
      }, renewEveryMs);
      timer.unref();
      return {
        async release() {
          clearInterval(timer);
          await store.releaseLease(runId, thisProcess);
        },
      };
    }
  }
  throw new AgentdError(
    'run_busy',
    `run ${runId} was taken by another process at the same moment; try again`,
  );
}

import type { RunLease } from '../store.ts';

/** A row of `run_leases`, the same in every store. */
export interface LeaseRow {
  run_id: string;
  owner: string;
  heartbeat_at: string;
  generation: number;
}

export function toLease(row: LeaseRow): RunLease {
  return {
    runId: row.run_id,
    owner: row.owner,
    heartbeatAt: row.heartbeat_at,
    generation: Number(row.generation),
  };
}

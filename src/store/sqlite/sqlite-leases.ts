import { type LeaseRow, toLease } from '../rows/lease-row.ts';
import type { LeaseStore, RunLease } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/**
 * Who drives a run now (`run_leases`); a claim is one conditional statement that moves the
 * lease's generation on. A released lease keeps its row with no owner, so generations only
 * ever grow and an owner fenced out stays fenced out.
 */
export class SqliteLeases implements LeaseStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async getLease(runId: string): Promise<RunLease | undefined> {
    const row = this.#c
      .prepare("SELECT * FROM run_leases WHERE run_id = ? AND owner != ''")
      .get(runId) as LeaseRow | undefined;
    return row ? toLease(row) : undefined;
  }

  async claimLease(
    runId: string,
    owner: string,
    expectedOwner: string | null,
    at: string,
  ): Promise<RunLease | undefined> {
    const row = (
      expectedOwner === null
        ? this.#c.returning(
            `INSERT INTO run_leases (run_id, owner, heartbeat_at, generation) VALUES (?, ?, ?, 1)
               ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner,
               heartbeat_at = excluded.heartbeat_at, generation = run_leases.generation + 1
               WHERE run_leases.owner = '' RETURNING *`,
            runId,
            owner,
            at,
          )
        : this.#c.returning(
            'UPDATE run_leases SET owner = ?, heartbeat_at = ?, generation = generation + 1 WHERE run_id = ? AND owner = ? RETURNING *',
            owner,
            at,
            runId,
            expectedOwner,
          )
    ) as LeaseRow | undefined;
    return row ? toLease(row) : undefined;
  }

  async renewLease(runId: string, owner: string, at: string): Promise<boolean> {
    const result = this.#c
      .prepare('UPDATE run_leases SET heartbeat_at = ? WHERE run_id = ? AND owner = ?')
      .run(at, runId, owner);
    return result.changes === 1;
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    this.#c
      .prepare("UPDATE run_leases SET owner = '' WHERE run_id = ? AND owner = ?")
      .run(runId, owner);
  }

  async listLeases(): Promise<RunLease[]> {
    const rows = this.#c
      .prepare("SELECT * FROM run_leases WHERE owner != ''")
      .all() as unknown as LeaseRow[];
    return rows.map(toLease);
  }
}

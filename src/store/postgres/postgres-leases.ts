import { type LeaseRow, toLease } from '../rows/lease-row.ts';
import type { LeaseStore, RunLease } from '../store.ts';
import type { PostgresConnection } from './postgres-connection.ts';

/**
 * Who drives a run now (`run_leases`): a claim is one conditional statement that moves the
 * lease's generation on; a released lease keeps its row with no owner, so generations only
 * ever grow.
 */
export class PostgresLeases implements LeaseStore {
  readonly #c: PostgresConnection;

  constructor(connection: PostgresConnection) {
    this.#c = connection;
  }

  async getLease(runId: string): Promise<RunLease | undefined> {
    const [row] = await this.#c.query<LeaseRow>(
      "SELECT * FROM run_leases WHERE run_id = $1 AND owner != ''",
      [runId],
    );
    return row ? toLease(row) : undefined;
  }

  async claimLease(
    runId: string,
    owner: string,
    expectedOwner: string | null,
    at: string,
  ): Promise<RunLease | undefined> {
    const [row] =
      expectedOwner === null
        ? await this.#c.query<LeaseRow>(
            `INSERT INTO run_leases (run_id, owner, heartbeat_at, generation) VALUES ($1, $2, $3, 1)
             ON CONFLICT (run_id) DO UPDATE SET owner = excluded.owner,
             heartbeat_at = excluded.heartbeat_at, generation = run_leases.generation + 1
             WHERE run_leases.owner = '' RETURNING *`,
            [runId, owner, at],
          )
        : await this.#c.query<LeaseRow>(
            `UPDATE run_leases SET owner = $1, heartbeat_at = $2, generation = generation + 1
             WHERE run_id = $3 AND owner = $4 RETURNING *`,
            [owner, at, runId, expectedOwner],
          );
    return row ? toLease(row) : undefined;
  }

  async renewLease(runId: string, owner: string, at: string): Promise<boolean> {
    const rows = await this.#c.query(
      'UPDATE run_leases SET heartbeat_at = $1 WHERE run_id = $2 AND owner = $3 RETURNING run_id',
      [at, runId, owner],
    );
    return rows.length === 1;
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    await this.#c.query("UPDATE run_leases SET owner = '' WHERE run_id = $1 AND owner = $2", [
      runId,
      owner,
    ]);
  }

  async listLeases(): Promise<RunLease[]> {
    const rows = await this.#c.query<LeaseRow>("SELECT * FROM run_leases WHERE owner != ''");
    return rows.map(toLease);
  }
}

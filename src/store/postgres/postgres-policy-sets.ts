import { type PolicySetRow, selectPolicySets, toPolicySet } from '../rows/policy-set-row.ts';
import type { PolicySetRecord, PolicySetStore } from '../store.ts';
import type { PostgresConnection } from './postgres-connection.ts';

/** Saved versions of policy sets, and which one is in force. */
export class PostgresPolicySets implements PolicySetStore {
  readonly #c: PostgresConnection;

  constructor(connection: PostgresConnection) {
    this.#c = connection;
  }

  async savePolicySet(
    name: string,
    files: readonly { name: string; text: string }[],
    digest: string,
    at: string,
  ): Promise<PolicySetRecord> {
    const version = await this.#c.transaction(async (tx) => {
      // Savers of the same set queue here, so version numbers are never taken twice.
      await tx.query(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/policy/' || $1))",
        [name],
      );
      const [same] = await tx.query<{ version: number }>(
        'SELECT version FROM policy_sets WHERE name = $1 AND digest = $2',
        [name, digest],
      );
      if (same) return same.version;
      const [last] = await tx.query<{ version: number | null }>(
        'SELECT max(version) AS version FROM policy_sets WHERE name = $1',
        [name],
      );
      const next = (last?.version ?? 0) + 1;
      await tx.query(
        'INSERT INTO policy_sets (name, version, files, digest, created_at) VALUES ($1, $2, $3, $4, $5)',
        [name, next, JSON.stringify(files), digest, at],
      );
      return next;
    });
    return (await this.getPolicySet(name, version))!;
  }

  async getPolicySet(name: string, version?: number): Promise<PolicySetRecord | undefined> {
    const [row] =
      version === undefined
        ? await this.#c.query<PolicySetRow>(
            `${selectPolicySets} WHERE s.name = $1 AND s.version = a.version`,
            [name],
          )
        : await this.#c.query<PolicySetRow>(
            `${selectPolicySets} WHERE s.name = $1 AND s.version = $2`,
            [name, version],
          );
    return row ? toPolicySet(row) : undefined;
  }

  async listPolicySets(): Promise<PolicySetRecord[]> {
    const rows = await this.#c.query<PolicySetRow>(
      `${selectPolicySets} ORDER BY s.name, s.version`,
    );
    return rows.map(toPolicySet);
  }

  async activatePolicySet(name: string, version: number, at: string): Promise<void> {
    await this.#c.query(
      `INSERT INTO policy_set_active (name, version, activated_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET version = excluded.version, activated_at = excluded.activated_at`,
      [name, version, at],
    );
  }
}

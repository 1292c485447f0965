import { type PolicySetRow, selectPolicySets, toPolicySet } from '../rows/policy-set-row.ts';
import type { PolicySetRecord, PolicySetStore } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** Saved versions of policy sets, and which one is in force. */
export class SqlitePolicySets implements PolicySetStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async savePolicySet(
    name: string,
    files: readonly { name: string; text: string }[],
    digest: string,
    at: string,
  ): Promise<PolicySetRecord> {
    const version = this.#c.transaction(() => {
      const same = this.#c
        .prepare('SELECT version FROM policy_sets WHERE name = ? AND digest = ?')
        .get(name, digest) as { version: number } | undefined;
      if (same) return same.version;
      const last = this.#c
        .prepare('SELECT max(version) AS version FROM policy_sets WHERE name = ?')
        .get(name) as { version: number | null };
      const next = (last.version ?? 0) + 1;
      this.#c
        .prepare(
          'INSERT INTO policy_sets (name, version, files, digest, created_at) VALUES (?, ?, ?, ?, ?)',
        )
        .run(name, next, JSON.stringify(files), digest, at);
      return next;
    });
    return (await this.getPolicySet(name, version))!;
  }

  async getPolicySet(name: string, version?: number): Promise<PolicySetRecord | undefined> {
    const row = (
      version === undefined
        ? this.#c
            .prepare(`${selectPolicySets} WHERE s.name = ? AND s.version = a.version`)
            .get(name)
        : this.#c
            .prepare(`${selectPolicySets} WHERE s.name = ? AND s.version = ?`)
            .get(name, version)
    ) as PolicySetRow | undefined;
    return row ? toPolicySet(row) : undefined;
  }

  async listPolicySets(): Promise<PolicySetRecord[]> {
    const rows = this.#c
      .prepare(`${selectPolicySets} ORDER BY s.name, s.version`)
      .all() as unknown as PolicySetRow[];
    return rows.map(toPolicySet);
  }

  async activatePolicySet(name: string, version: number, at: string): Promise<void> {
    this.#c
      .prepare(
        `INSERT INTO policy_set_active (name, version, activated_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, activated_at = excluded.activated_at`,
      )
      .run(name, version, at);
  }
}

import { type ApiKeyRow, toApiKey } from '../rows/api-key-row.ts';
import type { ApiKeyRecord, ApiKeyStore } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** API keys of `agentd serve`: hashes only. */
export class SqliteApiKeys implements ApiKeyStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    this.#c
      .prepare(
        'INSERT INTO api_keys (id, name, hash, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        record.name,
        record.hash,
        JSON.stringify(record.scopes),
        record.createdAt,
        record.revokedAt ?? null,
      );
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#c.prepare('SELECT * FROM api_keys WHERE hash = ?').get(hash) as
      | ApiKeyRow
      | undefined;
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = this.#c
      .prepare('SELECT * FROM api_keys ORDER BY created_at, id')
      .all() as unknown as ApiKeyRow[];
    return rows.map(toApiKey);
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    const result = this.#c
      .prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
      .run(at, id);
    return result.changes > 0;
  }
}

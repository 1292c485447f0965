import { type ApiKeyRow, toApiKey } from '../rows/api-key-row.ts';
import type { ApiKeyRecord, ApiKeyStore } from '../store.ts';
import type { PostgresConnection } from './postgres-connection.ts';

/** API keys of `agentd serve`: hashes only. */
export class PostgresApiKeys implements ApiKeyStore {
  readonly #c: PostgresConnection;

  constructor(connection: PostgresConnection) {
    this.#c = connection;
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    await this.#c.query(
      'INSERT INTO api_keys (id, name, hash, scopes, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        record.id,
        record.name,
        record.hash,
        JSON.stringify(record.scopes),
        record.createdAt,
        record.revokedAt ?? null,
      ],
    );
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.#c.query<ApiKeyRow>('SELECT * FROM api_keys WHERE hash = $1', [hash]);
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = await this.#c.query<ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map(toApiKey);
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    const rows = await this.#c.query(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING id',
      [at, id],
    );
    return rows.length > 0;
  }
}

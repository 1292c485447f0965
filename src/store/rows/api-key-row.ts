import type { ApiKeyRecord } from '../store.ts';

/** A row of `api_keys`, the same in every store. */
export interface ApiKeyRow {
  id: string;
  name: string;
  hash: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

export function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    scopes: JSON.parse(row.scopes),
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}

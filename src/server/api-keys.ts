import { createHash, randomBytes } from 'node:crypto';
import { AgentdError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { ApiKeyRecord, Store } from '../store/store.ts';

/**
 * What a key may do. `mcp`: the gateway; `registry`: the registry read API; `registry_admin`:
 * enabling and disabling its servers; `teams`, `evals`, `memory`: reading those (and
 * forgetting memories); `metrics`: `/metrics`.
 */
export const apiScopes = [
  'runs',
  'approvals',
  'mcp',
  'registry',
  'registry_admin',
  'policies',
  'audit',
  'metrics',
  'teams',
  'evals',
  'memory',
] as const;
export type ApiScope = (typeof apiScopes)[number];

const keyPrefix = 'agentd_';

/** Parses `runs,mcp`; an unknown scope is one line naming the known ones. */
export function parseScopes(text: string): ApiScope[] {
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) {
    throw new AgentdError('usage', `--scopes: give at least one of ${apiScopes.join(', ')}`);
  }
  for (const scope of scopes) {
    if (!(apiScopes as readonly string[]).includes(scope)) {
      throw new AgentdError(
        'usage',
        `--scopes: unknown scope "${scope}" (known: ${apiScopes.join(', ')})`,
      );
    }
  }
  return [...new Set(scopes)] as ApiScope[];
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * API keys of `agentd serve`. A key is 32 random bytes, shown once when created; the store
 * keeps only its SHA-256 (the key has full entropy, so a fast hash is enough).
 */
export class ApiKeys {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async create(name: string, scopes: ApiScope[]): Promise<{ record: ApiKeyRecord; key: string }> {
    const key = keyPrefix + randomBytes(32).toString('base64url');
    const record: ApiKeyRecord = {
      id: newId('key'),
      name,
      hash: hashKey(key),
      scopes,
      createdAt: new Date().toISOString(),
    };
    await this.#store.putApiKey(record);
    return { record, key };
  }

  /** The live key a request presents, or undefined for an unknown or revoked one. */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    if (!key.startsWith(keyPrefix)) return undefined;
    const record = await this.#store.findApiKey(hashKey(key));
    return record && !record.revokedAt ? record : undefined;
  }

  /** The live key with this hash (a session remembers the hash, never the key). */
  async verifyHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.#store.findApiKey(hash);
    return record && !record.revokedAt ? record : undefined;
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.#store.listApiKeys();
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.#store.revokeApiKey(id, new Date().toISOString()))) {
      throw new AgentdError('usage', `no API key "${id}": see agentd keys list`);
    }
  }
}

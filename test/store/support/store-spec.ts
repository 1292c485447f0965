import type { Redactor } from '../../../src/core/redact.ts';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.ts';
import type { Durability, Store } from '../../../src/store/store.ts';

/** Where a store lives, so another connection (a thread, a process) can open the same one. */
export type StoreSpec =
  | { kind: 'sqlite'; path: string; durability?: Durability }
  | { kind: 'postgres'; url: string; schema: string; durability?: Durability };

export function openSpec(spec: StoreSpec, redact?: Redactor): Store {
  const options = { durability: spec.durability, ...(redact ? { redact } : {}) };
  return spec.kind === 'sqlite'
    ? new SqliteStore({ path: spec.path, ...options })
    : new PostgresStore({ url: spec.url, schema: spec.schema, ...options });
}

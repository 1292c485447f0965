import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, onTestFinished } from 'vitest';
import type { Redactor } from '../../../src/core/redact.ts';
import type { PostgresStore } from '../../../src/store/postgres/postgres-store.ts';
import type { Durability, Store } from '../../../src/store/store.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { openSpec, type StoreSpec } from './store-spec.ts';

/** The Postgres server of the development and CI machines (trust auth). */
export const postgresUrl =
  process.env.AGENTD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A store kind of the contract: makes a fresh, empty store for each test. */
export interface StoreKind {
  name: 'sqlite' | 'postgres';
  /** A new empty store (closed and removed after the test), and where it is. */
  fresh(options?: { durability?: Durability; redact?: Redactor }): Promise<{
    store: Store;
    spec: StoreSpec;
    /** Another connection to the same store (closed after the test). */
    another(): Store;
  }>;
}

const admin = new pg.Pool({ connectionString: postgresUrl, max: 2 });
const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas.splice(0)) {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  await admin.end();
});

/** A schema name of this test's own, dropped when the file's tests are done. */
export function testSchema(): string {
  const schema = `agentd_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

/** Stores opened in a test, closed when it finishes (called inside a test). */
function tracked(): (store: Store) => Store {
  const open: Store[] = [];
  onTestFinished(async () => {
    for (const store of open.splice(0)) await store.close().catch(() => undefined);
  });
  return (store) => {
    open.push(store);
    return store;
  };
}

export const sqliteKind: StoreKind = {
  name: 'sqlite',
  async fresh(options = {}) {
    const track = tracked();
    const spec: StoreSpec = {
      kind: 'sqlite',
      path: join(tempDir(), 'agentd.db'),
      ...(options.durability ? { durability: options.durability } : {}),
    };
    return {
      store: track(openSpec(spec, options.redact)),
      spec,
      another: () => track(openSpec(spec, options.redact)),
    };
  },
};

export const postgresKind: StoreKind = {
  name: 'postgres',
  async fresh(options = {}) {
    const track = tracked();
    const spec: StoreSpec = {
      kind: 'postgres',
      url: postgresUrl,
      schema: testSchema(),
      ...(options.durability ? { durability: options.durability } : {}),
    };
    const store = track(openSpec(spec, options.redact));
    await (store as PostgresStore).ready();
    return { store, spec, another: () => track(openSpec(spec, options.redact)) };
  },
};

export const storeKinds: readonly StoreKind[] = [sqliteKind, postgresKind];

/**
 * The contract: `fn`'s tests run once against each store, in a `describe` named for it. A
 * test of one store only is the exception, and lives in that store's own file.
 */
export function describeStores(name: string, fn: (kind: StoreKind) => void): void {
  describe.each(storeKinds.map((kind) => ({ kind, name: kind.name })))(
    `${name} ($name)`,
    ({ kind }) => fn(kind),
  );
}

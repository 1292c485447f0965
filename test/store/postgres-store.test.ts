import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations as postgresMigrations } from '../../src/store/postgres/migrations.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { migrations as sqliteMigrations } from '../../src/store/sqlite/migrations.ts';
import { auditEntry } from './support/records.ts';
import { postgresUrl, testSchema } from './support/stores.ts';

// Tests of the Postgres store alone; everything both stores do is in the contract suite.

const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
afterAll(() => admin.end());

describe('PostgresStore (store-specific)', () => {
  it('has a migration for every version SQLite has: version N is one schema in both', () => {
    expect(postgresMigrations.length).toBe(sqliteMigrations.length);
  });

  it('stores opened together on a new schema migrate it once', async () => {
    const schema = testSchema();
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ url: postgresUrl, schema }));
    try {
      await Promise.all(stores.map((s) => s.ready()));
      const { rows } = await admin.query(
        `SELECT version FROM "${schema}".agentd_schema ORDER BY version`,
      );
      expect(rows.map((r) => r.version)).toEqual(postgresMigrations.map((_, i) => i + 1));
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('refuses a schema newer than this agentd knows, in one line', async () => {
    const schema = testSchema();
    const first = new PostgresStore({ url: postgresUrl, schema });
    await first.ready();
    await first.close();
    await admin.query(`INSERT INTO "${schema}".agentd_schema VALUES ($1, 'later')`, [
      postgresMigrations.length + 1,
    ]);
    const second = new PostgresStore({ url: postgresUrl, schema });
    await expect(second.ready()).rejects.toThrow(
      `the Postgres store at postgres://postgres@127.0.0.1:5432/test has schema version ${postgresMigrations.length + 1}, newer than this agentd knows (${postgresMigrations.length}); upgrade agentd`,
    );
    await expect(second.listRuns()).rejects.toThrow('upgrade agentd');
    await second.close();
  });

  it('the database itself refuses edits and deletions of audit entries', async () => {
    const schema = testSchema();
    const store = new PostgresStore({ url: postgresUrl, schema });
    try {
      await store.appendAudit(auditEntry(null, 1));
      await expect(admin.query(`UPDATE "${schema}".audit_log SET reason = 'x'`)).rejects.toThrow(
        'the audit log is append-only',
      );
      await expect(admin.query(`DELETE FROM "${schema}".audit_log`)).rejects.toThrow(
        'the audit log is append-only',
      );
    } finally {
      await store.close();
    }
  });
});

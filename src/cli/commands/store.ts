import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { describeUrl } from '../../store/postgres/postgres-connection.ts';
import { PostgresStore } from '../../store/postgres/postgres-store.ts';
import { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { copyStore } from '../../store/store-copy.ts';
import { table } from '../format.ts';

/** `agentd store migrate`: brings the configured store's schema to this agentd's version. */
export async function storeMigrateCommand(): Promise<number> {
  const config = loadConfig();
  if (config.databaseUrl) {
    const store = new PostgresStore({ url: config.databaseUrl, durability: config.durability });
    try {
      await store.ready();
      const version = await store.schemaVersion();
      const vector = await store.pgvector();
      process.stdout.write(
        `Postgres store at ${describeUrl(config.databaseUrl)}: schema version ${version}, up to date; pgvector ${vector === 'absent' ? 'not on this server' : vector} (vectors are kept as bytea and searched by each process's index)\n`,
      );
    } finally {
      await store.close();
    }
    return 0;
  }
  const store = new SqliteStore({ path: config.dbPath, durability: config.durability });
  process.stdout.write(
    `SQLite store at ${config.dbPath}: schema version ${store.schemaVersion()}, up to date\n`,
  );
  await store.close();
  return 0;
}

/**
 * `agentd store copy --to postgres://...`: copies this machine's SQLite store (or `--from`'s)
 * into an empty Postgres store and verifies the copy; exits 1 when it does not verify.
 */
export async function storeCopyCommand(options: { to: string; from?: string }): Promise<number> {
  const config = loadConfig();
  if (!/^postgres(ql)?:\/\/\S+$/.test(options.to)) {
    throw new AgentdError(
      'usage',
      `--to: "${options.to}" is not a postgres://user@host:port/database URL`,
    );
  }
  const from = options.from ? resolve(options.from) : config.dbPath;
  if (!existsSync(from)) {
    throw new AgentdError(
      'usage',
      `--from: there is no SQLite store at ${from} (name an agentd.db file, or set AGENTD_HOME)`,
    );
  }
  const source = new SqliteStore({ path: from });
  const target = new PostgresStore({ url: options.to, durability: 'machine' });
  try {
    const report = await copyStore(source, target, (name, rows) => {
      if (process.stderr.isTTY) process.stderr.write(`copied ${name}: ${rows}\n`);
    });
    const rows = report.tables.map((t) => [
      t.name,
      String(t.source),
      String(t.target),
      t.source === t.target ? 'ok' : 'DIFFERS',
    ]);
    process.stdout.write(`${table(['TABLE', 'SOURCE', 'COPY', ''], rows)}\n`);
    const countsOk = report.tables.every((t) => t.source === t.target);
    process.stdout.write(
      report.audit.ok
        ? `audit chain verified on the copy: ${report.audit.entries} entries\n`
        : `audit chain does not verify on the copy: ${report.audit.problem}\n`,
    );
    const ok = countsOk && report.audit.ok;
    process.stdout.write(
      ok
        ? `copied ${from} to ${describeUrl(options.to)}\n`
        : `the copy at ${describeUrl(options.to)} does not match ${from}\n`,
    );
    return ok ? 0 : 1;
  } finally {
    await source.close();
    await target.close();
  }
}

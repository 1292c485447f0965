import { existsSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { telemetryEnabled } from '../telemetry/settings.ts';
import { tracedStore } from '../telemetry/traced-store.ts';
import { PostgresStore } from './postgres/postgres-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/**
 * The store the config names: Postgres when `store:` in config.yaml or AGENTD_DATABASE_URL
 * gives a URL, otherwise the embedded SQLite file under AGENTD_HOME. With telemetry on,
 * appends also become spans and metrics (the SDK loads only then).
 */
export function openStore(
  config: Config,
  options: { redact?: Redactor; prometheus?: boolean } = {},
): Store {
  const redact = options.redact ? { redact: options.redact } : {};
  const store = config.databaseUrl
    ? new PostgresStore({ url: config.databaseUrl, durability: config.durability, ...redact })
    : new SqliteStore({ path: config.dbPath, durability: config.durability, ...redact });
  if (!telemetryEnabled(config)) return store;
  return tracedStore(store, config, {
    ...redact,
    ...(options.prometheus ? { prometheus: true } : {}),
  });
}

/** Whether the config's store has anything in it yet (a SQLite file not yet made has not). */
export function storeExists(config: Config): boolean {
  return config.databaseUrl !== undefined || existsSync(config.dbPath);
}

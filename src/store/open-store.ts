import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { telemetryEnabled } from '../telemetry/settings.ts';
import { tracedStore } from '../telemetry/traced-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/**
 * The store the config names: the embedded SQLite file under AGENTD_HOME for now. With
 * telemetry on, appends also become spans and metrics (the SDK loads only then).
 */
export function openStore(
  config: Config,
  options: { redact?: Redactor; prometheus?: boolean } = {},
): Store {
  const store = new SqliteStore({
    path: config.dbPath,
    durability: config.durability,
    redact: options.redact,
  });
  if (!telemetryEnabled(config)) return store;
  return tracedStore(store, config, {
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.prometheus ? { prometheus: true } : {}),
  });
}

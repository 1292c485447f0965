import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

/** The store the config names: the embedded SQLite file under AGENTD_HOME for now. */
export function openStore(config: Config, options: { redact?: Redactor } = {}): Store {
  return new SqliteStore({
    path: config.dbPath,
    durability: config.durability,
    redact: options.redact,
  });
}

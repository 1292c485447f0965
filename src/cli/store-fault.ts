import { join } from 'node:path';
import { agentdHome } from '../config/config.ts';
import type { AgentdError } from '../core/errors.ts';
import { sqliteFault } from '../store/sqlite/sqlite-fault.ts';

/**
 * A failure of the embedded store that reached the CLI from under a command (an append when
 * the disk filled, a write when another process held the file past the busy timeout): the
 * one line to show, naming the store this command used. Undefined for anything else.
 */
export function storeFault(error: unknown): AgentdError | undefined {
  // AGENTD_DATABASE_URL names Postgres: its errors are the store's own (store_failed)
  if (process.env.AGENTD_DATABASE_URL) return undefined;
  return sqliteFault(error, join(agentdHome(), 'agentd.db'));
}

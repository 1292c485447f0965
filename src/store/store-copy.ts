import { verifyAudit } from '../core/audit.ts';
import { AgentdError } from '../core/errors.ts';
import type { PostgresStore } from './postgres/postgres-store.ts';
import { splitWords } from './rows/registry-row.ts';
import type { SqliteStore } from './sqlite/sqlite-store.ts';

/**
 * The tables a store holds, in an order that satisfies their foreign keys, each read in the
 * order its rows were written. Full-text indexes are not copied: Postgres computes its own.
 */
const tables: readonly { name: string; order: string }[] = [
  { name: 'runs', order: 'rowid' },
  { name: 'events', order: 'run_id, seq' },
  { name: 'run_leases', order: 'rowid' },
  { name: 'mcp_servers', order: 'rowid' },
  { name: 'mcp_tools', order: 'rowid' },
  { name: 'api_keys', order: 'rowid' },
  { name: 'audit_log', order: 'seq' },
  { name: 'eval_scores', order: 'rowid' },
  { name: 'memories', order: 'n' },
  { name: 'memory_vectors', order: 'memory' },
  { name: 'memory_vector_log', order: 'seq' },
  { name: 'memory_jobs', order: 'id' },
  { name: 'approvals', order: 'rowid' },
  { name: 'teams', order: 'rowid' },
  { name: 'team_tasks', order: 'rowid' },
  { name: 'team_runs', order: 'rowid' },
  { name: 'team_events', order: 'team_id, seq' },
  { name: 'team_marks', order: 'rowid' },
  { name: 'team_ops', order: 'team_id, key' },
  { name: 'policy_sets', order: 'name, version' },
  { name: 'policy_set_active', order: 'rowid' },
  { name: 'eval_results', order: 'rowid' },
];

/** Columns Postgres keeps that SQLite computes elsewhere (its FTS5 tables). */
const derived: Record<string, Record<string, (row: Record<string, unknown>) => unknown>> = {
  mcp_tools: { words: (row) => splitWords(String(row.name)) },
};

export interface CopyReport {
  /** Rows of each table in the source and, after the copy, in the target. */
  tables: { name: string; source: number; target: number }[];
  /** The audit chain as verified on the target. */
  audit: { entries: number; ok: boolean; problem?: string };
}

/**
 * Copies a SQLite store into an empty Postgres store of the same schema version, in one
 * transaction (all or nothing), rows as they are: runs, events, the audit chain with its hashes
 * and head, memories with their vectors, policy sets, keys, teams. Then verifies the target:
 * every table's count against the source's, and the audit chain.
 */
export async function copyStore(
  source: SqliteStore,
  target: PostgresStore,
  progress: (table: string, rows: number) => void = () => undefined,
): Promise<CopyReport> {
  await target.ready();
  const sourceVersion = source.schemaVersion();
  const targetVersion = await target.schemaVersion();
  if (sourceVersion !== targetVersion) {
    throw new AgentdError(
      'store_failed',
      `the source store is at schema version ${sourceVersion} and the target at ${targetVersion}; run agentd store migrate on both with the same agentd`,
    );
  }
  const filled = [];
  for (const table of tables) {
    const rows = await target.rowCount(table.name);
    if (rows > 0) filled.push(`${table.name} (${rows})`);
  }
  if (filled.length) {
    throw new AgentdError(
      'store_failed',
      `the target store is not empty: ${filled.join(', ')}; copy into a new database or schema`,
    );
  }
  await target.importRows(async (insert) => {
    for (const table of tables) {
      const add = derived[table.name] ?? {};
      let count = 0;
      let batch: Record<string, unknown>[] = [];
      for (const stored of source.readTable(table.name, table.order)) {
        const row: Record<string, unknown> = { ...stored };
        for (const [column, compute] of Object.entries(add)) row[column] = compute(row);
        batch.push(row);
        if (batch.length === 500) {
          await insert(table.name, batch);
          count += batch.length;
          batch = [];
        }
      }
      if (batch.length) await insert(table.name, batch);
      progress(table.name, count + batch.length);
    }
    const head = await source.auditHead();
    return head;
  });
  const report: CopyReport = { tables: [], audit: { entries: 0, ok: false } };
  for (const table of tables) {
    report.tables.push({
      name: table.name,
      source: source.rowCount(table.name),
      target: await target.rowCount(table.name),
    });
  }
  const log = await target.listAudit();
  const verified = verifyAudit(log, await target.auditHead());
  report.audit = {
    entries: log.length,
    ok: verified.ok,
    ...(verified.ok ? {} : { problem: verified.problem }),
  };
  return report;
}

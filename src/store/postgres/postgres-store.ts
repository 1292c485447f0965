import type { AuditHead } from '../../core/audit.ts';
import { createRedactor, type Redactor } from '../../core/redact.ts';
import { ComposedStore } from '../composed-store.ts';
import type { Durability } from '../store.ts';
import { PostgresApiKeys } from './postgres-api-keys.ts';
import { PostgresApprovals } from './postgres-approvals.ts';
import { PostgresAudit } from './postgres-audit.ts';
import { PostgresConnection, quoteIdent } from './postgres-connection.ts';
import { PostgresEvalResults } from './postgres-eval-results.ts';
import { PostgresEvalScores } from './postgres-eval-scores.ts';
import { type InsertRows, importRows } from './postgres-import.ts';
import { PostgresLeases } from './postgres-leases.ts';
import { PostgresMemoryStore } from './postgres-memory-store.ts';
import { PostgresPolicySets } from './postgres-policy-sets.ts';
import { PostgresRegistry } from './postgres-registry.ts';
import { PostgresRunLog } from './postgres-run-log.ts';
import { PostgresTeamStore } from './postgres-team-store.ts';

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` */
  url: string;
  /** The schema to keep agentd's tables in (created when missing); default `public`. */
  schema?: string;
  durability?: Durability;
  redact?: Redactor;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
}

/**
 * The scale-out store: Postgres through a pool of `pg` connections, shared by every process
 * of a deployment (servers and workers on any number of hosts). Opening it is synchronous;
 * its schema is migrated before its first query runs.
 */
export class PostgresStore extends ComposedStore {
  readonly url: string;
  readonly durability: Durability;
  /** The pool and schema, for parts of agentd that need a connection of their own (LISTEN). */
  readonly connection: PostgresConnection;

  constructor(options: PostgresStoreOptions) {
    const durability = options.durability ?? 'process';
    // Without a run's own secrets, the well-known formats are still redacted.
    const redact = options.redact ?? createRedactor();
    const connection = new PostgresConnection({
      url: options.url,
      durability,
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.maxConnections ? { max: options.maxConnections } : {}),
    });
    const audit = new PostgresAudit(connection, redact);
    super({
      runs: new PostgresRunLog(connection, redact),
      leases: new PostgresLeases(connection),
      registry: new PostgresRegistry(connection),
      policySets: new PostgresPolicySets(connection),
      apiKeys: new PostgresApiKeys(connection),
      audit,
      approvals: new PostgresApprovals(connection, redact, audit),
      evalScores: new PostgresEvalScores(connection, redact),
      evalResults: new PostgresEvalResults(connection, redact),
      memories: new PostgresMemoryStore(connection, redact),
      teams: new PostgresTeamStore(connection, redact),
    });
    this.url = options.url;
    this.durability = durability;
    this.connection = connection;
  }

  /** Resolves once the schema is migrated (rejects with a one-line error if it cannot be). */
  ready(): Promise<void> {
    return this.connection.ready;
  }

  schemaVersion(): Promise<number> {
    return this.connection.schemaVersion();
  }

  /** How many rows a table of the store has (`agentd store copy` compares them). */
  async rowCount(table: string): Promise<number> {
    const [row] = await this.connection.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${quoteIdent(table)}`,
    );
    return row?.n ?? 0;
  }

  /** Fills this (empty) store with another store's rows, in one transaction. */
  importRows(fill: (insert: InsertRows) => Promise<AuditHead | undefined>): Promise<void> {
    return importRows(this.connection, fill);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

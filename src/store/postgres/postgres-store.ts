import type { AuditHead } from '../../core/audit.ts';
import { createRedactor, type Redactor } from '../../core/redact.ts';
import { ComposedStore } from '../composed-store.ts';
import type { ChangeTopic, Durability } from '../store.ts';
import { PostgresApiKeys } from './postgres-api-keys.ts';
import { PostgresApprovals } from './postgres-approvals.ts';
import { PostgresAudit } from './postgres-audit.ts';
import { PostgresConnection, quoteIdent } from './postgres-connection.ts';
import { PostgresEvalResults } from './postgres-eval-results.ts';
import { PostgresEvalScores } from './postgres-eval-scores.ts';
import { type InsertRows, importRows } from './postgres-import.ts';
import { PostgresLeases } from './postgres-leases.ts';
import { PostgresMemoryStore } from './postgres-memory-store.ts';
import { PostgresNotifications } from './postgres-notifications.ts';
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
  readonly #notifications: PostgresNotifications;

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
    this.#notifications = new PostgresNotifications(connection);
  }

  subscribe(topic: ChangeTopic, fn: (key: string) => void): Promise<() => void> {
    return this.#notifications.subscribe(topic, fn);
  }

  async publish(topic: ChangeTopic, key: string): Promise<void> {
    await this.connection.query('SELECT pg_notify($1, $2)', [this.connection.channel(topic), key]);
  }

  /** Resolves once the schema is migrated (rejects with a one-line error if it cannot be). */
  ready(): Promise<void> {
    return this.connection.ready;
  }

  /**
   * Whether the server has pgvector: `installed` in this database, `available` to install
   * (CREATE EXTENSION vector), or `absent`. Vectors are kept as bytea either way and searched by
   * each process's own index (see docs/scale-out.md).
   */
  async pgvector(): Promise<'installed' | 'available' | 'absent'> {
    const [row] = await this.connection.query<{ installed: boolean; available: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS installed,
              EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available`,
    );
    return row?.installed ? 'installed' : row?.available ? 'available' : 'absent';
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

  async close(): Promise<void> {
    await this.#notifications.close();
    await this.connection.close();
  }
}

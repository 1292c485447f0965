import type { Redactor } from '../../core/redact.ts';
import { ComposedStore } from '../composed-store.ts';
import type { Durability } from '../store.ts';
import { PostgresApiKeys } from './postgres-api-keys.ts';
import { PostgresApprovals } from './postgres-approvals.ts';
import { PostgresAudit } from './postgres-audit.ts';
import { PostgresConnection } from './postgres-connection.ts';
import { PostgresEvalScores } from './postgres-eval-scores.ts';
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
  /** The audit log, which `agentd store copy` fills with another store's entries. */
  readonly audit: PostgresAudit;

  constructor(options: PostgresStoreOptions) {
    const durability = options.durability ?? 'process';
    const redact = options.redact ?? ((text: string) => text);
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
      memories: new PostgresMemoryStore(connection, redact),
      teams: new PostgresTeamStore(connection, redact),
    });
    this.url = options.url;
    this.durability = durability;
    this.connection = connection;
    this.audit = audit;
  }

  /** Resolves once the schema is migrated (rejects with a one-line error if it cannot be). */
  ready(): Promise<void> {
    return this.connection.ready;
  }

  schemaVersion(): Promise<number> {
    return this.connection.schemaVersion();
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';
import { AgentdError } from '../../core/errors.ts';
import { createRedactor, type Redactor } from '../../core/redact.ts';
import { ComposedStore } from '../composed-store.ts';
import type { Durability } from '../store.ts';
import { migrations } from './migrations.ts';
import { SqliteApiKeys } from './sqlite-api-keys.ts';
import { SqliteApprovals } from './sqlite-approvals.ts';
import { SqliteAudit } from './sqlite-audit.ts';
import { SqliteConnection } from './sqlite-connection.ts';
import { SqliteEvalResults } from './sqlite-eval-results.ts';
import { SqliteEvalScores } from './sqlite-eval-scores.ts';
import { sqliteFault } from './sqlite-fault.ts';
import { SqliteLeases } from './sqlite-leases.ts';
import { SqliteMemoryStore } from './sqlite-memory-store.ts';
import { SqlitePolicySets } from './sqlite-policy-sets.ts';
import { SqliteRegistry } from './sqlite-registry.ts';
import { SqliteRunLog } from './sqlite-run-log.ts';
import { SqliteTeamStore } from './sqlite-team-store.ts';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  path: string;
  durability?: Durability;
  redact?: Redactor;
}

/** The embedded store: SQLite through `node:sqlite`, WAL journal, one connection. */
export class SqliteStore extends ComposedStore {
  readonly path: string;
  readonly durability: Durability;
  declare readonly memories: SqliteMemoryStore;
  declare readonly teams: SqliteTeamStore;
  readonly #db: DatabaseSync;
  readonly #runs: SqliteRunLog;

  constructor(options: SqliteStoreOptions) {
    const durability = options.durability ?? 'process';
    // Without a run's own secrets, the well-known formats are still redacted.
    const redact = options.redact ?? createRedactor();
    const db = openDatabase(options.path, durability);
    const connection = new SqliteConnection(db);
    const audit = new SqliteAudit(connection, redact);
    const runs = new SqliteRunLog(connection, redact, durability);
    super({
      runs,
      leases: new SqliteLeases(connection),
      registry: new SqliteRegistry(connection),
      policySets: new SqlitePolicySets(connection),
      apiKeys: new SqliteApiKeys(connection),
      audit,
      approvals: new SqliteApprovals(connection, redact, audit),
      evalScores: new SqliteEvalScores(connection, redact),
      evalResults: new SqliteEvalResults(connection, redact),
      memories: new SqliteMemoryStore(connection, redact),
      teams: new SqliteTeamStore(connection, redact),
    });
    this.path = options.path;
    this.durability = durability;
    this.#db = db;
    this.#runs = runs;
  }

  /** The schema version of the file (SQLite's `user_version`). */
  schemaVersion(): number {
    return (this.#db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  }

  /** The rows of one of the store's tables, in `order` (`agentd store copy` reads them). */
  readTable(table: string, order: string): Iterable<Record<string, SQLOutputValue>> {
    return this.#db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).iterate() as Iterable<
      Record<string, SQLOutputValue>
    >;
  }

  /** How many rows a table of the store has. */
  rowCount(table: string): number {
    return (this.#db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  }

  async close(): Promise<void> {
    this.#runs.flush();
    if (this.#db.isOpen) this.#db.close();
  }
}

function openDatabase(path: string, durability: Durability): DatabaseSync {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    // First, so that switching to WAL waits for a process creating the same file.
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${durability === 'machine' ? 'FULL' : 'NORMAL'}`);
    db.exec('PRAGMA foreign_keys = ON');
    migrate(db);
    return db;
  } catch (error) {
    throw (
      sqliteFault(error, path) ??
      new AgentdError(
        'store_failed',
        `cannot open the run store at ${path}: ${(error as Error).message} (check the path and its permissions, or set AGENTD_HOME)`,
        { cause: error },
      )
    );
  }
}

function migrate(db: DatabaseSync): void {
  // Each step reads the version inside its write transaction: processes opening a new store
  // at the same moment take turns, and each migration runs once.
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      const current = (db.prepare('PRAGMA user_version').get() as { user_version: number })
        .user_version;
      if (current > migrations.length) {
        throw new Error(
          `the store has schema version ${current}, newer than this agentd knows (${migrations.length}); upgrade agentd`,
        );
      }
      if (current === migrations.length) {
        db.exec('COMMIT');
        return;
      }
      db.exec(migrations[current]!);
      db.exec(`PRAGMA user_version = ${current + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // SQLite rolled back already (a full disk): the error that ended it is the one to tell
      }
      throw error;
    }
  }
}

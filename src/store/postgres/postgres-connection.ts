import { createRequire } from 'node:module';
import type pg from 'pg';
import { AgentdError } from '../../core/errors.ts';
import type { Durability } from '../store.ts';
import { migrations } from './migrations.ts';

/** What a query may be given: the values `pg` sends as parameters. */
export type SqlValue = string | number | boolean | null | Uint8Array | readonly unknown[];

/** Something that runs a query: the pool, or the client of a transaction. */
export interface Queryable {
  query<R>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
}

/**
 * The `pg` package, loaded when a Postgres store is first opened: every other command (the
 * SQLite store's) starts without it. It is CommonJS, so `require` loads it in place.
 */
function loadPg(): typeof pg {
  return createRequire(import.meta.url)('pg') as typeof pg;
}

/** 64-bit integers (counts, identities) as numbers: every value agentd keeps fits in 2^53. */
function typeParsers(driver: typeof pg): { getTypeParser: typeof pg.types.getTypeParser } {
  return {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === 20
        ? (value: string) => Number(value)
        : driver.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
}

export interface PostgresConnectionOptions {
  /** `postgres://user@host:port/database`; `?options=-c search_path=...` picks a schema. */
  url: string;
  /** A schema to keep agentd's tables in (created when missing); default `public`. */
  schema?: string;
  durability: Durability;
  /** Connections in the pool (default 10). */
  max?: number;
}

/**
 * The pool of a Postgres store, shared by its parts. The schema is migrated once, before the
 * first query runs (every query waits for it), so opening a store stays synchronous.
 * `process` durability commits with `synchronous_commit = off` (nothing is lost when agentd
 * dies; the server may lose its last commits if the machine does), `machine` waits for the
 * server's fsync.
 */
export class PostgresConnection implements Queryable {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly ready: Promise<void>;
  readonly #where: string;
  readonly #clientConfig: pg.ClientConfig;
  readonly #driver: typeof pg;
  /** The schema the tables are in (`search_path`'s first), known once migrated. */
  #current = 'public';

  constructor(options: PostgresConnectionOptions) {
    this.schema = options.schema ?? 'public';
    this.#where = describeUrl(options.url);
    const settings = [
      `-c synchronous_commit=${options.durability === 'machine' ? 'on' : 'off'}`,
      ...(options.schema ? [`-c search_path=${quoteIdent(options.schema)}`] : []),
    ];
    // `options` of the URL joins agentd's own (pg would let the URL's replace them).
    const url = new URL(options.url);
    const given = url.searchParams.get('options');
    url.searchParams.delete('options');
    const driver = loadPg();
    this.#driver = driver;
    this.#clientConfig = {
      connectionString: url.toString(),
      types: typeParsers(driver),
      options: [given, ...settings].filter(Boolean).join(' '),
    };
    this.pool = new driver.Pool({ ...this.#clientConfig, max: options.max ?? 10 });
    // An idle client losing its server is reported on the next query, not as a crash.
    this.pool.on('error', () => undefined);
    // ... and so is a checked-out client losing it (the query it runs fails instead).
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.ready = this.#migrate(options.schema);
    this.ready.catch(() => undefined);
  }

  async query<R>(sql: string, params: readonly SqlValue[] = []): Promise<R[]> {
    await this.ready;
    const result = await this.pool.query(sql, params as unknown[]);
    return result.rows as R[];
  }

  /**
   * Runs `fn` in a transaction on one client of the pool (READ COMMITTED: parts that need a
   * writer at a time take a row lock first).
   */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    await this.ready;
    const client = await this.pool.connect();
    const tx: Queryable = {
      query: async <R>(sql: string, params: readonly SqlValue[] = []) =>
        (await client.query(sql, params as unknown[])).rows as R[],
    };
    try {
      await client.query('BEGIN');
      const value = await fn(tx);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** A connection of its own, outside the pool (LISTEN keeps one for as long as it listens). */
  newClient(): pg.Client {
    return new this.#driver.Client(this.#clientConfig);
  }

  /**
   * The NOTIFY channel of a kind of change in this store (channels are the database's, so
   * each schema's are its own).
   */
  channel(topic: string): string {
    return `agentd:${topic}:${this.#current}`;
  }

  /** The schema version the database has (0 before the first migration). */
  async schemaVersion(): Promise<number> {
    const rows = await this.query<{ version: number }>(
      'SELECT max(version) AS version FROM agentd_schema',
    );
    return rows[0]?.version ?? 0;
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.pool.end();
  }

  /**
   * Applies the migrations not yet applied, each in its own transaction, under an advisory
   * lock so that processes starting together migrate once.
   */
  async #migrate(schema: string | undefined): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new AgentdError(
        'store_failed',
        `cannot reach the Postgres store at ${this.#where}: ${(error as Error).message} (check the store URL in config.yaml or AGENTD_DATABASE_URL, and that the server runs)`,
        { cause: error },
      );
    }
    try {
      // The lock is taken first: even `IF NOT EXISTS` races with itself.
      const lock = "hashtext('agentd-migrate:' || current_setting('search_path'))";
      await client.query(`SELECT pg_advisory_lock(${lock})`);
      try {
        if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await client.query(
          'CREATE TABLE IF NOT EXISTS agentd_schema (version integer PRIMARY KEY, applied_at text NOT NULL)',
        );
        const { rows } = await client.query<{ version: number | null }>(
          'SELECT max(version) AS version FROM agentd_schema',
        );
        const current = rows[0]?.version ?? 0;
        if (current > migrations.length) {
          throw new AgentdError(
            'store_failed',
            `the Postgres store at ${this.#where} has schema version ${current}, newer than this agentd knows (${migrations.length}); upgrade agentd`,
          );
        }
        for (let version = current; version < migrations.length; version++) {
          await client.query('BEGIN');
          try {
            await client.query(migrations[version]!);
            await client.query('INSERT INTO agentd_schema (version, applied_at) VALUES ($1, $2)', [
              version + 1,
              new Date().toISOString(),
            ]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
        }
        const { rows: where } = await client.query<{ schema: string }>(
          'SELECT current_schema() AS schema',
        );
        this.#current = where[0]?.schema ?? 'public';
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${lock})`);
      }
    } catch (error) {
      if (error instanceof AgentdError) throw error;
      throw new AgentdError(
        'store_failed',
        `cannot open the Postgres store at ${this.#where}: ${(error as Error).message}`,
        { cause: error },
      );
    } finally {
      client.release();
    }
  }
}

/** Whether an error is Postgres refusing a row whose key is taken. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === '23505';
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A store URL to show: host, port and database, never a password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'the configured URL';
  }
}

/** `$1, $2, ...` placeholders for `count` values starting after `offset`. */
export function placeholders(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, i) => `$${offset + i + 1}`).join(', ');
}

import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

/**
 * The one connection of a SQLite store, shared by its parts: prepared statements kept per
 * connection, and write transactions. `node:sqlite` is synchronous, so a transaction runs to
 * its end before any other call on the connection: no part ever interleaves with another.
 */
export class SqliteConnection {
  readonly db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** A prepared statement, prepared once per connection. */
  prepare(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      // Queries built for a filter vary: keep the cache small.
      if (this.#statements.size >= 256) this.#statements.clear();
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * The first row a write `... RETURNING` statement gives, stepped to its end. `get` stops at
   * the first row and ignores what finishing the statement reports: outside a transaction
   * that is the commit, so a full disk would hand back a row that was never written.
   */
  returning<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.prepare(sql).all(...params)[0] as T | undefined;
  }

  /** Runs `fn` in a write transaction (`BEGIN IMMEDIATE`: writers in other processes queue). */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      // SQLite has rolled back already after some failures (a full disk, an I/O error): the
      // error to report is the one that ended the transaction, not the ROLLBACK's.
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // no transaction left to roll back
      }
      throw error;
    }
  }
}

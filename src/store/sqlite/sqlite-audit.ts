import {
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  auditHash,
  genesisHash,
} from '../../core/audit.ts';
import type { Redactor } from '../../core/redact.ts';
import {
  type AuditRow,
  auditColumns,
  auditValues,
  redactAudit,
  toAuditRecord,
} from '../rows/audit-row.ts';
import type { AuditStore, ListAuditOptions } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

const insertAuditSql = `INSERT INTO audit_log (${auditColumns.join(', ')})
  VALUES (${auditColumns.map(() => '?').join(', ')})`;

/**
 * The audit log: an entry and the head it moves are written in one transaction, under
 * SQLite's write lock, so writers in any process chain one after another.
 */
export class SqliteAudit implements AuditStore {
  readonly #c: SqliteConnection;
  readonly #redact: Redactor;

  constructor(connection: SqliteConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async appendAudit(entry: AuditEntry): Promise<AuditRecord> {
    return this.#c.transaction(() => this.insert(entry));
  }

  /** Appends an entry and moves the head, inside the caller's transaction. */
  insert(entry: AuditEntry): AuditRecord {
    const redacted = redactAudit(entry, this.#redact);
    const head = this.#head();
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? genesisHash;
    const record: AuditRecord = {
      ...redacted,
      seq,
      prevHash,
      hash: auditHash(seq, prevHash, redacted),
    };
    this.#c.prepare(insertAuditSql).run(...auditValues(record));
    this.#c
      .prepare(
        'INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
      )
      .run(seq, record.hash);
    return record;
  }

  #head(): AuditHead | undefined {
    const row = this.#c.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as
      | AuditHead
      | undefined;
    return row ? { seq: row.seq, hash: row.hash } : undefined;
  }

  async listAudit(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    const where = ['seq > ?'];
    const params: (string | number)[] = [options.afterSeq ?? 0];
    if (options.runId !== undefined) {
      where.push('run_id = ?');
      params.push(options.runId);
    }
    const rows = this.#c
      .prepare(
        `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq ${options.newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
      )
      .all(...params, options.limit ?? -1) as unknown as AuditRow[];
    return rows.map(toAuditRecord);
  }

  async auditHead(): Promise<AuditHead | undefined> {
    return this.#head();
  }
}

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
import { type PostgresConnection, placeholders, type Queryable } from './postgres-connection.ts';

const insertAuditSql = `INSERT INTO audit_log (${auditColumns.join(', ')})
  VALUES (${placeholders(auditColumns.length)})`;

/**
 * The audit log: an entry and the head it moves are written in one transaction that first
 * locks the head's row, so writers in any process chain one after another.
 */
export class PostgresAudit implements AuditStore {
  readonly #c: PostgresConnection;
  readonly #redact: Redactor;

  constructor(connection: PostgresConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  async appendAudit(entry: AuditEntry): Promise<AuditRecord> {
    return this.#c.transaction((tx) => this.insert(tx, entry));
  }

  /** Appends an entry and moves the head, inside the caller's transaction. */
  async insert(tx: Queryable, entry: AuditEntry): Promise<AuditRecord> {
    const redacted = redactAudit(entry, this.#redact);
    const [head] = await tx.query<AuditHead>(
      'SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE',
    );
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head && head.seq > 0 ? head.hash : genesisHash;
    const record: AuditRecord = {
      ...redacted,
      seq,
      prevHash,
      hash: auditHash(seq, prevHash, redacted),
    };
    await tx.query(insertAuditSql, auditValues(record));
    await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [seq, record.hash]);
    return record;
  }

  async listAudit(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    const params: (string | number | null)[] = [options.afterSeq ?? 0];
    let where = 'seq > $1';
    if (options.runId !== undefined) {
      params.push(options.runId);
      where += ' AND run_id = $2';
    }
    params.push(options.limit ?? null);
    const rows = await this.#c.query<AuditRow>(
      `SELECT * FROM audit_log WHERE ${where} ORDER BY seq ${options.newestFirst ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAuditRecord);
  }

  async auditHead(): Promise<AuditHead | undefined> {
    const [row] = await this.#c.query<AuditHead>('SELECT seq, hash FROM audit_head WHERE id = 1');
    return row && row.seq > 0 ? { seq: row.seq, hash: row.hash } : undefined;
  }
}

import type { AuditHead } from '../../core/audit.ts';
import {
  type PostgresConnection,
  placeholders,
  type Queryable,
  quoteIdent,
  type SqlValue,
} from './postgres-connection.ts';

/** Writes rows of a table as another store kept them (a batch at a time). */
export type InsertRows = (table: string, rows: readonly Record<string, unknown>[]) => Promise<void>;

interface Column {
  name: string;
  type: string;
}

/** Columns that identities or generated expressions fill (`n`, the tsvectors) take no value. */
async function writableColumns(tx: Queryable, table: string): Promise<Column[]> {
  const rows = await tx.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1
       AND is_generated = 'NEVER' AND coalesce(identity_generation, '') != 'ALWAYS'
     ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((row) => ({ name: row.column_name, type: row.data_type }));
}

/** A SQLite value as the Postgres column takes it (0/1 as booleans, blobs as bytea). */
function convert(value: unknown, column: Column): SqlValue {
  if (value === undefined || value === null) return null;
  if (column.type === 'boolean') return value === 1 || value === true;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'bigint') return Number(value);
  return value as SqlValue;
}

/**
 * Fills an empty store in one transaction: `fill` inserts every table's rows and returns the
 * audit head to record; identity sequences then start after the highest value copied.
 */
export async function importRows(
  connection: PostgresConnection,
  fill: (insert: InsertRows) => Promise<AuditHead | undefined>,
): Promise<void> {
  await connection.transaction(async (tx) => {
    const columns = new Map<string, Column[]>();
    const insert: InsertRows = async (table, rows) => {
      if (rows.length === 0) return;
      let cols = columns.get(table);
      if (!cols) {
        const given = new Set(Object.keys(rows[0]!));
        cols = (await writableColumns(tx, table)).filter((c) => given.has(c.name));
        columns.set(table, cols);
      }
      const values: SqlValue[] = [];
      const tuples = rows.map((row) => {
        const tuple = `(${placeholders(cols.length, values.length)})`;
        for (const c of cols) values.push(convert(row[c.name], c));
        return tuple;
      });
      await tx.query(
        `INSERT INTO ${quoteIdent(table)} (${cols.map((c) => quoteIdent(c.name)).join(', ')}) VALUES ${tuples.join(', ')}`,
        values,
      );
    };
    const head = await fill(insert);
    if (head) {
      await tx.query('UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1', [
        head.seq,
        head.hash,
      ]);
    }
    for (const [table, column] of [
      ['memories', 'n'],
      ['memory_vector_log', 'seq'],
      ['memory_jobs', 'id'],
    ] as const) {
      await tx.query(
        `SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(${column}), 0) + 1, false) FROM ${table}`,
        [table, column],
      );
    }
  });
}

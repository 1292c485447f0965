import type { Column } from './design-spec.ts';

type ParquetType = 'STRING' | 'DOUBLE' | 'BOOLEAN' | 'JSON';

/** The Parquet type of a column's values, from what the column can produce. */
export function parquetTypeOf(column: Column): ParquetType {
  const of = (values: readonly unknown[]): ParquetType =>
    values.every((v) => typeof v === 'string')
      ? 'STRING'
      : values.every((v) => typeof v === 'number')
        ? 'DOUBLE'
        : values.every((v) => typeof v === 'boolean')
          ? 'BOOLEAN'
          : 'JSON';
  switch (column.type) {
    case 'sampler':
      switch (column.sampler) {
        case 'category':
          return of(column.params.values);
        case 'subcategory':
          return of(Object.values(column.params.values).flat());
        case 'uniform':
        case 'gaussian':
        case 'poisson':
          return 'DOUBLE';
        case 'bernoulli':
          return 'BOOLEAN';
        case 'datetime':
        case 'uuid':
          return 'STRING';
        case 'person':
          return 'JSON';
      }
      return 'JSON';
    case 'expression':
    case 'llm-text':
    case 'llm-code':
    case 'seed':
      return 'STRING';
    default:
      return 'JSON';
  }
}

/**
 * Rows to a Parquet file a row group at a time (hyparquet-writer), so memory stays flat however
 * many rows there are. Text columns keep non-text values (a seed's) as JSON text; objects are
 * Parquet JSON columns.
 */
export class ParquetOutput {
  readonly #columns: { name: string; type: ParquetType }[];
  readonly #groupSize: number;
  #buffer: unknown[][] = [];
  #writer:
    | { write(o: { columnData: unknown[]; rowGroupSize: number }): unknown; finish(): unknown }
    | undefined;
  readonly #path: string;

  constructor(path: string, columns: readonly Column[], groupSize = 10_000) {
    this.#path = path;
    this.#columns = columns
      .filter((c) => !c.drop)
      .map((c) => ({ name: c.name, type: parquetTypeOf(c) }));
    this.#groupSize = groupSize;
    this.#buffer = this.#columns.map(() => []);
  }

  async open(): Promise<void> {
    const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
    const schema = schemaFromColumnData({
      columnData: this.#columns.map((c) => ({ name: c.name, data: [], type: c.type })),
    });
    this.#writer = new ParquetWriter({
      writer: fileWriter(this.#path),
      schema,
      createdBy: 'agentd',
    }) as never;
  }

  add(row: Readonly<Record<string, unknown>>): void {
    for (const [i, c] of this.#columns.entries()) {
      const v = row[c.name];
      this.#buffer[i]!.push(
        // JSON columns take the value (the writer encodes it); text columns take text
        v === undefined || v === null
          ? null
          : c.type === 'STRING' && typeof v !== 'string'
            ? JSON.stringify(v)
            : v,
      );
    }
    if (this.#buffer[0]!.length >= this.#groupSize) this.#flush();
  }

  #flush(): void {
    if (!this.#buffer[0]?.length) return;
    this.#writer!.write({
      columnData: this.#columns.map((c, i) => ({
        name: c.name,
        data: this.#buffer[i]!,
        type: c.type,
      })),
      rowGroupSize: this.#groupSize,
    });
    this.#buffer = this.#columns.map(() => []);
  }

  finish(): void {
    this.#flush();
    this.#writer!.finish();
  }
}

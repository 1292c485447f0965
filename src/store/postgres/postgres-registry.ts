import {
  type ServerRow,
  splitWords,
  type ToolRow,
  toServer,
  toTool,
} from '../rows/registry-row.ts';
import type { RegistryStore, ServerRecord, ToolRecord } from '../store.ts';
import type { PostgresConnection } from './postgres-connection.ts';

const toolColumns = 'server, name, description, input_schema, annotations, listed_at';

/**
 * Registered MCP servers and their tools, searched with a `tsvector` of the name's words
 * (weight A) and the description (B), each query word matching as a prefix.
 */
export class PostgresRegistry implements RegistryStore {
  readonly #c: PostgresConnection;

  constructor(connection: PostgresConnection) {
    this.#c = connection;
  }

  async putServer(record: ServerRecord): Promise<void> {
    await this.#c.query(
      `INSERT INTO mcp_servers (name, entry, secrets, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET entry = excluded.entry, secrets = excluded.secrets, updated_at = excluded.updated_at`,
      [
        record.name,
        JSON.stringify(record.entry),
        record.sealedSecrets,
        record.createdAt,
        record.updatedAt,
      ],
    );
  }

  async getServer(name: string): Promise<ServerRecord | undefined> {
    const [row] = await this.#c.query<ServerRow>('SELECT * FROM mcp_servers WHERE name = $1', [
      name,
    ]);
    return row ? toServer(row) : undefined;
  }

  async listServers(): Promise<ServerRecord[]> {
    const rows = await this.#c.query<ServerRow>('SELECT * FROM mcp_servers ORDER BY name');
    return rows.map(toServer);
  }

  async deleteServer(name: string): Promise<boolean> {
    // Its tools go with it (ON DELETE CASCADE).
    const rows = await this.#c.query('DELETE FROM mcp_servers WHERE name = $1 RETURNING name', [
      name,
    ]);
    return rows.length === 1;
  }

  async setServerTools(server: string, tools: readonly ToolRecord[]): Promise<void> {
    await this.#c.transaction(async (tx) => {
      await tx.query('DELETE FROM mcp_tools WHERE server = $1', [server]);
      if (tools.length === 0) return;
      await tx.query(
        `INSERT INTO mcp_tools (${toolColumns}, words)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
        [
          server,
          tools.map((t) => t.name),
          tools.map((t) => t.description),
          tools.map((t) => JSON.stringify(t.inputSchema)),
          tools.map((t) => (t.annotations === undefined ? null : JSON.stringify(t.annotations))),
          tools.map((t) => t.listedAt),
          // Words in names like read_text_file or listFiles are searchable one by one.
          tools.map((t) => splitWords(t.name)),
        ],
      );
    });
  }

  async listServerTools(server?: string): Promise<ToolRecord[]> {
    const rows =
      server === undefined
        ? await this.#c.query<ToolRow>(`SELECT ${toolColumns} FROM mcp_tools ORDER BY server, name`)
        : await this.#c.query<ToolRow>(
            `SELECT ${toolColumns} FROM mcp_tools WHERE server = $1 ORDER BY name`,
            [server],
          );
    return rows.map(toTool);
  }

  async searchTools(query: string, limit: number): Promise<(ToolRecord & { score: number })[]> {
    const words = splitWords(query)
      .split(' ')
      .filter((w) => w.length > 0);
    if (words.length === 0) return [];
    // Words are letters and digits only: none is tsquery syntax.
    const match = words.map((w) => `${w}:*`).join(' | ');
    // weights {D, C, B, A}: a word in the name counts five times a word in the description
    const rows = await this.#c.query<ToolRow & { rank: number }>(
      `SELECT ${toolColumns}, ts_rank('{0, 0, 0.2, 1}', search, q) AS rank
       FROM mcp_tools, to_tsquery('simple', $1) q WHERE search @@ q
       ORDER BY rank DESC, server, name LIMIT $2`,
      [match, limit],
    );
    return rows.map((row) => ({ ...toTool(row), score: Number(row.rank) }));
  }
}

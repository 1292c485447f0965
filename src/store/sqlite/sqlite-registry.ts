import {
  type ServerRow,
  splitWords,
  type ToolRow,
  toServer,
  toTool,
} from '../rows/registry-row.ts';
import type { RegistryStore, ServerRecord, ToolRecord } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** Registered MCP servers and their tools, searched with FTS5 (BM25). */
export class SqliteRegistry implements RegistryStore {
  readonly #c: SqliteConnection;

  constructor(connection: SqliteConnection) {
    this.#c = connection;
  }

  async putServer(record: ServerRecord): Promise<void> {
    this.#c
      .prepare(
        `INSERT INTO mcp_servers (name, entry, secrets, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET entry = excluded.entry, secrets = excluded.secrets, updated_at = excluded.updated_at`,
      )
      .run(
        record.name,
        JSON.stringify(record.entry),
        record.sealedSecrets,
        record.createdAt,
        record.updatedAt,
      );
  }

  async getServer(name: string): Promise<ServerRecord | undefined> {
    const row = this.#c.prepare('SELECT * FROM mcp_servers WHERE name = ?').get(name) as
      | ServerRow
      | undefined;
    return row ? toServer(row) : undefined;
  }

  async listServers(): Promise<ServerRecord[]> {
    const rows = this.#c
      .prepare('SELECT * FROM mcp_servers ORDER BY name')
      .all() as unknown as ServerRow[];
    return rows.map(toServer);
  }

  async deleteServer(name: string): Promise<boolean> {
    return this.#c.transaction(() => {
      this.#c.prepare('DELETE FROM mcp_tools_search WHERE server = ?').run(name);
      this.#c.prepare('DELETE FROM mcp_tools WHERE server = ?').run(name);
      return this.#c.prepare('DELETE FROM mcp_servers WHERE name = ?').run(name).changes === 1;
    });
  }

  async setServerTools(server: string, tools: readonly ToolRecord[]): Promise<void> {
    this.#c.transaction(() => {
      this.#c.prepare('DELETE FROM mcp_tools_search WHERE server = ?').run(server);
      this.#c.prepare('DELETE FROM mcp_tools WHERE server = ?').run(server);
      const insert = this.#c.prepare(
        'INSERT INTO mcp_tools (server, name, description, input_schema, annotations, listed_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const index = this.#c.prepare(
        'INSERT INTO mcp_tools_search (server, tool, words, description) VALUES (?, ?, ?, ?)',
      );
      for (const tool of tools) {
        insert.run(
          server,
          tool.name,
          tool.description,
          JSON.stringify(tool.inputSchema),
          tool.annotations === undefined ? null : JSON.stringify(tool.annotations),
          tool.listedAt,
        );
        // Words in names like read_text_file or listFiles are searchable one by one.
        index.run(server, tool.name, splitWords(tool.name), tool.description);
      }
    });
  }

  async listServerTools(server?: string): Promise<ToolRecord[]> {
    const rows = (server === undefined
      ? this.#c.prepare('SELECT * FROM mcp_tools ORDER BY server, name').all()
      : this.#c
          .prepare('SELECT * FROM mcp_tools WHERE server = ? ORDER BY name')
          .all(server)) as unknown as ToolRow[];
    return rows.map(toTool);
  }

  async searchTools(query: string, limit: number): Promise<(ToolRecord & { score: number })[]> {
    const words = splitWords(query)
      .split(' ')
      .filter((w) => w.length > 0);
    if (words.length === 0) return [];
    const match = words.map((w) => `"${w.replaceAll('"', '""')}"*`).join(' OR ');
    // bm25: a word in the name counts five times a word in the description
    const rows = this.#c
      .prepare(
        `SELECT t.*, bm25(mcp_tools_search, 0, 0, 5, 1) AS rank
         FROM mcp_tools_search s JOIN mcp_tools t ON t.server = s.server AND t.name = s.tool
         WHERE mcp_tools_search MATCH ? ORDER BY rank LIMIT ?`,
      )
      .all(match, limit) as unknown as (ToolRow & { rank: number })[];
    return rows.map((row) => ({ ...toTool(row), score: -row.rank }));
  }
}

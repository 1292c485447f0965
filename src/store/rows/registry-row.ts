import type { ServerRecord, ToolRecord } from '../store.ts';

/** Rows of `mcp_servers` and `mcp_tools`, the same in every store. */
export interface ServerRow {
  name: string;
  entry: string;
  secrets: string | null;
  created_at: string;
  updated_at: string;
}

export interface ToolRow {
  server: string;
  name: string;
  description: string;
  input_schema: string;
  annotations: string | null;
  listed_at: string;
}

export function toServer(row: ServerRow): ServerRecord {
  return {
    name: row.name,
    entry: JSON.parse(row.entry),
    sealedSecrets: row.secrets,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toTool(row: ToolRow): ToolRecord {
  return {
    server: row.server,
    name: row.name,
    description: row.description,
    inputSchema: JSON.parse(row.input_schema),
    ...(row.annotations ? { annotations: JSON.parse(row.annotations) } : {}),
    listedAt: row.listed_at,
  };
}

/** `read_text_file` and `readTextFile` as `read text file`, for the search index. */
export function splitWords(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .toLowerCase();
}

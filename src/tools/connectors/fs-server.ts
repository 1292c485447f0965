import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { connectorServer } from './connector-server.ts';
import { registerFsChangingTools } from './fs-changing-tools.ts';
import { registerFsReadingTools } from './fs-reading-tools.ts';
import { PathGuard } from './path-guard.ts';

export interface FsConnectorOptions {
  /** Directories the connector may touch; relative paths resolve against the first. */
  roots: string[];
  /** The most `read` returns in one call (default 256 KiB); `offset` reads on. */
  maxReadBytes?: number;
  /** The most lines `list` and `search` return (default 200). */
  maxResults?: number;
  /**
   * How long `search` looks (default 20 s); it runs in a worker thread that is stopped
   * shortly after, whatever the pattern does.
   */
  searchTimeMs?: number;
}

const defaultMaxReadBytes = 256 * 1024;
const defaultMaxResults = 200;
const defaultSearchTimeMs = 20_000;

/**
 * The `fs` connector: list, read, search, write, edit, move and delete files, confined to
 * the configured roots (see PathGuard for what is refused).
 */
export function createFsServer(options: FsConnectorOptions): McpServer {
  const guard = new PathGuard(options.roots);
  const maxReadBytes = options.maxReadBytes ?? defaultMaxReadBytes;
  const maxResults = options.maxResults ?? defaultMaxResults;
  const searchTimeMs = options.searchTimeMs ?? defaultSearchTimeMs;
  const roots = guard.describeRoots();
  const where = `Paths are relative to ${guard.roots[0]} or absolute inside the allowed roots (${roots}).`;
  const server = connectorServer(
    'fs',
    `Files under ${roots}. ${where} Nothing outside them can be reached, through "..", absolute paths or symlinks.`,
  );
  const pathField = (what: string) => z.string().describe(`${what}. ${where}`);
  const tools = { server, guard, where, pathField, maxReadBytes, maxResults, searchTimeMs };
  registerFsReadingTools(tools);
  registerFsChangingTools(tools);
  return server;
}

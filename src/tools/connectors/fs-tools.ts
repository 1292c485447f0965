import { constants } from 'node:fs';
import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import type { z } from 'zod';
import { ConnectorError } from './connector-error.ts';
import { fsError } from './fs-error.ts';
import type { GuardedPath, PathGuard } from './path-guard.ts';
import { guarded } from './tool-result.ts';

/** What every tool of the `fs` connector is built with. */
export interface FsTools {
  server: McpServer;
  guard: PathGuard;
  /** The sentence every description ends with: where paths are taken from. */
  where: string;
  /** A path argument, described as `what` and where it is taken from. */
  pathField: (what: string) => z.ZodString;
  maxReadBytes: number;
  maxResults: number;
  searchTimeMs: number;
}

/** Never through a symlink, and never waiting on a FIFO. */
export const readFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Checks `input` with the guard ('follow': what reading or writing touches; 'entry': the
 * directory entry itself), runs `use`, and turns any failure into a one-line error result.
 */
export function withPath(
  guard: PathGuard,
  input: string,
  mode: 'follow' | 'entry',
  use: (target: GuardedPath) => Promise<CallToolResult>,
): Promise<CallToolResult> {
  return guarded(async () => {
    let target: GuardedPath;
    try {
      target = mode === 'follow' ? await guard.resolve(input) : await guard.resolveEntry(input);
    } catch (error) {
      throw fsError(error, input);
    }
    try {
      return await use(target);
    } catch (error) {
      throw fsError(error, target.display);
    }
  });
}

export function notAFile(target: GuardedPath, isDirectory: boolean): ConnectorError {
  return new ConnectorError(
    isDirectory
      ? `path "${target.display}" is a directory; give a file path (list shows what is in it)`
      : `path "${target.display}" is not a regular file`,
  );
}

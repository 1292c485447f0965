import { constants } from 'node:fs';
import { cp, lstat, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { looksBinary } from './binary-content.ts';
import { ConnectorError } from './connector-error.ts';
import { connectorServer } from './connector-server.ts';
import { fsError } from './fs-error.ts';
import { type GuardedPath, PathGuard, within } from './path-guard.ts';
import { runSearch } from './run-search.ts';
import { secretFilesSkipped } from './secret-file.ts';
import { guarded, textResult } from './tool-result.ts';
import { skippedDirectories, walkTree } from './walk-tree.ts';

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
/** `edit` loads the whole file; larger files are refused. */
const maxEditBytes = 16 * 1024 * 1024;

/** Never through a symlink, and never waiting on a FIFO. */
const readFlags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

const readOnly = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

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

  server.registerTool(
    'list',
    {
      title: 'List a directory',
      description: `List the entries of a directory ("name/" for directories, "name@" for symlinks, sizes for files), at most ${maxResults}. ${where}`,
      inputSchema: z.object({
        path: pathField('Directory to list').default('.'),
        recursive: z
          .boolean()
          .default(false)
          .describe('Also list everything below it (node_modules and .git are not entered)'),
      }),
      annotations: { title: 'List a directory', ...readOnly },
    },
    ({ path, recursive }, ctx) =>
      withPath(guard, path, 'follow', async (target) => {
        const info = await stat(target.real);
        if (!info.isDirectory()) return textResult(`${target.display} (${info.size} bytes)`);
        const lines: string[] = [];
        let capped = false;
        for await (const { path: entryPath, entry } of walkTree(target.real, {
          recursive,
          signal: ctx.mcpReq.signal,
        })) {
          if (lines.length >= maxResults) {
            capped = true;
            break;
          }
          const shown = guard.display(entryPath);
          if (entry.isSymbolicLink()) lines.push(`${shown}@`);
          else if (entry.isDirectory()) {
            const note = recursive && skippedDirectories.has(entry.name) ? ' (not listed)' : '';
            lines.push(`${shown}/${note}`);
          } else {
            const size = await stat(entryPath).then(
              (s) => ` (${s.size} bytes)`,
              () => '',
            );
            lines.push(`${shown}${size}`);
          }
        }
        if (lines.length === 0) return textResult(`${target.display} is empty`);
        if (capped) {
          lines.push(`[listing capped at ${maxResults} entries; list a subdirectory for more]`);
        }
        return textResult(lines.join('\n'));
      }),
  );

  server.registerTool(
    'read',
    {
      title: 'Read a text file',
      description: `Read a text file, at most ${maxReadBytes} bytes per call; a longer file says where to continue with "offset". ${where}`,
      inputSchema: z.object({
        path: pathField('File to read'),
        offset: z.number().int().min(0).default(0).describe('Byte offset to start at'),
      }),
      annotations: { title: 'Read a text file', ...readOnly },
    },
    ({ path, offset }) =>
      withPath(guard, path, 'follow', async (target) => {
        const handle = await open(target.real, readFlags);
        try {
          const info = await handle.stat();
          if (!info.isFile()) throw notAFile(target, info.isDirectory());
          const start = Math.min(offset, info.size);
          const length = Math.min(maxReadBytes, info.size - start);
          const buffer = Buffer.alloc(length);
          const { bytesRead } = await handle.read(buffer, 0, length, start);
          const bytes = buffer.subarray(0, bytesRead);
          if (looksBinary(bytes)) {
            throw new ConnectorError(
              `path "${target.display}" is a binary file (${info.size} bytes); read shows text only`,
            );
          }
          const end = start + bytesRead < info.size ? utf8Boundary(bytes) : bytes.length;
          const text = bytes.subarray(0, end).toString('utf8');
          if (start + end >= info.size && start === 0) return textResult(text);
          const note =
            start + end >= info.size
              ? `[bytes ${start}-${start + end} of ${info.size}]`
              : `[truncated: bytes ${start}-${start + end} of ${info.size}; read on with offset ${start + end}]`;
          return textResult(`${text}\n${note}`);
        } finally {
          await handle.close();
        }
      }),
  );

  server.registerTool(
    'search',
    {
      title: 'Search file contents',
      description: `Search text files for a regular expression (or plain text with literal: true), like ripgrep; returns "path:line: text", at most ${maxResults} lines. Binary files, symlinks, node_modules, .git and ${secretFilesSkipped} are skipped (read such a file by its path). ${where}`,
      inputSchema: z.object({
        pattern: z.string().min(1).describe('JavaScript regular expression, or text when literal'),
        path: pathField('Directory or file to search').default('.'),
        literal: z.boolean().default(false).describe('Match the pattern as plain text'),
        ignore_case: z.boolean().default(false),
        include: z
          .string()
          .optional()
          .describe('Only files whose name matches this glob, e.g. "*.ts" or "*.{ts,tsx}"'),
      }),
      annotations: { title: 'Search file contents', ...readOnly },
    },
    ({ pattern, path, literal, ignore_case: ignoreCase, include }, ctx) =>
      withPath(guard, path, 'follow', async (target) => {
        const found = await runSearch(
          {
            start: target.real,
            displayBase: guard.roots[0]!,
            search: { pattern, literal, ignoreCase, include, maxResults, timeMs: searchTimeMs },
          },
          ctx.mcpReq.signal,
        );
        const lines = [...found.lines];
        if (lines.length === 0) {
          lines.push(`no matches in ${found.filesSearched} files under ${target.display}`);
        }
        if (found.capped) {
          lines.push(`[results capped at ${maxResults}; narrow the pattern, path or include]`);
        }
        if (found.timedOut) {
          lines.push('[search stopped before looking at every file; narrow the path or include]');
        }
        return textResult(lines.join('\n'));
      }),
  );

  server.registerTool(
    'write',
    {
      title: 'Write a file',
      description: `Create or overwrite a file with the given text, creating missing directories. ${where}`,
      inputSchema: z.object({
        path: pathField('File to write'),
        content: z.string().describe('The whole new content'),
      }),
      annotations: {
        title: 'Write a file',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    ({ path, content }) =>
      withPath(guard, path, 'follow', async (target) => {
        const existing = await lstat(target.real).catch(() => undefined);
        if (existing && !existing.isFile()) throw notAFile(target, existing.isDirectory());
        await mkdir(dirname(target.real), { recursive: true });
        await writeNoFollow(target.real, content);
        const bytes = Buffer.byteLength(content);
        return textResult(
          `${existing ? 'overwrote' : 'created'} ${target.display} (${bytes} bytes)`,
        );
      }),
  );

  server.registerTool(
    'edit',
    {
      title: 'Edit a file',
      description: `Replace one exact occurrence of old_string with new_string in a text file. Fails when old_string is missing or occurs more than once (add surrounding lines to make it unique). ${where}`,
      inputSchema: z.object({
        path: pathField('File to edit'),
        old_string: z.string().min(1).describe('Exact text to replace, whitespace included'),
        new_string: z.string().describe('Text to put in its place'),
      }),
      annotations: {
        title: 'Edit a file',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    ({ path, old_string: oldString, new_string: newString }) =>
      withPath(guard, path, 'follow', async (target) => {
        if (oldString === newString) {
          throw new ConnectorError('old_string and new_string are the same; nothing to change');
        }
        const text = await readForEdit(target);
        const at = text.indexOf(oldString);
        if (at < 0) {
          throw new ConnectorError(
            `old_string was not found in "${target.display}"; read the file and copy the exact text, whitespace included`,
          );
        }
        const count = countOccurrences(text, oldString);
        if (count > 1) {
          throw new ConnectorError(
            `old_string occurs ${count} times in "${target.display}"; include more surrounding text so it occurs once`,
          );
        }
        await writeNoFollow(
          target.real,
          text.slice(0, at) + newString + text.slice(at + oldString.length),
        );
        const line = text.slice(0, at).split('\n').length;
        return textResult(`edited ${target.display} at line ${line}`);
      }),
  );

  server.registerTool(
    'move',
    {
      title: 'Move or rename',
      description: `Move or rename a file or directory. Refuses to replace an existing destination unless overwrite is true. ${where}`,
      inputSchema: z.object({
        from: pathField('File or directory to move'),
        to: pathField('New path'),
        overwrite: z.boolean().default(false).describe('Replace an existing destination file'),
      }),
      annotations: {
        title: 'Move or rename',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    ({ from, to, overwrite }) =>
      withPath(guard, from, 'entry', async (source) => {
        if (guard.isRoot(source.real)) {
          throw new ConnectorError(
            `path "${source.display}" is an allowed root; it cannot be moved`,
          );
        }
        await lstat(source.real);
        return withPath(guard, to, 'entry', async (destination) => {
          if (within(source.real, destination.real)) {
            throw new ConnectorError(
              `cannot move "${source.display}" into itself ("${destination.display}")`,
            );
          }
          const existing = await lstat(destination.real).catch(() => undefined);
          if (existing && !overwrite) {
            throw new ConnectorError(
              `path "${destination.display}" already exists; pass overwrite: true to replace it`,
            );
          }
          await mkdir(dirname(destination.real), { recursive: true });
          await moveEntry(source.real, destination.real, overwrite);
          return textResult(`moved ${source.display} to ${destination.display}`);
        });
      }),
  );

  server.registerTool(
    'delete',
    {
      title: 'Delete',
      description: `Delete a file, a symlink (not what it points to) or a directory (recursive: true for one that is not empty). A path that does not exist is reported, not an error. ${where}`,
      inputSchema: z.object({
        path: pathField('File or directory to delete'),
        recursive: z.boolean().default(false).describe('Delete a directory with everything in it'),
      }),
      annotations: {
        title: 'Delete',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    ({ path, recursive }) =>
      withPath(guard, path, 'entry', async (target) => {
        if (guard.isRoot(target.real)) {
          throw new ConnectorError(
            `path "${target.display}" is an allowed root; it cannot be deleted`,
          );
        }
        const info = await lstat(target.real).catch(() => undefined);
        if (info === undefined)
          return textResult(`${target.display} does not exist; nothing deleted`);
        if (!info.isDirectory()) {
          await rm(target.real);
          return textResult(`deleted ${target.display}`);
        }
        if (recursive) {
          await rm(target.real, { recursive: true });
          return textResult(`deleted ${target.display}/ and everything in it`);
        }
        if ((await readdir(target.real)).length > 0) {
          throw new ConnectorError(
            `path "${target.display}" is a directory that is not empty; pass recursive: true to delete it with its contents`,
          );
        }
        await rmdir(target.real);
        return textResult(`deleted ${target.display}/`);
      }),
  );

  return server;
}

/**
 * Checks `input` with the guard ('follow': what reading or writing touches; 'entry': the
 * directory entry itself), runs `use`, and turns any failure into a one-line error result.
 */
function withPath(
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

function notAFile(target: GuardedPath, isDirectory: boolean): ConnectorError {
  return new ConnectorError(
    isDirectory
      ? `path "${target.display}" is a directory; give a file path (list shows what is in it)`
      : `path "${target.display}" is not a regular file`,
  );
}

/** Writes a file without following a symlink at its (already resolved) path. */
async function writeNoFollow(path: string, content: string): Promise<void> {
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_TRUNC |
    constants.O_NOFOLLOW |
    constants.O_NONBLOCK;
  const handle = await open(path, flags, 0o666);
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}

async function readForEdit(target: GuardedPath): Promise<string> {
  const handle = await open(target.real, readFlags);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(target, info.isDirectory());
    if (info.size > maxEditBytes) {
      throw new ConnectorError(
        `path "${target.display}" is ${info.size} bytes; edit takes files up to ${maxEditBytes} bytes`,
      );
    }
    const bytes = await handle.readFile();
    if (looksBinary(bytes)) {
      throw new ConnectorError(`path "${target.display}" is a binary file; edit changes text only`);
    }
    return bytes.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Occurrences of `needle` in `text`, overlapping ones included (each makes it ambiguous). */
function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) count++;
  return count;
}

/** rename, or copy and remove when the destination is on another file system. */
async function moveEntry(from: string, to: string, overwrite: boolean): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await cp(from, to, {
      recursive: true,
      force: overwrite,
      errorOnExist: !overwrite,
      verbatimSymlinks: true,
    });
    await rm(from, { recursive: true });
  }
}

/** Where a chunk cut from a longer UTF-8 text can end without splitting a character. */
function utf8Boundary(bytes: Uint8Array): number {
  let start = bytes.length - 1;
  while (start > 0 && start > bytes.length - 4 && (bytes[start]! & 0xc0) === 0x80) start--;
  const lead = bytes[start];
  if (lead === undefined || lead < 0xc0) return bytes.length;
  const width = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
  return bytes.length - start < width ? start : bytes.length;
}

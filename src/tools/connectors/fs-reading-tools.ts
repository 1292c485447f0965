import { open, stat } from 'node:fs/promises';
import { z } from 'zod';
import { looksBinary } from './binary-content.ts';
import { ConnectorError } from './connector-error.ts';
import { type FsTools, notAFile, readFlags, withPath } from './fs-tools.ts';
import { runSearch } from './run-search.ts';
import { secretFilesSkipped } from './secret-file.ts';
import { textResult } from './tool-result.ts';
import { skippedDirectories, walkTree } from './walk-tree.ts';

const readOnly = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

/** The `fs` tools that only look: list, read and search. */
export function registerFsReadingTools(tools: FsTools): void {
  registerList(tools);
  registerRead(tools);
  registerSearch(tools);
}

/** `list`: a directory's entries, or everything below it. */
function registerList({ server, guard, where, pathField, maxResults }: FsTools): void {
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
}

/** `read`: a text file, a chunk at a time. */
function registerRead({ server, guard, where, pathField, maxReadBytes }: FsTools): void {
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
}

/** `search`: lines matching a pattern, found in a worker thread. */
function registerSearch({
  server,
  guard,
  where,
  pathField,
  maxResults,
  searchTimeMs,
}: FsTools): void {
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

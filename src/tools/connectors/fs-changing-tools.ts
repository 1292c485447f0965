import { constants } from 'node:fs';
import { cp, lstat, mkdir, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { looksBinary } from './binary-content.ts';
import { ConnectorError } from './connector-error.ts';
import { type FsTools, notAFile, readFlags, withPath } from './fs-tools.ts';
import { type GuardedPath, within } from './path-guard.ts';
import { textResult } from './tool-result.ts';

/** `edit` loads the whole file; larger files are refused. */
const maxEditBytes = 16 * 1024 * 1024;

/** The `fs` tools that change files: write, edit, move and delete. */
export function registerFsChangingTools(tools: FsTools): void {
  registerWrite(tools);
  registerEdit(tools);
  registerMove(tools);
  registerDelete(tools);
}

/** `write`: a whole file, created or replaced. */
function registerWrite({ server, guard, where, pathField }: FsTools): void {
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
}

/** `edit`: one exact occurrence replaced. */
function registerEdit({ server, guard, where, pathField }: FsTools): void {
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
}

/** `move`: a file or directory moved or renamed. */
function registerMove({ server, guard, where, pathField }: FsTools): void {
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
}

/** `delete`: a file, a symlink or a directory removed. */
function registerDelete({ server, guard, where, pathField }: FsTools): void {
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

import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { looksBinary } from './binary-content.ts';
import { ConnectorError } from './connector-error.ts';
import { displayPath } from './path-guard.ts';
import { isSecretFileName } from './secret-file.ts';
import { walkTree } from './walk-tree.ts';

export interface TextSearch {
  /** A JavaScript regular expression, or plain text when `literal`. */
  pattern: string;
  literal: boolean;
  ignoreCase: boolean;
  /** A glob on file names (`*.ts`, `*.{ts,tsx}`, `README*`); every file when absent. */
  include?: string | undefined;
  maxResults: number;
  /** After this long no more files are opened; what was found is returned, marked. */
  timeMs: number;
}

export interface TextSearchResult {
  /** `path:line: text`, in path order. */
  lines: string[];
  /** True when more lines matched than `maxResults`. */
  capped: boolean;
  /** True when the search ran out of time before it looked at every file. */
  timedOut: boolean;
  filesSearched: number;
}

/** Files larger than this are not searched (a generated bundle, a database). */
const maxFileBytes = 8 * 1024 * 1024;
/** A matching line is shown up to this many characters. */
const maxLineChars = 300;

/**
 * A ripgrep-like search: every text file under `start` (or `start` itself when it is a
 * file), skipping binary files, symlinks, `node_modules`, `.git` and files named like
 * credentials (`.env`, keys: `isSecretFileName`; a policy decides on the directory searched,
 * not on each file in it, so a search must not read what reading by path would be refused). Paths are shown
 * relative to `displayBase` when inside it. Runs in a worker (see run-search.ts), so a
 * regular expression that backtracks without end cannot stall agentd.
 */
export async function searchText(
  start: string,
  displayBase: string,
  search: TextSearch,
): Promise<TextSearchResult> {
  const regex = compile(search);
  const include = search.include ? globToRegExp(search.include) : undefined;
  const result: TextSearchResult = { lines: [], capped: false, timedOut: false, filesSearched: 0 };
  const deadline = Date.now() + search.timeMs;
  for await (const file of filesUnder(start)) {
    if (include && !include.test(basename(file))) continue;
    if (Date.now() > deadline) {
      result.timedOut = true;
      break;
    }
    const text = await readText(file);
    if (text === undefined) continue;
    result.filesSearched++;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\r$/, '');
      if (!regex.test(line)) continue;
      if (result.lines.length >= search.maxResults) {
        result.capped = true;
        return result;
      }
      result.lines.push(`${displayPath(displayBase, file)}:${i + 1}: ${clip(line)}`);
    }
  }
  return result;
}

async function* filesUnder(start: string): AsyncGenerator<string> {
  if ((await stat(start)).isFile()) {
    yield start;
    return;
  }
  for await (const { path, entry } of walkTree(start, { recursive: true })) {
    if (entry.isFile() && !isSecretFileName(entry.name)) yield path;
  }
}

/** A file's text, or undefined when it is binary, too large or gone. */
async function readText(path: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if ((await handle.stat()).size > maxFileBytes) return undefined;
    const bytes = await handle.readFile();
    return looksBinary(bytes) ? undefined : bytes.toString('utf8');
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

function compile(search: TextSearch): RegExp {
  const source = search.literal ? escapeRegExp(search.pattern) : search.pattern;
  try {
    return new RegExp(source, search.ignoreCase ? 'i' : '');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConnectorError(
      `pattern "${search.pattern}" is not a valid regular expression (${reason}); pass literal: true to search for it as plain text`,
    );
  }
}

function clip(line: string): string {
  const trimmed = line.trim();
  return trimmed.length > maxLineChars ? `${trimmed.slice(0, maxLineChars)}…` : trimmed;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `*` any run of characters, `?` one, `{a,b}` either; everything else as is. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  let inBraces = false;
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '{' && !inBraces) {
      inBraces = true;
      source += '(?:';
    } else if (char === '}' && inBraces) {
      inBraces = false;
      source += ')';
    } else if (char === ',' && inBraces) source += '|';
    else source += escapeRegExp(char);
  }
  if (inBraces) source += ')';
  return new RegExp(`^${source}$`);
}

import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Directories a walk lists but never enters: dependencies and version-control data. */
export const skippedDirectories: ReadonlySet<string> = new Set(['node_modules', '.git']);

export interface WalkEntry {
  /** Absolute path of the entry, under the start directory. */
  path: string;
  entry: Dirent;
  depth: number;
}

export interface WalkOptions {
  recursive: boolean;
  signal?: AbortSignal;
}

/**
 * Every entry under a directory, depth first in name order (a directory, then what is in
 * it). Symlinks are reported but never followed, and `node_modules` and `.git` are reported
 * but not entered, so a walk stays inside the tree it started in. Directories below the
 * start that cannot be read are skipped.
 */
export function walkTree(start: string, options: WalkOptions): AsyncGenerator<WalkEntry> {
  return walk(start, 0, options);
}

async function* walk(dir: string, depth: number, options: WalkOptions): AsyncGenerator<WalkEntry> {
  options.signal?.throwIfAborted();
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (depth === 0) throw error;
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    yield { path, entry, depth };
    if (options.recursive && entry.isDirectory() && !skippedDirectories.has(entry.name)) {
      yield* walk(path, depth + 1, options);
    }
  }
}

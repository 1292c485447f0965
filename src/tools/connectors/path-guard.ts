import { realpathSync, statSync } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConnectorError } from './connector-error.ts';

/** A path an agent gave, checked to lie inside one of the roots. */
export interface GuardedPath {
  /** The real absolute path (every symlink resolved, including a dangling last one). */
  real: string;
  /** The real path of the root it lies in. */
  root: string;
  /** How tools show it: relative to the first root when inside it, otherwise absolute. */
  display: string;
}

interface Root {
  /** As configured, made absolute. */
  lexical: string;
  /** With symlinks resolved: what containment is checked against. */
  real: string;
}

const maxSymlinkHops = 40;

/**
 * Confines paths to a set of root directories. Relative paths resolve against the first
 * root; absolute paths must name a place inside a root. Every path is then resolved with
 * realpath (for a path that does not exist yet, its nearest existing ancestor, following a
 * dangling symlink to where it would create), and the result must still be inside a root,
 * so `..`, absolute paths and symlinks cannot lead out.
 */
export class PathGuard {
  private readonly rootList: readonly Root[];

  constructor(roots: readonly string[]) {
    if (roots.length === 0) {
      throw new ConnectorError('fs connector: no roots configured; give at least one directory');
    }
    this.rootList = roots.map((root) => {
      const lexical = resolve(root);
      let real: string;
      try {
        real = realpathSync(lexical);
      } catch {
        throw new ConnectorError(
          `fs connector: root "${root}" does not exist; create it or fix it`,
        );
      }
      if (!statSync(real).isDirectory()) {
        throw new ConnectorError(`fs connector: root "${root}" is not a directory`);
      }
      return { lexical, real };
    });
  }

  /** The real paths of the roots. */
  get roots(): readonly string[] {
    return this.rootList.map((root) => root.real);
  }

  /** The roots as one line, for descriptions and errors. */
  describeRoots(): string {
    return this.roots.join(', ');
  }

  /**
   * Checks a path an agent gave and resolves it, following symlinks: what reading or
   * writing it would touch. Throws a one-line ConnectorError when that is outside the roots.
   */
  async resolve(input: string): Promise<GuardedPath> {
    const { given, lexical } = this.lexical(input);
    const real = await realpathAllowingMissing(lexical, 0);
    return this.inside(given, real);
  }

  /**
   * Checks a path an agent gave as a directory entry, without following a symlink at its
   * end: what deleting or renaming it would touch. The entry's directory is resolved with
   * realpath; an entry that is a symlink must still point inside the roots.
   */
  async resolveEntry(input: string): Promise<GuardedPath> {
    const { given, lexical } = this.lexical(input);
    const root = this.rootList.find((r) => r.lexical === lexical || r.real === lexical);
    if (root !== undefined) return this.inside(given, root.real);
    const entry = join(await realpathAllowingMissing(dirname(lexical), 0), basename(lexical));
    const guarded = this.inside(given, entry);
    this.inside(given, await realpathAllowingMissing(entry, 0));
    return guarded;
  }

  private lexical(input: string): { given: string; lexical: string } {
    if (input.includes('\0')) {
      throw new ConnectorError(`path ${JSON.stringify(input)} contains a NUL byte`);
    }
    const given = input.trim() === '' ? '.' : input;
    const first = this.rootList[0]!;
    if (isAbsolute(given)) {
      const lexical = resolve(given);
      if (
        !this.rootList.some((root) => within(root.real, lexical) || within(root.lexical, lexical))
      ) {
        throw this.refusal(given, 'is outside the allowed roots');
      }
      return { given, lexical };
    }
    const lexical = resolve(first.real, given);
    if (!within(first.real, lexical)) {
      throw this.refusal(given, 'leads outside the allowed roots through ".."');
    }
    return { given, lexical };
  }

  private inside(given: string, real: string): GuardedPath {
    const root = this.rootList.find((candidate) => within(candidate.real, real));
    if (root === undefined) {
      throw this.refusal(given, 'goes through a symlink that leads outside the allowed roots');
    }
    return { real, root: root.real, display: this.display(real) };
  }

  /** True when a real path is one of the roots themselves. */
  isRoot(real: string): boolean {
    return this.rootList.some((root) => root.real === real);
  }

  /** A real path as tools show it. */
  display(real: string): string {
    return displayPath(this.rootList[0]!.real, real);
  }

  private refusal(input: string, reason: string): ConnectorError {
    return new ConnectorError(
      `path "${input}" ${reason} (allowed: ${this.describeRoots()}); use a path inside them`,
    );
  }
}

/** A path relative to `base` when inside it ("." for `base` itself), otherwise as is. */
export function displayPath(base: string, path: string): string {
  return within(base, path) ? relative(base, path) || '.' : path;
}

/** True when `path` is `root` or below it (both absolute and normalized). */
export function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  if (rel === '') return true;
  if (isAbsolute(rel)) return false;
  return rel !== '..' && !rel.startsWith(`..${sep}`);
}

/**
 * realpath, but for a path that does not exist: the real path of its nearest existing
 * ancestor joined with the rest. A dangling symlink on the way is followed to its target,
 * because writing through it would create the target.
 */
async function realpathAllowingMissing(path: string, hops: number): Promise<string> {
  if (hops > maxSymlinkHops) {
    throw new ConnectorError(`path "${path}" has too many levels of symlinks`);
  }
  try {
    return await realpath(path);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  const parent = dirname(path);
  if (parent === path) return path;
  const realParent = await realpathAllowingMissing(parent, hops);
  const joined = join(realParent, basename(path));
  let isLink = false;
  try {
    isLink = (await lstat(joined)).isSymbolicLink();
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
  if (!isLink) return joined;
  const target = resolve(realParent, await readlink(joined));
  return realpathAllowingMissing(target, hops + 1);
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

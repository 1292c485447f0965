import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentdError } from '../../core/errors.ts';

/** SQLite's primary result codes that a user can do something about. */
const BUSY = 5;
const LOCKED = 6;
const READONLY = 8;
const IOERR = 10;
const CORRUPT = 11;
const FULL = 13;
const CANTOPEN = 14;
const NOTADB = 26;

const resume = 'then continue an interrupted run with agentd runs resume <run-id>';

/** Whether `error` is one of node:sqlite's (it carries SQLite's result code). */
function sqliteError(error: unknown): { errcode: number; errstr: string } | undefined {
  const e = error as { code?: unknown; errcode?: unknown; errstr?: unknown } | null;
  if (e?.code !== 'ERR_SQLITE_ERROR' || typeof e.errcode !== 'number') return undefined;
  return { errcode: e.errcode, errstr: typeof e.errstr === 'string' ? e.errstr : String(e) };
}

/** Whether the store's file (or, before it exists, its folder) cannot be written. */
function readOnly(path: string): boolean {
  for (const target of [path, dirname(path)]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return true;
    }
  }
  return false;
}

function diskFull(path: string): boolean {
  try {
    return statfsSync(dirname(path)).bavail === 0;
  } catch {
    return false;
  }
}

/**
 * The one line to show for a SQLite failure of the store at `path` that is not a bug: the disk
 * full, the file read-only, locked by another process past the busy timeout, damaged or not a
 * database. Undefined for other errors (those are bugs and keep their stack). Nothing of a run
 * is half-written by these: each append is one transaction, rolled back when it fails.
 */
export function sqliteFault(error: unknown, path: string): AgentdError | undefined {
  const sqlite = sqliteError(error);
  if (!sqlite) return undefined;
  const store = `the run store ${path}`;
  const message = (() => {
    switch (sqlite.errcode & 0xff) {
      case FULL:
        return `${store}: the disk is full (${sqlite.errstr}): free space on it, ${resume}`;
      case IOERR:
        return diskFull(path)
          ? `${store}: the disk is full (${sqlite.errstr}): free space on it, ${resume}`
          : `${store}: ${sqlite.errstr}: check the disk it is on, ${resume}`;
      case READONLY:
        return `${store} is read-only (${sqlite.errstr}): make the file and its folder writable, or set AGENTD_HOME to a writable folder, ${resume}`;
      case BUSY:
      case LOCKED:
        return `${store} is locked by another process past the busy timeout of 5 s (${sqlite.errstr}): let that process finish or stop it, ${resume}`;
      case CORRUPT:
      case NOTADB:
        return `${store} is damaged (${sqlite.errstr}): restore it from a backup, or move it aside to start a new store`;
      case CANTOPEN:
        if (readOnly(path)) {
          return `${store} is on a read-only file system or not writable (${sqlite.errstr}): make the file and its folder writable, or set AGENTD_HOME to a writable folder`;
        }
        return `cannot open ${store} (${sqlite.errstr}): check the path and its permissions, or set AGENTD_HOME`;
      default:
        return undefined;
    }
  })();
  return message ? new AgentdError('store_failed', message, { cause: error }) : undefined;
}

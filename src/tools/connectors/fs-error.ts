import { ConnectorError } from './connector-error.ts';

const reasons: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'has a part that is not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'is a directory that is not empty',
  EACCES: 'is not accessible (permission denied)',
  EPERM: 'is not accessible (operation not permitted)',
  ELOOP: 'has too many levels of symlinks (a loop?)',
  ENOSPC: 'cannot be written: no space left on the device',
  EROFS: 'is on a read-only file system',
  EBUSY: 'is busy',
  EINVAL: 'cannot be used that way',
  ENAMETOOLONG: 'has a name that is too long',
};

/** A Node file-system error as one line naming the path; other errors pass through. */
export function fsError(error: unknown, display: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof ConnectorError || code === undefined) return error;
  const reason = reasons[code];
  if (reason === undefined) return error;
  return new ConnectorError(`path "${display}" ${reason}`, { cause: error });
}

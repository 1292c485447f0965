import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Frames on disk, content-addressed: `<dir>/<sha-256>.png`, written once (to a temporary name,
 * then renamed, so a reader never sees half a frame), whatever number of steps show it.
 */
export class FrameStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  put(bytes: Uint8Array): string {
    const digest = createHash('sha256').update(bytes).digest('hex');
    const path = this.pathOf(digest);
    if (!existsSync(path)) {
      mkdirSync(this.dir, { recursive: true });
      const partial = `${path}.${process.pid}.part`;
      writeFileSync(partial, bytes);
      renameSync(partial, path);
    }
    return digest;
  }

  get(digest: string): Buffer | undefined {
    if (!/^[0-9a-f]{64}$/.test(digest)) return undefined;
    const path = this.pathOf(digest);
    return existsSync(path) ? readFileSync(path) : undefined;
  }

  pathOf(digest: string): string {
    return join(this.dir, `${digest}.png`);
  }
}

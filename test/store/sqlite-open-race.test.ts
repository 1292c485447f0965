// SQLite-specific: how the embedded store's file is created and migrated.
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { tempDir } from '../support/temp-dir.ts';

const worker = new URL('./open-worker.ts', import.meta.url);

describe('a new SQLite store opened by several processes at once', () => {
  it('is created and migrated once, and every opener gets a working store', async () => {
    for (let round = 0; round < 5; round++) {
      const path = join(tempDir(), 'agentd.db');
      const threads = 6;
      const barrier = new SharedArrayBuffer(4);
      const replies = await Promise.all(
        Array.from(
          { length: threads },
          () =>
            new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
              const w = new Worker(worker, { workerData: { path, barrier, threads } });
              w.once('message', (reply) => {
                resolve(reply);
                void w.terminate();
              });
              w.once('error', reject);
            }),
        ),
      );
      expect(replies.filter((r) => !r.ok).map((r) => r.message)).toEqual([]);
      const db = new DatabaseSync(path, { readOnly: true });
      const { user_version } = db.prepare('PRAGMA user_version').get() as { user_version: number };
      db.close();
      expect(user_version).toBe(migrations.length);
    }
  });
});

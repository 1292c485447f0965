import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../support/temp-dir.ts';
import { started } from './support/records.ts';

// Tests of the SQLite store alone; everything both stores do is in the contract suite
// (test/store/*.test.ts, run against each store).
describe('SqliteStore (store-specific)', () => {
  it('keeps every committed event when the process is killed right after appending', () => {
    const dir = tempDir();
    const path = join(dir, 'kill.db');
    for (const durability of ['process', 'machine']) {
      const runId = `run_${durability}`;
      const script = `
        import { SqliteStore } from ${JSON.stringify(new URL('../../src/store/sqlite/sqlite-store.ts', import.meta.url).pathname)};
        const store = new SqliteStore({ path: ${JSON.stringify(path)}, durability: '${durability}' });
        const at = new Date().toISOString();
        const limits = { maxTurns: 5, maxToolRepairs: 3 };
        await store.append([{ runId: '${runId}', seq: 0, at, type: 'run.started', data: { agent: 'a', model: 'scripted/x', task: 't', instructions: '', tools: [], limits } }]);
        for (let seq = 1; seq <= 200; seq++) {
          await store.append([{ runId: '${runId}', seq, at, type: 'model.request', data: { turn: seq, model: 'scripted/x', messageCount: 1, toolCount: 0 } }]);
        }
        process.kill(process.pid, 'SIGKILL');
      `;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      expect(child.signal, child.stderr).toBe('SIGKILL');
    }
    const store = new SqliteStore({ path });
    return Promise.all(
      ['run_process', 'run_machine'].map(async (id) => {
        const events = await store.readEvents(id);
        expect(events).toHaveLength(201);
        expect(events.at(-1)?.seq).toBe(200);
      }),
    ).finally(() => store.close());
  });

  it('migrates a new file and reopens an existing one without loss', async () => {
    const dir = tempDir();
    const path = join(dir, 'm.db');
    const first = new SqliteStore({ path });
    await first.append([started('run_1')]);
    await first.close();
    const second = new SqliteStore({ path });
    expect(await second.readEvents('run_1')).toHaveLength(1);
    await second.close();
  });

  it('refuses a file whose schema is newer than this agentd knows, in one line', async () => {
    const dir = tempDir();
    const path = join(dir, 'new.db');
    const first = new SqliteStore({ path });
    const version = first.schemaVersion();
    await first.close();
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${version + 1}`);
    db.close();
    expect(() => new SqliteStore({ path })).toThrow(
      `cannot open the run store at ${path}: the store has schema version ${version + 1}, newer than this agentd knows (${version}); upgrade agentd`,
    );
  });
});

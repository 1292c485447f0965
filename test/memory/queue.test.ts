import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const example = join(repoRoot, 'examples/memory-assistant/agent.yaml');

describe('the extraction queue', () => {
  it('an extraction a dead process left behind is done by the next run', async () => {
    const home = tempDir();
    const first = await agentd(
      ['run', example, 'I prefer answers in Korean. Please remember that.', '--actor', 'al'],
      { home },
    );
    expect(first.code).toBe(0);
    const runId = [...first.stderr.matchAll(/run (run_[0-9a-z]+)/g)].at(-1)![1]!;
    // As if the process had died before extracting: the memories are not there, and the job
    // is still marked running by a process that no longer exists.
    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    for (const memory of await store.memories.list()) await store.memories.forget(memory.id);
    const events = await store.readEvents(runId);
    const id = await store.memories.enqueueJob(
      { runId, fromSeq: 0, toSeq: events.at(-1)!.seq, reason: 'run_end', specPath: example },
      new Date().toISOString(),
    );
    await store.close();
    const db = new DatabaseSync(join(home, 'agentd.db'));
    db.prepare("UPDATE memory_jobs SET status = 'running', owner = ? WHERE id = ?").run(
      `${hostname()}:999999999`,
      id,
    );
    db.close();

    const next = await agentd(['run', example, 'Anything else?', '--actor', 'al'], { home });
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`memory: ${runId}: 2 new, 0 updated, 0 already known`);
    const listed = await agentd(['memory', 'list', '--kind', 'preference'], { home });
    expect(listed.stdout).toContain('Answer in Korean.');
    const after = new SqliteStore({ path: join(home, 'agentd.db') });
    expect((await after.memories.listJobs({ status: 'pending' })).length).toBe(0);
    expect((await after.memories.listJobs({ status: 'running' })).length).toBe(0);
    await after.close();
  }, 60_000);
});

import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { RunEvent, RunStartedData } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import { thisProcess } from '../../src/runtime/run-lease.ts';
import { tagRun } from '../../src/runtime/run-tagging.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDir } from '../support/temp-dir.ts';
import { describeStores } from './support/stores.ts';

/** `run.started` of run `n` at minute `n`, with these tags. */
function started(n: number, tags?: string[], agent = 'a'): RunEvent {
  const data: RunStartedData = {
    agent,
    model: 'scripted/x',
    task: `task ${n}`,
    instructions: '',
    tools: [],
    limits: { maxTurns: 5, maxToolRepairs: 3 },
    ...(tags ? { tags } : {}),
  };
  return {
    runId: `run_${String(n).padStart(4, '0')}`,
    seq: 0,
    at: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
    type: 'run.started',
    data,
  };
}

function tagged(runId: string, seq: number, added: string[], removed: string[] = []): RunEvent {
  return {
    runId,
    seq,
    at: new Date(Date.UTC(2026, 10, 2)).toISOString(),
    type: 'run.tagged',
    data: { added, removed, by: 'alice' },
  };
}

async function ids(store: Store, tags: string[], extra = {}): Promise<string[]> {
  return (await store.queryRuns({ tags, ...extra })).runs.map((r) => r.id);
}

describeStores('run tags', (kind) => {
  it('are set at the start, changed by run.tagged events, and read back sorted', async () => {
    const { store } = await kind.fresh();
    await store.append([started(1, ['team=search', 'good', 'team=search'])]);
    expect((await store.getRun('run_0001'))?.tags).toEqual(['good', 'team=search']);
    await store.append([tagged('run_0001', 1, ['dataset:v2', 'a/b.c_d-e'], ['good'])]);
    const run = await store.getRun('run_0001');
    expect(run?.tags).toEqual(['a/b.c_d-e', 'dataset:v2', 'team=search']);
    // the log says the same as the index
    expect(foldRun('run_0001', await store.readEvents('run_0001')).tags).toEqual(run?.tags);
    await store.append([tagged('run_0001', 2, [], ['a/b.c_d-e', 'dataset:v2', 'team=search'])]);
    expect((await store.getRun('run_0001'))?.tags).toBeUndefined();
    await store.append([started(2)]);
    expect((await store.getRun('run_0002'))?.tags).toBeUndefined();
  });

  it('select runs that have every tag given, with other filters and across pages', async () => {
    const { store } = await kind.fresh();
    for (let n = 1; n <= 9; n++) {
      const tags = [n % 2 ? 'odd' : 'even', ...(n % 3 === 0 ? ['three'] : [])];
      await store.append([started(n, tags, n <= 4 ? 'a' : 'b')]);
    }
    expect(await ids(store, ['odd'])).toEqual([
      'run_0009',
      'run_0007',
      'run_0005',
      'run_0003',
      'run_0001',
    ]);
    expect(await ids(store, ['odd', 'three'])).toEqual(['run_0009', 'run_0003']);
    expect(await ids(store, ['three', 'three'])).toEqual(['run_0009', 'run_0006', 'run_0003']);
    expect(await ids(store, ['odd', 'three'], { agent: 'a' })).toEqual(['run_0003']);
    expect(await ids(store, ['odd', 'even'])).toEqual([]);
    expect(await ids(store, ['nobody'])).toEqual([]);
    // a tag taken off no longer selects the run; one put on does
    await store.append([tagged('run_0009', 1, ['even'], ['odd'])]);
    expect(await ids(store, ['odd', 'three'])).toEqual(['run_0003']);
    expect(await ids(store, ['even', 'three'])).toEqual(['run_0009', 'run_0006']);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.queryRuns({
        tags: ['even'],
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.runs.map((r) => r.id));
      expect(page.runs.every((r) => r.tags?.includes('even'))).toBe(true);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['run_0009', 'run_0008', 'run_0006', 'run_0004', 'run_0002']);
  });

  it('refuse a bad tag or a 33rd tag in one line, writing nothing', async () => {
    const { store } = await kind.fresh();
    await expect(store.append([started(1, ['ok', 'has space'])])).rejects.toThrow(
      'run run_0001: tag "has space" has " " (a tag is 1 to 64 of A-Z a-z 0-9 _ . : / = - (key=value or a name))',
    );
    expect(await store.getRun('run_0001')).toBeUndefined();
    await expect(store.append([started(1, ['x'.repeat(65)])])).rejects.toThrow(
      'is 65 characters (at most 64)',
    );
    await expect(store.append([started(1, [''])])).rejects.toThrow('tag "" is empty');
    const many = Array.from({ length: 33 }, (_, i) => `t${i}`);
    await expect(store.append([started(1, many)])).rejects.toThrow(
      'run run_0001: 33 tags; a run has at most 32',
    );
    await store.append([started(1, many.slice(0, 30))]);
    await expect(store.append([tagged('run_0001', 1, ['u1', 'u2', 'u3'])])).rejects.toThrow(
      'run run_0001 would have 33 tags; a run has at most 32 (take some off first: agentd runs untag run_0001 <tag>...)',
    );
    expect(await store.readEvents('run_0001')).toHaveLength(1);
    expect((await store.getRun('run_0001'))?.tags).toHaveLength(30);
    await expect(store.append([tagged('run_0001', 1, ['café'])])).rejects.toThrow(
      'tag "café" has "é"',
    );
    // taking one off makes room in the same change
    await store.append([tagged('run_0001', 1, ['u1', 'u2', 'u3'], ['t0'])]);
    expect((await store.getRun('run_0001'))?.tags).toHaveLength(32);
  });

  it('tagRun records a change in the log under the lease, and refuses a run being driven', async () => {
    const { store } = await kind.fresh();
    await store.append([started(1, ['start'])]);
    expect(await tagRun(store, 'run_0001', { add: ['good', 'start'], by: 'alice' })).toEqual([
      'good',
      'start',
    ]);
    expect(await tagRun(store, 'run_0001', { remove: ['start', 'never'], by: 'bob' })).toEqual([
      'good',
    ]);
    // nothing to change: nothing appended
    expect(await tagRun(store, 'run_0001', { add: ['good'], by: 'bob' })).toEqual(['good']);
    const events = await store.readEvents('run_0001');
    expect(events.map((e) => e.type)).toEqual(['run.started', 'run.tagged', 'run.tagged']);
    expect(events[1]!.data).toEqual({ added: ['good'], removed: [], by: 'alice' });
    expect(events[2]!.data).toEqual({ added: [], removed: ['start'], by: 'bob' });
    expect(await store.getLease('run_0001')).toBeUndefined();
    // a process driving the run (this one) holds its lease: the change waits for it to stop
    const lease = await store.claimLease('run_0001', thisProcess, null, new Date().toISOString());
    expect(lease).toBeDefined();
    await expect(tagRun(store, 'run_0001', { add: ['late'], by: 'bob' })).rejects.toThrow(
      `run run_0001 is being run by process ${thisProcess} (this one); change its tags once it stops (or give them when it starts: agentd run --tag)`,
    );
    expect(await store.getLease('run_0001')).toMatchObject({ owner: thisProcess });
    await store.releaseLease('run_0001', thisProcess);
    // a lease left by a process that is gone is taken over
    const gone = `${hostname()}:2147483646`;
    await store.claimLease('run_0001', gone, null, new Date().toISOString());
    expect(await tagRun(store, 'run_0001', { add: ['late'], by: 'bob' })).toEqual(['good', 'late']);
    expect(await store.getLease('run_0001')).toBeUndefined();
    await expect(tagRun(store, 'run_0001', { add: ['bad tag'], by: 'bob' })).rejects.toThrow(
      'tag: tag "bad tag" has " "',
    );
    await expect(tagRun(store, 'run_9999', { add: ['x'], by: 'bob' })).rejects.toThrow(
      'no run "run_9999"',
    );
  });

  it('a change of tags long after the run stopped is not time the run was active', async () => {
    const { store } = await kind.fresh();
    const start = started(1);
    await store.append([
      start,
      {
        runId: start.runId,
        seq: 1,
        at: new Date(Date.parse(start.at) + 1000).toISOString(),
        type: 'run.suspended',
        data: { reason: 'stopped' },
      },
    ]);
    const before = foldRun(start.runId, await store.readEvents(start.runId));
    await store.append([tagged(start.runId, 2, ['later'])]);
    const after = foldRun(start.runId, await store.readEvents(start.runId));
    expect(after.activeMs).toBe(before.activeMs);
    expect(after.lastEventAt).toBe(before.lastEventAt);
    expect(after.status).toBe('suspended');
    expect(after.lastSeq).toBe(2);
  });
});

describe('run tags in SQLite', () => {
  it('a store made before run tags gets them on its runs once migrated', async () => {
    const dir = tempDir();
    const db = new DatabaseSync(join(dir, 'agentd.db'));
    for (const migration of migrations.slice(0, 12)) db.exec(migration);
    db.exec('PRAGMA user_version = 12');
    const e = started(1);
    db.prepare('INSERT INTO runs (id, agent, model, task, created_at) VALUES (?, ?, ?, ?, ?)').run(
      e.runId,
      'a',
      'scripted/x',
      'task 1',
      e.at,
    );
    db.prepare('INSERT INTO events (run_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)').run(
      e.runId,
      0,
      e.at,
      e.type,
      JSON.stringify(e.data),
    );
    db.close();
    const store = new SqliteStore({ path: join(dir, 'agentd.db') });
    try {
      expect((await store.getRun('run_0001'))?.tags).toBeUndefined();
      expect(await tagRun(store, 'run_0001', { add: ['found'], by: 'alice' })).toEqual(['found']);
      expect((await store.queryRuns({ tags: ['found'] })).runs.map((r) => r.id)).toEqual([
        'run_0001',
      ]);
    } finally {
      await store.close();
    }
  });
});

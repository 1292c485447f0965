import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { team } from './support/records.ts';
import { describeStores } from './support/stores.ts';

async function newTeam(store: Store, id = 'team_a'): Promise<string> {
  await store.teams.createTeam(team(id), { type: 'team.started', data: {} });
  return id;
}

const at = () => new Date().toISOString();

describeStores('the task board', (kind) => {
  it('creates tasks with dependencies, refusing taken ids, unknown dependencies and circles', async () => {
    const { store } = await kind.fresh();
    const id = await newTeam(store);
    const made = await store.teams.createTasks(
      id,
      [
        { id: '', title: 'first', description: '', dependsOn: [] },
        { id: 'b', title: 'second', description: 'after first', dependsOn: ['t1'] },
      ],
      'lead',
      at(),
    );
    expect(made.ok && made.tasks.map((t) => [t.id, t.n, t.status, t.dependsOn])).toEqual([
      ['t1', 1, 'pending', []],
      ['b', 2, 'pending', ['t1']],
    ]);
    const again = await store.teams.createTasks(
      id,
      [{ id: 'b', title: 'x', description: '', dependsOn: [] }],
      'lead',
      at(),
    );
    expect(again).toEqual({ ok: false, error: 'a task with id "b" already exists' });
    const unknown = await store.teams.createTasks(
      id,
      [{ id: 'c', title: 'x', description: '', dependsOn: ['nope'] }],
      'lead',
      at(),
    );
    expect(unknown.ok).toBe(false);
    expect(!unknown.ok && unknown.error).toMatch(/depends on "nope", which is not on the board/);
    const circle = await store.teams.createTasks(
      id,
      [
        { id: 'x', title: 'x', description: '', dependsOn: ['y'] },
        { id: 'y', title: 'y', description: '', dependsOn: ['x'] },
      ],
      'lead',
      at(),
    );
    expect(!circle.ok && circle.error).toMatch(/circle: (x → y → x|y → x → y)/);
    expect((await store.teams.listTasks(id)).map((t) => t.id)).toEqual(['t1', 'b']);
    const log = await store.teams.readTeamEvents(id);
    expect(log.map((e) => e.type)).toEqual(['team.started', 'task.created', 'task.created']);
  });

  it('claims only unblocked pending tasks, assigned ones first, and never one twice', async () => {
    const { store } = await kind.fresh();
    const id = await newTeam(store);
    await store.teams.createTasks(
      id,
      [
        { id: 'a', title: 'a', description: '', dependsOn: [] },
        { id: 'b', title: 'b', description: '', dependsOn: ['a'] },
        { id: 'c', title: 'c', description: '', dependsOn: [], assignee: 'reviewer' },
      ],
      'lead',
      at(),
    );
    const claim = (member: string, names: string[]) =>
      store.teams.claimTask(id, { member, names, status: 'claimed' }, at());
    // the reviewer gets its own task first; a writer cannot take it
    expect((await claim('reviewer', ['reviewer']))?.id).toBe('c');
    expect((await claim('writer', ['writer']))?.id).toBe('a');
    // b waits on a
    expect(await claim('writer-2', ['writer'])).toBeUndefined();
    const done = await store.teams.changeTask(
      id,
      'a',
      {
        from: ['claimed', 'in_progress'],
        owner: 'writer',
        set: { status: 'done', result: 'A' },
        by: 'writer',
      },
      at(),
    );
    expect(done?.status).toBe('done');
    // only the owner's change applies
    expect(
      await store.teams.changeTask(
        id,
        'c',
        { from: ['claimed'], owner: 'writer', set: { status: 'done' }, by: 'writer' },
        at(),
      ),
    ).toBeUndefined();
    expect((await claim('writer-2', ['writer']))?.id).toBe('b');
    expect(await claim('writer', ['writer'])).toBeUndefined();
  });

  it('claim races between threads with their own connections: no task is claimed twice (30 rounds)', async () => {
    const { store, spec } = await kind.fresh();
    const workers = 6;
    const tasks = 40;
    const pool = await Promise.all(
      Array.from(
        { length: workers },
        (_, w) =>
          new Promise<Worker>((resolve, reject) => {
            const worker = new Worker(new URL('./support/claim-worker.ts', import.meta.url), {
              workerData: { spec, member: `worker-${w}`, workers },
            });
            worker.once('message', () => resolve(worker));
            worker.once('error', reject);
          }),
      ),
    );
    const failures: unknown[] = [];
    for (const worker of pool) worker.on('error', (error) => failures.push(error));
    const claimers = new Set<number>();
    try {
      for (let round = 0; round < 30; round++) {
        const id = await newTeam(store, `team_race${round}`);
        await store.teams.createTasks(
          id,
          Array.from({ length: tasks }, (_, i) => ({
            id: '',
            title: `task ${i}`,
            description: '',
            dependsOn: [],
          })),
          'lead',
          at(),
        );
        const barrier = new SharedArrayBuffer(4);
        const results = await Promise.all(
          pool.map(
            (worker) =>
              new Promise<string[]>((resolve) => {
                worker.once('message', resolve);
                worker.postMessage({ teamId: id, barrier });
              }),
          ),
        );
        expect(failures).toEqual([]);
        results.forEach((got, w) => {
          if (got.length) claimers.add(w);
        });
        const all = results.flat();
        expect(all).toHaveLength(tasks);
        expect(new Set(all).size).toBe(tasks);
        const board = await store.teams.listTasks(id);
        expect(board.every((t) => t.status === 'claimed' && t.owner?.startsWith('worker-'))).toBe(
          true,
        );
        // every claim is in the team's log once, with the owner the row has
        const claims = (await store.teams.readTeamEvents(id, { types: ['task.changed'] })).map(
          (e) => `${e.data.id}:${e.data.owner}`,
        );
        expect(claims.sort()).toEqual(board.map((t) => `${t.id}:${t.owner}`).sort());
      }
      // the threads really raced: more than one of them got tasks
      expect(claimers.size).toBeGreaterThan(1);
    } finally {
      const exited = pool.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
      for (const worker of pool) worker.postMessage('stop');
      await Promise.all(exited);
    }
  }, 120_000);
});

describeStores('team logs, inboxes and operations', (kind) => {
  it('delivers messages to their member or to all but the sender, moving read marks only when read', async () => {
    const { store } = await kind.fresh();
    const id = await newTeam(store);
    const message = (from: string, to: string, text: string) => ({
      type: 'message' as const,
      data: { from, to, text },
    });
    await store.teams.appendTeamEvents(
      id,
      [
        message('lead', 'ann', 'hi ann'),
        message('ann', 'all', 'from ann'),
        message('bob', 'all', 'from bob'),
      ],
      at(),
    );
    expect((await store.teams.peekInbox(id, 'ann')).map((m) => m.text)).toEqual([
      'hi ann',
      'from bob',
    ]);
    expect((await store.teams.readInbox(id, 'ann')).map((m) => m.text)).toEqual([
      'hi ann',
      'from bob',
    ]);
    expect(await store.teams.readInbox(id, 'ann')).toEqual([]);
    expect((await store.teams.peekInbox(id, 'bob')).map((m) => m.text)).toEqual(['from ann']);
    expect(await store.teams.lastTeamSeq(id)).toBe(4);
    expect(
      (await store.teams.readTeamEvents(id, { afterSeq: 2, types: ['message'] })).map((e) => e.seq),
    ).toEqual([3, 4]);
    await store.teams.setSeenMark(id, 'ann', 3);
    await store.teams.setSeenMark(id, 'ann', 2);
    expect(await store.teams.seenMark(id, 'ann')).toBe(3);
  });

  it('makes an operation under a key once: a repeat returns what the first returned', async () => {
    const { store } = await kind.fresh();
    const id = await newTeam(store);
    const first = await store.teams.appendTeamEvents(
      id,
      [{ type: 'message', data: { from: 'a', to: 'all', text: 'x' } }],
      at(),
      'op1',
    );
    const again = await store.teams.appendTeamEvents(
      id,
      [{ type: 'message', data: { from: 'a', to: 'all', text: 'y' } }],
      at(),
      'op1',
    );
    expect(again).toEqual(first);
    expect(await store.teams.lastTeamSeq(id)).toBe(2);
    await store.teams.recordOp(id, 'op2', { n: 1 });
    await store.teams.recordOp(id, 'op2', { n: 2 });
    expect(await store.teams.opResult(id, 'op2')).toEqual({ n: 1 });
    expect(await store.teams.opResult(id, 'op3')).toBeUndefined();
  });

  it('links runs to their team, and keeps the team status with its log entry', async () => {
    const { store } = await kind.fresh();
    const id = await newTeam(store, 'team_links');
    await store.teams.addTeamRun({
      teamId: id,
      runId: 'run_m1',
      member: 'ann',
      taskId: 't1',
      startedAt: at(),
    });
    await store.teams.addTeamRun({ teamId: id, runId: 'run_m1', member: 'ann', startedAt: at() });
    expect((await store.teams.listTeamRuns(id)).map((r) => [r.runId, r.member, r.taskId])).toEqual([
      ['run_m1', 'ann', 't1'],
    ]);
    expect(await store.teams.teamOfRun('run_m1')).toBe(id);
    expect(await store.teams.teamOfRun(`run_${id}`)).toBe(id);
    expect(await store.teams.teamOfRun('run_none')).toBeUndefined();
    await store.teams.setTeamStatus(
      id,
      { status: 'completed', result: 'done', budget: { maxTurns: 3 } },
      { type: 'team.finished', data: { status: 'completed' } },
      at(),
    );
    expect(await store.teams.getTeam('team_li')).toMatchObject({
      status: 'completed',
      result: 'done',
      budget: { maxTurns: 3 },
    });
    expect((await store.teams.listTeams()).map((t) => t.id)).toEqual([id]);
    expect((await store.teams.readTeamEvents(id)).map((e) => e.type)).toEqual([
      'team.started',
      'team.finished',
    ]);
  });
});

import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ToolGate } from '../../src/policy/gate.ts';
import { runToolCall } from '../../src/runtime/tool-runner.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { TeamRecord } from '../../src/store/team-store.ts';
import { TeamSession } from '../../src/teams/session.ts';
import { teamTools } from '../../src/teams/tools.ts';
import { originOf } from '../../src/tools/tool-origin.ts';
import { tempDir } from '../support/temp-dir.ts';

function team(id: string): TeamRecord {
  const at = new Date().toISOString();
  return {
    id,
    name: 'crew',
    task: 'a job',
    specPath: '',
    cwd: '/',
    leadRunId: `run_${id}`,
    status: 'running',
    budget: {},
    createdAt: at,
    updatedAt: at,
  };
}

async function newTeam(store: SqliteStore, id = 'team_a'): Promise<string> {
  await store.teams.createTeam(team(id), { type: 'team.started', data: {} });
  return id;
}

const at = () => new Date().toISOString();

describe('the task board in the store', () => {
  it('creates tasks with dependencies, refusing taken ids, unknown dependencies and circles', async () => {
    const store = new SqliteStore({ path: ':memory:' });
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
    await store.close();
  });

  it('claims only unblocked pending tasks, assigned ones first, and never one twice', async () => {
    const store = new SqliteStore({ path: ':memory:' });
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
    await store.close();
  });

  it('claim races between threads with their own connections: no task is claimed twice (30 rounds)', async () => {
    const dir = tempDir();
    const path = join(dir, 'agentd.db');
    const store = new SqliteStore({ path });
    const workers = 6;
    const tasks = 40;
    const pool = await Promise.all(
      Array.from(
        { length: workers },
        (_, w) =>
          new Promise<Worker>((resolve, reject) => {
            const worker = new Worker(new URL('./claim-worker.ts', import.meta.url), {
              workerData: { path, member: `worker-${w}`, workers },
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
      for (const worker of pool) worker.postMessage('stop');
      await store.close();
    }
  }, 120_000);

  it('claim races within one process: many concurrent claims through the board (50 rounds)', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    for (let round = 0; round < 50; round++) {
      const id = await newTeam(store, `team_p${round}`);
      const session = new TeamSession({
        store,
        teamId: id,
        name: 'crew',
        members: [{ name: 'lead', role: 'lead', lead: true }],
      });
      await session.board.createTasks(
        'lead',
        Array.from({ length: 10 }, (_, i) => ({
          id: '',
          title: `t${i}`,
          description: '',
          dependsOn: [],
        })),
      );
      const got = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          session.board.claim({ member: `m${i}`, names: [`m${i}`], status: 'claimed' }),
        ),
      );
      const ids = got.flatMap((t) => (t ? [t.id] : []));
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
    }
    await store.close();
  });
});

describe('member tools', () => {
  async function setup() {
    const store = new SqliteStore({ path: ':memory:' });
    const id = await newTeam(store);
    const session = new TeamSession({
      store,
      teamId: id,
      name: 'crew',
      members: [
        { name: 'lead', role: 'lead', lead: true },
        { name: 'writer', role: 'writer', lead: false },
        { name: 'reviewer', role: 'reviewer', lead: false },
      ],
    });
    const gates = new Map(
      session.members.map((m) => [m.name, new ToolGate(teamTools(session, m))]),
    );
    let n = 0;
    const call = async (member: string, name: string, input: unknown, key?: string) => {
      n++;
      const outcome = await runToolCall(
        { id: `c${n}`, name, input: input as never },
        gates.get(member)!,
        {
          runId: `run_${member}`,
          idempotencyKey: key ?? `run_${member}:${n}`,
          signal: new AbortController().signal,
        },
      );
      return String(outcome.output);
    };
    return { store, id, session, call };
  }

  it('are team tools to policies: team.<tool> actions, the model sees team__<tool>', () => {
    const session = new TeamSession({
      store: new SqliteStore({ path: ':memory:' }),
      teamId: 'team_x',
      name: 'crew',
      members: [],
    });
    const lead = teamTools(session, { name: 'lead', role: 'lead', lead: true });
    expect(lead.map((t) => t.name).sort()).toEqual([
      'team__inbox',
      'team__send',
      'team__task_claim',
      'team__task_complete',
      'team__task_create',
      'team__task_list',
      'team__task_update',
      'team__wait',
    ]);
    expect(originOf(lead[0]!)).toEqual({ kind: 'team', tool: 'task_create' });
    const mate = teamTools(session, { name: 'w', role: 'w', lead: false });
    expect(mate.map((t) => t.name)).not.toContain('team__wait');
  });

  it('create, claim, complete and message, each call acting once even when repeated', async () => {
    const { store, id, call } = await setup();
    const input = {
      tasks: [
        { id: 'draft', title: 'Write the draft', assignee: 'writer' },
        { title: 'Review it', depends_on: ['draft'], assignee: 'reviewer' },
      ],
    };
    const created = await call('lead', 'team__task_create', input, 'run_lead:7');
    expect(created).toMatch(/Created 2 tasks/);
    // the same call again (a crash made the run repeat it) creates nothing more
    expect(await call('lead', 'team__task_create', input, 'run_lead:7')).toBe(created);
    expect(await store.teams.listTasks(id)).toHaveLength(2);
    expect(
      await call('lead', 'team__task_create', { tasks: [{ title: 'x', assignee: 'nobody' }] }),
    ).toMatch(/no member or role "nobody"/);
    // the reviewer's task waits on the draft; the writer gets its own
    expect(await call('reviewer', 'team__task_claim', {})).toMatch(/No task is free/);
    expect(await call('reviewer', 'team__task_claim', { id: 't2' })).toMatch(/waits on draft/);
    const claimed = await call('writer', 'team__task_claim', {});
    expect(claimed).toMatch(/You hold draft now/);
    expect(await call('reviewer', 'team__task_complete', { id: 'draft', result: 'mine' })).toMatch(
      /cannot complete draft: it is in_progress and held by writer/,
    );
    expect(await call('writer', 'team__task_complete', { result: 'the draft text' })).toMatch(
      /Done: draft \[done\]/,
    );
    const brief = await call('reviewer', 'team__task_claim', {});
    expect(brief).toMatch(
      /Results of the tasks it depends on:\n- draft Write the draft: the draft text/,
    );
    // messages: to one member, to all; read once
    await call('reviewer', 'team__send', { to: 'writer', text: 'typo in line 2' });
    await call('lead', 'team__send', { to: 'all', text: 'wrap up soon' });
    expect(await call('writer', 'team__inbox', {})).toBe(
      '- from reviewer: typo in line 2\n- from lead (to all): wrap up soon',
    );
    expect(await call('writer', 'team__inbox', {})).toBe('No new messages.');
    expect(await call('lead', 'team__inbox', {})).toBe('No new messages.');
    expect(await call('writer', 'team__send', { to: 'ghost', text: 'hi' })).toMatch(
      /no member "ghost"/,
    );
    // blocking tells the lead
    await call('reviewer', 'team__task_update', {
      id: 't2',
      status: 'blocked',
      note: 'need the spec',
    });
    expect(await call('lead', 'team__inbox', {})).toBe(
      '- from reviewer: reviewer marked t2 blocked: need the spec',
    );
    expect(await call('writer', 'team__task_update', { id: 't2', status: 'failed' })).toMatch(
      /not yours/,
    );
    // the lead reopens it for the writer
    expect(
      await call('lead', 'team__task_update', { id: 't2', status: 'pending', assignee: 'writer' }),
    ).toMatch(/t2 \[pending\] Review it · after draft · for writer/);
    const log = await store.teams.readTeamEvents(id);
    expect(log.filter((e) => e.type === 'message')).toHaveLength(3);
  });

  it('team__wait returns at once when everything is finished, and reports changes and messages', async () => {
    const { call } = await setup();
    expect(await call('lead', 'team__wait', {})).toMatch(/the board is empty/);
    await call('lead', 'team__task_create', { tasks: [{ id: 'one', title: 'One' }] });
    await call('writer', 'team__task_claim', {});
    await call('writer', 'team__send', { to: 'lead', text: 'on it' });
    await call('writer', 'team__task_complete', { result: 'did one' });
    const reply = await call('lead', 'team__wait', { until: 'all_done' });
    expect(reply).toMatch(/Every task is finished \(1 done\)/);
    expect(reply).toMatch(
      /Changed since you last looked:\n- one \[done\] One · owner writer — result: did one/,
    );
    expect(reply).toMatch(/Messages:\n- from writer: on it/);
  });
});

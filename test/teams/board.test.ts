import { describe, expect, it } from 'vitest';
import { ToolGate } from '../../src/policy/gate.ts';
import { runToolCall } from '../../src/runtime/tool-runner.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { TeamRecord } from '../../src/store/team-store.ts';
import { TeamSession } from '../../src/teams/session.ts';
import { teamTools } from '../../src/teams/tools.ts';
import { originOf } from '../../src/tools/tool-origin.ts';

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

describe('the task board through a session', () => {
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

import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Script } from '../../src/models/scripted-model.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { TeamEvent } from '../../src/store/team-store.ts';
import { resumeTeam, runTeam } from '../../src/teams/runner.ts';
import { member, team, workerScript, workTool } from './support.ts';

function times(events: readonly TeamEvent[]) {
  return (id: string, status: string): number => {
    const event = events.find(
      (e) => e.type === 'task.changed' && e.data.id === id && e.data.status === status,
    );
    if (!event) throw new Error(`no ${status} for ${id}`);
    return Date.parse(event.at);
  };
}

const createParts: Script['turns'][number] = {
  tool_calls: [
    {
      name: 'team__task_create',
      input: {
        tasks: [
          { id: 'a', title: 'Part A', description: 'Write part A.' },
          { id: 'b', title: 'Part B', description: 'Write part B.' },
          { id: 'c', title: 'Part C', description: 'Join A and B.', depends_on: ['a', 'b'] },
          { id: 'd', title: 'Part D', description: 'Polish C.', depends_on: ['c'] },
        ],
      },
    },
  ],
};

const leadScript: Script = {
  turns: [
    createParts,
    { tool_calls: [{ name: 'team__wait', input: { until: 'all_done' } }] },
    { tool_calls: [{ name: 'team__task_list' }] },
    { text: 'Final result:\n{{results}}' },
  ],
};

describe('a team run', () => {
  it('a lead and three teammates: parallel where dependencies allow, in order where not; the result has every part', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const workers = [1, 2, 3].map((i) =>
      member(`worker-${i}`, 'worker', { script: workerScript, tools: [workTool(250)] }),
    );
    const result = await runTeam({
      store,
      team: team(member('lead', 'lead', { script: leadScript }), workers),
      task: 'Build parts A to D',
    });
    expect(result.status).toBe('completed');
    expect(result.tasks.map((t) => [t.id, t.status])).toEqual([
      ['a', 'done'],
      ['b', 'done'],
      ['c', 'done'],
      ['d', 'done'],
    ]);
    for (const part of ['Part A', 'Part B', 'Part C', 'Part D']) {
      expect(result.result).toContain(`part done: Task ${part.at(-1)!.toLowerCase()}: ${part}`);
    }

    const log = await store.teams.readTeamEvents(result.teamId);
    const at = times(log);
    // a and b ran at the same time
    expect(at('a', 'in_progress')).toBeLessThan(at('b', 'done'));
    expect(at('b', 'in_progress')).toBeLessThan(at('a', 'done'));
    // c only after both, d only after c
    expect(at('c', 'claimed')).toBeGreaterThanOrEqual(Math.max(at('a', 'done'), at('b', 'done')));
    expect(at('d', 'claimed')).toBeGreaterThanOrEqual(at('c', 'done'));
    // c was given what a and b gave
    const cRun = result.tasks.find((t) => t.id === 'c')!.runId!;
    const [started] = await store.readEvents(cRun, { limit: 1 });
    expect(started?.type === 'run.started' && started.data.task).toMatch(
      /Results of the tasks it depends on:\n- a Part A: \[scripted\] part done: Task a: Part A/,
    );

    // every teammate's run is a normal run, linked to the lead's; teammates told the lead
    const team_ = (await store.teams.getTeam(result.teamId))!;
    expect(team_.status).toBe('completed');
    expect(team_.result).toBe(result.result);
    const runs = await store.teams.listTeamRuns(result.teamId);
    expect(runs).toHaveLength(4);
    for (const run of runs) {
      const summary = await store.getRun(run.runId);
      expect(summary?.status).toBe('completed');
      expect(summary?.parentRunId).toBe(team_.leadRunId);
      expect(summary?.agent).toBe(run.member);
    }
    expect(new Set(runs.map((r) => r.taskId))).toEqual(new Set(['a', 'b', 'c', 'd']));
    const notes = log.filter((e) => e.type === 'message' && e.data.to === 'lead' && e.data.auto);
    expect(notes).toHaveLength(4);
    expect(log.at(-1)?.type).toBe('team.finished');
    await store.close();
  });

  it('respects the limit of teammates running at once', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const workers = [1, 2, 3, 4].map((i) =>
      member(`worker-${i}`, 'worker', { script: workerScript, tools: [workTool(100)] }),
    );
    const lead = member('lead', 'lead', {
      script: {
        turns: [
          {
            tool_calls: [
              {
                name: 'team__task_create',
                input: { tasks: Array.from({ length: 6 }, (_, i) => ({ title: `job ${i}` })) },
              },
            ],
          },
          { tool_calls: [{ name: 'team__wait', input: { until: 'all_done' } }] },
          { text: 'all done' },
        ],
      },
    });
    let running = 0;
    let most = 0;
    const result = await runTeam({
      store,
      team: team(lead, workers, { maxRunning: 2 }),
      task: 'six jobs',
      onRunEvent: (name, event) => {
        if (name === 'lead') return;
        if (event.type === 'run.started') most = Math.max(most, ++running);
        if (event.type === 'run.finished') running--;
      },
    });
    expect(result.status).toBe('completed');
    expect(result.tasks.every((t) => t.status === 'done')).toBe(true);
    expect(most).toBe(2);
    await store.close();
  });

  it('resume refuses a team another live process is running, and a team that completed', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const lead = () => member('lead', 'lead', { script: leadScript });
    const workers = () => [
      member('worker', 'worker', { script: workerScript, tools: [workTool(5)] }),
    ];
    const stopped = await runTeam({
      store,
      team: team(lead(), workers(), { budget: { maxTurns: 1 } }),
      task: 'parts',
    });
    expect(stopped.status).toBe('budget_exceeded');
    const record = (await store.teams.getTeam(stopped.teamId))!;
    const other = `${hostname()}:${process.ppid}`;
    expect(
      await store.claimLease(record.leadRunId, other, null, new Date().toISOString()),
    ).toMatchObject({ owner: other });
    await expect(
      resumeTeam({ store, team: team(lead(), workers()), teamId: stopped.teamId }),
    ).rejects.toThrow(`team ${stopped.teamId} is being run by process ${other}`);
    await store.releaseLease(record.leadRunId, other);
    const done = await resumeTeam({
      store,
      team: team(lead(), workers()),
      teamId: stopped.teamId,
      budget: { maxTurns: 100 },
    });
    expect(done.status).toBe('completed');
    expect(done.tasks.every((t) => t.status === 'done')).toBe(true);
    await expect(
      resumeTeam({ store, team: team(lead(), workers()), teamId: stopped.teamId }),
    ).rejects.toThrow('already completed');
    await store.close();
  });
});

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Script } from '../../src/models/scripted-model.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { runTeam } from '../../src/teams/runner.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { member, team, workTool } from './support.ts';

const threeTurns: Script = {
  turns: [
    { tool_calls: [{ name: 'work' }] },
    { tool_calls: [{ name: 'work' }] },
    { text: 'done: {{task}}' },
  ],
};

describe('team budgets', () => {
  it('a team budget stops the whole team cleanly: every run suspended between steps, nothing half-logged', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const lead = member('lead', 'lead', {
      script: {
        turns: [
          {
            tool_calls: [
              {
                name: 'team__task_create',
                input: { tasks: ['one', 'two', 'three', 'four'].map((title) => ({ title })) },
              },
            ],
          },
          { tool_calls: [{ name: 'team__wait', input: { until: 'all_done' } }] },
          { text: 'finished' },
        ],
      },
    });
    const workers = [1, 2, 3].map((i) =>
      member(`worker-${i}`, 'worker', { script: threeTurns, tools: [workTool(60)], latencyMs: 20 }),
    );
    const result = await runTeam({
      store,
      team: team(lead, workers, { budget: { maxTurns: 6 } }),
      task: 'four tasks, three turns each',
    });
    expect(result.status).toBe('budget_exceeded');
    expect(result.detail).toMatch(
      /the team reached budget\.max_turns \(6 of 6 turns\); raise it and resume the team \(agentd team resume team_\w+ --max-turns \.\.\.\)/,
    );
    expect(result.result).toBeUndefined();
    const record = await store.teams.getTeam(result.teamId);
    expect(record?.status).toBe('budget_exceeded');
    // no task was failed by the stop: what was under way stays with its run, to resume
    expect(result.tasks.some((t) => t.status === 'failed')).toBe(false);
    expect(result.tasks.some((t) => t.status === 'in_progress')).toBe(true);
    // every run stopped between steps: suspended (or done), each call with its result
    let responses = 0;
    const runs = [
      record!.leadRunId,
      ...(await store.teams.listTeamRuns(result.teamId)).map((r) => r.runId),
    ];
    for (const runId of runs) {
      const summary = await store.getRun(runId);
      expect(['suspended', 'completed']).toContain(summary?.status);
      const events = await store.readEvents(runId);
      const calls = events.filter((e) => e.type === 'tool.call').length;
      expect(events.filter((e) => e.type === 'tool.result')).toHaveLength(calls);
      responses += events.filter((e) => e.type === 'model.response').length;
    }
    // no model answered past the budget
    expect(responses).toBeLessThanOrEqual(6);
    expect(result.usage.turns).toBeGreaterThanOrEqual(6);
    const finished = (await store.teams.readTeamEvents(result.teamId)).at(-1);
    expect(finished?.type).toBe('team.finished');
    expect(finished?.data.status).toBe('budget_exceeded');
    await store.close();
  });

  it("a member's budget fails only that member's task; the lead is told and the team goes on", async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const lead = member('lead', 'lead', {
      script: {
        turns: [
          {
            tool_calls: [
              {
                name: 'team__task_create',
                input: {
                  tasks: [
                    { id: 'small', title: 'Small part', assignee: 'frugal' },
                    { id: 'big', title: 'Big part', assignee: 'worker' },
                    {
                      id: 'after',
                      title: 'After the big part',
                      depends_on: ['big'],
                      assignee: 'worker',
                    },
                  ],
                },
              },
            ],
          },
          { tool_calls: [{ name: 'team__wait', input: { until: 'all_done' } }] },
          { text: 'Summary: {{results}}' },
        ],
      },
    });
    const result = await runTeam({
      store,
      team: team(lead, [
        member('frugal', 'frugal', {
          script: threeTurns,
          tools: [workTool(10)],
          limits: { maxTurns: 1 },
        }),
        member('worker', 'worker', { script: threeTurns, tools: [workTool(10)] }),
      ]),
      task: 'three parts',
    });
    expect(result.status).toBe('completed');
    const byId = new Map(result.tasks.map((t) => [t.id, t]));
    expect(byId.get('small')?.status).toBe('failed');
    expect(byId.get('small')?.result).toMatch(
      /^its budget ran out: reached limits\.max_turns \(1 of 1 turns\)/,
    );
    expect(byId.get('big')?.status).toBe('done');
    expect(byId.get('after')?.status).toBe('done');
    const frugalRun = byId.get('small')!.runId!;
    expect((await store.getRun(frugalRun))?.status).toBe('budget_exceeded');
    // the lead heard of it, in its wait's answer
    expect(result.result).toMatch(/frugal failed small: its budget ran out/);
    await store.close();
  });
});

describe('team policies', () => {
  it("each member is its own principal: a member's denied call is denied and audited under its identity", async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const project = join(dir, 'project');
    const teamDir = join(dir, 'team');
    mkdirSync(project);
    mkdirSync(join(teamDir, 'policies'), { recursive: true });
    writeFileSync(join(project, 'notes.md'), '# Notes\n');
    writeFileSync(
      join(teamDir, 'policies', 'team.cedar'),
      `@id("board") permit (principal is Agent, action in Action::"team", resource) when { principal.name like "crew/*" };
@id("read") permit (principal, action in [Action::"fs.read", Action::"fs.list"], resource in Dir::".");
@id("writer-writes") permit (principal == Agent::"crew/writer", action == Action::"fs.write", resource in Dir::".");
@id("reviewer-reads-only") @reason("reviewers do not write")
forbid (principal == Agent::"crew/reviewer", action == Action::"fs.write", resource);
`,
    );
    const script = (name: string, text: string) =>
      writeFileSync(
        join(teamDir, `${name}.yaml`),
        `turns:\n  - tool_calls:\n      - name: fs__write\n        input: { path: by-${name}.txt, content: "${text}" }\n  - text: "wrote? {{results}}"\n`,
      );
    script('writer', 'from the writer');
    script('reviewer', 'from the reviewer');
    writeFileSync(
      join(teamDir, 'lead-script.yaml'),
      `turns:
  - tool_calls:
      - name: team__task_create
        input:
          tasks:
            - { id: write, title: Write, assignee: writer }
            - { id: review, title: Review, assignee: reviewer }
  - tool_calls: [{ name: team__wait, input: { until: all_done } }]
  - text: "{{results}}"
`,
    );
    writeFileSync(
      join(teamDir, 'team.yaml'),
      `name: crew
lead: { agent: { model: scripted/lead, script: lead-script.yaml } }
teammates:
  writer: { agent: { model: scripted/w, script: writer.yaml, tools: [fs.write] } }
  reviewer: { agent: { model: scripted/r, script: reviewer.yaml, tools: [fs.write] } }
`,
    );
    const run = await agentd(['team', 'run', join(teamDir, 'team.yaml'), 'write and review'], {
      home,
      cwd: project,
    });
    expect(run.stderr).toMatch(
      /\[reviewer\] ⛔ policy denied fs\.write \(Agent::"crew\/reviewer"\)/,
    );
    expect(run.code).toBe(0);
    expect(readFileSync(join(project, 'by-writer.txt'), 'utf8')).toBe('from the writer');
    expect(existsSync(join(project, 'by-reviewer.txt'))).toBe(false);

    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    try {
      const [t] = await store.teams.listTeams(1);
      const runs = await store.teams.listTeamRuns(t!.id);
      const runOf = (m: string) => runs.find((r) => r.member === m)!.runId;
      const audit = await store.listAudit();
      const writes = audit.filter((a) => a.action === 'fs.write');
      expect(writes.map((a) => [a.principal, a.decision, a.runId])).toEqual(
        expect.arrayContaining([
          ['Agent::"crew/writer"', 'allow', runOf('writer')],
          ['Agent::"crew/reviewer"', 'deny', runOf('reviewer')],
        ]),
      );
      expect(writes).toHaveLength(2);
      // the board's calls are decided and audited under each member too
      expect(
        audit.some((a) => a.action === 'team.task_create' && a.principal === 'Agent::"crew/lead"'),
      ).toBe(true);
      const events = await store.readEvents(runOf('reviewer'));
      const decision = events.find((e) => e.type === 'policy.decision');
      expect(decision?.type === 'policy.decision' && decision.data).toMatchObject({
        principal: 'Agent::"crew/reviewer"',
        decision: 'deny',
        policies: [expect.stringMatching(/reviewer-reads-only/)],
      });
      const result = events.find((e) => e.type === 'tool.result');
      expect(result?.type === 'tool.result' && result.data.errorKind).toBe('denied');
      // the reviewer's task is done all the same (its answer reports the refusal)
      const tasks = await store.teams.listTasks(t!.id);
      expect(tasks.find((x) => x.id === 'review')?.result).toMatch(/Denied by policy/);
    } finally {
      await store.close();
    }
  }, 60_000);
});

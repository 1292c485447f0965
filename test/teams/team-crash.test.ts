import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { repoRoot } from '../support/cli.ts';
import { agentdUntilKilled, countEvents, prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const TASKS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A team of a lead and three workers on six tasks with dependencies, all scripted. */
function writeTeam(dir: string): string {
  writeFileSync(
    join(dir, 'tools.ts'),
    `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
/** One effect per call: records its key with the effect and skips a key it has seen. */
export const work = defineTool({
  name: 'work', description: 'work', input: z.object({}), checksIdempotencyKey: true,
  async execute(_, { idempotencyKey }) {
    await new Promise((r) => setTimeout(r, 20));
    const file = join(process.env.TEAM_EFFECTS!, 'work.log');
    const seen = existsSync(file) ? readFileSync(file, 'utf8').split('\\n') : [];
    if (!seen.includes(idempotencyKey)) appendFileSync(file, idempotencyKey + '\\n');
    return 'worked';
  },
});
`,
  );
  writeFileSync(
    join(dir, 'lead-script.yaml'),
    `turns:
  - tool_calls:
      - name: team__task_create
        input:
          tasks:
            - { id: a, title: Part a }
            - { id: b, title: Part b }
            - { id: c, title: Part c }
            - { id: d, title: Part d, depends_on: [a, b] }
            - { id: e, title: Part e, depends_on: [c] }
            - { id: f, title: Part f, depends_on: [d, e] }
  - tool_calls:
      - name: team__wait
        input: { until: all_done }
  - tool_calls:
      - name: team__task_list
  - text: "Final:\\n{{results}}"
`,
  );
  writeFileSync(
    join(dir, 'worker-script.yaml'),
    `turns:
  - tool_calls: [{ name: work }]
  - tool_calls: [{ name: work }]
  - text: "done: {{task}}"
`,
  );
  writeFileSync(
    join(dir, 'lead.yaml'),
    'name: lead\nmodel: scripted/lead\nscript: lead-script.yaml\nlimits: { max_turns: 8 }\n',
  );
  writeFileSync(
    join(dir, 'worker.yaml'),
    'name: worker\nmodel: scripted/worker\nscript: worker-script.yaml\ntools:\n  - module: tools.ts\n',
  );
  const spec = join(dir, 'team.yaml');
  writeFileSync(
    spec,
    'name: crashers\nlead: ./lead.yaml\nteammates:\n  worker: { agent: ./worker.yaml, count: 3 }\nmax_running: 2\n',
  );
  return spec;
}

async function readTeam(home: string) {
  if (!existsSync(join(home, 'agentd.db'))) return undefined;
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const [team] = await store.teams.listTeams(1);
    return team;
  } finally {
    await store.close();
  }
}

describe('a team killed with SIGKILL, then resumed', () => {
  it('20+ kills at seeded points after observed events: completes with every task done once, by one run each, and no effect made twice', async () => {
    const dir = tempDir();
    const spec = writeTeam(dir);
    const random = prng(20261130);
    let kills = 0;
    let resumes = 0;
    let resumedRuns = 0;
    let series = 0;
    // Until enough kills landed, some of them while teammates worked.
    while (series < 6 || ((kills < 20 || resumes < 15 || resumedRuns === 0) && series < 40)) {
      series++;
      const home = join(dir, `home-${series}`);
      const effects = join(dir, `effects-${series}`);
      mkdirSync(effects, { recursive: true });
      const env = { AGENTD_HOME: home, TEAM_EFFECTS: effects };
      for (let attempt = 0; attempt < 40; attempt++) {
        const team = await readTeam(home);
        if (team?.status === 'completed') break;
        // a kill after 1 to 30 more durable events (runs' and the team's), or (1 in 6) none
        const atEvents =
          random() < 1 / 6 ? undefined : countEvents(home) + 1 + Math.floor(random() * 30);
        const args = team
          ? ['team', 'resume', team.id]
          : ['team', 'run', spec, 'build parts a to f'];
        if (team) resumes++;
        const result = await agentdUntilKilled(args, env, { atEvents });
        if (result.killed) kills++;
      }
      const team = await readTeam(home);
      expect(team?.status, `series ${series}`).toBe('completed');

      const store = new SqliteStore({ path: join(home, 'agentd.db') });
      try {
        const tasks = await store.teams.listTasks(team!.id);
        expect(tasks.map((t) => [t.id, t.status])).toEqual(TASKS.map((id) => [id, 'done']));
        for (const id of TASKS) expect(team!.result).toContain(`Part ${id}`);
        // each task was done once, by one run
        const log = await store.teams.readTeamEvents(team!.id);
        for (const id of TASKS) {
          const done = log.filter(
            (e) => e.type === 'task.changed' && e.data.id === id && e.data.status === 'done',
          );
          expect(done, `task ${id} in series ${series}`).toHaveLength(1);
        }
        resumedRuns += log.filter((e) => e.type === 'member.started' && e.data.resumed).length;
        const runs = await store.teams.listTeamRuns(team!.id);
        expect(runs.map((r) => r.taskId).sort()).toEqual(TASKS);
        // every run completed, with every call answered once; the effects are the calls
        const keys: string[] = [];
        for (const run of [{ runId: team!.leadRunId }, ...runs]) {
          expect((await store.getRun(run.runId))?.status).toBe('completed');
          const events = await store.readEvents(run.runId);
          expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
          const calls = events.flatMap((e) => (e.type === 'tool.call' ? [e.data] : []));
          const results = events.flatMap((e) => (e.type === 'tool.result' ? [e.data] : []));
          expect(results.map((r) => r.callId).sort()).toEqual(calls.map((c) => c.callId).sort());
          keys.push(...calls.filter((c) => c.name === 'work').map((c) => c.idempotencyKey));
        }
        expect(keys).toHaveLength(2 * TASKS.length);
        const worked = readFileSync(join(effects, 'work.log'), 'utf8').trim().split('\n');
        expect(worked.sort()).toEqual(keys.sort());
      } finally {
        await store.close();
      }
    }
    expect(kills).toBeGreaterThanOrEqual(20);
    expect(resumes).toBeGreaterThanOrEqual(15);
    // kills landed while teammates worked: their runs went on where their logs ended
    expect(resumedRuns).toBeGreaterThan(0);
  }, 600_000);
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { TeamRecord } from '../../src/store/team-store.ts';
import { countEvents, prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import * as soak from './soak-support.ts';

/** Teams at a time on one store; AGENTD_SOAK_TEAMS and AGENTD_SOAK_TEAM_KILLS ask for more. */
const TEAMS = Number(process.env.AGENTD_SOAK_TEAMS ?? 2);
const KILLS = Number(process.env.AGENTD_SOAK_TEAM_KILLS ?? 6);
const TASKS = ['a', 'b', 'c', 'd'];

/** A lead and two workers (each task: a key-checked call and an unsafe one) on four tasks. */
function writeTeam(dir: string): string {
  // in a folder of its own: a policy folder next to a spec is that agent's (the lead has none)
  mkdirSync(join(dir, 'worker'));
  soak.writeSoakAgent(join(dir, 'worker'), 'worker', 1);
  // A halt (a member's call in doubt) answers the lead's wait with "the team was stopped: call
  // team__wait again"; a scripted lead waits once more for each halt it may see (one a task),
  // and a wait on a finished board returns at once.
  const waits =
    '  - tool_calls:\n      - name: team__wait\n        input: { until: all_done }\n'.repeat(
      TASKS.length + 1,
    );
  writeFileSync(
    join(dir, 'lead-script.yaml'),
    `turns:
  - tool_calls:
      - name: team__task_create
        input: { tasks: [{ id: a, title: Part a }, { id: b, title: Part b }, { id: c, title: Part c, depends_on: [a] }, { id: d, title: Part d, depends_on: [b, c] }] }
${waits}  - text: "Final:\\n{{results}}"
`,
  );
  writeFileSync(
    join(dir, 'lead.yaml'),
    'name: lead\nmodel: scripted/lead\nscript: lead-script.yaml\nlimits: { max_turns: 12 }\n',
  );
  const spec = join(dir, 'team.yaml');
  writeFileSync(
    spec,
    'name: soakers\nlead: ./lead.yaml\nteammates:\n  worker: { agent: ./worker/worker.yaml, count: 2 }\nmax_running: 2\n',
  );
  return spec;
}

async function readTeams(home: string) {
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const teams = await store.teams.listTeams(1000);
    return await Promise.all(
      teams.map(async (team) => ({
        ...team,
        tasks: await store.teams.listTasks(team.id),
        log: await store.teams.readTeamEvents(team.id),
        runs: [team.leadRunId, ...(await store.teams.listTeamRuns(team.id)).map((r) => r.runId)],
      })),
    );
  } finally {
    await store.close();
  }
}

/** Each task done once (by one `task.changed` to done); a completed team did them all. */
function checkTeam(team: Awaited<ReturnType<typeof readTeams>>[number]): void {
  for (const task of team.tasks) {
    const done = team.log.filter(
      (e) => e.type === 'task.changed' && e.data.id === task.id && e.data.status === 'done',
    );
    expect(done.length, `${team.id}: task ${task.id} done twice`).toBeLessThanOrEqual(1);
  }
  if (team.status === 'completed') {
    expect(
      team.tasks.map((t) => [t.id, t.status]),
      JSON.stringify(team.tasks.filter((t) => t.status !== 'done')),
    ).toEqual(TASKS.map((id) => [id, 'done']));
    for (const id of TASKS) expect(team.result).toContain(`Part ${id}`);
  }
}

describe('crash soak: team processes under SIGKILL and SIGSTOP/SIGCONT', () => {
  it(`${TEAMS} teams at a time, ${KILLS}+ kills of the team process at observed events; every invariant holds after each round`, async () => {
    const dir = tempDir();
    const spec = writeTeam(dir);
    const home = join(dir, 'home');
    mkdirSync(home);
    const random = prng(20261209);
    const effectsOf = (slot: number) => join(dir, `effects-${slot}`);
    for (let slot = 0; slot < TEAMS; slot++) mkdirSync(effectsOf(slot));
    const held = Array.from({ length: TEAMS }, (_, slot) =>
      soak.heldBumps(effectsOf(slot), random),
    );
    const n = soak.tally();
    const teamOf: (string | undefined)[] = [];
    while (n.rounds < 80) {
      n.rounds++;
      const teams = await readTeams(home);
      const teamIn = (slot: number) => teams.find((t) => t.id === teamOf[slot]);
      const open = Array.from({ length: TEAMS }, (_, slot) => slot).filter(
        (slot) => teamIn(slot)?.status !== 'completed',
      );
      if (open.length === 0 && n.kills >= KILLS) break;
      const killing = n.kills < KILLS;
      const base = countEvents(home);
      const work = open.length ? open : Array.from({ length: TEAMS }, (_, slot) => slot);
      await Promise.all(
        work.map(async (slot) => {
          const team: TeamRecord | undefined = teamIn(slot);
          const fresh = !team || team.status === 'completed';
          if (fresh) n.started++;
          else n.resumes++;
          const args = fresh
            ? ['team', 'run', spec, `soak team ${slot}`]
            : team.status === 'needs_attention'
              ? ['team', 'resume', team.id, '--skip-in-doubt']
              : ['team', 'resume', team.id];
          const before = new Set(teams.map((t) => t.id));
          const result = await soak.soakProcess(
            args,
            { AGENTD_HOME: home, SOAK_EFFECTS: effectsOf(slot) },
            { base, killing, random, held: held[slot]!, killSpan: 30, pauseSpan: 10 },
            n,
          );
          // left alone, a team process ends completed (0) or needing a person (4)
          if (!result.killed) expect([0, 4], args.join(' ')).toContain(result.code);
          if (fresh) {
            const mine = (await readTeams(home)).find(
              (t) => !before.has(t.id) && t.task === `soak team ${slot}`,
            );
            if (mine) teamOf[slot] = mine.id;
          }
        }),
      );
      n.checks += await soak.checkStore(home);
      for (const team of await readTeams(home)) {
        checkTeam(team);
        n.checks++;
      }
    }
    const teams = await readTeams(home);
    const runs = await soak.readRuns(home);
    for (let slot = 0; slot < TEAMS; slot++) {
      const mine = teams.filter((t) => t.task === `soak team ${slot}`).flatMap((t) => t.runs);
      soak.checkEffects(
        effectsOf(slot),
        runs.filter((r) => mine.includes(r.id)),
      );
      n.checks++;
    }
    const audited = await soak.auditVerify(home);
    expect(audited).toBeGreaterThan(0);
    n.checks++;
    expect(n.kills).toBeGreaterThanOrEqual(KILLS);
    expect(n.pauses).toBeGreaterThan(0);
    expect(teams.every((t) => t.status === 'completed')).toBe(true);
    expect(runs.every((r) => r.status === 'completed')).toBe(true);
    console.log(
      `team soak: ${n.rounds} rounds, ${n.started} teams (${runs.length} runs), ${n.resumes} resumes, ${n.kills} kills, ${n.pauses} SIGSTOP/SIGCONT, ${soak.inDoubtRuns(runs)} runs with an in-doubt call flagged, ${audited} audit entries verified, ${n.checks} invariant checks, 0 violations`,
    );
  }, 600_000);
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('agentd team', () => {
  it('runs the example team offline: the board live on stderr, the result on stdout; team show afterwards', async () => {
    const home = tempDir();
    const run = await agentd(
      ['team', 'run', 'examples/team/team.yaml', 'Write a short guide to examples/unit-converter'],
      { home, cwd: repoRoot },
    );
    expect(run.code, run.stderr).toBe(0);
    // the board as it changes, members' activity, the policy denying the reviewer's edit
    expect(run.stderr).toMatch(/agentd · team repo-docs · team_\w+/);
    expect(run.stderr).toMatch(/\+ read Read the unit converter for reader/);
    expect(run.stderr).toMatch(/\+ write Write the guide after read for writer/);
    expect(run.stderr).toMatch(/▸ read in_progress · reader/);
    expect(run.stderr).toMatch(
      /\[reader\] → fs__read \{"path":"examples\/unit-converter\/agent.yaml"\}/,
    );
    expect(run.stderr).toMatch(
      /\[reviewer\] ⛔ policy denied fs\.edit \(Agent::"repo-docs\/reviewer"\)/,
    );
    expect(run.stderr).toMatch(/✓ review done · reviewer/);
    expect(run.stderr).toMatch(/^review\s+done\s+reviewer\s+write\s+Review the guide/m);
    expect(run.stderr).toMatch(/✓ completed · 9 turns/);
    expect(run.stderr).toMatch(/ANTHROPIC_API_KEY is not set/);
    // the result: the lead's answer, with every task's part
    expect(run.stdout).toMatch(/^\[scripted\] The team's work on "Write a short guide/);
    expect(run.stdout).toMatch(/read \[done\] Read the unit converter · owner reader/);
    expect(run.stdout).toMatch(/name: unit-converter/);
    expect(run.stdout).toMatch(/I could not fix the spec myself: Denied by policy/);

    const id = /team (team_\w+) · agentd team show/.exec(run.stderr)?.[1];
    expect(id).toBeDefined();
    const show = await agentd(['team', 'show', id!], { home, cwd: repoRoot });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^team ${id} · repo-docs · completed`));
    expect(show.stdout).toMatch(
      /\nboard\ntask\s+status\s+owner\s+after\s+title\s+result\nread\s+done\s+reader/,
    );
    expect(show.stdout).toMatch(/\nmessages\n.*reader → lead \(auto\): reader finished read/);
    expect(show.stdout).toMatch(/\nmembers\nmember\s+task\s+run\s+status/);
    expect(show.stdout).toMatch(/\nlead\s+-\s+run_\w+\s+completed\s+4\s/);
    expect(show.stdout).toMatch(/\nreviewer\s+review\s+run_\w+\s+completed\s+2\s/);
    expect(show.stdout).toMatch(/\nresult\n\[scripted\] The team's work/);
    const json = JSON.parse((await agentd(['team', 'show', id!, '--json'], { home })).stdout);
    expect(json.tasks).toHaveLength(3);
    expect(json.runs).toHaveLength(4);
    expect(json.usage.turns).toBe(9);

    const list = await agentd(['team', 'list'], { home });
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+repo-docs\\s+completed\\s+3/3`));
    // a completed team is not resumed
    const again = await agentd(['team', 'resume', id!], { home });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already completed; there is nothing to resume/);

    // every member's run is in the run log, linked to the lead's
    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    try {
      const runs = await store.listRuns();
      expect(runs).toHaveLength(4);
      const lead = runs.find((r) => r.agent === 'repo-docs/lead');
      expect(
        runs
          .filter((r) => r.parentRunId === lead?.id)
          .map((r) => r.agent)
          .sort(),
      ).toEqual(['repo-docs/reader', 'repo-docs/reviewer', 'repo-docs/writer']);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a team budget stops the team (exit 3); runs of the team resume with it, and it completes with more budget', async () => {
    const home = tempDir();
    const task = 'Write a short guide to examples/unit-converter';
    const run = await agentd(['team', 'run', 'examples/team/team.yaml', task, '--max-turns', '1'], {
      home,
      cwd: repoRoot,
    });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/✗ budget_exceeded/);
    expect(run.stderr).toMatch(
      /why: the team reached budget\.max_turns \(1 of 1 turns\); raise it and resume the team \(agentd team resume team_\w+ --max-turns \.\.\.\)/,
    );
    expect(run.stdout).toBe('');
    const id = /team (team_\w+) · agentd team show/.exec(run.stderr)![1]!;
    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    const lead = (await store.teams.getTeam(id))!.leadRunId;
    await store.close();
    const alone = await agentd(['runs', 'resume', lead], { home, cwd: repoRoot });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(
      new RegExp(
        `run ${lead} is a member's run of team ${id}; resume the team: agentd team resume ${id}`,
      ),
    );
    const resumed = await agentd(['team', 'resume', id.slice(0, 12), '--max-turns', '40'], {
      home,
      cwd: repoRoot,
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`agentd · resuming team ${id} \\(session 2\\)`));
    expect(resumed.stdout).toMatch(/review \[done\] Review the guide/);
    const show = await agentd(['team', 'show', id], { home });
    expect(show.stdout).toMatch(/· completed\n/);
    expect(show.stdout).toMatch(/budget: max_turns 40, max_cost_usd 1, max_time 10 min/);
  }, 60_000);
});

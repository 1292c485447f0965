import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { agentdUntilKilled } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

// A hang guard, not a speed check: each test runs agentd processes, git and sandboxed tests.
const hangGuard = 300_000;

const hasBwrap = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].some(existsSync);

function git(repo: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
}

async function scaffold() {
  const home = tempDir();
  const work = tempDir();
  const init = await agentd(['init', 'coder', 'coder'], { home, cwd: work });
  expect(init.code, init.stderr).toBe(0);
  return { home, work, dir: join(work, 'coder') };
}

/**
 * A repository with two independent bugs (add subtracts, mul adds) and a third step that needs
 * both fixes (squareSum, with its own test): the plan a, b, then c after a and b.
 */
function calcRepository(work: string, options: { holdInMulTest?: boolean } = {}): string {
  const repo = join(work, 'calc');
  mkdirSync(join(repo, 'src'), { recursive: true });
  mkdirSync(join(repo, 'test'), { recursive: true });
  writeFileSync(join(repo, 'src', 'add.js'), 'export const add = (a, b) => a - b;\n');
  writeFileSync(join(repo, 'src', 'mul.js'), 'export const mul = (a, b) => a + b;\n');
  writeFileSync(
    join(repo, 'test', 'add.test.js'),
    "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport { add } from '../src/add.js';\ntest('adds', () => assert.equal(add(2, 3), 5));\n",
  );
  // The kill test's mul test waits while a file named hold exists beside it (in the worker's
  // clone), so the kill lands while a worker's step runs its tests.
  const hold = options.holdInMulTest
    ? "import { existsSync } from 'node:fs';\ntest('waits while hold exists', async () => {\n  for (let i = 0; existsSync('hold') && i < 1200; i++) await new Promise((r) => setTimeout(r, 50));\n});\n"
    : '';
  writeFileSync(
    join(repo, 'test', 'mul.test.js'),
    `import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport { mul } from '../src/mul.js';\n${hold}test('multiplies', () => assert.equal(mul(2, 3), 6));\n`,
  );
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repo });
  git(repo, 'config', 'user.name', 'test');
  git(repo, 'config', 'user.email', 'test@agentd.invalid');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'start');
  return repo;
}

const leadScript = `turns:
  - tool_calls: [{ name: shell__run, input: { command: git switch -c agentd/calc } }]
  - tool_calls:
      - name: update_plan
        input:
          steps:
            - { id: a, title: fix add, status: todo, depends_on: [] }
            - { id: b, title: fix mul, status: todo, depends_on: [] }
            - { id: c, title: add squareSum, status: todo, depends_on: [a, b] }
  - text: "{{result:update_plan}}"
    tool_calls:
      - name: team__task_create
        input:
          tasks:
            - { id: a, title: fix add, description: "src/add.js must add; test/add.test.js" }
            - { id: b, title: fix mul, description: "src/mul.js must multiply; test/mul.test.js" }
            - { id: c, title: add squareSum, description: "src/square-sum.js with its test", depends_on: [a, b] }
  # waits again after a stop (a person deciding on a worker's call in doubt); once every task
  # is finished a wait returns at once
  - tool_calls: [{ name: team__wait, input: { until: all_done } }]
    repeat: 3
  - tool_calls: [{ name: shell__run, input: { command: git merge --no-edit agentd/step-a } }]
  - tool_calls: [{ name: shell__run, input: { command: git merge --no-edit agentd/step-b } }]
  - tool_calls: [{ name: shell__run, input: { command: git merge --no-edit agentd/step-c } }]
  - tool_calls: [{ name: shell__run, input: { command: node --test } }]
  - text: "Merged a, b and c: {{result:shell__run}}"
`;

/** The workers' replay: the step is in the first line of its brief ("Task <id>: ..."). */
const workerPolicy = `import { definePolicy } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
const steps = {
  a: [
    { tool_calls: [{ name: 'fs__edit', input: { path: 'src/add.js', old_string: 'a - b', new_string: 'a + b' } }] },
    { tool_calls: [{ name: 'shell__run', input: { command: 'node --test test/add.test.js' } }] },
  ],
  b: [
    { tool_calls: [{ name: 'fs__edit', input: { path: 'src/mul.js', old_string: 'a + b', new_string: 'a * b' } }] },
    { tool_calls: [{ name: 'shell__run', input: { command: 'node --test test/mul.test.js' } }] },
  ],
  c: [
    { tool_calls: [{ name: 'fs__write', input: { path: 'src/square-sum.js', content: "import { add } from './add.js';\\nimport { mul } from './mul.js';\\nexport const squareSum = (a, b) => add(mul(a, a), mul(b, b));\\n" } }] },
    { tool_calls: [{ name: 'fs__write', input: { path: 'test/square-sum.test.js', content: "import assert from 'node:assert/strict';\\nimport { test } from 'node:test';\\nimport { squareSum } from '../src/square-sum.js';\\ntest('squareSum', () => assert.equal(squareSum(2, 3), 13));\\n" } }] },
    { tool_calls: [{ name: 'shell__run', input: { command: 'node --test' } }] },
  ],
};
export default definePolicy(({ turn, task }) => {
  const id = /^Task (\\S+):/.exec(task)?.[1] ?? '';
  const own = steps[id] ?? [];
  const turns = [
    ...own,
    { tool_calls: [{ name: 'shell__run', input: { command: 'git add -A' } }] },
    { tool_calls: [{ name: 'shell__run', input: { command: 'git commit -m "step ' + id + '"' } }] },
    { text: 'step ' + id + ' committed on agentd/step-' + id },
  ];
  return turns[turn - 1] ?? { text: 'step ' + id + ': nothing more' };
});
`;

/** The scaffolded coder's team on `repo`, with the scripts above. */
function useScripts(dir: string, repo: string, options: { holdInMulStep?: boolean } = {}) {
  writeFileSync(
    join(dir, 'agent.yaml'),
    readFileSync(join(dir, 'agent.yaml'), 'utf8').replace(
      'workdir: ./demo-repo',
      `workdir: ${repo}`,
    ),
  );
  writeFileSync(join(dir, 'script.yaml'), leadScript);
  let policy = workerPolicy;
  if (options.holdInMulStep) {
    // step b writes hold first: its tests then wait until the test removes it
    policy = policy.replace(
      '  b: [\n',
      "  b: [\n    { tool_calls: [{ name: 'fs__write', input: { path: 'hold', content: '' } }] },\n",
    );
  }
  writeFileSync(join(dir, 'worker-steps.ts'), policy);
  writeFileSync(
    join(dir, 'worker.yaml'),
    readFileSync(join(dir, 'worker.yaml'), 'utf8').replace(
      'script: ./worker-script.yaml',
      'script: ./worker-steps.ts',
    ),
  );
}

async function teamOf(home: string) {
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const [team] = await store.teams.listTeams(1);
    const tasks = await store.teams.listTasks(team!.id);
    const runs = await store.teams.listTeamRuns(team!.id);
    const log = await store.teams.readTeamEvents(team!.id);
    return { team: team!, tasks, runs, log };
  } finally {
    await store.close();
  }
}

function stepLog(repo: string): string[] {
  return git(repo, 'log', '--format=%s', '--no-merges', 'main..agentd/calc').split('\n');
}

describe("the coder's team", { timeout: hangGuard }, () => {
  it.skipIf(!hasBwrap)(
    'a plan of independent parts runs on the board: each worker commits its step in its own clone, the lead merges them, and the tests pass',
    async () => {
      const { home, work, dir } = await scaffold();
      const repo = calcRepository(work);
      useScripts(dir, repo);
      const run = await agentd(
        ['team', 'run', join(dir, 'team.yaml'), 'Fix add and mul, then add squareSum'],
        {
          home,
          cwd: work,
        },
      );
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('Merged a, b and c');
      const { team, tasks, runs } = await teamOf(home);
      expect(team.status).toBe('completed');
      expect(tasks.map((t) => [t.id, t.status, t.dependsOn])).toEqual([
        ['a', 'done', []],
        ['b', 'done', []],
        ['c', 'done', ['a', 'b']],
      ]);
      // a and b at once, by the two workers; c after both
      const owner = new Map(tasks.map((t) => [t.id, t.owner]));
      expect(new Set([owner.get('a'), owner.get('b')])).toEqual(new Set(['worker-1', 'worker-2']));
      expect(runs).toHaveLength(3);
      // each step committed on its step branch, in the worker's clone, and fetched back
      for (const id of ['a', 'b', 'c']) {
        expect(git(repo, 'log', '-1', '--format=%s', `agentd/step-${id}`)).toBe(`step ${id}`);
      }
      const clones = join(repo, '.git', 'agentd', 'clones', 'coder');
      expect(readdirSync(clones).sort()).toEqual(['worker-1', 'worker-2']);
      expect(git(join(clones, owner.get('a')!), 'log', '-1', '--format=%s', 'agentd/step-a')).toBe(
        'step a',
      );
      // step c started from a and b merged: its commit's history has both
      const cHistory = git(repo, 'log', '--format=%s', 'agentd/step-c').split('\n');
      expect(cHistory).toEqual(expect.arrayContaining(['step a', 'step b', 'step c']));
      // merged into the work branch; the tests pass there; nothing left uncommitted
      expect(git(repo, 'branch', '--show-current')).toBe('agentd/calc');
      expect(stepLog(repo).sort()).toEqual(['step a', 'step b', 'step c']);
      expect(git(repo, 'status', '--porcelain')).toBe('');
      execFileSync(process.execPath, ['--test'], { cwd: repo, stdio: 'pipe' });
      // the main branch is untouched
      expect(git(repo, 'log', '--format=%s', 'main')).toBe('start');
    },
  );

  it.skipIf(!hasBwrap)(
    'a plan that is one chain stays with the lead alone: no task, no worker run, no clone',
    async () => {
      const { home, work, dir } = await scaffold();
      // the shipped demo: one chain of four steps on demo-repo/
      const run = await agentd(['team', 'run', join(dir, 'team.yaml'), 'Fix the failing test'], {
        home,
        cwd: work,
      });
      expect(run.code, run.stderr).toBe(0);
      const { team, tasks, runs, log } = await teamOf(home);
      expect(team.status).toBe('completed');
      expect(tasks).toEqual([]);
      expect(runs).toEqual([]);
      expect(log.filter((e) => e.type === 'member.started')).toEqual([]);
      const repo = join(dir, 'demo-repo');
      expect(git(repo, 'log', '--format=%s', 'main..agentd/fix-slugify')).toBe(
        'fix slugify: one dash for each run of other characters',
      );
      // the clones' folders exist (the workers were prepared), empty: nothing was cloned
      const clones = join(repo, '.git', 'agentd', 'clones', 'coder');
      for (const member of readdirSync(clones))
        expect(readdirSync(join(clones, member))).toEqual([]);
      // the plan said so: update_plan's result, in the lead's run
      const db = new DatabaseSync(join(home, 'agentd.db'), { readOnly: true });
      try {
        const row = db
          .prepare(
            "SELECT data FROM events WHERE run_id = ? AND type = 'tool.result' AND data LIKE '%Shape:%' LIMIT 1",
          )
          .get(team.leadRunId) as { data: string } | undefined;
        expect(row?.data).toContain('one chain of dependent steps');
      } finally {
        db.close();
      }
    },
  );

  it.skipIf(!hasBwrap)(
    'a worker killed mid-step resumes from the board and its run: the steps done stay done, its step is committed once',
    async () => {
      const { home, work, dir } = await scaffold();
      const repo = calcRepository(work, { holdInMulTest: true });
      useScripts(dir, repo, { holdInMulStep: true });
      const dbPath = join(home, 'agentd.db');
      const killed = await agentdUntilKilled(
        ['team', 'run', join(dir, 'team.yaml'), 'Fix add and mul, then add squareSum'],
        { AGENTD_HOME: home },
        {
          // step b's tests run (and wait on hold) in its worker's clone
          onLook: () => {
            if (!existsSync(dbPath)) return false;
            const db = new DatabaseSync(dbPath, { readOnly: true });
            try {
              return (
                db
                  .prepare(
                    "SELECT 1 FROM events WHERE type = 'tool.call' AND data LIKE '%node --test test/mul.test.js%'",
                  )
                  .get() !== undefined
              );
            } catch {
              return false;
            } finally {
              db.close();
            }
          },
        },
      );
      expect(killed.killed).toBe(true);
      const before = await teamOf(home);
      expect(before.tasks.find((t) => t.id === 'b')?.status).toBe('in_progress');
      expect(before.tasks.find((t) => t.id === 'c')?.status).toBe('pending');
      const clones = join(repo, '.git', 'agentd', 'clones', 'coder');
      const bClone = join(clones, before.tasks.find((t) => t.id === 'b')!.owner!);
      expect(existsSync(join(bClone, 'hold'))).toBe(true);
      rmSync(join(bClone, 'hold'));
      // its tests were running when it died: a person decides, then it goes on
      const attention = await agentd(['team', 'resume', before.team.id], { home, cwd: work });
      expect(attention.code, attention.stderr).toBe(4);
      const resumed = await agentd(['team', 'resume', before.team.id, '--rerun-in-doubt'], {
        home,
        cwd: work,
      });
      expect(resumed.code, resumed.stderr).toBe(0);
      const after = await teamOf(home);
      expect(after.team.status).toBe('completed');
      expect(
        after.tasks.map((t) => t.status),
        JSON.stringify(after.tasks),
      ).toEqual(['done', 'done', 'done']);
      // each task done once, by one run; b's run resumed (not started again)
      for (const id of ['a', 'b', 'c']) {
        const done = after.log.filter(
          (e) => e.type === 'task.changed' && e.data.id === id && e.data.status === 'done',
        );
        expect(done, id).toHaveLength(1);
      }
      expect(after.runs).toHaveLength(3);
      expect(
        after.log.filter(
          (e) => e.type === 'member.started' && e.data.resumed && e.data.taskId === 'b',
        ),
      ).not.toHaveLength(0);
      expect(stepLog(repo).sort()).toEqual(['step a', 'step b', 'step c']);
      expect(git(repo, 'status', '--porcelain')).toBe('');
      execFileSync(process.execPath, ['--test'], { cwd: repo, stdio: 'pipe' });
    },
  );
  it('refuses in one line a workspace for the lead, and clones of a folder that is not a git repository', async () => {
    const { home, work, dir } = await scaffold();
    const team = join(dir, 'team.yaml');
    const text = readFileSync(team, 'utf8');
    writeFileSync(
      team,
      text.replace('  agent: ./agent.yaml\n', '  agent: ./agent.yaml\n  workspace: git-clone\n'),
    );
    const lead = await agentd(['team', 'run', team, 'Fix it'], { home, cwd: work });
    expect(lead.code).toBe(2);
    expect(lead.stderr.trim()).toMatch(
      /team\.yaml: lead\.workspace: the lead works in the repository itself; give workspace to teammates$/,
    );
    writeFileSync(team, text);
    const plain = join(work, 'plain');
    mkdirSync(plain);
    writeFileSync(
      join(dir, 'agent.yaml'),
      readFileSync(join(dir, 'agent.yaml'), 'utf8').replace(
        'workdir: ./demo-repo',
        `workdir: ${plain}`,
      ),
    );
    const notGit = await agentd(['team', 'run', team, 'Fix it'], { home, cwd: work });
    expect(notGit.code).toBe(2);
    expect(notGit.stderr.trim().split('\n')).toHaveLength(1);
    expect(notGit.stderr).toContain(
      `${plain}: teammates with workspace: git-clone need a git repository to clone`,
    );
  });
});

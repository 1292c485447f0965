import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ApprovalRecord } from '../../src/core/approval.ts';
import type { RunEvent } from '../../src/core/events.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { approvalProject } from './approval-support.ts';

/** `agentd` in its own process, as `agentd` from the support helper but killable at will. */
function start(
  args: string[],
  home: string,
  cwd: string,
): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(ANTHROPIC|OPENAI|AGENTD)_/.test(key)) env[key] = value;
  }
  Object.assign(env, { AGENTD_HOME: home, NO_COLOR: '1' });
  const child = spawn(process.execPath, [join(repoRoot, 'bin/agentd.js'), ...args], {
    cwd,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // A test that fails midway still ends what it started.
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  return { child, stderr: () => stderr, exited };
}

async function inStore<T>(home: string, fn: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

type Started = ReturnType<typeof start>;

/**
 * Waits until `probe` finds what it looks for, failing at once, with its stderr, if the
 * process that should make it ended first.
 */
async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  maker: Started,
): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (maker.child.exitCode !== null || maker.child.signalCode !== null) {
      throw new Error(
        `agentd ended (${maker.child.exitCode ?? maker.child.signalCode}) before ${what}: ${maker.stderr()}`,
      );
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${maker.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const pending = (home: string, maker: Started) =>
  waitFor(
    () =>
      existsSync(join(home, 'agentd.db'))
        ? inStore(home, async (s) => (await s.listApprovals({ status: 'pending' }))[0])
        : Promise.resolve(undefined),
    'a pending approval',
    maker,
  );

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe('agentd approvals, across processes', () => {
  it('a run killed with SIGKILL while it waits, resumed, waits again for the same request; an answer given while it is down is honoured', async () => {
    const home = tempDir();
    const project = approvalProject(home);

    const first = start(['run', 'agent.yaml', 'deploy it'], home, project);
    const request: ApprovalRecord = await pending(home, first);
    // the run view shows the pause and how to answer it
    await waitFor(
      async () => (first.stderr().includes('agentd approvals approve') ? true : undefined),
      'the pause in the run view',
      first,
    );
    expect(first.stderr()).toContain(
      `⏸ awaiting approval ${request.id}: deploy on Module::"tools.ts" {"target":"prod"}`,
    );
    expect(first.stderr()).toContain(
      `answer: agentd approvals approve ${request.id} | agentd approvals deny ${request.id} --reason "..."`,
    );
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();

    const listed = await agentd(['runs', 'list'], { home });
    expect(listed.stdout).toMatch(new RegExp(`${request.runId} +awaiting_approval +deployer`));
    const resumable = await agentd(['runs', 'list', '--resumable'], { home });
    expect(resumable.stdout).toContain(request.runId);
    const show = await agentd(['runs', 'show', request.runId], { home });
    expect(show.stdout).toContain(
      `waiting for approval ${request.id}: agentd approvals approve ${request.id} | agentd approvals deny ${request.id} --reason "..."`,
    );
    expect(show.stdout).toMatch(
      /policy\.decision +NEEDS APPROVAL deploy on Module::"tools\.ts": permitted by deploy-needs-a-person/,
    );
    expect(show.stdout).toMatch(
      new RegExp(`approval\\.requested +${request.id}: deploy \\{"target":"prod"\\}`),
    );

    // resumed while nobody answered: it waits again, for the same request
    const second = start(['runs', 'resume', request.runId], home, project);
    await waitFor(
      () =>
        inStore(home, async (s) =>
          ofType(await s.readEvents(request.runId), 'approval.requested').some(
            (e) => e.data.resumed,
          ) &&
          // the run view prints the pause after the event is durable
          second.stderr().includes(`⏸ awaiting approval ${request.id} (still)`)
            ? true
            : undefined,
        ),
      'the resumed run to wait again, and say so',
      second,
    );
    second.child.kill('SIGKILL');
    expect(await second.exited).toBeNull();

    // answered while no process runs it
    const list = await agentd(['approvals', 'list'], { home });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `${request.id} +${request.runId} +deployer +deploy +Module::"tools.ts" +\\{"target":"prod"\\} +pending until`,
      ),
    );
    const approve = await agentd(['approvals', 'approve', request.id.slice(0, 16)], {
      home,
      env: { AGENTD_USER: 'tester' },
    });
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.stdout).toMatch(
      new RegExp(
        `^approved: ${request.id} · deploy on Module::"tools.ts" · run ${request.runId} \\(deployer\\) · audit #\\d+`,
      ),
    );
    expect(existsSync(join(project, 'deployed.log'))).toBe(false);

    const third = await agentd(['runs', 'resume', request.runId], { home, cwd: project });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain(`▶ approval ${request.id}: approved by tester`);
    expect(readFileSync(join(project, 'deployed.log'), 'utf8')).toBe('prod\n');

    await inStore(home, async (store) => {
      expect(await store.listApprovals()).toHaveLength(1);
      const events = await store.readEvents(request.runId);
      expect(
        ofType(events, 'approval.requested').map((e) => [
          e.data.approvalId,
          e.data.resumed ?? false,
        ]),
      ).toEqual([
        [request.id, false],
        [request.id, true],
      ]);
      expect(ofType(events, 'approval.answered').map((e) => [e.data.answer, e.data.by])).toEqual([
        ['approved', 'tester'],
      ]);
      expect((await store.getRun(request.runId))?.status).toBe('completed');
    });
    const verify = await agentd(['audit', 'verify'], { home });
    expect(verify.code).toBe(0);
  }, 120_000);

  it('two people answering at once from two processes: one wins, the other is told; errors are one line each', async () => {
    const home = tempDir();
    const project = approvalProject(home);
    const run = start(['run', 'agent.yaml', 'deploy it'], home, project);
    const request = await pending(home, run);

    const [approve, deny] = await Promise.all([
      agentd(['approvals', 'approve', request.id], { home, env: { AGENTD_USER: 'alice' } }),
      agentd(['approvals', 'deny', request.id, '--reason', 'not today'], {
        home,
        env: { AGENTD_USER: 'bob' },
      }),
    ]);
    expect([approve.code, deny.code].sort()).toEqual([0, 1]);
    const loser = approve.code === 1 ? approve : deny;
    const winner = approve.code === 0 ? 'approved by alice' : 'denied by bob: not today';
    expect(loser.stderr).toMatch(
      new RegExp(
        `^agentd: approval ${request.id} was already ${winner} at [\\d-]+ [\\d:]+; nothing changed\\n$`,
      ),
    );
    expect(await run.exited).toBe(0);
    const deployed = existsSync(join(project, 'deployed.log'));
    expect(deployed).toBe(approve.code === 0);

    const errors: [string[], RegExp][] = [
      [
        ['approvals', 'approve', 'apr_nope'],
        /^agentd: no approval "apr_nope" \(or the prefix matches several\): see agentd approvals list\n$/,
      ],
      [
        ['approvals', 'deny', request.id],
        new RegExp(
          `^agentd: agentd approvals deny ${request.id}: --reason "\\.\\.\\." is required \\(the agent is told who denied the call and why\\)\\n$`,
        ),
      ],
      [
        ['approvals', 'approve', request.id],
        new RegExp(`^agentd: approval ${request.id} was already .*; nothing changed\\n$`),
      ],
    ];
    for (const [args, expected] of errors) {
      const result = await agentd(args, { home });
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(expected);
    }
    const all = await agentd(['approvals', 'list', '--all', '--json'], { home });
    expect(
      all.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).status),
    ).toEqual([approve.code === 0 ? 'approved' : 'denied']);
  }, 90_000);
});

import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { FinalStatus, RunEvent } from '../../src/core/events.ts';
import { migrations } from '../../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../support/temp-dir.ts';
import { describeStores } from './support/stores.ts';

const usage = {
  inputTokens: 10,
  outputTokens: 5,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

/** A run started at minute `n` of a day, with the given agent, actor and end. */
function run(
  n: number,
  options: { agent?: string; actor?: string; session?: string; task?: string } = {},
  end?: { status: FinalStatus; costUsd: number | null } | 'awaiting',
): RunEvent[] {
  const runId = `run_${String(n).padStart(4, '0')}`;
  const at = new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString();
  const events: RunEvent[] = [
    {
      runId,
      seq: 0,
      at,
      type: 'run.started',
      data: {
        agent: options.agent ?? 'a',
        model: 'scripted/x',
        task: options.task ?? `task ${n}`,
        instructions: '',
        tools: [],
        limits: { maxTurns: 5, maxToolRepairs: 3 },
        ...(options.actor ? { actor: options.actor } : {}),
        ...(options.session ? { session: { id: options.session, runs: [] } } : {}),
      } as Extract<RunEvent, { type: 'run.started' }>['data'],
    },
  ];
  if (end === 'awaiting') {
    events.push({
      runId,
      seq: 1,
      at,
      type: 'approval.requested',
      data: {
        approvalId: `apr_${n}`,
        callId: 'c1',
        tool: 'deploy',
        action: 'deploy',
        input: {},
        resource: 'Server::"x"',
        policies: ['p'],
        reason: 'needs a person',
        expiresAt: at,
      },
    } as unknown as RunEvent);
  } else if (end) {
    events.push({
      runId,
      seq: 1,
      at,
      type: 'run.finished',
      data: {
        status: end.status,
        reason: end.status === 'completed' ? 'final_answer' : 'error',
        turns: 1,
        usage,
        costUsd: end.costUsd,
        durationMs: 3,
      },
    } as RunEvent);
  }
  return events;
}

function open(dir: string) {
  return new SqliteStore({ path: join(dir, 'agentd.db') });
}

describeStores('queryRuns', (kind) => {
  it('filters by agent, status, actor, session, time, cost and words, and pages without repeats', async () => {
    const { store } = await kind.fresh();
    const events: RunEvent[] = [];
    for (let n = 0; n < 30; n++) {
      events.push(
        ...run(
          n,
          {
            agent: n % 3 === 0 ? 'deployer' : 'reader',
            actor: n % 2 ? 'alice' : 'bob',
            ...(n === 7 ? { session: 's1', task: 'Deploy the Billing service' } : {}),
          },
          n % 5 === 4
            ? undefined
            : n % 5 === 3
              ? 'awaiting'
              : { status: n % 5 === 2 ? 'failed' : 'completed', costUsd: n / 100 },
        ),
      );
    }
    await store.append(events);

    const ids = (page: { runs: { id: string }[] }) => page.runs.map((r) => r.id);
    const all = await store.queryRuns({ limit: 100 });
    expect(all.runs).toHaveLength(30);
    expect(all.runs[0]!.id).toBe('run_0029');
    expect(all.nextCursor).toBeUndefined();

    const deployers = await store.queryRuns({ agent: 'deployer', limit: 100 });
    expect(ids(deployers)).toEqual(all.runs.filter((r) => r.agent === 'deployer').map((r) => r.id));
    expect(deployers.runs).toHaveLength(10);

    const running = await store.queryRuns({ status: 'running', limit: 100 });
    expect(ids(running)).toEqual([
      'run_0029',
      'run_0024',
      'run_0019',
      'run_0014',
      'run_0009',
      'run_0004',
    ]);
    const waiting = await store.queryRuns({ status: 'awaiting_approval', limit: 100 });
    expect(waiting.runs.map((r) => r.status)).toEqual(Array(6).fill('awaiting_approval'));
    const failed = await store.queryRuns({ status: 'failed', actor: 'bob', limit: 100 });
    expect(ids(failed)).toEqual(['run_0022', 'run_0012', 'run_0002']);

    const session = await store.queryRuns({ session: 's1' });
    expect(session.runs).toMatchObject([{ id: 'run_0007', actor: 'alice', sessionId: 's1' }]);
    expect(ids(await store.queryRuns({ search: 'billing' }))).toEqual(['run_0007']);
    expect(ids(await store.queryRuns({ search: 'run_001' }))).toHaveLength(10);
    expect(ids(await store.queryRuns({ search: '50%' }))).toEqual([]);

    const window = await store.queryRuns({
      since: new Date(Date.UTC(2026, 10, 1, 0, 10)).toISOString(),
      until: new Date(Date.UTC(2026, 10, 1, 0, 12)).toISOString(),
    });
    expect(ids(window)).toEqual(['run_0011', 'run_0010']);
    const costly = await store.queryRuns({ minCostUsd: 0.2, maxCostUsd: 0.25, limit: 100 });
    expect(ids(costly)).toEqual(['run_0025', 'run_0022', 'run_0021', 'run_0020']);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.queryRuns({ limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...ids(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids(all));
    await expect(store.queryRuns({ cursor: 'not-a-cursor' })).rejects.toThrow(/^cursor: /);
    await store.close();
  });

  it('runs of a team are its lead and its members', async () => {
    const { store } = await kind.fresh();
    await store.append([...run(1), ...run(2), ...run(3)]);
    const now = new Date().toISOString();
    await store.teams.createTeam(
      {
        id: 'team_1',
        name: 't',
        task: 'job',
        specPath: '/x/team.yaml',
        cwd: '/x',
        leadRunId: 'run_0001',
        status: 'running',
        budget: {},
        createdAt: now,
        updatedAt: now,
      },
      { type: 'team.started', data: {} },
    );
    await store.teams.addTeamRun({
      teamId: 'team_1',
      runId: 'run_0003',
      member: 'reader',
      startedAt: now,
    });
    const page = await store.queryRuns({ team: 'team_1' });
    expect(page.runs.map((r) => r.id)).toEqual(['run_0003', 'run_0001']);
    await store.close();
  });
});

describe('run_status_events in SQLite', () => {
  it('a store made before run_status_events gets it filled from the events it has', async () => {
    const dir = tempDir();
    const db = new DatabaseSync(join(dir, 'agentd.db'));
    // version 11: the last before run_status_events (migration 12)
    for (const migration of migrations.slice(0, 11)) db.exec(migration);
    db.exec('PRAGMA user_version = 11');
    const insert = (e: RunEvent) =>
      db
        .prepare('INSERT INTO events (run_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)')
        .run(e.runId, e.seq, e.at, e.type, JSON.stringify(e.data));
    for (const [n, end] of [
      [1, { status: 'failed', costUsd: 0.3 }],
      [2, undefined],
    ] as const) {
      const events = run(n, {}, end);
      db.prepare(
        'INSERT INTO runs (id, agent, model, task, created_at) VALUES (?, ?, ?, ?, ?)',
      ).run(events[0]!.runId, 'a', 'scripted/x', 't', events[0]!.at);
      events.forEach(insert);
    }
    db.close();
    const store = open(dir);
    expect((await store.queryRuns({ status: 'failed' })).runs.map((r) => r.id)).toEqual([
      'run_0001',
    ]);
    expect((await store.queryRuns({ minCostUsd: 0.3 })).runs).toHaveLength(1);
    expect((await store.queryRuns({ status: 'running' })).runs.map((r) => r.id)).toEqual([
      'run_0002',
    ]);
    await store.close();
  });
});

describeStores('eval results in the store', (kind) => {
  it('keeps a result whole, lists newest first without the body, finds by prefix', async () => {
    const { store } = await kind.fresh();
    const result = (id: string, startedAt: string, score: number | null) => ({
      id,
      suite: 'examples',
      startedAt,
      score,
      cases: 2,
      passed: 1,
      failed: 1,
      errors: 0,
      result: { format: 'agentd.eval.result/1', cases: [{ id: 'c1' }] },
    });
    await store.putEvalResult(result('evr_aaa1', '2026-11-01T00:00:00.000Z', 0.5));
    await store.putEvalResult(result('evr_bbb2', '2026-11-02T00:00:00.000Z', null));
    const listed = await store.listEvalResults();
    expect(listed.map((r) => r.id)).toEqual(['evr_bbb2', 'evr_aaa1']);
    expect(listed[0]).not.toHaveProperty('result');
    expect(listed[1]!.score).toBe(0.5);
    expect((await store.getEvalResult('evr_a'))?.result).toEqual({
      format: 'agentd.eval.result/1',
      cases: [{ id: 'c1' }],
    });
    expect(await store.getEvalResult('evr_')).toBeUndefined();
    expect(await store.listEvalResults({ suite: 'other' })).toEqual([]);
    await store.close();
  });
});

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { quoteIdent } from '../../src/store/postgres/postgres-connection.ts';
import { prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cluster, eventually, type WorkerEvent, WorkerProcess } from './support/cluster.ts';
import { workerProject } from './support/project.ts';

const LEASE_MS = 1000;
const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];

/** Checks a finished run's log: dense, started once, finished once, each call with one result. */
function checkLog(events: RunEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'run.finished')).toHaveLength(1);
  expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'completed' } });
  const results = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'tool.result') results.set(e.data.callId, (results.get(e.data.callId) ?? 0) + 1);
  }
  for (const e of events) {
    if (e.type === 'tool.call') expect(results.get(e.data.callId), e.data.callId).toBe(1);
  }
}

describe('agentd worker under SIGKILL and SIGSTOP (Postgres)', () => {
  it('20 SIGKILLs at seeded points after observed events while 50 runs go over 3 workers: every run completes once, logs dense, idempotent effects once, in-doubt calls flagged', async () => {
    const dir = tempDir();
    const { spec, effects } = workerProject(dir, [
      ['count', 'bump'],
      ['count', 'bump'],
      ['count', 'bump'],
      ['count', 'bump'],
    ]);
    const { store, queue, manager, url } = await cluster(dir);
    const RUNS = 50;
    const KILLS = 20;
    const random = prng(16);
    const gap = () => 10 + Math.floor(random() * 40);
    let observed = 0;
    let nextKill = gap();
    const kills: { pid: number; after: WorkerEvent }[] = [];
    const workers: WorkerProcess[] = [];
    const spawnWorker = () => {
      const worker = new WorkerProcess({
        home: dir,
        url,
        env: { WORKER_EFFECTS: effects },
        args: ['--lease', String(LEASE_MS), '--concurrency', '4'],
        onEvent: (event, from) => {
          observed++;
          if (kills.length >= KILLS || observed < nextKill || !from.alive) return;
          from.kill('SIGKILL');
          kills.push({ pid: from.pid, after: event });
          nextKill = observed + gap();
          spawnWorker();
        },
      });
      workers.push(worker);
      return worker;
    };
    await Promise.all(
      [spawnWorker(), spawnWorker(), spawnWorker()].map((w) => w.waitFor(/taking runs/, 'start')),
    );

    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      ids.push(await manager.start({ specPath: spec, task: `task ${i}`, cwd: dir }));
    }
    const statuses = async () =>
      Promise.all(ids.map(async (id) => (await store.getRun(id))?.status ?? 'missing'));
    // What a run that did not settle was doing: its last events, its lease, its jobs, and
    // what the workers said of it.
    const stuck = async () => {
      const out: string[] = [];
      const jobs = await store.connection
        .query<Record<string, unknown>>(
          `SELECT key, locked_by, locked_at, attempts, max_attempts, run_at, last_error FROM ${quoteIdent(await queue.schema())}.jobs`,
        )
        .catch((e: unknown) => [{ error: String(e) }]);
      for (const id of ids) {
        const run = await store.getRun(id);
        if (run && settled.has(run.status)) continue;
        const events = (await store.readEvents(id)).slice(-4).map((e) => `${e.seq}:${e.type}`);
        const said = workers.flatMap((w) =>
          (w.out + w.err)
            .split('\n')
            .filter((l) => l.includes(id) && !l.startsWith('event '))
            .map((l) => `${w.pid}: ${l}`),
        );
        out.push(
          `${id} ${run?.status}: ${events.join(' ')}; lease ${JSON.stringify(await store.getLease(id))}; jobs ${JSON.stringify(jobs.filter((j) => JSON.stringify(j).includes(id)))}; said ${JSON.stringify(said)}`,
        );
      }
      for (const w of workers) {
        const lines = (w.out + w.err)
          .split('\n')
          .filter((l) => l && !l.startsWith('event ') && !l.startsWith('take '));
        const where = w.alive ? `; where it is: ${await w.report()}` : '';
        out.push(
          `worker ${w.pid} ${w.alive ? 'alive' : 'dead'}, ${w.out.length + w.err.length} characters printed: ${JSON.stringify(lines.slice(-6))}${where}`,
        );
      }
      // Who waits on what in the database (a worker that never started, say).
      const waiting = await store.connection
        .query<Record<string, unknown>>(
          `SELECT pid, state, wait_event_type, wait_event, left(query, 120) AS query, now() - query_start AS for
           FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        )
        .catch((e: unknown) => [{ error: String(e) }]);
      out.push(`waiting on locks: ${JSON.stringify(waiting)}`);
      out.push(`kills ${JSON.stringify(kills)}; jobs ${JSON.stringify(jobs.length)}`);
      return out.join('\n');
    };
    const seen = async () =>
      `statuses: ${JSON.stringify(await statuses())}; kills ${kills.length}; events seen ${observed}\n${await stuck()}`;
    const settled = new Set(['completed', 'needs_attention']);
    await eventually(
      async () => ((await statuses()).every((s) => settled.has(s)) ? true : undefined),
      'every run to complete or stop for a person',
    ).catch(async (error) => {
      throw new Error(`${(error as Error).message}; ${await seen()}`);
    });
    expect(kills).toHaveLength(KILLS);

    // Runs killed while `bump` (not idempotent, not key-checked) ran stopped for a person,
    // naming that call; a person tells them to go on without it.
    const flagged = new Map<string, string[]>();
    for (const id of ids) {
      const events = await store.readEvents(id);
      for (const e of events) {
        if (e.type === 'run.needs_attention') {
          expect(e.data.calls.map((c) => c.name)).toEqual(['bump']);
          flagged.set(id, [
            ...(flagged.get(id) ?? []),
            ...e.data.calls.map((c) => c.idempotencyKey),
          ]);
        }
      }
      if ((await store.getRun(id))?.status === 'needs_attention') {
        await manager.resume(id, { inDoubt: 'skip' });
      }
    }
    await eventually(
      async () => ((await statuses()).every((s) => s === 'completed') ? true : undefined),
      'every run to complete',
      () => JSON.stringify(flagged),
    );

    const counted = lines(join(effects, 'count.log'));
    const bumped = lines(join(effects, 'bump.log'));
    expect(new Set(counted).size).toBe(counted.length);
    const countKeys: string[] = [];
    let resumed = 0;
    for (const id of ids) {
      const events = await store.readEvents(id);
      checkLog(events);
      resumed += events.filter((e) => e.type === 'run.resumed').length;
      const flaggedKeys = new Set(flagged.get(id) ?? []);
      for (const e of events) {
        if (e.type === 'tool.call' && e.data.name === 'count')
          countKeys.push(e.data.idempotencyKey);
        if (e.type === 'tool.call' && e.data.name === 'bump') {
          const times = bumped.filter((key) => key === e.data.idempotencyKey).length;
          // done once; or, flagged in doubt and skipped, done at most once
          if (flaggedKeys.has(e.data.idempotencyKey)) expect(times).toBeLessThanOrEqual(1);
          else expect(times, e.data.idempotencyKey).toBe(1);
        }
      }
      const skipped = events.filter(
        (e) => e.type === 'tool.result' && e.data.errorKind === 'in_doubt',
      );
      expect(skipped).toHaveLength(flaggedKeys.size);
    }
    // every count call's effect happened exactly once, whoever ran it how often
    expect(counted.sort()).toEqual(countKeys.sort());
    // each kill left at least the run it was seen driving to another worker
    expect(resumed).toBeGreaterThanOrEqual(KILLS);
  }, 240_000);

  it('a worker stopped (SIGSTOP) past its lease loses its run to another; continued, it appends nothing', async () => {
    const dir = tempDir();
    const { spec, effects } = workerProject(dir, [['hold'], ['count']]);
    const { store, manager, url } = await cluster(dir);
    let held: WorkerProcess | undefined;
    const afterStop: WorkerEvent[] = [];
    let runId = '';
    const resumedBy = new Promise<WorkerProcess>((resolve) => {
      const onEvent = (event: WorkerEvent, from: WorkerProcess) => {
        if (held === from) afterStop.push(event);
        if (!held && event.type === 'tool.call') {
          held = from;
          from.kill('SIGSTOP');
        } else if (held && from !== held && event.type === 'run.resumed') {
          resolve(from);
        }
      };
      for (let i = 0; i < 2; i++) {
        new WorkerProcess({
          home: dir,
          url,
          env: { WORKER_EFFECTS: effects },
          args: ['--lease', String(LEASE_MS), '--concurrency', '2'],
          onEvent,
        });
      }
    });
    runId = await manager.start({ specPath: spec, task: 'hold on', cwd: dir });
    const taker = await resumedBy;
    const stopped = held!;
    // the other worker runs `hold` again (it checks its key), and finishes the run
    writeFileSync(join(effects, 'release'), '');
    await taker.waitFor(new RegExp(`run ${runId} completed`), 'the run to complete');
    stopped.kill('SIGCONT');
    await stopped.waitFor(
      new RegExp(`run ${runId}: another worker took it over`),
      'the stopped worker to find its lease gone',
    );
    expect(afterStop).toEqual([]);
    const events = await store.readEvents(runId);
    checkLog(events);
    expect(events.filter((e) => e.type === 'run.resumed')).toHaveLength(1);
    const [call] = events.filter((e) => e.type === 'tool.call');
    // both ran it, with the same key: a key-checking tool's effect is once
    expect(lines(join(effects, 'hold-runs.log'))).toEqual([
      call!.type === 'tool.call' ? call!.data.idempotencyKey : '',
      call!.type === 'tool.call' ? call!.data.idempotencyKey : '',
    ]);
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/store/postgres/postgres-connection.ts';
import { maxAttempts } from '../../src/store/postgres/postgres-work-queue.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cluster, eventually, WorkerProcess } from './support/cluster.ts';
import { workerProject } from './support/project.ts';

describe('a run whose workers all died (Postgres)', () => {
  it('is given up for a person once its job has no attempts left: needs attention, says why, and resumes', async () => {
    const dir = tempDir();
    const { spec, effects } = workerProject(dir, [['count']]);
    const { store, queue, manager, url } = await cluster(dir);
    const runId = await manager.start({ specPath: spec, task: 'count once', cwd: dir });
    // As graphile-worker leaves a job that `maxAttempts` workers took and none finished (each
    // lock spends one attempt): unlocked, its attempts spent. Killing 25 workers would say the same.
    const jobs = `${quoteIdent(await queue.schema())}._private_jobs`;
    const spent = await store.connection.query<{ id: string }>(
      `UPDATE ${jobs} SET attempts = max_attempts, last_error = 'worker died' WHERE key = $1 RETURNING id`,
      [`run:${runId}`],
    );
    expect(spent).toHaveLength(1);

    const worker = new WorkerProcess({
      home: dir,
      url,
      env: { WORKER_EFFECTS: effects },
      args: ['--lease', '1000'],
    });
    await worker.waitFor(/taking runs/, 'start');
    const stopped = await eventually(
      async () => ((await store.getRun(runId))?.status === 'needs_attention' ? true : undefined),
      'the run to be given up',
      () => worker.out + worker.err,
    );
    expect(stopped).toBe(true);
    const events = await store.readEvents(runId);
    expect(events.at(-1)).toMatchObject({
      type: 'run.needs_attention',
      data: {
        message: `${maxAttempts} workers took this run and none finished it: each died or failed while driving it; the last error: worker died. Find out why (agentd runs show ${runId}), then resume it with agentd runs resume ${runId}`,
        calls: [],
      },
    });
    await eventually(
      async () => ((await queue.pending()) === 0 ? true : undefined),
      'the spent job to be dropped',
    );

    // a person resumes it: a worker takes it and finishes it
    await manager.resume(runId, {});
    await eventually(
      async () => ((await store.getRun(runId))?.status === 'completed' ? true : undefined),
      'the resumed run to complete',
      () => worker.out + worker.err,
    );
  }, 90_000);
});

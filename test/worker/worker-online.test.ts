import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { cluster, eventually, WorkerProcess } from './support/cluster.ts';
import { workerProject } from './support/project.ts';

describe('online evaluation on workers (Postgres)', () => {
  it('a run that finishes on a worker is scored there (online_eval, every run sampled)', async () => {
    const dir = tempDir();
    const { spec, effects } = workerProject(dir, [['count']]);
    writeFileSync(join(dir, 'config.yaml'), 'online_eval:\n  sample: 1\n  evaluators: [errors]\n');
    const { store, manager, url } = await cluster(dir);
    const worker = new WorkerProcess({ home: dir, url, env: { WORKER_EFFECTS: effects } });
    await worker.waitFor(/taking runs/, 'start');
    const runId = await manager.start({ specPath: spec, task: 'count once', cwd: dir });
    const scores = await eventually(
      async () => {
        const kept = await store.listEvalScores({ runId, source: 'online' });
        return kept.length > 0 ? kept : undefined;
      },
      'the run to be scored online',
      () => worker.out,
    );
    expect(scores).toMatchObject([{ runId, source: 'online', evaluator: 'errors', pass: true }]);
  }, 90_000);
});

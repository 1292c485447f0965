import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { RunManager } from '../../src/server/run-manager.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { PostgresWorkQueue } from '../../src/store/postgres/postgres-work-queue.ts';
import { tempDir } from '../support/temp-dir.ts';
import { clusterSchema, eventually, postgresUrl, WorkerProcess } from './support/cluster.ts';
import { workerProject } from './support/project.ts';

const stores: PostgresStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

describe('online evaluation on workers (Postgres)', () => {
  it('a run that finishes on a worker is scored there (online_eval, every run sampled)', async () => {
    const dir = tempDir();
    const { spec, effects } = workerProject(dir, [['count']]);
    writeFileSync(join(dir, 'config.yaml'), 'online_eval:\n  sample: 1\n  evaluators: [errors]\n');
    const { schema, url } = await clusterSchema();
    const store = new PostgresStore({ url: postgresUrl, schema });
    stores.push(store);
    const queue = new PostgresWorkQueue(store);
    await queue.install();
    const config = loadConfig({ AGENTD_HOME: dir, AGENTD_DATABASE_URL: url });
    const manager = new RunManager({ store, config, queue, log: () => {} });
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

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { approvalProject } from '../policy/approval-support.ts';
import { tempDir } from '../support/temp-dir.ts';
import { clusterSchema, eventually, postgresUrl, WorkerProcess } from './support/cluster.ts';

const opened: { server: RunningServer; store: PostgresStore }[] = [];
const home0 = process.env.AGENTD_HOME;
afterEach(async () => {
  for (const { server, store } of opened.splice(0)) {
    await server.close();
    await store.close();
  }
  if (home0 === undefined) delete process.env.AGENTD_HOME;
  else process.env.AGENTD_HOME = home0;
});

describe('a run waiting for approval on a worker (Postgres)', () => {
  it('holds no worker while it waits, and an answer through serve wakes it on a worker by NOTIFY, not by polling', async () => {
    const dir = tempDir();
    const project = approvalProject(dir);
    const { schema, url } = await clusterSchema();
    process.env.AGENTD_HOME = dir;
    const config = loadConfig({ AGENTD_HOME: dir, AGENTD_DATABASE_URL: url });
    expect(config.runs).toBe('workers');
    const store = new PostgresStore({ url: postgresUrl, schema });
    const server = await startServer({
      store,
      config,
      host: '127.0.0.1',
      port: 0,
      version: 'test',
      log: () => {},
    });
    opened.push({ server, store });
    const key = (await new ApiKeys(store).create('release-manager', ['runs', 'approvals'])).key;
    const call = (path: string, body?: unknown) =>
      fetch(`${server.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    // The worker polls for jobs only every 120 s (its lease): within the 60 s hang guards,
    // only a NOTIFY can bring it the answered run.
    const worker = new WorkerProcess({
      home: dir,
      url,
      args: ['--lease', '120000', '--concurrency', '1'],
    });
    await worker.waitFor(/taking runs/, 'start');

    const started = await call('/runs', { agent: 'deployer', task: 'deploy it' });
    expect(started.status).toBe(201);
    const runId = ((await started.json()) as { id: string }).id;
    await worker.waitFor(
      new RegExp(`run ${runId} awaiting_approval \\(let go: waiting for an approval\\)`),
      'the worker to let go of the waiting run',
    );
    // let go: no lease, and the run still says what it waits for
    await eventually(
      async () => ((await store.getLease(runId)) === undefined ? true : undefined),
      'the waiting run to be let go',
    );
    expect((await store.getRun(runId))?.status).toBe('awaiting_approval');
    const [request] = await store.listApprovals({ runId });

    const answeredAt = performance.now();
    const approved = await call(`/approvals/${request!.id}/approve`, { reason: 'ship it' });
    expect(approved.status).toBe(200);
    const seen = worker.out.length;
    const taken = new RegExp(`^take ${runId} wake$`);
    const answered = new RegExp(`^event ${runId} \\d+ approval.answered$`);
    await worker.waitFor(answered, 'the worker to take the answered run');
    const takenMs = worker.arrivedAt(taken)! - answeredAt;
    const wokeMs = worker.arrivedAt(answered)! - answeredAt;
    console.log(
      `approval answered through serve -> job taken by a worker: ${takenMs.toFixed(1)} ms; -> approval.answered logged by the resumed run: ${wokeMs.toFixed(1)} ms`,
    );
    expect(worker.out.slice(seen)).toMatch(new RegExp(`event ${runId} \\d+ run.resumed`));
    await worker.waitFor(new RegExp(`run ${runId} completed`), 'the run to complete');
    const events = await store.readEvents(runId);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'completed' } });
    expect(readFileSync(join(project, 'deployed.log'), 'utf8')).toBe('prod\n');
    await eventually(
      async () => ((await store.getLease(runId)) === undefined ? true : undefined),
      'the lease to be let go',
    );
  }, 90_000);
});

import { describe, expect, it, onTestFinished } from 'vitest';
import { quoteIdent } from '../../src/store/postgres/postgres-connection.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { type DriveJob, PostgresWorkQueue } from '../../src/store/postgres/postgres-work-queue.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cluster, clusterSchema, postgresUrl } from './support/cluster.ts';

describe('the run queue on Postgres: installing it (store-specific: graphile-worker)', () => {
  it('changes nothing when the queue and its wake-up trigger are current, and replaces a wake-up function that is not', async () => {
    const { store, queue } = await cluster(tempDir());
    // The row of the wake-up function: CREATE OR REPLACE writes it again (a new xmin) even
    // when its body is the same.
    const version = async () => {
      const [row] = await store.connection.query<{ xmin: string; body: string }>(
        `SELECT p.xmin::text AS xmin, p.prosrc AS body FROM pg_proc p
         WHERE p.proname = 'agentd_wake_on_answer' AND p.pronamespace = to_regnamespace(current_schema())::oid`,
      );
      return row;
    };
    const installed = await version();
    expect(installed?.body).toContain(`${quoteIdent(await queue.schema())}.add_job`);
    await queue.install();
    await queue.install();
    expect(await version()).toEqual(installed);

    // An older agentd's function (another attempt limit, say) is replaced.
    await store.connection.query(
      `CREATE OR REPLACE FUNCTION agentd_wake_on_answer() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    expect((await version())?.body).not.toContain('add_job');
    await queue.install();
    expect(await version()).toMatchObject({ body: installed?.body });

    // A trigger dropped by hand is put back.
    await store.connection.query('DROP TRIGGER agentd_wake_on_answer ON approvals');
    await queue.install();
    const [trigger] = await store.connection.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'agentd_wake_on_answer' AND tgrelid = 'approvals'::regclass`,
    );
    expect(trigger?.n).toBe(1);
  });

  it('installed by several processes at once on a new database: each finishes, and the workers that started taking jobs meanwhile keep taking them', async () => {
    const { schema } = await clusterSchema();
    const stores = [0, 1, 2, 3, 4, 5].map(() => new PostgresStore({ url: postgresUrl, schema }));
    onTestFinished(async () => {
      for (const store of stores) await store.close();
    });
    // graphile-worker stops a runner that hears of a migration applied after it started (as
    // a new worker's install would, racing another's): installing one at a time, whoever
    // comes later finds the queue current and applies none.
    const said: string[] = [];
    const taken: string[] = [];
    let tookAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => {
      tookAll = resolve;
    });
    const queues = stores.map((store) => new PostgresWorkQueue(store));
    const runners = await Promise.all(
      queues.map(async (queue) => {
        await queue.install();
        const runner = await queue.work({
          concurrency: 1,
          pollMs: 60_000,
          log: (line) => said.push(line),
          handle: async (job: DriveJob) => {
            taken.push(job.runId);
            if (taken.length === queues.length) tookAll();
          },
        });
        onTestFinished(() => runner.stop().catch(() => undefined));
        return runner;
      }),
    );
    expect(runners).toHaveLength(queues.length);
    for (const [i, queue] of queues.entries()) {
      await queue.enqueue({ runId: `run-${i}`, reason: 'start' });
    }
    await all;
    expect(taken.sort()).toEqual(queues.map((_, i) => `run-${i}`).sort());
    expect(said).toEqual([]);
  });

  it("a queue installed in another schema of the same database does not stop this one's workers", async () => {
    const { queue } = await cluster(tempDir());
    const said: string[] = [];
    let took: (runId: string) => void = () => undefined;
    const taken = new Promise<string>((resolve) => {
      took = resolve;
    });
    const runner = await queue.work({
      concurrency: 1,
      pollMs: 60_000,
      log: (line) => said.push(line),
      handle: async (job: DriveJob) => took(job.runId),
    });
    onTestFinished(() => runner.stop().catch(() => undefined));
    // graphile-worker announces each migration on one channel of the whole database; a new
    // queue elsewhere (another agentd, a test of its own) must not make this one's shut down.
    const other = await cluster(tempDir());
    expect(await other.queue.pending()).toBe(0);
    // Notifications come in commit order: the job's comes after any the install made.
    await queue.enqueue({ runId: 'after-the-other-install', reason: 'start' });
    const outcome = await Promise.race([taken, runner.promise.then(() => 'the runner stopped')]);
    expect(outcome).toBe('after-the-other-install');
    expect(said).toEqual([]);
  });
});

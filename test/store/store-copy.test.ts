import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../src/core/audit.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import {
  approvalRequest,
  auditEntry,
  finished,
  memory,
  request,
  started,
  team,
} from './support/records.ts';
import { postgresUrl, testSchema } from './support/stores.ts';

// `agentd store copy` and the store's selection through config, as a user runs them.

const admin = new pg.Pool({ connectionString: postgresUrl, max: 1 });
afterAll(() => admin.end());

const home = () => tempDir();

/** A URL whose connections keep agentd's tables in a schema of this test's own. */
async function schemaUrl(): Promise<{ url: string; schema: string }> {
  const schema = testSchema();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  return {
    url: `${postgresUrl}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    schema,
  };
}

/** A SQLite store with something in every table. */
async function filledStore(path: string): Promise<void> {
  const store = new SqliteStore({ path });
  await store.append([
    started('run_1', 'task', { tags: ['keep=me', 'copied'] }),
    request('run_1', 1),
    finished('run_1', 2),
  ]);
  await store.append([started('run_2', 'sub', { parentRunId: 'run_1' })]);
  await store.append([
    {
      runId: 'run_2',
      seq: 1,
      at: '2026-11-22T00:00:01.000Z',
      type: 'run.tagged',
      data: { added: ['copied'], removed: [], by: 'alice' },
    },
  ]);
  await store.claimLease('run_2', 'h:1', null, '2026-11-22T00:00:00.000Z');
  for (let i = 1; i <= 5; i++) await store.appendAudit(auditEntry('run_1', i));
  const asked = await store.requestApproval(approvalRequest('run_2', 'call_1'));
  await store.answerApproval(asked.id, {
    status: 'approved',
    by: 'ann',
    at: '2026-11-22T00:00:06.000Z',
  });
  await store.putApiKey({
    id: 'key_1',
    name: 'ci',
    hash: 'h1',
    scopes: ['runs:read'],
    createdAt: '2026-11-22T00:00:00.000Z',
  });
  await store.savePolicySet(
    'prod',
    [{ name: 'a.cedar', text: 'permit(principal, action, resource);' }],
    'd1',
    '2026-11-22T00:00:00.000Z',
  );
  await store.activatePolicySet('prod', 1, '2026-11-22T00:00:00.000Z');
  await store.putServer({
    name: 'fs',
    entry: { transport: { type: 'stdio' } },
    sealedSecrets: 'sealed',
    createdAt: 'x',
    updatedAt: 'x',
  });
  await store.setServerTools('fs', [
    {
      server: 'fs',
      name: 'read_text_file',
      description: 'Read a file',
      inputSchema: {},
      listedAt: 'x',
    },
  ]);
  await store.putEvalScores([
    {
      runId: 'run_1',
      source: 'online',
      evaluator: 'goal',
      kind: 'goal',
      level: 'run',
      score: 1,
      pass: true,
      threshold: 0.5,
      explanation: 'ok',
      scoredAt: 'x',
    },
  ]);
  await store.memories.add(memory('mem_1', { text: 'deploys go out on Fridays' }), {
    vector: { model: 'e1', values: new Float32Array([0.25, 0.5]) },
  });
  await store.memories.add(memory('mem_2', { text: 'deploys go out on Mondays' }), {
    replaces: 'mem_1',
    vector: { model: 'e1', values: new Float32Array([0.5, -1]) },
  });
  await store.memories.enqueueJob({ runId: 'run_1', fromSeq: 0, toSeq: 2, reason: 'run_end' }, 'x');
  await store.teams.createTeam(team('team_1'), { type: 'team.started', data: {} });
  await store.teams.createTasks(
    'team_1',
    [{ id: '', title: 'do it', description: '', dependsOn: [] }],
    'lead',
    'x',
  );
  await store.teams.claimTask(
    'team_1',
    { member: 'ann', names: ['ann'], status: 'claimed', runId: 'run_2', newRun: true },
    'x',
  );
  await store.teams.setSeenMark('team_1', 'ann', 2);
  await store.teams.recordOp('team_1', 'op', { ok: true });
  await store.close();
}

describe('agentd store copy', () => {
  it('moves every table of a SQLite store into Postgres, hashes intact, and the copy verifies', async () => {
    const dir = home();
    await filledStore(join(dir, 'agentd.db'));
    const { url, schema } = await schemaUrl();
    const copied = await agentd(['store', 'copy', '--to', url], { home: dir });
    expect(copied.stderr).toBe('');
    expect(copied.code).toBe(0);
    expect(copied.stdout).toContain('audit chain verified on the copy: 6 entries');
    expect(copied.stdout).not.toContain('DIFFERS');
    expect(copied.stdout).toMatch(/events\s+5\s+5\s+ok/);
    expect(copied.stdout).toMatch(/memory_vectors\s+1\s+1\s+ok/);

    // the copy reads as the original did, through the store
    const source = new SqliteStore({ path: join(dir, 'agentd.db') });
    const copy = new PostgresStore({ url: postgresUrl, schema });
    try {
      for (const runId of ['run_1', 'run_2']) {
        expect(await copy.readEvents(runId)).toEqual(await source.readEvents(runId));
      }
      expect(await copy.listRuns()).toEqual(await source.listRuns());
      // the tag index is rebuilt from the copied events
      expect((await copy.queryRuns({ tags: ['copied'] })).runs.map((r) => r.id).sort()).toEqual([
        'run_1',
        'run_2',
      ]);
      expect((await copy.getRun('run_1'))?.tags).toEqual(['copied', 'keep=me']);
      expect(await copy.listAudit()).toEqual(await source.listAudit());
      expect(await copy.auditHead()).toEqual(await source.auditHead());
      expect(verifyAudit(await copy.listAudit(), await copy.auditHead()).ok).toBe(true);
      expect(await copy.listApprovals()).toEqual(await source.listApprovals());
      expect(await copy.getPolicySet('prod')).toEqual(await source.getPolicySet('prod'));
      expect(await copy.listApiKeys()).toEqual(await source.listApiKeys());
      expect(await copy.listEvalScores()).toEqual(await source.listEvalScores());
      expect(await copy.getLease('run_2')).toEqual(await source.getLease('run_2'));
      expect(await copy.memories.history('mem_2')).toEqual(await source.memories.history('mem_2'));
      expect(await copy.memories.vectorChanges('e1', 0, 10)).toEqual(
        await source.memories.vectorChanges('e1', 0, 10),
      );
      expect((await copy.memories.searchText('Mondays', {}, 5)).map((f) => f.memory.id)).toEqual([
        'mem_2',
      ]);
      expect((await copy.searchTools('read', 5)).map((t) => t.name)).toEqual(['read_text_file']);
      expect(await copy.teams.listTasks('team_1')).toEqual(await source.teams.listTasks('team_1'));
      expect(await copy.teams.readTeamEvents('team_1')).toEqual(
        await source.teams.readTeamEvents('team_1'),
      );
      expect(await copy.teams.listTeamRuns('team_1')).toEqual(
        await source.teams.listTeamRuns('team_1'),
      );
      // new rows after the copy take the next numbers, not ones copied
      await copy.memories.add(memory('mem_3'));
      const job = await copy.memories.enqueueJob(
        { runId: 'run_1', fromSeq: 2, toSeq: 3, reason: 'run_end' },
        'y',
      );
      expect(job).toBe(2);
      expect((await copy.appendAudit(auditEntry(null, 7))).seq).toBe(7);
    } finally {
      await source.close();
      await copy.close();
    }

    // agentd itself, pointed at the copy, verifies the chain
    const verify = await agentd(['audit', 'verify'], {
      home: dir,
      env: { AGENTD_DATABASE_URL: url },
    });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('7 entries');
    const runs = await agentd(['runs', 'list'], {
      home: home(),
      env: { AGENTD_DATABASE_URL: url },
    });
    expect(runs.stdout).toContain('run_1');

    // a second copy into the same store is refused, in one line
    const again = await agentd(['store', 'copy', '--to', url], { home: dir });
    expect(again.code).not.toBe(0);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(
      /the target store is not empty: runs \(2\).*; copy into a new database or schema/,
    );
  }, 60_000);

  it('says in one line what is wrong with its arguments, the URL or the server', async () => {
    const dir = home();
    const bad = await agentd(['store', 'copy', '--to', 'mysql://x/y'], { home: dir });
    expect(bad.stderr.trim()).toBe(
      'agentd: --to: "mysql://x/y" is not a postgres://user@host:port/database URL',
    );
    expect(bad.code).toBe(2);
    const none = await agentd(['store', 'copy', '--to', postgresUrl], { home: dir });
    expect(none.stderr.trim()).toBe(
      `agentd: --from: there is no SQLite store at ${join(dir, 'agentd.db')} (name an agentd.db file, or set AGENTD_HOME)`,
    );
    const env = await agentd(['runs', 'list'], {
      home: dir,
      env: { AGENTD_DATABASE_URL: 'sqlite:///x' },
    });
    expect(env.stderr.trim()).toBe(
      'agentd: AGENTD_DATABASE_URL: not a postgres://user@host:port/database URL (unset it for the embedded SQLite file)',
    );
    expect(env.code).toBe(2);
    // a port nobody listens on
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const down = await agentd(['store', 'migrate'], {
      home: dir,
      env: { AGENTD_DATABASE_URL: `postgres://postgres:secret@127.0.0.1:${port}/test` },
    });
    expect(down.code).toBe(2);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toContain(
      `agentd: cannot reach the Postgres store at postgres://postgres@127.0.0.1:${port}/test:`,
    );
    expect(down.stderr).not.toContain('secret');
  }, 60_000);

  it('store: in config.yaml selects Postgres; agentd store migrate reports its version', async () => {
    const dir = home();
    const { url } = await schemaUrl();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'config.yaml'), `store: ${url}\n`);
    const migrated = await agentd(['store', 'migrate'], { home: dir });
    expect(migrated.stderr).toBe('');
    expect(migrated.stdout).toMatch(
      /^Postgres store at postgres:\/\/postgres@127\.0\.0\.1:5432\/test: schema version \d+, up to date; pgvector (not on this server|available|installed) \(vectors are kept as bytea and searched by each process.s index\)\n$/,
    );
    writeFileSync(join(dir, 'config.yaml'), 'store: /var/agentd.db\n');
    const bad = await agentd(['store', 'migrate'], { home: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('store');
    expect(bad.stderr).toContain('postgres://user@host:port/database');
  }, 60_000);
});

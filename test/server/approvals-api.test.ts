import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { approvalProject } from '../policy/approval-support.ts';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const servers: { server: RunningServer; store: SqliteStore }[] = [];
const home0 = process.env.AGENTD_HOME;
afterEach(async () => {
  for (const { server, store } of servers.splice(0)) {
    await server.close();
    await store.close();
  }
  if (home0 === undefined) delete process.env.AGENTD_HOME;
  else process.env.AGENTD_HOME = home0;
});

/** A home whose agent is the deployer (deploy needs approval). */
function home(): { home: string; project: string } {
  const dir = tempDir();
  return { home: dir, project: approvalProject(dir) };
}

async function serveIn(dir: string) {
  // The server prepares agents with the config of its environment: this home, never the
  // user's (the deployer's policy set reads the registry of the home it runs in).
  process.env.AGENTD_HOME = dir;
  const config = loadConfig({ AGENTD_HOME: dir });
  const store = new SqliteStore({ path: config.dbPath });
  const server = await startServer({
    store,
    config,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
  });
  servers.push({ server, store });
  const keys = new ApiKeys(store);
  const approver = (await keys.create('release-manager', ['runs', 'approvals'])).key;
  const runsOnly = (await keys.create('runner', ['runs'])).key;
  const call = (path: string, init: RequestInit = {}, key = approver) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
  return { server, store, call, runsOnly };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    // a store opened while another process creates it may find it locked: look again
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Call = Awaited<ReturnType<typeof serveIn>>['call'];

const runStatus = async (call: Call, id: string) =>
  ((await (await call(`/runs/${id}`)).json()) as { status: string }).status;

describe('approvals over HTTP', () => {
  it('GET /approvals lists what waits; approve and deny need the approvals scope; the first answer wins', async () => {
    const { home: dir, project } = home();
    const { call, runsOnly } = await serveIn(dir);
    const started = await call('/runs', {
      method: 'POST',
      body: JSON.stringify({ agent: 'deployer', task: 'deploy it' }),
    });
    expect(started.status).toBe(201);
    const runId = ((await started.json()) as { id: string }).id;
    await waitFor(
      async () => ((await runStatus(call, runId)) === 'awaiting_approval' ? true : undefined),
      'the run to wait',
    );

    const refused = await call('/approvals', {}, runsOnly);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'insufficient_scope' });

    const listed = (await (await call('/approvals')).json()) as {
      approvals: { id: string; runId: string; tool: string; input: unknown; status: string }[];
    };
    expect(listed.approvals).toHaveLength(1);
    const [request] = listed.approvals;
    expect(request).toMatchObject({
      runId,
      tool: 'deploy',
      input: { target: 'prod' },
      status: 'pending',
    });
    const one = await call(`/approvals/${request!.id}`);
    expect(((await one.json()) as { id: string }).id).toBe(request!.id);

    const noReason = await call(`/approvals/${request!.id}/deny`, {
      method: 'POST',
      body: '{}',
    });
    expect(noReason.status).toBe(400);
    expect(((await noReason.json()) as { detail: string }).detail).toMatch(/^reason: /);
    const approved = await call(`/approvals/${request!.id}/approve`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'ship it' }),
    });
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({
      status: 'approved',
      answeredBy: 'release-manager',
      answerReason: 'ship it',
    });
    const again = await call(`/approvals/${request!.id}/deny`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'too late' }),
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      code: 'already_answered',
      detail: `approval ${request!.id} was already approved by release-manager`,
    });
    expect((await call('/approvals/apr_nope/approve', { method: 'POST', body: '{}' })).status).toBe(
      404,
    );

    await waitFor(
      async () => ((await runStatus(call, runId)) === 'completed' ? true : undefined),
      'the run to complete',
    );
    expect(readFileSync(join(project, 'deployed.log'), 'utf8')).toBe('prod\n');
    const spec = (await (await call('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/approvals',
        '/approvals/{id}',
        '/approvals/{id}/approve',
        '/approvals/{id}/deny',
      ]),
    );
  });

  it("agentd serve's recovery resumes a run killed while it waited: it waits again, and an answer over HTTP lets it finish", async () => {
    const { home: dir, project } = home();
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !/^(ANTHROPIC|OPENAI|AGENTD)_/.test(key)) env[key] = value;
    }
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin/agentd.js'), 'run', 'agent.yaml', 'deploy it'],
      { cwd: project, env: { ...env, AGENTD_HOME: dir, NO_COLOR: '1' }, stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => child.on('close', resolve));
    const db = join(dir, 'agentd.db');
    const request = await waitFor(async () => {
      if (!existsSync(db)) return undefined;
      const store = new SqliteStore({ path: db });
      try {
        return (await store.listApprovals({ status: 'pending' }))[0];
      } finally {
        await store.close();
      }
    }, 'a pending approval');
    child.kill('SIGKILL');
    await exited;

    const { server, store, call } = await serveIn(dir);
    expect(server.resumed).toEqual([request.runId]);
    await waitFor(
      async () =>
        (await store.readEvents(request.runId)).some(
          (e) => e.type === 'approval.requested' && e.data.resumed,
        )
          ? true
          : undefined,
      'the recovered run to wait again',
    );
    expect(await runStatus(call, request.runId)).toBe('awaiting_approval');
    const approved = await call(`/approvals/${request.id}/approve`, { method: 'POST' });
    expect(approved.status).toBe(200);
    await waitFor(
      async () => ((await runStatus(call, request.runId)) === 'completed' ? true : undefined),
      'the run to complete',
    );
    expect(readFileSync(join(project, 'deployed.log'), 'utf8')).toBe('prod\n');
    expect(await store.listApprovals()).toHaveLength(1);
  }, 90_000);
});

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function setup() {
  const home = tempDir();
  writeFileSync(
    join(home, 'config.yaml'),
    `agent_dirs: ${JSON.stringify([join(repoRoot, 'examples')])}\n`,
  );
  // An agent of this machine with the fs connector's tools (its own policies beside it).
  const agent = join(home, 'agents', 'reader');
  mkdirSync(join(agent, 'policies'), { recursive: true });
  writeFileSync(
    join(agent, 'agent.yaml'),
    'name: reader\nmodel: scripted/reader\nscript: ./script.yaml\ninstructions: Read.\ntools: [fs.read, fs.write]\n',
  );
  writeFileSync(join(agent, 'script.yaml'), 'turns:\n  - text: Done.\n');
  writeFileSync(
    join(agent, 'policies', 'read.cedar'),
    'permit (principal, action == Action::"fs.read", resource);\n',
  );
  const config = loadConfig({ AGENTD_HOME: home });
  const store = new SqliteStore({ path: config.dbPath });
  const server: RunningServer = await startServer({
    store,
    config,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
  });
  open.push(
    () => store.close(),
    () => server.close(),
  );
  const keys = new ApiKeys(store);
  const { key } = await keys.create('ci', ['policies', 'audit']);
  const call = (path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { server, store, keys, call };
}

describe('policies and audit over HTTP', () => {
  it('validates policy texts against an agent’s schema, with file, line and column', async () => {
    const { call } = await setup();
    const ok = await call('/policies/validate', {
      agent: 'reader',
      policies: { 'read.cedar': 'permit (principal, action == Action::"fs.read", resource);' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ agent: 'reader', valid: true, policies: 1 });

    const bad = await call('/policies/validate', {
      agent: 'reader',
      policies: { 'bad.cedar': 'permit (principal, action == Action::"fs.nope", resource);' },
    });
    const body = (await bad.json()) as {
      valid: boolean;
      problems: { file: string; line: number }[];
    };
    expect(body.valid).toBe(false);
    expect(body.problems[0]).toMatchObject({ file: 'bad.cedar', line: 1 });

    // The agent's own folder when no texts are sent.
    const own = await call('/policies/validate', { agent: 'reader' });
    expect(await own.json()).toMatchObject({ valid: true });

    const unknown = await call('/policies/validate', { agent: 'nobody' });
    expect(unknown.status).toBe(404);
    const badName = await call('/policies/validate', {
      agent: 'reader',
      policies: { '../x.cedar': 'permit (principal, action, resource);' },
    });
    expect(badName.status).toBe(400);
  });

  it('decides test cases against the policies sent, as agentd policy test does', async () => {
    const { call } = await setup();
    const response = await call('/policies/test', {
      agent: 'reader',
      policies: {
        'p.cedar': [
          'permit (principal, action == Action::"fs.read", resource) when { resource.path like "src/*" };',
          'forbid (principal, action, resource) when { resource has name && resource.name == ".env" };',
        ].join('\n'),
      },
      cases: [
        { tool: 'fs.read', input: { path: 'src/a.ts' }, expect: 'allow' },
        { tool: 'fs.read', input: { path: '.env' }, expect: 'deny' },
        {
          name: 'wrong on purpose',
          tool: 'fs.read',
          input: { path: 'README.md' },
          expect: 'allow',
        },
      ],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      passed: number;
      failed: number;
      cases: { name: string; decision: string; passed: boolean }[];
    };
    expect(body).toMatchObject({ passed: 2, failed: 1 });
    expect(body.cases[2]).toMatchObject({
      name: 'wrong on purpose',
      decision: 'deny',
      passed: false,
    });
    const unknownTool = await call('/policies/test', {
      agent: 'reader',
      policies: { 'p.cedar': 'permit (principal, action, resource);' },
      cases: [{ tool: 'fs.nope', input: {}, expect: 'allow' }],
    });
    expect(unknownTool.status).toBe(422);
    expect(((await unknownTool.json()) as { detail: string }).detail).toMatch(
      /cases\.0\.tool: "fs\.nope" is not an action/,
    );
  });

  it('lists and verifies the audit log, and needs the scopes', async () => {
    const { call, store, keys, server } = await setup();
    const entry = {
      at: new Date().toISOString(),
      runId: null,
      callId: null,
      principal: 'Agent::"a"',
      user: 'u',
      action: 'fs.read',
      resource: 'File::"a"',
      inputDigest: 'd',
      decision: 'allow' as const,
      effect: 'allow' as const,
      mode: 'enforce' as const,
      policies: [],
      errors: [],
      reason: 'permitted',
      latencyUs: 1,
    };
    await store.appendAudit(entry);
    await store.appendAudit({ ...entry, action: 'fs.write', decision: 'deny', effect: 'deny' });
    const listed = (await (await call('/audit?limit=10')).json()) as { entries: { seq: number }[] };
    expect(listed.entries.map((e) => e.seq)).toEqual([1, 2]);
    const verified = await (await call('/audit/verify')).json();
    expect(verified).toMatchObject({ ok: true, entries: 2 });

    const other = await keys.create('runs', ['runs']);
    for (const [path, method] of [
      ['/audit', 'GET'],
      ['/audit/verify', 'GET'],
      ['/policies/validate', 'POST'],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${other.key}` },
      });
      expect(response.status, path).toBe(403);
    }
  });
});

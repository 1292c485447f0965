import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { ApiKeys, type ApiScope } from '../../src/server/api-keys.ts';
import { openApiDocument } from '../../src/server/openapi.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { defaultContainment } from '../../src/tools/registry/server-entry.ts';
import { tempDir } from '../support/temp-dir.ts';
import { consoleHome, runExampleSuite, seedMemories } from './console-home.ts';

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

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
};
const doc = openApiDocument('test') as unknown as Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema({ $id: 'agentd', components: doc.components });

/** Checks a response against what the OpenAPI document says `method path` answers. */
async function documented<T>(response: Response, method: string, path: string): Promise<T> {
  const operation = doc.paths[path]?.[method];
  expect(operation, `${method} ${path} is in the OpenAPI document`).toBeDefined();
  const declared = operation!.responses[String(response.status)];
  expect(declared, `${method} ${path} documents ${response.status}`).toBeDefined();
  const body = (await response.json()) as T;
  const schema = declared!.content?.['application/json']?.schema;
  if (schema) {
    const validate = ajv.compile(
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components', '"agentd#/components')),
    );
    if (!validate(body)) {
      throw new Error(`${method} ${path} ${response.status}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  return body;
}

async function serve(home: string) {
  process.env.AGENTD_HOME = home;
  const config = loadConfig({ AGENTD_HOME: home });
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
  const key = async (scopes: ApiScope[], name = 'operator') =>
    (await keys.create(name, scopes)).key;
  const call = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        ...(init.key ? { authorization: `Bearer ${init.key}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string>),
      },
    });
  return { server, store, config, keys, key, call };
}

const allScopes: ApiScope[] = [
  'runs',
  'approvals',
  'registry',
  'registry_admin',
  'policies',
  'audit',
  'teams',
  'evals',
  'memory',
];

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 800; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('console sign-in', () => {
  it('trades a key for an HttpOnly SameSite=Strict cookie; changes need the CSRF token; sign-out and revocation end it', async () => {
    const home = tempDir();
    consoleHome(home);
    const { call, key, keys } = await serve(home);
    const runner = await key(['runs'], 'runner');

    expect(
      (await call('/session', { method: 'POST', body: JSON.stringify({ key: 'agentd_nope' }) }))
        .status,
    ).toBe(401);
    const notJson = await call('/session', {
      method: 'POST',
      body: 'key=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(notJson.status).toBe(400);
    const foreign = await call('/session', {
      method: 'POST',
      body: JSON.stringify({ key: runner }),
      headers: { origin: 'http://evil.example' },
    });
    expect(foreign.status).toBe(403);

    const signed = await call('/session', {
      method: 'POST',
      body: JSON.stringify({ key: runner }),
    });
    const session = await documented<{ csrfToken: string; scopes: string[]; name: string }>(
      signed,
      'post',
      '/session',
    );
    expect(session).toMatchObject({ name: 'runner', scopes: ['runs'] });
    const cookie = signed.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^agentd_session=[\w-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    const jar = { cookie: cookie.split(';')[0]! };

    expect((await call('/runs', { headers: jar })).status).toBe(200);
    const again = await documented<{ csrfToken: string }>(
      await call('/session', { headers: jar }),
      'get',
      '/session',
    );
    expect(again.csrfToken).toBe(session.csrfToken);
    // scopes hold for a session as for its key
    const refused = await call('/approvals', { headers: jar });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'insufficient_scope' });

    const start = { method: 'POST', body: JSON.stringify({ agent: 'greeter', task: 'hi' }) };
    const noToken = await call('/runs', { ...start, headers: jar });
    expect(noToken.status).toBe(403);
    expect(await noToken.json()).toMatchObject({
      code: 'csrf_failed',
      detail: expect.stringMatching(/x-agentd-csrf/),
    });
    const wrongToken = await call('/runs', {
      ...start,
      headers: { ...jar, 'x-agentd-csrf': 'x'.repeat(32) },
    });
    expect(wrongToken.status).toBe(403);
    const started = await call('/runs', {
      ...start,
      headers: { ...jar, 'x-agentd-csrf': session.csrfToken },
    });
    expect(started.status).toBe(201);

    expect((await call('/session', { method: 'DELETE', headers: jar })).status).toBe(403);
    const out = await call('/session', {
      method: 'DELETE',
      headers: { ...jar, 'x-agentd-csrf': session.csrfToken },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/agentd_session=;.*Max-Age=0/);
    const after = await call('/runs', { headers: jar });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ detail: expect.stringMatching(/sign in again/) });

    // a revoked key ends the sessions made with it
    const other = await call('/session', { method: 'POST', body: JSON.stringify({ key: runner }) });
    const otherJar = { cookie: other.headers.get('set-cookie')!.split(';')[0]! };
    expect((await call('/runs', { headers: otherJar })).status).toBe(200);
    const [record] = (await keys.list()).filter((k) => k.name === 'runner');
    await keys.revoke(record!.id);
    expect((await call('/runs', { headers: otherJar })).status).toBe(401);
  });

  it('serves the built console at / without a key, with a strict content security policy', async () => {
    const home = tempDir();
    const dist = join(home, 'dist');
    mkdirSync(join(dist, 'assets'), { recursive: true });
    writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'console.log(1)');
    writeFileSync(join(home, 'secret.txt'), 'not for the web');
    const config = loadConfig({ AGENTD_HOME: home });
    const store = new SqliteStore({ path: config.dbPath });
    const { createApp } = await import('../../src/server/app.ts');
    const app = createApp({
      store,
      keys: new ApiKeys(store),
      allowedHosts: ['localhost'],
      consoleDir: dist,
      version: 'test',
    });
    const get = (path: string) =>
      app.request(`http://localhost${path}`, { headers: { host: 'localhost' } });
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('id="root"');
    expect(index.headers.get('content-security-policy')).toMatch(
      /default-src 'self'.*frame-ancestors 'none'/,
    );
    const asset = await get('/assets/app-1a2b.js');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await get('/assets/..%2Fsecret.txt')).status).toBe(401);
    expect((await get('/assets/missing.js')).status).toBe(401);
    const unbuilt = createApp({
      store,
      keys: new ApiKeys(store),
      allowedHosts: ['localhost'],
      consoleDir: join(home, 'none'),
      version: 'test',
    });
    const page = await unbuilt.request('http://localhost/', { headers: { host: 'localhost' } });
    expect(page.status).toBe(503);
    expect(await page.text()).toMatch(/npm run console:build/);
    await store.close();
  });
});

describe('routes the console reads', () => {
  it('runs: filters, cursor paging and one-line errors for bad parameters', async () => {
    const home = tempDir();
    consoleHome(home);
    const { call, key } = await serve(home);
    const runs = await key(['runs']);
    for (const task of ['first hello', 'second hello', 'third']) {
      const started = await call('/runs', {
        key: runs,
        method: 'POST',
        body: JSON.stringify({ agent: 'greeter', task }),
      });
      await documented(started, 'post', '/runs');
    }
    await waitFor(async () => {
      const page = (await (await call('/runs?status=completed', { key: runs })).json()) as {
        runs: unknown[];
      };
      return page.runs.length === 3 ? true : undefined;
    }, 'three runs to complete');
    const hello = await documented<{ runs: { task: string }[] }>(
      await call('/runs?q=HELLO&agent=greeter', { key: runs }),
      'get',
      '/runs',
    );
    expect(hello.runs.map((r) => r.task)).toEqual(['second hello', 'first hello']);
    const first = await documented<{ runs: { id: string }[]; nextCursor: string }>(
      await call('/runs?limit=2', { key: runs }),
      'get',
      '/runs',
    );
    const second = await documented<{ runs: { id: string }[]; nextCursor?: string }>(
      await call(`/runs?limit=2&cursor=${first.nextCursor}`, { key: runs }),
      'get',
      '/runs',
    );
    expect(second.runs).toHaveLength(1);
    expect(second.nextCursor).toBeUndefined();
    const detail = await documented<{ status: string; output: string }>(
      await call(`/runs/${second.runs[0]!.id}`, { key: runs }),
      'get',
      '/runs/{id}',
    );
    expect(detail).toMatchObject({
      status: 'completed',
      output: '[scripted] Hello! You asked: first hello',
    });
    for (const [query, message] of [
      ['status=done', /^status: "done" is not one of running, /],
      ['since=yesterday', /^since: "yesterday" is not a date/],
      ['minCost=-1', /^minCost: "-1" is not an amount/],
      ['cursor=abc', /^cursor: "abc" is not one this list gave/],
      ['limit=0', /^limit: give 1 to 1000/],
    ] as const) {
      const bad = await call(`/runs?${query}`, { key: runs });
      expect(bad.status, query).toBe(400);
      expect(((await documented(bad, 'get', '/runs')) as { detail: string }).detail).toMatch(
        message,
      );
    }
    const agents = await documented<{ agents: { name: string; valid: boolean }[] }>(
      await call('/agents', { key: runs }),
      'get',
      '/agents',
    );
    expect(agents.agents.map((a) => a.name).sort()).toEqual(['deployer', 'greeter']);
  });

  it('a run’s events as the document says: every event matches its schema', async () => {
    const home = tempDir();
    consoleHome(home);
    const { call, key } = await serve(home);
    const all = await key(['runs', 'approvals']);
    const started = (await (
      await call('/runs', {
        key: all,
        method: 'POST',
        body: JSON.stringify({ agent: 'deployer', task: 'ship' }),
      })
    ).json()) as { id: string };
    const [approval] = await waitFor(async () => {
      const { approvals } = (await (await call('/approvals', { key: all })).json()) as {
        approvals: { id: string }[];
      };
      return approvals.length ? approvals : undefined;
    }, 'the approval');
    await call(`/approvals/${approval!.id}/approve`, { key: all, method: 'POST', body: '{}' });
    const stream = await call(`/runs/${started.id}/events`, { key: all });
    const text = await stream.text();
    const events = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'run.started',
        'policy.decision',
        'approval.requested',
        'approval.answered',
        'tool.result',
        'run.finished',
      ]),
    );
    const validate = ajv.compile({ $ref: 'agentd#/components/schemas/RunEvent' });
    for (const event of events) {
      const ok = (validate as (value: unknown) => boolean)(event);
      if (!ok) throw new Error(`${event.type}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  it('teams: the list, a board with members’ runs and messages, and the log as a stream that ends with the team', async () => {
    const home = tempDir();
    consoleHome(home);
    const { call, key, store } = await serve(home);
    const now = new Date().toISOString();
    await store.append([
      {
        runId: 'run_lead1',
        seq: 0,
        at: now,
        type: 'run.started',
        data: {
          agent: 'lead',
          model: 'scripted/x',
          task: 'docs',
          instructions: '',
          tools: [],
          limits: { maxTurns: 5, maxToolRepairs: 3 },
        },
      },
    ]);
    await store.teams.createTeam(
      {
        id: 'team_01docs',
        name: 'repo-docs',
        task: 'write docs',
        specPath: join(home, 'team.yaml'),
        cwd: home,
        leadRunId: 'run_lead1',
        status: 'running',
        budget: { maxTurns: 40 },
        createdAt: now,
        updatedAt: now,
      },
      { type: 'team.started', data: { task: 'write docs' } },
    );
    await store.teams.createTasks(
      'team_01docs',
      [
        { id: 'read', title: 'Read the code', description: '', dependsOn: [] },
        {
          id: 'write',
          title: 'Write the guide',
          description: '',
          dependsOn: ['read'],
          assignee: 'writer',
        },
      ],
      'lead',
      now,
    );
    await store.teams.appendTeamEvents(
      'team_01docs',
      [{ type: 'message', data: { from: 'lead', to: 'all', text: 'start with src/' } }],
      now,
    );

    expect((await call('/teams', { key: await key(['runs']) })).status).toBe(403);
    const teamsKey = await key(['teams']);
    const list = await documented<{ teams: { id: string; tasks: number; tasksDone: number }[] }>(
      await call('/teams', { key: teamsKey }),
      'get',
      '/teams',
    );
    expect(list.teams).toMatchObject([{ id: 'team_01docs', tasks: 2, tasksDone: 0 }]);
    const one = await documented<{
      tasks: { id: string; dependsOn: string[] }[];
      runs: { member: string }[];
      messages: { text: string }[];
    }>(await call('/teams/team_01', { key: teamsKey }), 'get', '/teams/{id}');
    expect(one.tasks.map((t) => [t.id, t.dependsOn])).toEqual([
      ['read', []],
      ['write', ['read']],
    ]);
    expect(one.runs).toMatchObject([{ member: 'lead', status: 'running' }]);
    expect(one.messages).toMatchObject([{ from: 'lead', to: 'all', text: 'start with src/' }]);
    expect((await call('/teams/team_nope', { key: teamsKey })).status).toBe(404);

    const stream = await call('/teams/team_01docs/events', { key: teamsKey });
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    // the stream keeps going while the team runs; it ends once the team has finished
    while (!seen.includes('event: message')) seen += (await reader.read()).value ?? '';
    await store.teams.setTeamStatus(
      'team_01docs',
      { status: 'completed', result: 'done' },
      { type: 'team.finished', data: {} },
      new Date().toISOString(),
    );
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    expect(seen).toMatch(
      /event: team\.started[\s\S]*event: task\.created[\s\S]*event: message[\s\S]*event: team\.finished/,
    );
  });

  it('evals: results kept by agentd eval run, one with its cases, and two compared', async () => {
    const home = tempDir();
    consoleHome(home);
    await runExampleSuite(home, 1);
    await runExampleSuite(home, 3);
    const { call, key } = await serve(home);
    const evals = await key(['evals']);
    const list = await documented<{ results: { id: string; suite: string; cases: number }[] }>(
      await call('/evals/results', { key: evals }),
      'get',
      '/evals/results',
    );
    expect(list.results).toHaveLength(2);
    const [b, a] = list.results;
    const one = await documented<{
      result: { cases: { id: string; trials: { scores: { explanation: string }[] }[] }[] };
    }>(await call(`/evals/results/${a!.id}`, { key: evals }), 'get', '/evals/results/{id}');
    expect(one.result.cases).toHaveLength(a!.cases);
    expect(one.result.cases[0]!.trials[0]!.scores.length).toBeGreaterThan(0);
    const compared = await documented<{
      metrics: { name: string; verdict: string }[];
      results: string[];
      method: string;
    }>(await call(`/evals/compare?a=${a!.id}&b=${b!.id}`, { key: evals }), 'get', '/evals/compare');
    expect(compared.results).toEqual([a!.id, b!.id]);
    expect(compared.metrics[0]!.name).toBe('suite score');
    expect(compared.method).toMatch(/paired bootstrap/);
    const missing = await call(`/evals/compare?a=${a!.id}&b=evr_nope`, { key: evals });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { detail: string }).detail).toMatch(
      /^no eval result "evr_nope"/,
    );
    expect((await call('/evals/compare?a=x', { key: evals })).status).toBe(400);
  });

  it('memory: list by actor, search, provenance, forget; a bad kind is one line', async () => {
    const home = tempDir();
    consoleHome(home);
    const { call, key, store } = await serve(home);
    await seedMemories(store, 'run_x');
    const memoryKey = await key(['memory']);
    const listed = await documented<{ memories: { id: string }[] }>(
      await call('/memory?actor=alice', { key: memoryKey }),
      'get',
      '/memory',
    );
    expect(listed.memories.map((m) => m.id).sort()).toEqual([
      'mem_01alicekorean',
      'mem_01alicepage',
    ]);
    const found = await documented<{
      mode: string;
      note: string;
      memories: { memory: { id: string } }[];
    }>(
      await call('/memory/search?q=korean&actor=alice', { key: memoryKey }),
      'get',
      '/memory/search',
    );
    expect(found).toMatchObject({
      mode: 'full-text',
      memories: [{ memory: { id: 'mem_01alicekorean' } }],
    });
    const shown = await documented<{
      memory: { trust: string; provenance: { source: string; tools: string[] } };
    }>(await call('/memory/mem_01alicep', { key: memoryKey }), 'get', '/memory/{id}');
    expect(shown.memory).toMatchObject({
      trust: 'untrusted',
      provenance: { source: 'tool', tools: ['http__get'] },
    });
    const bad = await call('/memory?kind=opinion', { key: memoryKey });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toBe(
      'kind: "opinion" is not a kind of memory (use one of: fact, preference, summary, episode)',
    );
    const forgot = await documented<{ forgotten: string[] }>(
      await call('/memory/mem_01alicekorean', { key: memoryKey, method: 'DELETE' }),
      'delete',
      '/memory/{id}',
    );
    expect(forgot.forgotten).toEqual(['mem_01alicekorean']);
    expect((await call('/memory/mem_01alicekorean', { key: memoryKey })).status).toBe(404);
    expect(await store.memories.searchText('korean', {}, 5)).toEqual([]);
  });

  it('registry: every server with its tools; enabling and disabling needs registry_admin', async () => {
    const home = tempDir();
    consoleHome(home);
    const { call, key, store } = await serve(home);
    const registry = new Registry(store, SecretBox.forHome(home));
    await registry.add(
      {
        name: 'tickets',
        source: { kind: 'url' },
        transport: { type: 'http', url: 'https://tickets.example/mcp' },
        env: {},
        headers: {},
        secrets: [],
        secretHeaders: ['TICKETS_TOKEN'],
        roots: [],
        containment: defaultContainment,
        enabled: true,
      },
      { TICKETS_TOKEN: 'tok_secret_value' },
    );
    await registry.setTools('tickets', [
      { name: 'create', description: 'Create a ticket', inputSchema: { type: 'object' } },
    ]);
    const reader = await key(['registry']);
    const listed = await documented<{
      servers: { name: string; enabled: boolean; secrets: string[]; tools: { name: string }[] }[];
    }>(await call('/registry/servers', { key: reader }), 'get', '/registry/servers');
    expect(listed.servers).toMatchObject([
      { name: 'tickets', enabled: true, secrets: ['TICKETS_TOKEN'], tools: [{ name: 'create' }] },
    ]);
    expect(JSON.stringify(listed)).not.toContain('tok_secret_value');
    expect(
      (await call('/registry/servers/tickets/disable', { key: reader, method: 'POST' })).status,
    ).toBe(403);
    const admin = await key(['registry', 'registry_admin']);
    const disabled = await documented<{ enabled: boolean }>(
      await call('/registry/servers/tickets/disable', { key: admin, method: 'POST' }),
      'post',
      '/registry/servers/{name}/disable',
    );
    expect(disabled.enabled).toBe(false);
    expect((await registry.get('tickets')).enabled).toBe(false);
    expect(await registry.secretsOf('tickets')).toEqual({ TICKETS_TOKEN: 'tok_secret_value' });
    expect(
      (await call('/registry/servers/nope/enable', { key: admin, method: 'POST' })).status,
    ).toBe(404);
  });

  it('policy sets: save, list, activate (never an invalid one), and what-if on recorded calls', async () => {
    const home = tempDir();
    consoleHome(home);
    const { call, key } = await serve(home);
    const operator = await key(allScopes);
    const started = (await (
      await call('/runs', {
        key: operator,
        method: 'POST',
        body: JSON.stringify({ agent: 'deployer', task: 'ship' }),
      })
    ).json()) as { id: string };
    const [approval] = await waitFor(async () => {
      const { approvals } = (await (await call('/approvals', { key: operator })).json()) as {
        approvals: { id: string }[];
      };
      return approvals.length ? approvals : undefined;
    }, 'the approval');
    await call(`/approvals/${approval!.id}/approve`, { key: operator, method: 'POST', body: '{}' });
    await waitFor(
      async () =>
        (
          (await (await call(`/runs/${started.id}`, { key: operator })).json()) as {
            status: string;
          }
        ).status === 'completed'
          ? true
          : undefined,
      'the run to finish',
    );

    const forbid = { 'never.cedar': 'forbid (principal, action == Action::"deploy", resource);' };
    const saved = await documented<{ name: string; version: number; active: boolean }>(
      await call('/policies/sets', {
        key: operator,
        method: 'POST',
        body: JSON.stringify({ name: 'strict', policies: forbid }),
      }),
      'post',
      '/policies/sets',
    );
    expect(saved).toMatchObject({ name: 'strict', version: 1, active: false });
    const bad = await call('/policies/sets', {
      key: operator,
      method: 'POST',
      body: JSON.stringify({ name: 'Bad Name', policies: forbid }),
    });
    expect(((await bad.json()) as { detail: string }).detail).toBe(
      'name: lowercase letters, digits, - and _',
    );
    const broken = await documented(
      await call('/policies/sets', {
        key: operator,
        method: 'POST',
        body: JSON.stringify({
          name: 'broken',
          policies: { 'x.cedar': 'permit (principal, action == Action::"nope", resource);' },
        }),
      }),
      'post',
      '/policies/sets',
    );
    expect(broken).toMatchObject({ version: 1 });
    const refused = await call('/policies/sets/broken/activate', {
      key: operator,
      method: 'POST',
      body: '{}',
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(
      /^policy set broken@1 is not valid, so it was not activated: /,
    );

    const whatIf = await documented<{
      changes: { runId: string; before: string; after: string }[];
      summary: { changed: number; policies: string };
    }>(
      await call('/policies/what-if', {
        key: operator,
        method: 'POST',
        body: JSON.stringify({ set: 'strict@1' }),
      }),
      'post',
      '/policies/what-if',
    );
    expect(whatIf.changes).toMatchObject([
      { runId: started.id, before: 'needs_approval', after: 'deny' },
    ]);
    expect(whatIf.summary).toMatchObject({ changed: 1, policies: 'strict@1' });
    const same = await documented<{ changes: unknown[] }>(
      await call('/policies/what-if', {
        key: operator,
        method: 'POST',
        body: JSON.stringify({
          agent: 'deployer',
          policies: {
            'a.cedar':
              '@approval("required")\npermit (principal, action == Action::"deploy", resource);',
          },
        }),
      }),
      'post',
      '/policies/what-if',
    );
    expect(same.changes).toEqual([]);
    const neither = await call('/policies/what-if', { key: operator, method: 'POST', body: '{}' });
    expect(((await neither.json()) as { detail: string }).detail).toBe(
      'policies: give the candidate policies, or the set to try (one of them)',
    );
    const invalid = await call('/policies/what-if', {
      key: operator,
      method: 'POST',
      body: JSON.stringify({
        agent: 'deployer',
        policies: { 'x.cedar': 'permit (principal, action == Action::"nope", resource);' },
      }),
    });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { detail: string }).detail).not.toMatch(/agentd-candidate-/);

    const active = await documented<{ active: boolean }>(
      await call('/policies/sets/strict/activate', {
        key: operator,
        method: 'POST',
        body: JSON.stringify({ agent: 'deployer' }),
      }),
      'post',
      '/policies/sets/{name}/activate',
    );
    expect(active).toMatchObject({ active: true });
    const sets = await documented<{ sets: { name: string; active: boolean; files: string[] }[] }>(
      await call('/policies/sets', { key: operator }),
      'get',
      '/policies/sets',
    );
    expect(sets.sets).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'strict', active: true, files: ['never.cedar'] }),
      ]),
    );
    const version = await documented<{ files: { text: string }[] }>(
      await call('/policies/sets/strict/versions/1', { key: operator }),
      'get',
      '/policies/sets/{name}/versions/{version}',
    );
    expect(version.files[0]!.text).toBe(forbid['never.cedar']);
  });

  it('the OpenAPI document compiles and names a scope for every route but sign-in and /health', () => {
    const validateDoc = ajv.compile({ $ref: 'agentd#/components/schemas/RunView' });
    expect(validateDoc).toBeTypeOf('function');
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const security = (operation as { security?: { apiKey: string[] }[] }).security;
        if (path === '/health' || path === '/session' || path === '/openapi.json') continue;
        expect(security?.[0]?.apiKey.length, `${method} ${path} names its scope`).toBeGreaterThan(
          0,
        );
      }
    }
  });
});

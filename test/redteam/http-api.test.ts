// Red team on the HTTP API of `agentd serve` (real HTTP): broken object-level authorization
// across scopes. Keys are the API's principals and scopes are what separate them: a key
// without a route's scope must not read, cancel, resume, tag, stream, approve or deny any
// object by its id, whatever id it names, by header or by console session; nothing changes
// and nothing is audited for it. Every route with an id in its path is taken from the
// OpenAPI document, so a new one is tried too.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { ApiKeys, type ApiScope, apiScopes } from '../../src/server/api-keys.ts';
import { openApiDocument } from '../../src/server/openapi.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { registryEntry } from '../support/registry-entry.ts';
import { tempDir } from '../support/temp-dir.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An agent that asks a person before it reads its notes: a run with a pending approval. */
const guardedAgent: Record<string, string> = {
  'agent.yaml':
    'name: guarded\nmodel: scripted/guarded\nscript: ./script.yaml\ninstructions: Read notes.txt.\ntools: [fs.read]\n',
  'script.yaml':
    'turns:\n  - text: Reading the notes.\n    tool_calls:\n      - name: fs__read\n        input: { path: notes.txt }\n  - text: Read them.\n',
  'notes.txt': 'the notes\n',
  'policies/read.cedar':
    '@approval("required")\npermit (principal, action == Action::"fs.read", resource);\n',
};

interface World {
  server: RunningServer;
  store: SqliteStore;
  runId: string;
  approvalId: string;
  /** A key holding exactly these scopes. */
  keyWith: (scopes: readonly ApiScope[]) => Promise<string>;
}

async function world(): Promise<World> {
  const home = tempDir();
  for (const [file, text] of Object.entries(guardedAgent)) {
    mkdirSync(join(home, 'agents', 'guarded', file, '..'), { recursive: true });
    writeFileSync(join(home, 'agents', 'guarded', file), text);
  }
  const config = loadConfig({ AGENTD_HOME: home });
  const store = new SqliteStore({ path: config.dbPath });
  await new Registry(store, SecretBox.forHome(home, {})).add(
    registryEntry('tool-box', { type: 'stdio', command: process.execPath, args: ['--version'] }),
    {},
  );
  const server = await startServer({
    store,
    config,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
  });
  closers.push(
    () => store.close(),
    () => server.close(),
  );
  const keys = new ApiKeys(store);
  let made = 0;
  const keyWith = async (scopes: readonly ApiScope[]) =>
    (await keys.create(`key-${++made}`, [...scopes])).key;
  const runs = await keyWith(['runs']);
  const started = await fetch(`${server.url}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${runs}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent: 'guarded', task: 'read the notes' }),
  });
  expect(started.status).toBe(201);
  const runId = ((await started.json()) as { id: string }).id;
  // Wait on the run's own stream for its approval request.
  const approvalId = await untilEvent(server.url, runs, runId, 'approval.requested');
  return { server, store, runId, approvalId, keyWith };
}

/** Reads a run's event stream until an event of `type`; its data's approval id. */
async function untilEvent(url: string, key: string, runId: string, type: string): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(`${url}/runs/${runId}/events`, {
    headers: { authorization: `Bearer ${key}` },
    signal: controller.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream of ${runId} ended without ${type}`);
      text += value;
      const match = new RegExp(`event: ${type}\\ndata: (.*)\\n`).exec(text);
      if (match) return (JSON.parse(match[1]!) as { data: { approvalId: string } }).data.approvalId;
    }
  } finally {
    controller.abort();
  }
}

/** What a refused request must leave as it was. */
async function snapshot(w: World) {
  const [events, approval, audit, servers] = await Promise.all([
    w.store.readEvents(w.runId),
    w.store.getApproval(w.approvalId),
    w.store.listAudit(),
    w.store.listServers(),
  ]);
  return {
    events: events.map((e) => [e.seq, e.type]),
    approval: approval?.status,
    audit: audit.length,
    servers: servers.map((s) => JSON.stringify(s.entry)),
  };
}

/** Every operation of the API with a parameter in its path, and the scopes it needs. */
function routesWithIds(): { method: string; path: string; scopes: ApiScope[] }[] {
  const doc = openApiDocument('test') as {
    paths: Record<string, Record<string, { security?: { apiKey: ApiScope[] }[] }>>;
  };
  return Object.entries(doc.paths)
    .filter(([path]) => path.includes('{'))
    .flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        scopes: operation.security?.[0]?.apiKey ?? [],
      })),
    );
}

/** Real ids where the world has the object, made-up ones elsewhere (the scope comes first). */
function fill(path: string, w: World): string {
  return path
    .replace(/^\/runs\/\{id\}/, `/runs/${w.runId}`)
    .replace(/^\/approvals\/\{id\}/, `/approvals/${w.approvalId}`)
    .replace(/\{serverName\}|\{name\}(?=\/(enable|disable))/, 'tool-box')
    .replace(/\{version\}/, '1')
    .replace(/\{\w+\}/g, 'nothing-here');
}

describe('red team: BOLA on the HTTP API', () => {
  it('a key without a route’s scope reaches no object by id, on any route with one', async () => {
    const w = await world();
    const before = await snapshot(w);
    const routes = routesWithIds();
    // The routes the API has today, so the list cannot quietly shrink.
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining([
        'GET /runs/{id}',
        'POST /runs/{id}/cancel',
        'POST /runs/{id}/resume',
        'POST /runs/{id}/tags',
        'GET /runs/{id}/events',
        'GET /approvals/{id}',
        'POST /approvals/{id}/approve',
        'POST /approvals/{id}/deny',
        'DELETE /memory/{id}',
        'POST /registry/servers/{name}/enable',
        'POST /policies/sets/{name}/activate',
      ]),
    );
    let tried = 0;
    for (const route of routes) {
      expect(route.scopes.length, `${route.method} ${route.path}`).toBeGreaterThan(0);
      for (const needed of route.scopes) {
        // Every other scope there is: only the one the route needs is missing.
        const key = await w.keyWith(apiScopes.filter((s) => s !== needed));
        const response = await fetch(`${w.server.url}${fill(route.path, w)}`, {
          method: route.method,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          ...(route.method === 'GET' ? {} : { body: JSON.stringify({ reason: 'attacker' }) }),
        });
        const body = (await response.json()) as { code?: string };
        expect([route.method, route.path, response.status, body.code]).toEqual([
          route.method,
          route.path,
          403,
          'insufficient_scope',
        ]);
        tried++;
      }
    }
    expect(tried).toBeGreaterThanOrEqual(routes.length);
    // Nothing changed: the run's log, the approval, the audit log, the registry.
    expect(await snapshot(w)).toEqual(before);
  }, 120_000);

  it('the runs scope cannot answer the run’s own approval, by key or console session; the approvals scope can, and is audited', async () => {
    const w = await world();
    const before = await snapshot(w);
    const runsKey = await w.keyWith(['runs']);
    const asRuns = { authorization: `Bearer ${runsKey}`, 'content-type': 'application/json' };
    const approve = `${w.server.url}/approvals/${w.approvalId}/approve`;
    expect((await fetch(approve, { method: 'POST', headers: asRuns, body: '{}' })).status).toBe(
      403,
    );
    // The same key signed in to the console: the session has the key's scopes, no more.
    const signIn = await fetch(`${w.server.url}/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: runsKey }),
    });
    expect(signIn.status).toBe(201);
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
    const bySession = await fetch(approve, {
      method: 'POST',
      headers: { cookie, 'x-agentd-csrf': csrfToken, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(bySession.status).toBe(403);
    expect(((await bySession.json()) as { code: string }).code).toBe('insufficient_scope');
    // A revoked approvals key is no key at all.
    const keys = new ApiKeys(w.store);
    const revoked = await keys.create('revoked-approver', ['approvals']);
    await keys.revoke(revoked.record.id);
    const byRevoked = await fetch(approve, {
      method: 'POST',
      headers: { authorization: `Bearer ${revoked.key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(byRevoked.status).toBe(401);
    expect(await snapshot(w)).toEqual(before);

    // The approvals scope answers it: the answer names that key, with its audit entry.
    const approver = await keys.create('approver', ['approvals']);
    const answered = await fetch(approve, {
      method: 'POST',
      headers: { authorization: `Bearer ${approver.key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(answered.status).toBe(200);
    const record = await w.store.getApproval(w.approvalId);
    expect(record).toMatchObject({ status: 'approved', answeredBy: 'approver' });
    const audit = await w.store.listAudit();
    expect(audit.length).toBe(before.audit + 1);
    expect(audit.at(-1)?.seq).toBe(record?.answerAuditSeq);
  }, 120_000);
});

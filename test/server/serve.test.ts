import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/config/secret-box.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { defaultContainment, type ServerEntry } from '../../src/tools/registry/server-entry.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const secret = 'ghp_SERVEtestSECRETvalue0123456789';
const headerSecret = 'Bearer-upstream-SECRET-987654321';

function entry(name: string, over: Partial<ServerEntry> = {}): ServerEntry {
  return {
    name,
    source: { kind: 'command' },
    transport: { type: 'stdio', command: 'node', args: ['server.js'] },
    env: { LOG_LEVEL: 'info' },
    headers: {},
    secrets: [],
    secretHeaders: [],
    roots: [],
    containment: defaultContainment,
    enabled: true,
    ...over,
  };
}

const open: { server: RunningServer; store: SqliteStore }[] = [];
afterEach(async () => {
  for (const { server, store } of open.splice(0)) {
    await server.close();
    await store.close();
  }
});

async function setup(options: { rateLimitPerMinute?: number; allowedOrigins?: string[] } = {}) {
  const dir = tempDir();
  const store = new SqliteStore({ path: join(dir, 'agentd.db') });
  const registry = new Registry(store, SecretBox.forHome(dir, {}));
  const keys = new ApiKeys(store);
  const server = await startServer({
    store,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    ...options,
  });
  open.push({ server, store });
  const { key } = await keys.create('tests', ['registry']);
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}`, ...headers } });
  return { dir, store, registry, keys, server, key, get };
}

function rawGet(
  base: string,
  path: string,
  host: string,
): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${base}${path}`, { headers: { host } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode!, type: response.headers['content-type'], body }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { code: string; status: number; detail: string };
}

describe('agentd serve: access', () => {
  it('answers /health without a key, and nothing else', async () => {
    const { server } = await setup();
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', version: 'test' });
    for (const path of ['/v0/servers', '/openapi.json', '/nowhere']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await problemOf(response)).code).toBe('unauthenticated');
    }
  });

  it('refuses a wrong key, a revoked key and a key without the scope', async () => {
    const { keys, get, server, key } = await setup();
    const wrong = await fetch(`${server.url}/v0/servers`, {
      headers: { authorization: `Bearer ${key.slice(0, -2)}xx` },
    });
    expect(wrong.status).toBe(401);
    const runsOnly = await keys.create('runs only', ['runs']);
    const underScoped = await fetch(`${server.url}/v0/servers`, {
      headers: { authorization: `Bearer ${runsOnly.key}` },
    });
    expect(underScoped.status).toBe(403);
    const problem = await problemOf(underScoped);
    expect(problem.code).toBe('insufficient_scope');
    expect(problem.detail).toContain('"registry"');
    expect((await get('/v0/servers')).status).toBe(200);
    const [record] = await keys.list();
    await keys.revoke(record!.id);
    expect((await get('/v0/servers')).status).toBe(401);
  });

  it('refuses other Host names and Origins (DNS rebinding)', async () => {
    const { get } = await setup({ allowedOrigins: ['http://localhost:3000'] });
    // fetch cannot set Host, so this one goes over node:http
    const { server } = open[open.length - 1]!;
    const host = await rawGet(server.url, '/health', 'attacker.example');
    expect(host.status).toBe(403);
    expect(host.type).toBe('application/problem+json');
    expect(JSON.parse(host.body).code).toBe('host_not_allowed');
    expect((await rawGet(server.url, '/health', 'localhost:1234')).status).toBe(200);
    expect((await rawGet(server.url, '/health', '[::1]')).status).toBe(200);
    const origin = await get('/v0/servers', { origin: 'http://attacker.example' });
    expect(origin.status).toBe(403);
    expect((await problemOf(origin)).code).toBe('origin_not_allowed');
    expect((await get('/v0/servers', { origin: 'http://localhost:3000' })).status).toBe(200);
  });

  it('refuses an oversized body before reading it', async () => {
    const { server, key } = await setup();
    const response = await fetch(`${server.url}/v0/servers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ x: 'y'.repeat(2 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect((await problemOf(response)).code).toBe('body_too_large');
  });

  it('rate-limits each key with 429 and retry-after', async () => {
    const { get } = await setup({ rateLimitPerMinute: 60 });
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 15; i++) {
      const response = await get('/v0/servers');
      statuses.push(response.status);
      if (response.status === 429) limited = response;
      else await response.body?.cancel();
    }
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await problemOf(limited!)).code).toBe('rate_limited');
  });

  it('serves its OpenAPI document', async () => {
    const { get } = await setup();
    const doc = (await (await get('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/v0/servers', '/v0/servers/{serverName}/versions']),
    );
  });
});

describe('agentd serve: the MCP Registry read API', () => {
  it('lists enabled servers in the official format, without secret values', async () => {
    const { registry, get } = await setup();
    await registry.add(entry('github', { description: 'GitHub issues and pull requests' }), {
      GITHUB_TOKEN: secret,
    });
    await registry.add(
      entry('remote', {
        source: { kind: 'url' },
        transport: { type: 'http', url: 'https://user:pw@mcp.example.com/mcp?api_key=QUERYSECRET' },
        headers: { 'X-Team': 'core' },
      }),
      { Authorization: headerSecret },
    );
    await registry.update('remote', (e) => ({ ...e, secretHeaders: ['Authorization'] }));
    await registry.add(
      entry('fs-npm', {
        source: {
          kind: 'npm',
          package: '@modelcontextprotocol/server-filesystem',
          version: '2026.8.31',
        },
      }),
      {},
    );
    await registry.add(entry('off', { enabled: false }), {});
    await registry.setTools('github', [
      { name: 'create_issue', description: 'Open an issue', inputSchema: { type: 'object' } },
    ]);

    for (const base of ['/v0', '/v0.1']) {
      const response = await get(`${base}/servers`);
      expect(response.status).toBe(200);
      const text = await response.text();
      for (const hidden of [secret, headerSecret, 'QUERYSECRET', 'user:pw']) {
        expect(text).not.toContain(hidden);
      }
      const body = JSON.parse(text) as {
        servers: {
          server: Record<string, unknown>;
          _meta: Record<string, Record<string, unknown>>;
        }[];
        metadata: { count: number; nextCursor?: string };
      };
      expect(body.servers.map((s) => s.server.name)).toEqual([
        'local.agentd/fs-npm',
        'local.agentd/github',
        'local.agentd/remote',
      ]);
      expect(body.metadata).toEqual({ count: 3 });
      const github = body.servers[1]!;
      expect(github.server.description).toBe('GitHub issues and pull requests');
      expect(github._meta['io.modelcontextprotocol.registry/official']!.status).toBe('active');
      expect(github._meta['dev.agentd/registry']!.tools).toEqual([
        { name: 'create_issue', description: 'Open an issue' },
      ]);
      expect(body.servers[0]!.server.packages).toEqual([
        {
          registryType: 'npm',
          identifier: '@modelcontextprotocol/server-filesystem',
          version: '2026.8.31',
          transport: { type: 'stdio' },
          environmentVariables: [{ name: 'LOG_LEVEL', isSecret: false, isRequired: true }],
        },
      ]);
      expect(body.servers[2]!.server.remotes).toEqual([
        {
          type: 'streamable-http',
          url: 'https://mcp.example.com/mcp',
          headers: [
            { name: 'X-Team', isSecret: false, isRequired: true },
            { name: 'Authorization', isSecret: true, isRequired: true },
          ],
        },
      ]);
    }

    const tools = (await (await get('/registry/servers/github/tools')).json()) as {
      tools: { ref: string; inputSchema: unknown }[];
    };
    expect(tools.tools).toMatchObject([
      { ref: 'github.create_issue', inputSchema: { type: 'object' } },
    ]);
    const search = (await (await get('/registry/search?q=issue')).json()) as {
      tools: { ref: string }[];
    };
    expect(search.tools.map((t) => t.ref)).toEqual(['github.create_issue']);
    expect((await get('/registry/search')).status).toBe(400);
    expect((await get('/registry/servers/nope/tools')).status).toBe(404);

    const withDisabled = (await (await get('/v0/servers?include_deleted=true')).json()) as {
      servers: { server: { name: string }; _meta: Record<string, { status?: string }> }[];
    };
    const off = withDisabled.servers.find((s) => s.server.name === 'local.agentd/off');
    expect(off?._meta['io.modelcontextprotocol.registry/official']?.status).toBe('deleted');
  });

  it('pages with cursors, searches, and answers one server by either name', async () => {
    const { registry, get } = await setup();
    for (const name of ['alpha', 'beta', 'gamma']) await registry.add(entry(name), {});
    const first = (await (await get('/v0/servers?limit=2')).json()) as {
      servers: { server: { name: string } }[];
      metadata: { nextCursor?: string };
    };
    expect(first.servers.map((s) => s.server.name)).toEqual([
      'local.agentd/alpha',
      'local.agentd/beta',
    ]);
    const second = (await (
      await get(`/v0/servers?limit=2&cursor=${encodeURIComponent(first.metadata.nextCursor!)}`)
    ).json()) as { servers: { server: { name: string } }[]; metadata: { nextCursor?: string } };
    expect(second.servers.map((s) => s.server.name)).toEqual(['local.agentd/gamma']);
    expect(second.metadata.nextCursor).toBeUndefined();

    const found = (await (await get('/v0/servers?search=ETA')).json()) as {
      servers: { server: { name: string } }[];
    };
    expect(found.servers.map((s) => s.server.name)).toEqual(['local.agentd/beta']);

    for (const name of ['beta', encodeURIComponent('local.agentd/beta')]) {
      const latest = await get(`/v0/servers/${name}/versions/latest`);
      expect(latest.status).toBe(200);
      expect(((await latest.json()) as { server: { name: string } }).server.name).toBe(
        'local.agentd/beta',
      );
      const versions = (await (await get(`/v0/servers/${name}/versions`)).json()) as {
        servers: unknown[];
      };
      expect(versions.servers).toHaveLength(1);
    }
    const exact = await get('/v0/servers/beta/versions/0.0.0');
    expect(exact.status).toBe(200);
    const missing = await get('/v0/servers/nope/versions/latest');
    expect(missing.status).toBe(404);
    expect((await problemOf(missing)).code).toBe('not_found');
    const badVersion = await get('/v0/servers/beta/versions/9.9.9');
    expect(badVersion.status).toBe(404);
    const badLimit = await get('/v0/servers?limit=0');
    expect(badLimit.status).toBe(400);
    expect((await problemOf(badLimit)).detail).toContain('limit');
  });
});

describe('agentd keys and serve (CLI)', () => {
  it('prints a new key once, lists keys without it, and rejects unknown scopes in one line', async () => {
    const home = tempDir();
    const created = await agentd(['keys', 'create', '--name', 'ide', '--scopes', 'mcp,registry'], {
      home,
    });
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^agentd_[A-Za-z0-9_-]{40,}$/);
    const listed = await agentd(['keys', 'list', '--json'], { home });
    expect(listed.stdout).not.toContain(key);
    const [record] = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(record).toMatchObject({ name: 'ide', scopes: ['mcp', 'registry'] });
    expect(record.hash).toBeUndefined();

    const bad = await agentd(['keys', 'create', '--name', 'x', '--scopes', 'runs,everything'], {
      home,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('unknown scope "everything"');
    const revoke = await agentd(['keys', 'revoke', 'key_nope'], { home });
    expect(revoke.code).toBe(2);
    expect(revoke.stderr).toContain('no API key "key_nope"');
  });

  it('serves until SIGTERM and stops cleanly; a taken port is one line', async () => {
    const home = tempDir();
    let url = '';
    const served = await agentd(['serve', '--port', '0'], {
      home,
      onStdout: (text, kill) => {
        const match = /serving on (http:\/\/\S+)/.exec(text);
        if (match && !url) {
          url = match[1]!;
          void fetch(`${url}/health`)
            .then((r) => r.json())
            .then((body) => {
              expect(body).toMatchObject({ status: 'ok' });
              kill('SIGTERM');
            });
        }
      },
    });
    expect(served.code).toBe(0);
    expect(served.stdout).toContain('SIGTERM: stopping');

    const store = new SqliteStore({ path: join(tempDir(), 'agentd.db') });
    const busy = await startServer({ store, host: '127.0.0.1', port: 0, version: 'test' });
    try {
      const port = new URL(busy.url).port;
      const taken = await agentd(['serve', '--port', port], { home });
      expect(taken.code).toBe(2);
      expect(taken.stderr.trim()).toBe(
        `agentd: 127.0.0.1:${port} is already in use: pick another with --port`,
      );
    } finally {
      await busy.close();
      await store.close();
    }
  });
});

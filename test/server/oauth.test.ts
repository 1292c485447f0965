import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve as serveHttp } from '@hono/node-server';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { McpConnection } from '../../src/tools/mcp/mcp-connection.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { defaultContainment } from '../../src/tools/registry/server-entry.ts';
import { tempDir } from '../support/temp-dir.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<string> {
  return new Promise((resolve) => {
    const server = serveHttp({ fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}`),
    );
    cleanup.push(() => new Promise<void>((done) => server.close(() => done())));
  });
}

/** A local authorization server: its metadata and keys over HTTP, and a way to mint tokens. */
async function authorizationServer() {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  let issuer = '';
  issuer = await listen((request) => {
    const path = new URL(request.url).pathname;
    if (path === '/.well-known/oauth-authorization-server') {
      return Response.json({ issuer, jwks_uri: `${issuer}/jwks` });
    }
    if (path === '/jwks') return Response.json({ keys: [jwk] });
    return new Response('not found', { status: 404 });
  });
  const other = await generateKeyPair('ES256');
  const mint = (
    claims: JWTPayload,
    options: {
      key?: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
      expired?: boolean;
    } = {},
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime(options.expired ? Math.floor(Date.now() / 1000) - 60 : '5m')
      .sign(options.key ?? privateKey);
  return { issuer, mint, otherKey: other.privateKey };
}

const audience = 'http://agentd.test/mcp';

async function agentdWith(
  issuer: string,
  policy?: string,
): Promise<{
  server: RunningServer;
  store: SqliteStore;
  home: string;
}> {
  const home = tempDir();
  const config = loadConfig({ AGENTD_HOME: home });
  const store = new SqliteStore({ path: config.dbPath });
  const server = await startServer({
    store,
    config,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
    oauth: { issuer, audience },
    ...(policy ? { gatewayPolicy: { dir: policy } } : {}),
  });
  cleanup.push(
    () => store.close(),
    () => server.close(),
  );
  return { server, store, home };
}

describe('OAuth 2.1 resource-server mode', () => {
  it('accepts tokens of its issuer for its audience, with their scopes, and refuses the rest', async () => {
    const as = await authorizationServer();
    const { server } = await agentdWith(as.issuer);
    const get = (token?: string) =>
      fetch(`${server.url}/v0/servers`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });

    const ok = await get(await as.mint({ sub: 'alice', aud: audience, scope: 'agentd:registry' }));
    expect(ok.status).toBe(200);

    const none = await get();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain(
      `resource_metadata="${server.url}/.well-known/oauth-protected-resource"`,
    );
    const metadata = await (
      await fetch(`${server.url}/.well-known/oauth-protected-resource`)
    ).json();
    expect(metadata).toMatchObject({ resource: audience, authorization_servers: [as.issuer] });

    const cases: [string, string, RegExp][] = [
      [
        'another audience',
        await as.mint({ sub: 'alice', aud: 'http://elsewhere/mcp', scope: 'agentd:registry' }),
        /issued for another resource/,
      ],
      [
        'expired',
        await as.mint({ sub: 'alice', aud: audience, scope: 'agentd:registry' }, { expired: true }),
        /expired/,
      ],
      [
        'another key',
        await as.mint({ sub: 'alice', aud: audience }, { key: as.otherKey }),
        /does not verify/,
      ],
      ['no subject', await as.mint({ aud: audience, scope: 'agentd:registry' }), /no subject/],
    ];
    for (const [what, token, message] of cases) {
      const response = await get(token);
      expect(response.status, what).toBe(401);
      expect(((await response.json()) as { detail: string }).detail, what).toMatch(message);
    }
    const underScoped = await get(
      await as.mint({ sub: 'alice', aud: audience, scope: 'agentd:runs' }),
    );
    expect(underScoped.status).toBe(403);
    expect(((await underScoped.json()) as { detail: string }).detail).toContain('token:alice');
  });

  it('the gateway sees the token’s subject as the user, and never passes the token upstream', async () => {
    const as = await authorizationServer();
    // An upstream MCP server over HTTP that records every Authorization header it gets.
    const seen: (string | null)[] = [];
    const upstream = createMcpHandler(() => {
      const server = new McpServer({ name: 'upstream', version: '1.0.0' });
      server.registerTool(
        'whoami',
        { description: 'Says hello.', inputSchema: z.object({}) },
        async () => ({ content: [{ type: 'text', text: 'hello from upstream' }] }),
      );
      return server;
    });
    const upstreamUrl = await listen((request) => {
      seen.push(request.headers.get('authorization'));
      return upstream.fetch(request);
    });
    const policies = join(tempDir(), 'policies');
    mkdirSync(policies);
    writeFileSync(
      join(policies, 'p.cedar'),
      [
        // alice by name; anyone else whose token says they are in the ops group
        'permit (principal is Agent, action == Action::"up.whoami", resource) when { principal.user == User::"alice" };',
        'permit (principal is Agent, action == Action::"up.whoami", resource) when { principal has claims && principal.claims has groups && principal.claims.groups.contains("ops") };',
      ].join('\n'),
    );
    // Register the upstream with its own credential, and its tools, before serve starts.
    const home = tempDir();
    const config = loadConfig({ AGENTD_HOME: home });
    const setup = new SqliteStore({ path: config.dbPath });
    const registry = new Registry(setup, SecretBox.forHome(home, {}));
    await registry.add(
      {
        name: 'up',
        source: { kind: 'url' },
        transport: { type: 'http', url: `${upstreamUrl}/mcp` },
        env: {},
        headers: {},
        secrets: [],
        secretHeaders: ['Authorization'],
        roots: [],
        containment: defaultContainment,
        enabled: true,
      },
      { Authorization: 'Bearer upstream-credential-123' },
    );
    await registry.setTools('up', [
      { name: 'whoami', description: 'Says hello.', inputSchema: { type: 'object' } },
    ]);
    await setup.close();
    const store = new SqliteStore({ path: config.dbPath });
    const server = await startServer({
      store,
      config,
      host: '127.0.0.1',
      port: 0,
      version: 'test',
      log: () => {},
      oauth: { issuer: as.issuer, audience },
      gatewayPolicy: { dir: policies },
    });
    cleanup.push(
      () => store.close(),
      () => server.close(),
    );

    const token = await as.mint({ sub: 'alice', aud: audience, scope: 'agentd:mcp' });
    const client = new McpConnection({
      name: 'gateway',
      config: {
        transport: 'http',
        url: `${server.url}/mcp`,
        headers: { authorization: `Bearer ${token}` },
      },
    });
    cleanup.push(() => client.close());
    const result = await client.callTool('up__whoami', {});
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toContain('hello from upstream');
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h === 'Bearer upstream-credential-123')).toBe(true);
    expect(seen.some((h) => h?.includes(token))).toBe(false);
    const [entry] = await store.listAudit({ newestFirst: true, limit: 1 });
    expect(entry).toMatchObject({ action: 'up.whoami', user: 'alice', effect: 'allow' });

    // The token's claims are what policies see of it.
    const callAs = async (claims: Record<string, unknown>) => {
      const connection = new McpConnection({
        name: 'gateway',
        config: {
          transport: 'http',
          url: `${server.url}/mcp`,
          headers: {
            authorization: `Bearer ${await as.mint({ aud: audience, scope: 'agentd:mcp', ...claims })}`,
          },
        },
      });
      cleanup.push(() => connection.close());
      return connection.callTool('up__whoami', {});
    };
    expect((await callAs({ sub: 'bob', groups: ['ops'] })).isError).toBeFalsy();
    const outsider = await callAs({ sub: 'carol', groups: ['sales'] });
    expect(outsider.isError).toBe(true);
    expect(JSON.stringify(outsider.content)).toContain('Denied by policy');
    expect((await callAs({ sub: 'dave' })).isError).toBe(true);
  }, 60_000);
});

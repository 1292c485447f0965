import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { McpConnection } from '../../src/tools/mcp/mcp-connection.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { serverConfigFor } from '../../src/tools/registry/server-config.ts';
import { defaultContainment } from '../../src/tools/registry/server-entry.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const fixture = join(repoRoot, 'test/server/fixtures/conformance-server.ts');

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** A home with the conformance fixture registered as `fixture` (tools listed). */
async function home(gateway?: { prefix: boolean }): Promise<{ dir: string; store: SqliteStore }> {
  const dir = tempDir();
  const store = new SqliteStore({ path: loadConfig({ AGENTD_HOME: dir }).dbPath });
  const registry = new Registry(store, SecretBox.forHome(dir, {}));
  const entry = {
    name: 'fixture',
    source: { kind: 'command' as const },
    transport: { type: 'stdio' as const, command: process.execPath, args: [fixture] },
    env: {},
    headers: {},
    secrets: [],
    secretHeaders: [],
    roots: [],
    containment: { ...defaultContainment, sandbox: 'none' as const },
    enabled: true,
    ...(gateway ? { gateway } : {}),
  };
  await registry.add(entry, {});
  const lister = new McpConnection({ name: 'fixture', config: serverConfigFor(entry, {}, dir) });
  const tools = await lister.listTools();
  await lister.close();
  await registry.setTools(
    'fixture',
    tools.map((t) => ({
      name: t.name,
      description: t.description ?? '',
      inputSchema: t.inputSchema,
    })),
  );
  return { dir, store };
}

function policy(text: string): string {
  const dir = join(tempDir(), 'policies');
  mkdirSync(dir);
  writeFileSync(join(dir, 'gateway.cedar'), text);
  return dir;
}

async function serve(
  dir: string,
  store: SqliteStore,
  options: { policy?: string; gatewayOpen?: boolean } = {},
): Promise<RunningServer> {
  const server = await startServer({
    store,
    config: loadConfig({ AGENTD_HOME: dir }),
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
    ...(options.policy ? { gatewayPolicy: { dir: options.policy } } : {}),
    ...(options.gatewayOpen ? { gatewayOpen: true } : {}),
  });
  open.push({ close: () => store.close() }, { close: () => server.close() });
  return server;
}

/** The SDK's own client: 2026-07-28 (`auto`) or the 2025-11-25 handshake (`legacy`). */
async function sdkClient(
  url: string,
  key: string | undefined,
  mode: 'auto' | 'legacy',
  onElicit?: (message: string) => Record<string, unknown>,
): Promise<Client> {
  const client = new Client(
    { name: 'gateway-test', version: '1.0.0' },
    {
      versionNegotiation: { mode },
      capabilities: onElicit ? { elicitation: { form: {} } } : {},
      inputRequired: { autoFulfill: true },
    },
  );
  if (onElicit) {
    client.setRequestHandler('elicitation/create', async (request) => ({
      action: 'accept',
      content: onElicit(request.params.message) as Record<string, string>,
    }));
  }
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: key ? { authorization: `Bearer ${key}` } : {} },
    }),
  );
  open.push({ close: () => client.close() });
  return client;
}

const textOf = (result: { content?: unknown }) =>
  ((result.content ?? []) as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');

describe('the MCP gateway proxies more than tools', () => {
  it('resources, templates, prompts, completions, progress and input requests, each decided by policy', async () => {
    const { dir, store } = await home();
    const server = await serve(dir, store, {
      policy: policy(
        [
          'permit (principal, action == Action::"fixture.resources:read", resource)',
          '  when { context.input.uri == "test://static-text" || context.input.uri like "test://template/*" };',
          'permit (principal, action in [Action::"fixture.prompts:get", Action::"fixture.completion:complete"], resource);',
          'permit (principal, action in [Action::"fixture.test_tool_with_progress", Action::"fixture.test_input_required_result_elicitation"], resource);',
        ].join('\n'),
      ),
    });
    const { key } = await new ApiKeys(store).create('ide', ['mcp']);
    const client = await sdkClient(server.url, key, 'auto', () => ({ name: 'Ada' }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');

    // Resources keep their URIs; reads go to the server that listed them.
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(
      expect.arrayContaining(['test://static-text', 'test://static-binary']),
    );
    const read = await client.readResource({ uri: 'test://static-text' });
    expect(read.contents[0]).toMatchObject({
      uri: 'test://static-text',
      text: 'This is the content of the static text resource.',
    });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('test://template/{id}/data');
    const templated = await client.readResource({ uri: 'test://template/7/data' });
    expect(JSON.parse((templated.contents[0] as { text: string }).text)).toMatchObject({ id: '7' });

    // A read the policy does not permit never reaches the server.
    await expect(client.readResource({ uri: 'test://static-binary' })).rejects.toThrow(
      /Denied by policy/,
    );
    await expect(
      client.readResource({ uri: 'test://nonexistent-resource-for-conformance-testing' }),
    ).rejects.toThrow(/Resource not found|not found/i);

    // Prompts are namespaced like tools; completions go to the prompt's server.
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'fixture__test_simple_prompt',
        'fixture__test_prompt_with_arguments',
      ]),
    );
    const prompt = await client.getPrompt({
      name: 'fixture__test_prompt_with_arguments',
      arguments: { arg1: 'hello', arg2: 'world' },
    });
    expect((prompt.messages[0]!.content as { text: string }).text).toBe(
      "Prompt with arguments: arg1='hello', arg2='world'",
    );
    const completed = await client.complete({
      ref: { type: 'ref/prompt', name: 'fixture__test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'par' },
    });
    expect(completed.completion.values).toEqual(['paris', 'park', 'party']);

    // Progress the server reports reaches the caller, every notification before the result.
    const progress: number[] = [];
    const done = await client.callTool(
      { name: 'fixture__test_tool_with_progress', arguments: {} },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(textOf(done)).toBe('Tool with progress executed successfully');
    expect(progress).toEqual([0, 50, 100]);

    // The server's question goes to the caller (input_required) and the answer back to it.
    const greeted = await client.callTool({
      name: 'fixture__test_input_required_result_elicitation',
      arguments: {},
    });
    expect(textOf(greeted)).toBe('Hello, Ada!');

    const audit = await store.listAudit();
    expect(audit.map((a) => [a.action, a.effect, a.user])).toEqual(
      expect.arrayContaining([
        ['fixture.resources:read', 'allow', 'ide'],
        ['fixture.resources:read', 'deny', 'ide'],
        ['fixture.prompts:get', 'allow', 'ide'],
        ['fixture.completion:complete', 'allow', 'ide'],
        ['fixture.test_tool_with_progress', 'allow', 'ide'],
      ]),
    );
  }, 60_000);

  it('gives a 2025-11-25 client a session of its own, over which the server asks it questions', async () => {
    const { dir, store } = await home({ prefix: false });
    const server = await serve(dir, store, {
      policy: policy('permit (principal, action in Action::"fixture", resource);'),
    });
    const keys = new ApiKeys(store);
    const { key } = await keys.create('ide', ['mcp']);
    const client = await sdkClient(server.url, key, 'legacy', (message) => ({
      username: `answer to ${message}`,
      email: 'a@example.com',
    }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    const result = await client.callTool({
      name: 'test_elicitation',
      arguments: { message: 'who?' },
    });
    expect(textOf(result)).toContain('"username":"answer to who?"');

    // The session is the caller's: another key naming it finds no such session.
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId;
    expect(sessionId).toBeTruthy();
    const other = await keys.create('someone-else', ['mcp']);
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${other.key}`,
        'mcp-session-id': sessionId!,
        'mcp-protocol-version': '2025-11-25',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(response.status).toBe(404);
  }, 60_000);
});

describe('agentd serve --gateway-open (conformance tests only)', () => {
  it('serves /mcp without a key as "anonymous", on loopback only; other routes still need a key', async () => {
    const { dir, store } = await home({ prefix: false });
    await expect(
      startServer({
        store,
        config: loadConfig({ AGENTD_HOME: dir }),
        host: '0.0.0.0',
        port: 0,
        version: 'test',
        log: () => {},
        gatewayOpen: true,
      }),
    ).rejects.toThrow(/^--gateway-open: only on a loopback address .*"0\.0\.0\.0"/);

    const server = await serve(dir, store, {
      policy: policy('permit (principal, action == Action::"fixture.test_simple_text", resource);'),
      gatewayOpen: true,
    });
    const client = await sdkClient(server.url, undefined, 'auto');
    const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
    expect(textOf(result)).toBe('This is a simple text response for testing.');
    const [decision] = await store.listAudit();
    expect(decision).toMatchObject({ action: 'fixture.test_simple_text', user: 'anonymous' });

    expect((await fetch(`${server.url}/runs`)).status).toBe(401);
    // A key that is sent is still checked.
    const wrong = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer agentd_nope', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(wrong.status).toBe(401);
  }, 60_000);

  it('agentd serve refuses the flag on another address with one line', async () => {
    const dir = tempDir();
    const result = await agentd(['serve', '--gateway-open', '--host', '0.0.0.0', '--port', '0'], {
      home: dir,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toMatch(/^agentd: --gateway-open: only on a loopback address/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }, 30_000);
});

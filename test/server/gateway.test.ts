import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { bin } from '../mcp/support.ts';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** A home with server-everything registered (tools listed) and the example agents. */
async function home(): Promise<{ dir: string; store: SqliteStore }> {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'config.yaml'),
    `agent_dirs: ${JSON.stringify([join(repoRoot, 'examples')])}\n`,
  );
  const config = loadConfig({ AGENTD_HOME: dir });
  const store = new SqliteStore({ path: config.dbPath });
  const registry = new Registry(store, SecretBox.forHome(dir, {}));
  const entry = {
    name: 'everything',
    source: { kind: 'command' as const },
    transport: {
      type: 'stdio' as const,
      command: process.execPath,
      args: [bin('mcp-server-everything'), 'stdio'],
    },
    env: {},
    headers: {},
    secrets: [],
    secretHeaders: [],
    roots: [],
    containment: { ...defaultContainment, sandbox: 'none' as const },
    enabled: true,
  };
  await registry.add(entry, {});
  const lister = new McpConnection({
    name: 'everything',
    config: serverConfigFor(entry, {}, dir),
  });
  const tools = await lister.listTools();
  await lister.close();
  await registry.setTools(
    'everything',
    tools.map((t) => ({
      name: t.name,
      description: t.description ?? '',
      inputSchema: t.inputSchema,
    })),
  );
  return { dir, store };
}

function policyDir(text: string): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'gateway.cedar'), text);
  return join(dir, 'policies');
}

async function serve(homeDir: string, store: SqliteStore, policy?: string): Promise<RunningServer> {
  const server = await startServer({
    store,
    config: loadConfig({ AGENTD_HOME: homeDir }),
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
    ...(policy ? { gatewayPolicy: { dir: policy } } : {}),
  });
  open.push({ close: () => server.close() }, { close: () => store.close() });
  // the server closes first (the list is closed in reverse)
  open.reverse();
  return server;
}

function client(url: string, key: string): McpConnection {
  const connection = new McpConnection({
    name: 'gateway',
    config: { transport: 'http', url: `${url}/mcp`, headers: { authorization: `Bearer ${key}` } },
  });
  open.push({ close: () => connection.close() });
  return connection;
}

const text = (result: { content: unknown[] }) =>
  (result.content as { type: string; text?: string }[]).map((c) => c.text ?? '').join('\n');

describe('the MCP gateway at /mcp', () => {
  it('lists every registered tool namespaced by server, and forwards the calls policy permits', async () => {
    const { dir, store } = await home();
    const policy = policyDir(
      [
        'permit (principal, action == Action::"everything.echo", resource);',
        'permit (principal, action == Action::"registry:search", resource);',
        '@approval("required")\npermit (principal, action == Action::"everything.get-env", resource);',
        'permit (principal is Agent, action == Action::"agentd.launch_agent", resource) when { principal.user == User::"ide" };',
      ].join('\n'),
    );
    const server = await serve(dir, store, policy);
    const { key } = await new ApiKeys(store).create('ide', ['mcp']);
    const mcp = client(server.url, key);
    const tools = (await mcp.listTools()).map((t) => t.name);
    expect(tools).toEqual(
      expect.arrayContaining([
        'everything__echo',
        'everything__get-sum',
        'agentd__search_tools',
        'agentd__launch_agent',
      ]),
    );

    const echoed = await mcp.callTool('everything__echo', { message: 'through the gateway' });
    expect(echoed.isError).toBeFalsy();
    expect(text(echoed)).toContain('through the gateway');

    const denied = await mcp.callTool('everything__get-sum', { a: 1, b: 2 });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toMatch(/^Denied by policy: /);

    // A call a policy wants a person to approve: the gateway answers at once, so it is denied.
    const approval = await mcp.callTool('everything__get-env', {});
    expect(approval.isError).toBe(true);
    expect(text(approval)).toMatch(
      /the gateway cannot wait for an approval, so the call is denied/,
    );

    const found = await mcp.callTool('agentd__search_tools', { query: 'echo' });
    expect(text(found)).toMatch(/^everything__echo: /m);

    const launched = await mcp.callTool('agentd__launch_agent', {
      agent: 'unit-converter',
      task: 'Convert a marathon to km',
    });
    expect(launched.isError).toBeFalsy();
    expect(launched.structuredContent).toMatchObject({ status: 'completed' });
    expect(text(launched)).toMatch(/^run run_\w+ completed:/);

    // Every decision is in the audit log, with the caller as the user.
    const audit = await store.listAudit();
    expect(audit.map((a) => [a.action, a.effect, a.user])).toEqual(
      expect.arrayContaining([
        ['everything.echo', 'allow', 'ide'],
        ['everything.get-sum', 'deny', 'ide'],
        ['agentd.launch_agent', 'allow', 'ide'],
      ]),
    );
  }, 60_000);

  it('denies every call when no policy is set, and refuses keys without the mcp scope', async () => {
    const { dir, store } = await home();
    const server = await serve(dir, store);
    const keys = new ApiKeys(store);
    const { key } = await keys.create('ide', ['mcp']);
    const denied = await client(server.url, key).callTool('everything__echo', { message: 'x' });
    expect(denied.isError).toBe(true);
    expect(text(denied)).toContain('no policy set for the gateway');

    const runsOnly = await keys.create('runs', ['runs']);
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${runsOnly.key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(response.status).toBe(403);
    const anonymous = await fetch(`${server.url}/mcp`, { method: 'POST', body: '{}' });
    expect(anonymous.status).toBe(401);
  }, 60_000);

  it('a launched agent that needs a person’s approval returns the run and how to answer', async () => {
    const { dir, store } = await home();
    // An agent of this machine whose policy wants approval before it reads a file.
    const agents = join(dir, 'agents', 'careful');
    mkdirSync(join(agents, 'policies'), { recursive: true });
    writeFileSync(join(agents, 'notes.txt'), 'hello\n');
    writeFileSync(
      join(agents, 'agent.yaml'),
      [
        'name: careful',
        'model: scripted/careful',
        'script: ./script.yaml',
        'instructions: Read notes.txt.',
        'tools: [fs.read]',
      ].join('\n'),
    );
    writeFileSync(
      join(agents, 'script.yaml'),
      [
        'turns:',
        '  - text: Reading.',
        '    tool_calls:',
        '      - name: fs__read',
        '        input: { path: notes.txt }',
        '  - text: Done.',
      ].join('\n'),
    );
    writeFileSync(
      join(agents, 'policies', 'read.cedar'),
      '@approval("required")\npermit (principal, action == Action::"fs.read", resource);\n',
    );
    const policy = policyDir(
      'permit (principal, action == Action::"agentd.launch_agent", resource);',
    );
    const server = await serve(dir, store, policy);
    const { key } = await new ApiKeys(store).create('ide', ['mcp']);
    const launched = await client(server.url, key).callTool('agentd__launch_agent', {
      agent: 'careful',
      task: 'read the notes',
    });
    expect(launched.isError).toBeFalsy();
    expect(launched.structuredContent).toMatchObject({ status: 'awaiting_approval' });
    expect(text(launched)).toMatch(
      /^run run_\w+ is waiting for approval apr_\w+ of fs__read .*agentd approvals approve apr_\w+/,
    );
  }, 60_000);

  it('will not start with an invalid policy set', async () => {
    const { dir, store } = await home();
    const policy = policyDir('permit (principal, action == Action::"nope.nothing", resource);');
    await expect(serve(dir, store, policy)).rejects.toThrow(/^--policy: .*gateway\.cedar:1:\d+/);
    await store.close();
  }, 60_000);
});

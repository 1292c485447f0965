import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { runAgent } from '../../src/runtime/agent-loop.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { startServer } from '../../src/server/serve.ts';
import { openStore } from '../../src/store/open-store.ts';
import { parseTraceparent } from '../../src/telemetry/trace-ids.ts';
import { telemetryOf } from '../../src/telemetry/traced-store.ts';
import { McpConnection } from '../../src/tools/mcp/mcp-connection.ts';
import { mcpTool } from '../../src/tools/mcp/mcp-tool.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { serverConfigFor } from '../../src/tools/registry/server-config.ts';
import { defaultContainment } from '../../src/tools/registry/server-entry.ts';
import { bin, testServerConfig } from '../mcp/support.ts';
import { repoRoot } from '../support/cli.ts';
import { TurnModel } from '../support/models.ts';
import { otlpReceiver } from '../support/otlp-receiver.ts';
import { tempDir } from '../support/temp-dir.ts';

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

const callerTrace = '0af7651916cd43dd8448eb211c80319c';
const callerSpan = 'b7ad6b7169203331';

async function telemetryHome(receiverUrl: string) {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'config.yaml'),
    `agent_dirs: ${JSON.stringify([join(repoRoot, 'examples')])}\ntelemetry:\n  enabled: true\n  endpoint: ${receiverUrl}\n`,
  );
  const config = loadConfig({ AGENTD_HOME: dir, OTEL_BSP_SCHEDULE_DELAY: '0' });
  return { dir, config };
}

describe('agentd serve with telemetry', () => {
  it('traces each /mcp call as a server span of the caller trace, runs it starts, and serves /metrics', async () => {
    const receiver = await otlpReceiver();
    open.push(receiver);
    const { dir, config } = await telemetryHome(receiver.url);
    const store = openStore(config, { prometheus: true });
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
    mkdirSync(join(dir, 'policies'));
    writeFileSync(
      join(dir, 'policies', 'gateway.cedar'),
      'permit (principal, action == Action::"everything.echo", resource);\npermit (principal, action == Action::"agentd.launch_agent", resource);\n',
    );
    const logLines: string[] = [];
    const server = await startServer({
      store,
      config,
      host: '127.0.0.1',
      port: 0,
      version: 'test',
      log: () => {},
      gatewayPolicy: { dir: join(dir, 'policies') },
      requestLog: { write: (line: string) => void logLines.push(line) },
    });
    open.push({ close: () => store.close() }, { close: () => server.close() });
    const { key } = await new ApiKeys(store).create('ide', ['mcp', 'runs', 'metrics']);

    // An MCP client inside the caller's trace.
    const gateway = new McpConnection({
      name: 'gateway',
      config: {
        transport: 'http',
        url: `${server.url}/mcp`,
        headers: {
          authorization: `Bearer ${key}`,
          traceparent: `00-${callerTrace}-${callerSpan}-01`,
        },
      },
    });
    open.push({ close: () => gateway.close() });
    const echoed = await gateway.callTool('everything__echo', { message: 'hello' });
    expect(echoed.isError).toBeFalsy();
    await receiver.waitFor((spans) => spans.some((s) => s.name === 'tools/call everything__echo'));
    const call = receiver.spans.find((s) => s.name === 'tools/call everything__echo')!;
    expect(call).toMatchObject({ traceId: callerTrace, parentSpanId: callerSpan, kind: 2 });
    expect(call.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'everything__echo',
    });
    expect(JSON.stringify(call)).not.toContain('hello');

    // A run the gateway launches is a child of the call's span.
    const launched = await gateway.callTool('agentd__launch_agent', {
      agent: 'unit-converter',
      task: 'Convert a marathon to km',
    });
    expect(launched.isError).toBeFalsy();
    await receiver.waitFor((spans) => spans.some((s) => s.name === 'invoke_agent unit-converter'));
    const launch = receiver.spans.find((s) => s.name === 'tools/call agentd__launch_agent')!;
    const launchedRun = receiver.spans.find((s) => s.name === 'invoke_agent unit-converter')!;
    expect(launchedRun).toMatchObject({ traceId: callerTrace, parentSpanId: launch.spanId });

    // A run started over HTTP with a traceparent joins that trace.
    const otherTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const started = await fetch(`${server.url}/runs`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        traceparent: `00-${otherTrace}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ agent: 'unit-converter', task: '100 F in C' }),
    });
    expect(started.status).toBe(201);
    await receiver.waitFor((spans) =>
      spans.some((s) => s.name.startsWith('invoke_agent') && s.traceId === otherTrace),
    );
    const httpRun = receiver.spans.find(
      (s) => s.name.startsWith('invoke_agent') && s.traceId === otherTrace,
    )!;
    expect(httpRun.parentSpanId).toBe('00f067aa0ba902b7');
    const children = receiver.spans.filter((s) => s.parentSpanId === httpRun.spanId);
    expect(children.map((s) => s.name)).toEqual(expect.arrayContaining(['execute_tool convert']));

    // Metrics in Prometheus text, for a key with the metrics scope.
    const metrics = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^gen_ai_client_token_usage_bucket\{/m);
    expect(text).toMatch(/^gen_ai_client_operation_duration_count\{/m);
    expect(text).toMatch(/^agentd_runs_finished_total\{.*agentd_run_status="completed".*\} 2$/m);
    const { key: other } = await new ApiKeys(store).create('nope', ['runs']);
    const refused = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(refused.status).toBe(403);

    // Request logs are JSON lines with the trace id of the call.
    const logged = logLines
      .flatMap((line) => line.trim().split('\n'))
      .map((line) => JSON.parse(line));
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: 'request',
          method: 'POST',
          path: '/mcp',
          trace_id: callerTrace,
        }),
        expect.objectContaining({ path: '/runs', status: 201, trace_id: otherTrace }),
      ]),
    );
  }, 60_000);
});

describe('MCP calls of a traced run', () => {
  it('carry the execute_tool span as traceparent in _meta', async () => {
    const receiver = await otlpReceiver();
    open.push(receiver);
    const { dir, config } = await telemetryHome(receiver.url);
    const store = openStore(config);
    open.push({ close: () => store.close() });
    await telemetryOf(store);
    const connection = new McpConnection({ name: 'fixture', config: testServerConfig(dir) });
    open.push({ close: () => connection.close() });
    const definition = (await connection.listTools()).find((t) => t.name === 'trace-context')!;
    const tool = mcpTool(connection, definition);
    const result = await runAgent({
      store,
      agent: {
        name: 'propagator',
        instructions: 'Call the tool.',
        model: new TurnModel([{ calls: [{ name: tool.name, input: {} }] }, { text: 'done' }]),
        tools: [tool],
      },
      task: 'what trace am I in?',
    });
    expect(result.state.status).toBe('completed');
    await receiver.waitFor((spans) => spans.some((s) => s.name.startsWith('invoke_agent')));
    const toolSpan = receiver.spans.find((s) => s.name === `execute_tool ${tool.name}`)!;
    const seen = result.state.messages
      .flatMap((m) => (m.role === 'tool' ? m.results : []))
      .map((r) => String(r.output))[0]!;
    expect(parseTraceparent(seen)).toEqual({
      traceId: toolSpan.traceId,
      spanId: toolSpan.spanId,
      sampled: true,
    });
  }, 30_000);
});

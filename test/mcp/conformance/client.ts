/**
 * agentd's MCP client under the MCP conformance suite. The suite starts a mock server per
 * scenario and runs this program with the server's URL as the last argument, the scenario in
 * MCP_CONFORMANCE_SCENARIO and, for some, JSON in MCP_CONFORMANCE_CONTEXT.
 *
 * It does what agentd does with a server: connect through McpConnection (version
 * negotiation auto: 2026-07-28 or 2025-11-25), list the tools as agentd tools and call them
 * (arguments from the scenario's context, else made from each tool's schema), then list and
 * read resources and prompts when the server has them. OAuth runs headless (the suite's
 * authorization server approves without a person). Exit 0 when the scenario ran through.
 *
 *   node test/mcp/conformance/client.ts <url>
 */
import type { ElicitRequestParams, ElicitResult } from '@modelcontextprotocol/client';
import { McpConnection } from '../../../src/tools/mcp/mcp-connection.ts';
import { mcpTools } from '../../../src/tools/mcp/mcp-tool.ts';
import type { Tool } from '../../../src/tools/tool.ts';
import { type ScenarioContext, scenarioAuth } from './scenario-auth.ts';

type Context = ScenarioContext & {
  toolCalls?: { name: string; arguments?: Record<string, unknown> }[];
};

const log = (...parts: unknown[]) => console.error('[agentd-conformance]', ...parts);

/** Arguments some scenarios check for, by tool name, given the tools agentd holds. */
const knownArguments: Record<
  string,
  (tools: ReadonlyMap<string, Tool>) => Record<string, unknown>
> = {
  add_numbers: () => ({ a: 5, b: 3 }),
  // Sends back the schema agentd keeps for the tool (what a model is given), to show it whole.
  json_schema_echo: (tools) => ({
    schema: tools.get('json_schema_2020_12_tool')?.inputSchema ?? {},
  }),
};

/** Accepts whatever a server asks (leaving out fields, so the SDK applies their defaults). */
async function acceptElicitation(request: ElicitRequestParams): Promise<ElicitResult> {
  log('elicitation:', request.message);
  return { action: 'accept', content: {} };
}

/** Arguments for a tool from its input schema: defaults, examples, enums, else simple values. */
function sampleArguments(
  tool: Tool,
  name: string,
  tools: ReadonlyMap<string, Tool>,
): Record<string, unknown> {
  const known = knownArguments[name];
  if (known) return known(tools);
  const schema = tool.inputSchema as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const args: Record<string, unknown> = {};
  for (const key of schema.required ?? []) {
    const property = schema.properties?.[key] ?? {};
    args[key] = sampleValue(property);
  }
  return args;
}

function sampleValue(property: Record<string, unknown>): unknown {
  if ('default' in property) return property.default;
  if (Array.isArray(property.examples) && property.examples.length) return property.examples[0];
  if (Array.isArray(property.enum) && property.enum.length) return property.enum[0];
  switch (property.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'test';
  }
}

async function run(url: string, scenario: string, context: Context): Promise<void> {
  const connection = new McpConnection({
    name: 'conformance',
    config: {
      transport: 'http',
      url,
      headers: {},
      callTimeoutMs: 20_000,
      ...scenarioAuth(scenario, context),
    },
    elicitation: { handler: acceptElicitation, applyDefaults: true },
  });
  try {
    await connection.connect();
    log('connected:', connection.protocolVersion, JSON.stringify(connection.serverInfo));
    const tools = await mcpTools(connection);
    const byServerName = new Map(
      tools.map((tool, index) => [tool.name.slice('conformance__'.length), { tool, index }]),
    );
    const calls =
      context.toolCalls ??
      [...byServerName.entries()].map(([name, { tool }]) => ({
        name,
        arguments: sampleArguments(
          tool,
          name,
          new Map([...byServerName].map(([key, value]) => [key, value.tool])),
        ),
      }));
    for (const call of calls) {
      const found = byServerName.get(call.name);
      if (!found) {
        log(`tool ${call.name} is not listed`);
        continue;
      }
      const args = call.arguments ?? {};
      try {
        const output = await found.tool.execute(args, {
          signal: AbortSignal.timeout(30_000),
          runId: 'conformance',
          callId: `call-${found.index}`,
          idempotencyKey: `conformance:${found.index}`,
          repeated: false,
        });
        log(`tool ${call.name}:`, JSON.stringify(output).slice(0, 200));
      } catch (error) {
        log(`tool ${call.name} failed:`, (error as Error).message);
      }
    }
    const capabilities = connection.capabilities ?? {};
    if (capabilities.resources) {
      for (const resource of (await connection.listResources()).slice(0, 5)) {
        await connection.readResource(resource.uri).catch((error: Error) => {
          log(`resource ${resource.uri} failed:`, error.message);
        });
      }
    }
    if (capabilities.prompts) {
      for (const prompt of (await connection.listPrompts()).slice(0, 5)) {
        await connection.getPrompt(prompt.name).catch((error: Error) => {
          log(`prompt ${prompt.name} failed:`, error.message);
        });
      }
    }
  } finally {
    await connection.close();
  }
}

const url = process.argv.at(-1) ?? '';
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || '{}') as Context;
if (!url.startsWith('http')) {
  log(
    'usage: MCP_CONFORMANCE_SCENARIO=<scenario> node test/mcp/conformance/client.ts <server-url>',
  );
  process.exit(2);
}
log(
  `scenario ${scenario} at ${url}${process.env.MCP_CONFORMANCE_CONTEXT ? ` context ${process.env.MCP_CONFORMANCE_CONTEXT}` : ''}`,
);
try {
  await run(url, scenario, context);
  process.exit(0);
} catch (error) {
  log('failed:', (error as Error).message);
  process.exit(1);
}

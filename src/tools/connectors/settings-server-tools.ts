import { z } from 'zod';
import { describeTransport, type ServerEntry } from '../registry/server-entry.ts';
import { builtinServers, isBuiltinServer } from '../tool-ref.ts';
import { ConnectorError } from './connector-error.ts';
import { changing, reading, type SettingsTools } from './settings-tools.ts';
import { textResult } from './tool-result.ts';

const containmentOut = z.object({
  sandbox: z.string(),
  network: z.boolean(),
  callTimeoutMs: z.number(),
  maxOutputBytes: z.number(),
});

const serverSchema = z.object({
  name: z.string(),
  title: z.string().optional(),
  transport: z.enum(['stdio', 'http']),
  runs_as: z.string(),
  enabled: z.boolean(),
  tools: z.number().int().nullable().describe('null: not listed yet'),
  containment: containmentOut,
  secrets: z.array(z.string()).describe('names only; values are never shown'),
});

const serverName = z
  .string()
  .min(1)
  .describe('The name of a registered MCP server, as list_servers shows it');

/**
 * The `settings` tools about the registry's MCP servers: list_servers and show_server, and
 * unless read-only enable_server and disable_server.
 */
export function registerServerTools(tools: SettingsTools): void {
  registerListServers(tools);
  registerShowServer(tools);
  registerEnableDisable(tools);
}

/** `list_servers`: every registered server, with its containment and secrets' names. */
function registerListServers({ server, respond, withRegistry }: SettingsTools): void {
  server.registerTool(
    'list_servers',
    {
      title: 'List MCP servers',
      description: `List the MCP servers registered on this machine: name, transport, whether enabled, how many tools were listed, containment (sandbox, network, limits) and the names of their secrets (never the values). The built-in connectors (${builtinServers.join(', ')}) are not in the registry.`,
      inputSchema: z.object({}),
      outputSchema: z.object({ servers: z.array(serverSchema), builtin: z.array(z.string()) }),
      annotations: { title: 'List MCP servers', ...reading },
    },
    () =>
      respond(
        () =>
          withRegistry(async (registry) => {
            const entries = await registry.list();
            const counts = new Map<string, number>();
            for (const tool of await registry.tools()) {
              counts.set(tool.server, (counts.get(tool.server) ?? 0) + 1);
            }
            const servers = entries.map((e) => serverSummary(e, counts.get(e.name) ?? null));
            const lines = servers.map(
              (s) =>
                `- ${s.name}: ${s.enabled ? 'enabled' : 'disabled'}, ${s.tools === null ? 'tools not listed yet' : `${s.tools} tool${s.tools === 1 ? '' : 's'}`}, ${s.runs_as}, ${describeContainment(s)}${s.secrets.length ? `, secrets: ${s.secrets.join(', ')}` : ''}`,
            );
            const text = [
              servers.length
                ? `${servers.length} registered MCP server${servers.length === 1 ? '' : 's'}:`
                : 'No MCP servers are registered (a person adds them with agentd mcp add).',
              ...lines,
              `Built-in connectors (not in the registry): ${builtinServers.join(', ')}.`,
            ].join('\n');
            return textResult(text, { servers, builtin: [...builtinServers] });
          }),
        true,
      ),
  );
}

/** `show_server`: one registered server in full, its tools included. */
function registerShowServer({ server, respond, withRegistry }: SettingsTools): void {
  server.registerTool(
    'show_server',
    {
      title: 'Show an MCP server',
      description:
        'Show one registered MCP server: how it runs, where it came from, its containment, roots, environment variables and headers, the names of its secrets (never the values), and its tools with their descriptions.',
      inputSchema: z.object({ name: serverName }),
      annotations: { title: 'Show an MCP server', ...reading },
    },
    ({ name }) =>
      respond(
        () =>
          withRegistry(async (registry) => {
            const entry = await registry.get(checkNotBuiltin(name));
            const tools = await registry.tools(name);
            const shown = {
              ...serverSummary(entry, tools.length || null),
              ...(entry.description ? { description: entry.description } : {}),
              ...(entry.version ? { version: entry.version } : {}),
              source: entry.source,
              roots: entry.roots,
              env: entry.env,
              headers: entry.headers,
              tool_list: tools.map((t) => ({ name: t.name, description: t.description })),
            };
            return textResult(JSON.stringify(shown, null, 2), shown);
          }),
        true,
      ),
  );
}

/** `enable_server` and `disable_server`, unless read-only. */
function registerEnableDisable({ server, respond, withRegistry, readOnly }: SettingsTools): void {
  if (!readOnly) {
    for (const [verb, enabled] of [
      ['enable', true],
      ['disable', false],
    ] as const) {
      server.registerTool(
        `${verb}_server`,
        {
          title: `${enabled ? 'Enable' : 'Disable'} an MCP server`,
          description: enabled
            ? 'Enable a registered MCP server in the registry, so agents whose specs name its tools can use it (from their next run).'
            : 'Disable a registered MCP server in the registry: agents whose specs name its tools will not start until it is enabled again. Runs already going keep it.',
          inputSchema: z.object({ name: serverName }),
          annotations: { title: `${enabled ? 'Enable' : 'Disable'} an MCP server`, ...changing },
        },
        ({ name }) =>
          respond(
            () =>
              withRegistry(async (registry) => {
                const before = await registry.get(checkNotBuiltin(name));
                await registry.update(name, (entry) => ({ ...entry, enabled }));
                const state = enabled ? 'enabled' : 'disabled';
                return textResult(
                  before.enabled === enabled
                    ? `"${name}" was already ${state}`
                    : `"${name}" is now ${state}`,
                  { name, enabled },
                );
              }),
            true,
          ),
      );
    }
  }
}

function checkNotBuiltin(name: string): string {
  if (isBuiltinServer(name)) {
    throw new ConnectorError(
      `"${name}" is a built-in connector, not a registered server: it cannot be shown, enabled or disabled here (an agent has it when its spec names its tools)`,
    );
  }
  return name;
}

function serverSummary(entry: ServerEntry, tools: number | null): z.output<typeof serverSchema> {
  return {
    name: entry.name,
    ...(entry.title ? { title: entry.title } : {}),
    transport: entry.transport.type,
    runs_as: describeTransport(entry),
    enabled: entry.enabled,
    tools,
    containment: { ...entry.containment },
    secrets: [...entry.secrets, ...entry.secretHeaders],
  };
}

function describeContainment(server: z.output<typeof serverSchema>): string {
  const c = server.containment;
  if (server.transport === 'http') return `remote, ${c.callTimeoutMs} ms a call`;
  const sandbox =
    c.sandbox === 'none'
      ? 'no sandbox'
      : c.sandbox === 'auto'
        ? 'sandboxed where bwrap is installed'
        : 'bubblewrap sandbox';
  return `${sandbox}, ${c.network ? 'network' : 'no network'}, ${c.callTimeoutMs} ms a call`;
}

import { AgentdError, errorMessage } from '../core/errors.ts';
import type { McpConnection } from './mcp/mcp-connection.ts';
import type { Registry } from './registry/registry.ts';
import type { Tool } from './tool.ts';
import { type ToolOrigin, withOrigin } from './tool-origin.ts';
import { isBuiltinServer } from './tool-ref.ts';
import type { OfferedTool, PromptRequest, ToolsetOptions } from './toolset.ts';

/**
 * The names resource tools have as the policy sees them (`<server>.resources:list`): MCP tool
 * names cannot hold a colon, so they never clash with a server's own tools.
 */
export const resourceToolNames = { list: 'resources:list', read: 'resources:read' } as const;

/** The MCP client and connectors: loaded only for agents that use servers. */
export function loadMcpModules() {
  return Promise.all([
    import('./mcp/mcp-connection.ts'),
    import('./mcp/mcp-tool.ts'),
    import('./builtin-servers.ts'),
    import('./registry/server-config.ts'),
    import('./mcp/resource-tools.ts'),
  ]);
}

export type McpModules = Awaited<ReturnType<typeof loadMcpModules>>;

/** What a toolset gathers while it connects its servers, one after the other. */
export interface ToolsetBuild {
  options: ToolsetOptions;
  mcp: McpModules;
  /** The registry, opened on first use. */
  registry: () => Promise<Registry>;
  tools: Tool[];
  offered: OfferedTool[];
  /** Tool names given so far (a later tool of the same name gets another). */
  taken: Set<string>;
  secrets: string[];
  /** Every connection made, for closing: a connection is in it before it is used. */
  connections: Map<string, McpConnection>;
}

/** One server the spec refers to: the tools it names ('*' for all) and what else it wants. */
export interface ServerUse {
  server: string;
  names: ReadonlySet<string>;
  resources: boolean;
  prompt?: PromptRequest;
}

type ToolDefinition = Awaited<ReturnType<McpConnection['listTools']>>[number];

/**
 * Connects one server and adds what the spec asks of it to the build: the named tools, every
 * tool as offered, the resource tools. Returns the prompt's text when `use.prompt` asks for one.
 */
export async function addServer(build: ToolsetBuild, use: ServerUse): Promise<string | undefined> {
  const { server } = use;
  const [, { mcpTool }, , , { resourceTools, promptText: textOfPrompt }] = build.mcp;
  const connection = await connect(build, server);
  build.connections.set(server, connection);
  const definitions = await listTools(build, connection, server);
  const chosen = chooseTools(definitions, use.names, server, build.options.specPath);
  const originOf = (tool: string): ToolOrigin =>
    isBuiltinServer(server)
      ? { kind: 'connector', server, tool }
      : {
          kind: connection.config.transport === 'http' ? 'mcp-http' : 'mcp-stdio',
          server,
          tool,
        };
  for (const definition of definitions) {
    build.offered.push({
      origin: originOf(definition.name),
      description: definition.description ?? definition.title ?? '',
      inputSchema: definition.inputSchema as Tool['inputSchema'],
    });
  }
  for (const definition of chosen) {
    const tool = mcpTool(connection, definition, {
      taken: build.taken,
      // Built-in connectors learn which run and call they serve (memory provenance).
      ...(isBuiltinServer(server) ? { runMeta: true } : {}),
      ...(build.options.onProgress ? { onProgress: build.options.onProgress } : {}),
    });
    build.tools.push(withOrigin(tool, originOf(definition.name)));
  }
  const text = use.prompt
    ? await fetchPrompt(connection, server, use.prompt, textOfPrompt)
    : undefined;
  if (use.resources) {
    const [list, read] = resourceTools(connection, build.taken);
    for (const [tool, name] of [
      [list!, resourceToolNames.list],
      [read!, resourceToolNames.read],
    ] as const) {
      build.offered.push({
        origin: originOf(name),
        description: tool.description,
        inputSchema: tool.inputSchema,
      });
      build.tools.push(withOrigin(tool, originOf(name)));
    }
  }
  return text;
}

/** A connection to a built-in connector, or to a registered and enabled server. */
async function connect(build: ToolsetBuild, server: string): Promise<McpConnection> {
  const { options } = build;
  const { specPath } = options;
  const [{ McpConnection }, , { builtinServerConfig }, { serverConfigFor }] = build.mcp;
  if (isBuiltinServer(server)) {
    let config: ReturnType<typeof builtinServerConfig>;
    try {
      config = builtinServerConfig(
        server,
        options.connectors,
        options.cwd,
        options.config,
        options.memory,
      );
    } catch (error) {
      throw new AgentdError('tool_load_failed', `${specPath}: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    return new McpConnection({ name: server, config });
  }
  const reg = await build.registry();
  const entry = await reg.get(server).catch(() => {
    throw new AgentdError(
      'tool_load_failed',
      `${specPath}: tools: no MCP server "${server}" is registered (see agentd mcp list, or add it with agentd mcp add ${server} ...)`,
    );
  });
  if (!entry.enabled) {
    throw new AgentdError(
      'tool_load_failed',
      `${specPath}: tools: MCP server "${server}" is disabled (agentd mcp enable ${server})`,
    );
  }
  const values = await reg.secretsOf(server);
  build.secrets.push(...Object.values(values));
  return new McpConnection({
    name: server,
    config: serverConfigFor(entry, values, options.config.home),
    roots: entry.roots,
  });
}

/** The server's tools (starting it); a registered server's are kept in the registry. */
async function listTools(
  build: ToolsetBuild,
  connection: McpConnection,
  server: string,
): Promise<ToolDefinition[]> {
  let definitions: ToolDefinition[];
  try {
    definitions = await connection.listTools();
  } catch (error) {
    throw new AgentdError(
      'tool_load_failed',
      `${build.options.specPath}: tools: cannot start MCP server "${server}": ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  if (!isBuiltinServer(server)) {
    await (await build.registry()).setTools(
      server,
      definitions.map((d) => ({
        name: d.name,
        description: d.description ?? d.title ?? '',
        inputSchema: d.inputSchema,
        ...(d.annotations ? { annotations: d.annotations } : {}),
      })),
    );
  }
  return definitions;
}

/** The tools the spec names, or all of them for '*'; a name the server lacks is refused. */
function chooseTools(
  definitions: ToolDefinition[],
  names: ReadonlySet<string>,
  server: string,
  specPath: string,
): ToolDefinition[] {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  return names.has('*')
    ? definitions
    : [...names].map((name) => {
        const found = byName.get(name);
        if (!found) {
          throw new AgentdError(
            'tool_load_failed',
            `${specPath}: tools: MCP server "${server}" has no tool "${name}" (it has: ${definitions.map((d) => d.name).join(', ') || 'none'})`,
          );
        }
        return found;
      });
}

/** The text of the MCP prompt asked for with `--prompt`, or a usage error naming its arguments. */
async function fetchPrompt(
  connection: McpConnection,
  server: string,
  prompt: PromptRequest,
  textOfPrompt: McpModules[4]['promptText'],
): Promise<string> {
  const prompts = await connection.listPrompts().catch(() => []);
  if (!prompts.some((p) => p.name === prompt.name)) {
    throw new AgentdError(
      'usage',
      `--prompt: MCP server "${server}" has no prompt "${prompt.name}" (it has: ${prompts.map((p) => p.name).join(', ') || 'none'})`,
    );
  }
  try {
    return textOfPrompt(await connection.getPrompt(prompt.name, prompt.arguments));
  } catch (error) {
    const wanted = prompts.find((p) => p.name === prompt.name)?.arguments ?? [];
    const described = wanted.map((a) => `${a.name}${a.required ? ' (required)' : ''}`);
    throw new AgentdError(
      'usage',
      `--prompt ${server}/${prompt.name}: ${errorMessage(error)} (its arguments: ${described.join(', ') || 'none'}; give them with --arg name=value)`,
      { cause: error },
    );
  }
}

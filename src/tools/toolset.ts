import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { ConnectorOptions } from '../definition/agent-spec.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import type { MemoryConnectorContext } from './connectors/memory-server.ts';
import { defineTool } from './define-tool.ts';
import { loadTools } from './load-tools.ts';
import type { McpConnection } from './mcp/mcp-connection.ts';
import type { McpToolOptions } from './mcp/mcp-tool.ts';
import type { Registry } from './registry/registry.ts';
import type { Tool } from './tool.ts';
import { type ToolOrigin, withOrigin } from './tool-origin.ts';
import { isBuiltinServer, type ToolSource } from './tool-ref.ts';

export interface Toolset {
  tools: Tool[];
  /** Secret values the servers were given: redact them wherever run text is written. */
  secrets: string[];
  /**
   * Every tool of every server the toolset connected, named in the spec or not: the policy
   * schema knows them all, so one policy set can speak of tools some agents do not use.
   */
  offered: OfferedTool[];
  /** The text of the MCP prompt `ToolsetOptions.prompt` asked for. */
  promptText?: string;
  /** Stops the servers the toolset started. */
  close(): Promise<void>;
}

/** An MCP prompt to fetch from one of the servers (it becomes the task, or its start). */
export interface PromptRequest {
  server: string;
  name: string;
  arguments: Record<string, string>;
}

export interface OfferedTool {
  origin: ToolOrigin;
  description: string;
  inputSchema: Tool['inputSchema'];
}

export interface ToolsetOptions {
  sources: readonly ToolSource[];
  /** For error messages: the spec file the sources come from. */
  specPath: string;
  connectors: ConnectorOptions;
  config: Config;
  /** The folder the agent runs in. */
  cwd: string;
  onProgress?: McpToolOptions['onProgress'];
  prompt?: PromptRequest;
  /** Who the memory connector works for. */
  memory?: MemoryConnectorContext;
}

/**
 * The tools an agent's spec names, ready to call: modules imported, built-in connectors and
 * registered MCP servers connected (each once, however many of its tools are named). Every
 * name is checked before the run starts: an unknown server or tool is one clear line.
 */
export async function openToolset(options: ToolsetOptions): Promise<Toolset> {
  const { specPath } = options;
  const connections = new Map<string, McpConnection>();
  const secrets: string[] = [];
  let registry: { registry: Registry; store: Store } | undefined;
  // The registry (and its entries' schemas) loads only for agents that use its servers.
  const openRegistry = async () => {
    if (!registry) {
      const [{ Registry }, { SecretBox }] = await Promise.all([
        import('./registry/registry.ts'),
        import('../config/secret-box.ts'),
      ]);
      const store = openStore(options.config);
      registry = {
        registry: new Registry(store, SecretBox.forHome(options.config.home, options.config.env)),
        store,
      };
    }
    return registry.registry;
  };
  const close = async () => {
    await Promise.allSettled([...connections.values()].map((c) => c.close()));
    await registry?.store.close();
  };

  try {
    const tools: Tool[] = [];
    const offered: OfferedTool[] = [];
    const taken = new Set<string>();
    const modules = options.sources.flatMap((s) => (s.kind === 'module' ? [s] : []));
    for (const tool of await loadTools(modules, specPath)) {
      tools.push(tool);
      taken.add(tool.name);
    }
    // Server references, grouped so each server starts once.
    const wanted = new Map<string, Set<string>>();
    const withResources = new Set<string>();
    for (const source of options.sources) {
      if (source.kind !== 'server' && source.kind !== 'resources') continue;
      const set = wanted.get(source.server) ?? new Set<string>();
      if (source.kind === 'server') set.add(source.tool);
      else withResources.add(source.server);
      wanted.set(source.server, set);
    }
    const prompt = options.prompt;
    if (prompt && !wanted.has(prompt.server)) wanted.set(prompt.server, new Set());
    let promptText: string | undefined;
    // The MCP client and connectors load only for agents that use servers.
    const mcp = wanted.size
      ? await Promise.all([
          import('./mcp/mcp-connection.ts'),
          import('./mcp/mcp-tool.ts'),
          import('./builtin-servers.ts'),
          import('./registry/server-config.ts'),
          import('./mcp/resource-tools.ts'),
        ])
      : undefined;
    for (const [server, names] of wanted) {
      const [
        { McpConnection },
        { mcpTool },
        { builtinServerConfig },
        { serverConfigFor },
        { resourceTools, promptText: textOfPrompt },
      ] = mcp!;
      let connection: McpConnection;
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
        connection = new McpConnection({ name: server, config });
      } else {
        const reg = await openRegistry();
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
        secrets.push(...Object.values(values));
        connection = new McpConnection({
          name: server,
          config: serverConfigFor(entry, values, options.config.home),
          roots: entry.roots,
        });
      }
      connections.set(server, connection);
      let definitions: Awaited<ReturnType<McpConnection['listTools']>>;
      try {
        definitions = await connection.listTools();
      } catch (error) {
        throw new AgentdError(
          'tool_load_failed',
          `${specPath}: tools: cannot start MCP server "${server}": ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
      if (!isBuiltinServer(server)) {
        await (await openRegistry()).setTools(
          server,
          definitions.map((d) => ({
            name: d.name,
            description: d.description ?? d.title ?? '',
            inputSchema: d.inputSchema,
            ...(d.annotations ? { annotations: d.annotations } : {}),
          })),
        );
      }
      const byName = new Map(definitions.map((d) => [d.name, d]));
      const chosen = names.has('*')
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
      const originOf = (tool: string): ToolOrigin =>
        isBuiltinServer(server)
          ? { kind: 'connector', server, tool }
          : {
              kind: connection.config.transport === 'http' ? 'mcp-http' : 'mcp-stdio',
              server,
              tool,
            };
      for (const definition of definitions) {
        offered.push({
          origin: originOf(definition.name),
          description: definition.description ?? definition.title ?? '',
          inputSchema: definition.inputSchema as Tool['inputSchema'],
        });
      }
      for (const definition of chosen) {
        const tool = mcpTool(connection, definition, {
          taken,
          // Built-in connectors learn which run and call they serve (memory provenance).
          ...(isBuiltinServer(server) ? { runMeta: true } : {}),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        });
        tools.push(withOrigin(tool, originOf(definition.name)));
      }
      if (prompt?.server === server) {
        const prompts = await connection.listPrompts().catch(() => []);
        if (!prompts.some((p) => p.name === prompt.name)) {
          throw new AgentdError(
            'usage',
            `--prompt: MCP server "${server}" has no prompt "${prompt.name}" (it has: ${prompts.map((p) => p.name).join(', ') || 'none'})`,
          );
        }
        try {
          promptText = textOfPrompt(await connection.getPrompt(prompt.name, prompt.arguments));
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
      if (withResources.has(server)) {
        const [list, read] = resourceTools(connection, taken);
        for (const [tool, name] of [
          [list!, resourceToolNames.list],
          [read!, resourceToolNames.read],
        ] as const) {
          offered.push({
            origin: originOf(name),
            description: tool.description,
            inputSchema: tool.inputSchema,
          });
          tools.push(withOrigin(tool, originOf(name)));
        }
      }
    }
    if (options.sources.some((s) => s.kind === 'registry-search'))
      tools.push(withOrigin(registrySearchTool(await openRegistry()), { kind: 'registry-search' }));
    return { tools, secrets, offered, close, ...(promptText !== undefined ? { promptText } : {}) };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The names resource tools have as the policy sees them (`<server>.resources:list`): MCP tool
 * names cannot hold a colon, so they never clash with a server's own tools.
 */
export const resourceToolNames = { list: 'resources:list', read: 'resources:read' } as const;

/** `registry:search`: lets an agent find, among hundreds of registered tools, the few it needs. */
function registrySearchTool(registry: Registry): Tool {
  return defineTool({
    name: 'registry_search',
    description:
      "Search the MCP servers registered on this machine for tools by what they do. Returns each match's reference (server.tool) and description.",
    input: z.object({
      query: z.string().min(1).describe('what the tool should do, in a few words'),
      limit: z.int().min(1).max(50).default(10),
    }),
    idempotent: true,
    async execute({ query, limit }) {
      const found = await registry.search(query, limit);
      if (found.length === 0) return `No registered tool matches "${query}".`;
      return found.map((t) => `${t.server}.${t.name}: ${t.description}`).join('\n');
    },
  });
}

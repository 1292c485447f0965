import { z } from 'zod';
import type { Config } from '../config/config.ts';
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
import type { ToolSource } from './tool-ref.ts';
import { addServer, loadMcpModules } from './toolset-server.ts';

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
  const registry = lazyRegistry(options.config);
  const close = async () => {
    await Promise.allSettled([...connections.values()].map((c) => c.close()));
    await registry.close();
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
    const { wanted, withResources } = serverReferences(options.sources, options.prompt);
    let promptText: string | undefined;
    if (wanted.size) {
      const build = {
        options,
        mcp: await loadMcpModules(),
        registry: registry.open,
        tools,
        offered,
        taken,
        secrets,
        connections,
      };
      for (const [server, names] of wanted) {
        const text = await addServer(build, {
          server,
          names,
          resources: withResources.has(server),
          ...(options.prompt?.server === server ? { prompt: options.prompt } : {}),
        });
        if (text !== undefined) promptText = text;
      }
    }
    if (options.sources.some((s) => s.kind === 'registry-search'))
      tools.push(
        withOrigin(registrySearchTool(await registry.open()), { kind: 'registry-search' }),
      );
    return { tools, secrets, offered, close, ...(promptText !== undefined ? { promptText } : {}) };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The servers the sources refer to, grouped so each server starts once: the tools named of
 * each, and those whose resources are asked for. The prompt's server is one of them.
 */
function serverReferences(
  sources: readonly ToolSource[],
  prompt: PromptRequest | undefined,
): { wanted: Map<string, Set<string>>; withResources: Set<string> } {
  const wanted = new Map<string, Set<string>>();
  const withResources = new Set<string>();
  for (const source of sources) {
    if (source.kind !== 'server' && source.kind !== 'resources') continue;
    const set = wanted.get(source.server) ?? new Set<string>();
    if (source.kind === 'server') set.add(source.tool);
    else withResources.add(source.server);
    wanted.set(source.server, set);
  }
  if (prompt && !wanted.has(prompt.server)) wanted.set(prompt.server, new Set());
  return { wanted, withResources };
}

/** The registry (and its entries' schemas), loaded only for agents that use its servers. */
function lazyRegistry(config: Config): {
  open: () => Promise<Registry>;
  close: () => Promise<void>;
} {
  let registry: { registry: Registry; store: Store } | undefined;
  return {
    open: async () => {
      if (!registry) {
        const [{ Registry }, { SecretBox }] = await Promise.all([
          import('./registry/registry.ts'),
          import('../config/secret-box.ts'),
        ]);
        const store = openStore(config);
        registry = {
          registry: new Registry(store, SecretBox.forHome(config.home, config.env)),
          store,
        };
      }
      return registry.registry;
    },
    close: async () => {
      await registry?.store.close();
    },
  };
}

export { resourceToolNames } from './toolset-server.ts';

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

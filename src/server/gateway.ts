import {
  type CallToolResult,
  createMcpHandler,
  type McpHttpHandler,
  type Tool as McpTool,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { Config } from '../config/config.ts';
import { SecretBox } from '../config/secret-box.ts';
import { errorMessage } from '../core/errors.ts';
import type { RunEvent } from '../core/events.ts';
import { listAgents } from '../spec/agent-catalog.ts';
import type { Store } from '../store/store.ts';
import { McpConnection } from '../tools/mcp/mcp-connection.ts';
import { Registry } from '../tools/registry/registry.ts';
import { serverConfigFor } from '../tools/registry/server-config.ts';
import { type ServerEntry, serverEntrySchema } from '../tools/registry/server-entry.ts';
import type { RunManager } from './run-manager.ts';

/** Who is calling through the gateway: an API key (or, later, a token's subject). */
export interface GatewayCaller {
  id: string;
  name: string;
}

/** A call the gateway is about to forward (or, for its own tools, to run). */
export interface GatewayCall {
  caller: GatewayCaller;
  /** The registered server, or `agentd` for the gateway's own tools. */
  server: string;
  tool: string;
  transport: 'stdio' | 'http' | 'agentd';
  input: Record<string, unknown>;
}

export interface GatewayVerdict {
  allow: boolean;
  /** Why, for the caller when denied. */
  reason: string;
}

/** The policy point for gateway calls: decides and records (audit) before anything runs. */
export type GatewayAuthorize = (call: GatewayCall) => Promise<GatewayVerdict>;

export interface GatewayOptions {
  store: Store;
  config: Config;
  authorize: GatewayAuthorize;
  /** Runs the agents `agentd__launch_agent` starts; without it there is no launcher. */
  manager?: RunManager;
  version: string;
  log?: (line: string) => void;
}

interface GatewayTool {
  /** The name callers see: `<server>__<tool>`, or the bare tool name for `prefix: false`. */
  name: string;
  server: string;
  tool: string;
  transport: GatewayCall['transport'];
  definition: McpTool;
}

const ownServer = 'agentd';

/**
 * `agentd serve`'s MCP endpoint over every enabled registry server: their tools namespaced
 * by server, a tool search, and the machine's agents as a launcher tool. Each call is put to
 * the policy point with the caller as principal before it is forwarded; upstream servers get
 * the registry's own credentials, never the caller's. Every HTTP request is served by a
 * fresh protocol instance (2026-07-28 per-request, and 2025-11-25 stateless); connections
 * to upstream servers are shared and kept.
 */
export class Gateway {
  readonly #options: GatewayOptions;
  readonly #registry: Registry;
  readonly #connections = new Map<string, Promise<McpConnection>>();
  readonly #handler: McpHttpHandler;
  readonly #log: (line: string) => void;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#registry = new Registry(
      options.store,
      SecretBox.forHome(options.config.home, options.config.env),
    );
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#handler = createMcpHandler(
      (ctx) => {
        const caller = ctx.authInfo?.extra?.caller as GatewayCaller | undefined;
        if (!caller) throw new Error('a gateway request without a caller');
        return this.#server(caller);
      },
      { legacy: 'stateless', onerror: (error) => this.#log(`agentd gateway: ${error.message}`) },
    );
  }

  /** Serves one HTTP request of `caller` (already authenticated by the API). */
  fetch(request: Request, caller: GatewayCaller): Promise<Response> {
    // No token is passed on: upstream servers only ever see the registry's credentials.
    return this.#handler.fetch(request, {
      authInfo: { token: '', clientId: caller.id, scopes: ['mcp'], extra: { caller } },
    });
  }

  async close(): Promise<void> {
    await this.#handler.close();
    const connections = await Promise.allSettled(this.#connections.values());
    await Promise.allSettled(
      connections.flatMap((c) => (c.status === 'fulfilled' ? [c.value.close()] : [])),
    );
  }

  /** Every enabled server's tools, as last listed in the registry, plus the gateway's own. */
  async tools(): Promise<GatewayTool[]> {
    const entries = (await this.#options.store.listServers())
      .map((record) => serverEntrySchema.parse(record.entry))
      .filter((entry) => entry.enabled);
    const byServer = new Map<string, ServerEntry>(entries.map((e) => [e.name, e]));
    const out: GatewayTool[] = [];
    const taken = new Set<string>();
    for (const record of await this.#options.store.listServerTools()) {
      const entry = byServer.get(record.server);
      if (!entry) continue;
      const name = entry.gateway?.prefix === false ? record.name : `${entry.name}__${record.name}`;
      if (taken.has(name)) continue;
      taken.add(name);
      out.push({
        name,
        server: entry.name,
        tool: record.name,
        transport: entry.transport.type,
        definition: {
          name,
          description: record.description,
          inputSchema: (record.inputSchema ?? { type: 'object' }) as McpTool['inputSchema'],
          ...(record.annotations
            ? { annotations: record.annotations as McpTool['annotations'] }
            : {}),
        },
      });
    }
    out.push(...this.#ownTools());
    return out;
  }

  #ownTools(): GatewayTool[] {
    const own = (tool: string, definition: Omit<McpTool, 'name'>): GatewayTool => ({
      name: `${ownServer}__${tool}`,
      server: ownServer,
      tool,
      transport: 'agentd',
      definition: { name: `${ownServer}__${tool}`, ...definition },
    });
    const tools = [
      own('search_tools', {
        description:
          'Search the tools this gateway offers by what they do; returns the best matches with their names and descriptions. Use it when the list is long.',
        inputSchema: {
          type: 'object',
          properties: {
            query: { type: 'string', description: 'what the tool should do, in a few words' },
            limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
          },
          required: ['query'],
        },
        annotations: { readOnlyHint: true },
      }),
    ];
    if (this.#options.manager) {
      const agents = listAgents(this.#options.config).agents.filter((a) => a.valid);
      if (agents.length) {
        tools.push(
          own('launch_agent', {
            description: `Hand a task to one of this machine's agents and get its result. Agents: ${agents
              .map((a) => `${a.name}${a.description ? ` (${a.description})` : ''}`)
              .join('; ')}.`,
            inputSchema: {
              type: 'object',
              properties: {
                agent: { type: 'string', enum: agents.map((a) => a.name) },
                task: { type: 'string', minLength: 1 },
                wait: {
                  type: 'boolean',
                  default: true,
                  description: 'false: return the run id at once instead of the result',
                },
              },
              required: ['agent', 'task'],
            },
          }),
        );
      }
    }
    return tools;
  }

  #server(caller: GatewayCaller): Server {
    const server = new Server(
      { name: 'agentd-gateway', version: this.#options.version },
      {
        capabilities: { tools: {} },
        instructions:
          "agentd's MCP gateway: the tools of this machine's MCP servers (named <server>__<tool>), agentd__search_tools to find them, and agentd__launch_agent to hand work to an agent. Every call is checked against policy.",
      },
    );
    server.setRequestHandler('tools/list', async () => ({
      tools: (await this.tools()).map((t) => t.definition),
    }));
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const name = request.params.name;
      const input = (request.params.arguments ?? {}) as Record<string, unknown>;
      const tool = (await this.tools()).find((t) => t.name === name);
      if (!tool) return errorResult(`no tool "${name}" here (see tools/list)`);
      let verdict: GatewayVerdict;
      try {
        verdict = await this.#options.authorize({
          caller,
          server: tool.server,
          tool: tool.tool,
          transport: tool.transport,
          input,
        });
      } catch (error) {
        // Never fail open.
        verdict = { allow: false, reason: `the policy check failed: ${errorMessage(error)}` };
      }
      if (!verdict.allow) return errorResult(`Denied by policy: ${verdict.reason}`);
      if (tool.transport === 'agentd') return this.#runOwn(tool.tool, input, ctx);
      try {
        const connection = await this.#connection(tool.server);
        return (await connection.callTool(tool.tool, input, {
          signal: ctx.mcpReq.signal,
        })) as CallToolResult;
      } catch (error) {
        return errorResult(errorMessage(error));
      }
    });
    return server;
  }

  async #runOwn(
    tool: string,
    input: Record<string, unknown>,
    ctx: ServerContext,
  ): Promise<CallToolResult> {
    if (tool === 'search_tools') {
      const query = String(input.query ?? '').trim();
      if (!query) return errorResult('query: give the words to search for');
      const limit = Math.min(50, Math.max(1, Number(input.limit ?? 10) || 10));
      const found = await this.#options.store.searchTools(query, limit * 2);
      const names = new Map((await this.tools()).map((t) => [`${t.server}.${t.tool}`, t.name]));
      const lines = found
        .flatMap((t) => {
          const name = names.get(`${t.server}.${t.name}`);
          return name ? [`${name}: ${t.description}`] : [];
        })
        .slice(0, limit);
      return {
        content: [{ type: 'text', text: lines.join('\n') || `No tool matches "${query}".` }],
      };
    }
    return this.#launch(input, ctx);
  }

  async #launch(input: Record<string, unknown>, ctx: ServerContext): Promise<CallToolResult> {
    const manager = this.#options.manager!;
    const agent = listAgents(this.#options.config).agents.find((a) => a.name === input.agent);
    if (!agent?.valid) return errorResult(`no agent "${String(input.agent)}" to launch`);
    const task = String(input.task ?? '').trim();
    if (!task) return errorResult('task: say what the agent should do');
    const { dirname } = await import('node:path');
    let runId: string;
    try {
      runId = await manager.start({ specPath: agent.path, cwd: dirname(agent.path), task });
    } catch (error) {
      return errorResult(errorMessage(error));
    }
    if (input.wait === false) {
      return {
        content: [{ type: 'text', text: `started run ${runId}` }],
        structuredContent: { runId, status: 'running' },
      };
    }
    const token = ctx.mcpReq._meta?.progressToken;
    let step = 0;
    const finished = new Promise<RunEvent | undefined>((resolve) => {
      const onEvent = (event: RunEvent) => {
        if (event.runId !== runId) return;
        if (token !== undefined) {
          step++;
          void ctx.mcpReq
            .notify({
              method: 'notifications/progress',
              params: { progressToken: token, progress: step, message: progressLine(event) },
            })
            .catch(() => {});
        }
        if (
          event.type === 'run.finished' ||
          event.type === 'run.suspended' ||
          event.type === 'run.needs_attention'
        ) {
          done(event);
        }
      };
      const onStopped = (id: string) => {
        if (id === runId) done(undefined);
      };
      const done = (event: RunEvent | undefined) => {
        manager.events.off('event', onEvent);
        manager.events.off('stopped', onStopped);
        resolve(event);
      };
      manager.events.on('event', onEvent);
      manager.events.on('stopped', onStopped);
      ctx.mcpReq.signal.addEventListener('abort', () => manager.cancel(runId), { once: true });
    });
    const last = await finished;
    const run = await this.#options.store.getRun(runId);
    const status = run?.status ?? 'failed';
    const output =
      last?.type === 'run.finished' ? (last.data.output ?? last.data.detail ?? '') : '';
    return {
      content: [{ type: 'text', text: `run ${runId} ${status}${output ? `:\n${output}` : ''}` }],
      structuredContent: { runId, status, output },
      ...(status === 'completed' ? {} : { isError: true }),
    };
  }

  /** The shared connection to a registered server, started on first use. */
  #connection(server: string): Promise<McpConnection> {
    let connection = this.#connections.get(server);
    if (!connection) {
      connection = (async () => {
        const entry = await this.#registry.get(server);
        const secrets = await this.#registry.secretsOf(server);
        return new McpConnection({
          name: server,
          config: serverConfigFor(entry, secrets, this.#options.config.home),
          roots: entry.roots,
        });
      })();
      connection.catch(() => this.#connections.delete(server));
      this.#connections.set(server, connection);
    }
    return connection;
  }
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** One line for a launched run's progress notification. */
function progressLine(event: RunEvent): string {
  switch (event.type) {
    case 'model.request':
      return `turn ${event.data.turn}`;
    case 'tool.call':
      return `calling ${event.data.name}`;
    case 'tool.result':
      return `${event.data.name} ${event.data.isError ? 'failed' : 'done'}`;
    case 'run.finished':
      return `run ${event.data.status}`;
    default:
      return event.type;
  }
}

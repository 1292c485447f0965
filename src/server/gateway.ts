import { randomUUID } from 'node:crypto';
import {
  type AuthInfo,
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type McpHttpHandler,
  type Tool as McpTool,
  type Prompt,
  ProtocolError,
  ProtocolErrorCode,
  type Resource,
  type ResourceTemplateType,
  Server,
  type ServerContext,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { SecretBox } from '../config/secret-box.ts';
import { errorMessage } from '../core/errors.ts';
import type { RunEvent } from '../core/events.ts';
import { listAgents } from '../definition/agent-catalog.ts';
import { currentTraceparent } from '../telemetry/request-trace.ts';
import { McpConnection, type McpForwardMethod } from '../tools/mcp/mcp-connection.ts';
import { Registry } from '../tools/registry/registry.ts';
import { serverConfigFor } from '../tools/registry/server-config.ts';
import { type ServerEntry, serverEntrySchema } from '../tools/registry/server-entry.ts';
import {
  callerCapabilities,
  errorResult,
  exposedName,
  matches,
  ownServerName,
  progressLine,
  shadowingReason,
} from './gateway-protocol.ts';
import type {
  GatewayCall,
  GatewayCaller,
  GatewayOptions,
  GatewayTool,
  GatewayVerdict,
  gatewayServerActions,
} from './gateway-types.ts';

export {
  type GatewayAuthorize,
  type GatewayCall,
  type GatewayCaller,
  type GatewayOptions,
  type GatewayVerdict,
  gatewayServerActions,
} from './gateway-types.ts';

const ownServer = ownServerName;
/** How long the gateway keeps its list of tools before reading the registry again. */
const toolCacheMs = 1000;
/** A 2025-11-25 session unused this long ends. */
const sessionIdleMs = 30 * 60_000;
const maxSessions = 1000;

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
  readonly #sessions = new Map<
    string,
    {
      transport: WebStandardStreamableHTTPServerTransport;
      server: Server;
      callerId: string;
      lastUsed: number;
    }
  >();
  readonly #log: (line: string) => void;
  /** Items left out for shadowing, each logged once. */
  readonly #leftOut = new Set<string>();
  #toolCache: { at: number; tools: Promise<GatewayTool[]> } | undefined;

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

  /**
   * Serves one HTTP request of `caller` (already authenticated by the API): 2026-07-28
   * requests, and 2025-11-25 requests without a session, by a fresh protocol instance each;
   * a 2025-11-25 `initialize` opens a session (see {@link Gateway.#legacySession}).
   */
  async fetch(request: Request, caller: GatewayCaller): Promise<Response> {
    // No token is passed on: upstream servers only ever see the registry's credentials.
    const authInfo = { token: '', clientId: caller.id, scopes: ['mcp'], extra: { caller } };
    let parsedBody: unknown;
    if (request.method === 'POST') {
      try {
        parsedBody = JSON.parse(await request.clone().text());
      } catch {
        // not JSON: the handler answers it
        return this.#handler.fetch(request, { authInfo });
      }
    }
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null || isInitializeRequest(parsedBody)) {
      if (await isLegacyRequest(request, parsedBody)) {
        return this.#legacySession(request, caller, sessionId, { authInfo, parsedBody });
      }
    }
    return this.#handler.fetch(request, {
      authInfo,
      ...(parsedBody !== undefined ? { parsedBody } : {}),
    });
  }

  /**
   * 2025-11-25 sessions: what a stateless request cannot carry (the caller's capabilities
   * from `initialize`, and a server's questions to the caller (sampling, elicitation), whose
   * answers come back in another request). A session belongs to the caller that opened it:
   * anyone else's request naming it is told there is no such session. Idle sessions end
   * after 30 minutes; at most 1,000 are kept (the oldest idle one goes first).
   */
  async #legacySession(
    request: Request,
    caller: GatewayCaller,
    sessionId: string | null,
    options: { authInfo: AuthInfo; parsedBody: unknown },
  ): Promise<Response> {
    const now = Date.now();
    for (const [id, session] of this.#sessions) {
      if (now - session.lastUsed > sessionIdleMs) this.#endSession(id);
    }
    if (sessionId !== null) {
      const session = this.#sessions.get(sessionId);
      if (!session || session.callerId !== caller.id) {
        return Response.json(
          { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null },
          { status: 404 },
        );
      }
      session.lastUsed = now;
      return session.transport.handleRequest(request, options);
    }
    if (this.#sessions.size >= maxSessions) {
      const oldest = [...this.#sessions].sort(([, a], [, b]) => a.lastUsed - b.lastUsed)[0];
      if (oldest) this.#endSession(oldest[0]);
    }
    const server = this.#server(caller);
    const transport: WebStandardStreamableHTTPServerTransport =
      new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          this.#sessions.set(id, { transport, server, callerId: caller.id, lastUsed: Date.now() });
        },
        onsessionclosed: (id) => {
          this.#sessions.delete(id);
        },
      });
    transport.onerror = (error) => this.#log(`agentd gateway: ${error.message}`);
    await server.connect(transport);
    return transport.handleRequest(request, options);
  }

  #endSession(id: string): void {
    const session = this.#sessions.get(id);
    this.#sessions.delete(id);
    void session?.server.close().catch(() => {});
  }

  async close(): Promise<void> {
    for (const id of [...this.#sessions.keys()]) this.#endSession(id);
    await this.#handler.close();
    const connections = await Promise.allSettled(this.#connections.values());
    await Promise.allSettled(
      connections.flatMap((c) => (c.status === 'fulfilled' ? [c.value.close()] : [])),
    );
  }

  /**
   * Every enabled server's tools, as last listed in the registry, plus the gateway's own. Kept
   * for a second, so a burst of calls reads the registry (and the agent folders) once; a
   * server added, enabled or disabled shows within that second.
   */
  tools(): Promise<GatewayTool[]> {
    const now = Date.now();
    if (!this.#toolCache || now - this.#toolCache.at > toolCacheMs) {
      const tools = this.#listTools();
      this.#toolCache = { at: now, tools };
      tools.catch(() => {
        if (this.#toolCache?.tools === tools) this.#toolCache = undefined;
      });
    }
    return this.#toolCache.tools;
  }

  async #listTools(): Promise<GatewayTool[]> {
    const entries = await this.#enabled();
    const byServer = new Map<string, ServerEntry>(entries.map((e) => [e.name, e]));
    const out: GatewayTool[] = [];
    const taken = new Set<string>();
    for (const record of await this.#options.store.listServerTools()) {
      const entry = byServer.get(record.server);
      if (!entry || this.#shadows(entry, 'tool', record.name)) continue;
      const name = exposedName(entry, record.name);
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
        capabilities: { tools: {}, resources: {}, prompts: {}, completions: {}, logging: {} },
        instructions:
          "agentd's MCP gateway: the tools, resources and prompts of this machine's MCP servers (tools and prompts named <server>__<name>), agentd__search_tools to find tools, and agentd__launch_agent to hand work to an agent. Every call, resource read and prompt is checked against policy.",
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
      const verdict = await this.#decide({
        caller,
        server: tool.server,
        tool: tool.tool,
        transport: tool.transport,
        input,
      });
      if (!verdict.allow) return errorResult(`Denied by policy: ${verdict.reason}`);
      if (tool.transport === 'agentd') return this.#runOwn(tool.tool, input, ctx);
      try {
        return (await this.#forward(
          tool.server,
          'tools/call',
          { name: tool.tool, arguments: input },
          server,
          ctx,
        )) as CallToolResult;
      } catch (error) {
        // A JSON-RPC error from the server stays one; a server that is down is a tool error.
        if (error instanceof ProtocolError) throw error;
        return errorResult(errorMessage(error));
      }
    });

    server.setRequestHandler('resources/list', async () => {
      const taken = new Set<string>();
      const resources: Resource[] = [];
      for (const listing of await this.#resourceCatalog()) {
        for (const resource of listing.resources) {
          if (taken.has(resource.uri)) continue;
          taken.add(resource.uri);
          resources.push(resource);
        }
      }
      return { resources };
    });
    server.setRequestHandler('resources/templates/list', async () => {
      const taken = new Set<string>();
      const resourceTemplates: ResourceTemplateType[] = [];
      for (const listing of await this.#resourceCatalog()) {
        for (const template of listing.templates) {
          if (taken.has(template.uriTemplate)) continue;
          taken.add(template.uriTemplate);
          resourceTemplates.push(template);
        }
      }
      return { resourceTemplates };
    });
    server.setRequestHandler('resources/read', async (request, ctx) => {
      const uri = request.params.uri;
      const owner = await this.#resourceOwner(uri);
      if (!owner) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Resource not found', { uri });
      }
      await this.#enforce(caller, owner, 'resources:read', { uri });
      return (await this.#forward(owner.name, 'resources/read', { uri }, server, ctx)) as never;
    });

    server.setRequestHandler('prompts/list', async () => ({
      prompts: (await this.#promptCatalog()).map((p) => p.definition),
    }));
    server.setRequestHandler('prompts/get', async (request, ctx) => {
      const prompt = (await this.#promptCatalog()).find((p) => p.name === request.params.name);
      if (!prompt) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `no prompt "${request.params.name}" here (see prompts/list)`,
        );
      }
      const args = request.params.arguments ?? {};
      await this.#enforce(caller, prompt.server, 'prompts:get', {
        name: prompt.prompt,
        arguments: args,
      });
      return (await this.#forward(
        prompt.server.name,
        'prompts/get',
        { name: prompt.prompt, arguments: args },
        server,
        ctx,
      )) as never;
    });

    server.setRequestHandler('completion/complete', async (request, ctx) => {
      const { ref, argument } = request.params;
      let owner: ServerEntry | undefined;
      let upstreamRef: Record<string, unknown> = ref;
      if (ref.type === 'ref/prompt') {
        const prompt = (await this.#promptCatalog()).find((p) => p.name === ref.name);
        owner = prompt?.server;
        if (prompt) upstreamRef = { ...ref, name: prompt.prompt };
      } else {
        owner = await this.#resourceOwner(ref.uri, true);
      }
      // Nothing to complete from: no suggestions, as the spec allows.
      if (!owner) return { completion: { values: [] } };
      const params = {
        ref: upstreamRef,
        argument,
        ...(request.params.context ? { context: request.params.context } : {}),
      };
      await this.#enforce(caller, owner, 'completion:complete', params);
      return (await this.#forward(owner.name, 'completion/complete', params, server, ctx)) as never;
    });
    return server;
  }

  /** The policy point; a check that fails is a denial (never fail open). */
  async #decide(call: GatewayCall): Promise<GatewayVerdict> {
    try {
      return await this.#options.authorize(call);
    } catch (error) {
      return { allow: false, reason: `the policy check failed: ${errorMessage(error)}` };
    }
  }

  /** Decides a resource read, prompt or completion; a denial is a JSON-RPC error. */
  async #enforce(
    caller: GatewayCaller,
    entry: ServerEntry,
    tool: (typeof gatewayServerActions)[number],
    input: Record<string, unknown>,
  ): Promise<void> {
    const verdict = await this.#decide({
      caller,
      server: entry.name,
      tool,
      transport: entry.transport.type,
      input,
    });
    if (!verdict.allow) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidRequest,
        `Denied by policy: ${verdict.reason}`,
        {
          reason: verdict.reason,
        },
      );
    }
  }

  /**
   * Hands a request to a registered server as the caller made it: the input responses and
   * request state of a multi-round-trip retry go along, and an `input_required` result comes
   * back for the caller to answer (2025-11-25 callers are asked by the SDK, over their
   * response stream). Progress the server reports is passed on under the caller's token.
   * Nothing of the caller's credentials is sent: the connection has the registry's own.
   */
  async #forward(
    serverName: string,
    method: McpForwardMethod,
    params: Record<string, unknown>,
    server: Server,
    ctx: ServerContext,
  ): Promise<Record<string, unknown>> {
    const extra: Record<string, unknown> = {};
    if (ctx.mcpReq.inputResponses) extra.inputResponses = ctx.mcpReq.inputResponses;
    const state = ctx.mcpReq.requestState<unknown>();
    if (typeof state === 'string') extra.requestState = state;
    const capabilities = callerCapabilities(server, ctx);
    if (capabilities) extra._meta = { [CLIENT_CAPABILITIES_META_KEY]: capabilities };
    const token = ctx.mcpReq._meta?.progressToken;
    // Progress goes out before the result does (the response stream ends with the result).
    const notified: Promise<unknown>[] = [];
    try {
      const connection = await this.#connection(serverName);
      const result = await connection.forward(
        method,
        { ...params, ...extra },
        {
          signal: ctx.mcpReq.signal,
          ...(token !== undefined && method === 'tools/call'
            ? {
                onProgress: (progress) => {
                  notified.push(
                    ctx.mcpReq
                      .notify({
                        method: 'notifications/progress',
                        params: { progressToken: token, ...progress },
                      })
                      .catch(() => {}),
                  );
                },
              }
            : {}),
        },
      );
      await Promise.all(notified);
      return result;
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      if (cause instanceof ProtocolError) {
        throw new ProtocolError(cause.code, cause.message, cause.data);
      }
      if (method === 'tools/call') throw error;
      throw new ProtocolError(ProtocolErrorCode.InternalError, errorMessage(error));
    }
  }

  /** Every enabled registry server, in the registry's order. */
  async #enabled(): Promise<ServerEntry[]> {
    return (await this.#options.store.listServers())
      .map((record) => serverEntrySchema.parse(record.entry))
      .filter((entry) => entry.enabled);
  }

  /**
   * Asks every enabled server (started on first use; lists are cached until a server says
   * they changed). A server that cannot be reached is left out, with a line in the log.
   */
  async #ask<T>(
    what: string,
    ask: (connection: McpConnection) => Promise<T>,
  ): Promise<{ server: ServerEntry; connection: McpConnection; value: T }[]> {
    const entries = await this.#enabled();
    const answers = await Promise.all(
      entries.map(async (server) => {
        try {
          const connection = await this.#connection(server.name);
          return { server, connection, value: await ask(connection) };
        } catch (error) {
          this.#log(
            `agentd gateway: ${what} of MCP server "${server.name}": ${errorMessage(error)}`,
          );
          return undefined;
        }
      }),
    );
    return answers.filter((a) => a !== undefined);
  }

  /** Each server's resources and templates; URIs are the servers' own. */
  async #resourceCatalog(): Promise<
    {
      server: ServerEntry;
      offers: boolean;
      resources: Resource[];
      templates: ResourceTemplateType[];
    }[]
  > {
    return (
      await this.#ask('resources', async (connection) => {
        await connection.connect();
        if (!connection.capabilities?.resources) {
          return { offers: false, resources: [], templates: [] };
        }
        const [resources, templates] = await Promise.all([
          connection.listResources(),
          connection.listResourceTemplates().catch(() => []),
        ]);
        return { offers: true, resources, templates };
      })
    ).map(({ server, value }) => ({ server, ...value }));
  }

  /**
   * The server a URI belongs to: the one that lists it, else the one with a template it
   * matches, else (for URIs no server knows) the first server offered without a prefix.
   * `template`: the URI is a template (completion), matched by its text.
   */
  async #resourceOwner(uri: string, template = false): Promise<ServerEntry | undefined> {
    const catalog = await this.#resourceCatalog();
    const listed =
      catalog.find((c) => c.resources.some((r) => r.uri === uri)) ??
      catalog.find((c) =>
        c.templates.some((t) => (template ? t.uriTemplate === uri : matches(t.uriTemplate, uri))),
      );
    if (listed) return listed.server;
    const bare = catalog.filter((c) => c.server.gateway?.prefix === false);
    return (bare.find((c) => c.offers) ?? bare[0])?.server;
  }

  /** True (with a line in the log, once) for an item that would shadow another's name. */
  #shadows(entry: ServerEntry, kind: 'tool' | 'prompt', name: string): boolean {
    const reason = shadowingReason(entry, name);
    if (reason === undefined) return false;
    const key = `${entry.name}\0${kind}\0${name}`;
    if (!this.#leftOut.has(key)) {
      this.#leftOut.add(key);
      this.#log(
        `agentd gateway: ${kind} "${name}" of MCP server "${entry.name}" is not offered: ${reason}`,
      );
    }
    return true;
  }

  /** Every server's prompts, named like its tools (`<server>__<prompt>` unless prefix: false). */
  async #promptCatalog(): Promise<
    { name: string; server: ServerEntry; prompt: string; definition: Prompt }[]
  > {
    const taken = new Set<string>();
    const out: { name: string; server: ServerEntry; prompt: string; definition: Prompt }[] = [];
    for (const { server, value } of await this.#ask('prompts', (c) => c.listPrompts())) {
      for (const prompt of value) {
        if (this.#shadows(server, 'prompt', prompt.name)) continue;
        const name = exposedName(server, prompt.name);
        if (taken.has(name)) continue;
        taken.add(name);
        out.push({ name, server, prompt: prompt.name, definition: { ...prompt, name } });
      }
    }
    return out;
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
      const traceparent = currentTraceparent();
      runId = await manager.start({
        specPath: agent.path,
        cwd: dirname(agent.path),
        task,
        ...(traceparent ? { traceparent } : {}),
      });
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
          event.type === 'run.needs_attention' ||
          event.type === 'approval.requested'
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
    if (last?.type === 'approval.requested') {
      // A person has to answer first: the caller gets the run and how to answer, not a wait.
      const id = last.data.approvalId;
      return {
        content: [
          {
            type: 'text',
            text: `run ${runId} is waiting for approval ${id} of ${last.data.name} (${last.data.reason}); a person answers with agentd approvals approve ${id} or deny ${id} --reason "..."`,
          },
        ],
        structuredContent: { runId, status: 'awaiting_approval', approvalId: id },
      };
    }
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

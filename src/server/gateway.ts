import { randomUUID } from 'node:crypto';
import {
  type AuthInfo,
  type CallToolResult,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type McpHttpHandler,
  type Tool as McpTool,
  ProtocolError,
  ProtocolErrorCode,
  type Resource,
  type ResourceTemplateType,
  Server,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { SecretBox } from '../config/secret-box.ts';
import { errorMessage } from '../core/errors.ts';
import type { ServerEntry } from '../tools/registry/server-entry.ts';
import { ownTools, runOwnTool } from './gateway-own-tools.ts';
import { errorResult, exposedName } from './gateway-protocol.ts';
import type {
  GatewayCall,
  GatewayCaller,
  GatewayOptions,
  GatewayTool,
  GatewayVerdict,
  gatewayServerActions,
} from './gateway-types.ts';
import { GatewayUpstreams } from './gateway-upstreams.ts';

export {
  type GatewayAuthorize,
  type GatewayCall,
  type GatewayCaller,
  type GatewayOptions,
  type GatewayVerdict,
  gatewayServerActions,
} from './gateway-types.ts';

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
  readonly #upstreams: GatewayUpstreams;
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
  #toolCache: { at: number; tools: Promise<GatewayTool[]> } | undefined;

  constructor(options: GatewayOptions) {
    this.#options = options;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#upstreams = new GatewayUpstreams({
      store: options.store,
      home: options.config.home,
      secrets: SecretBox.forHome(options.config.home, options.config.env),
      log: this.#log,
    });
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
    await this.#upstreams.close();
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
    const entries = await this.#upstreams.enabled();
    const byServer = new Map<string, ServerEntry>(entries.map((e) => [e.name, e]));
    const out: GatewayTool[] = [];
    const taken = new Set<string>();
    for (const record of await this.#options.store.listServerTools()) {
      const entry = byServer.get(record.server);
      if (!entry || this.#upstreams.shadows(entry, 'tool', record.name)) continue;
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
    out.push(...ownTools(this.#options));
    return out;
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
    this.#serveTools(server, caller);
    this.#serveResources(server, caller);
    this.#servePrompts(server, caller);
    return server;
  }

  /** `tools/list` and `tools/call`: each call decided by the policy point, then run or forwarded. */
  #serveTools(server: Server, caller: GatewayCaller): void {
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
      if (tool.transport === 'agentd')
        return runOwnTool(tool.tool, input, ctx, this.#options, () => this.tools());
      try {
        return (await this.#upstreams.forward(
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
  }

  /** The upstream servers' resources and templates; a read is enforced, then forwarded. */
  #serveResources(server: Server, caller: GatewayCaller): void {
    server.setRequestHandler('resources/list', async () => {
      const taken = new Set<string>();
      const resources: Resource[] = [];
      for (const listing of await this.#upstreams.resourceCatalog()) {
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
      for (const listing of await this.#upstreams.resourceCatalog()) {
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
      const owner = await this.#upstreams.resourceOwner(uri);
      if (!owner) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Resource not found', { uri });
      }
      await this.#enforce(caller, owner, 'resources:read', { uri });
      return (await this.#upstreams.forward(
        owner.name,
        'resources/read',
        { uri },
        server,
        ctx,
      )) as never;
    });
  }

  /** The upstream servers' prompts and completions, each enforced, then forwarded. */
  #servePrompts(server: Server, caller: GatewayCaller): void {
    server.setRequestHandler('prompts/list', async () => ({
      prompts: (await this.#upstreams.promptCatalog()).map((p) => p.definition),
    }));
    server.setRequestHandler('prompts/get', async (request, ctx) => {
      const prompt = (await this.#upstreams.promptCatalog()).find(
        (p) => p.name === request.params.name,
      );
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
      return (await this.#upstreams.forward(
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
        const prompt = (await this.#upstreams.promptCatalog()).find((p) => p.name === ref.name);
        owner = prompt?.server;
        if (prompt) upstreamRef = { ...ref, name: prompt.prompt };
      } else {
        owner = await this.#upstreams.resourceOwner(ref.uri, true);
      }
      // Nothing to complete from: no suggestions, as the spec allows.
      if (!owner) return { completion: { values: [] } };
      const params = {
        ref: upstreamRef,
        argument,
        ...(request.params.context ? { context: request.params.context } : {}),
      };
      await this.#enforce(caller, owner, 'completion:complete', params);
      return (await this.#upstreams.forward(
        owner.name,
        'completion/complete',
        params,
        server,
        ctx,
      )) as never;
    });
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
}

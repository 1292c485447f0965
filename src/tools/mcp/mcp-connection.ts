import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type CallToolRequestParams,
  type CallToolResult,
  Client,
  type ClientCapabilities,
  type CompleteRequest,
  type ElicitRequestParams,
  type ElicitResult,
  type GetPromptRequest,
  type GetPromptResult,
  type Implementation,
  MAX_CACHE_TTL_MS,
  type PriorDiscovery,
  type Prompt,
  ProtocolError,
  type ReadResourceRequest,
  type ReadResourceResult,
  type RequestOptions,
  type Resource,
  type ResourceTemplateType,
  SdkError,
  SdkErrorCode,
  type ServerCapabilities,
  StreamableHTTPClientTransport,
  type Tool,
  type Transport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { errorMessage } from '../../core/errors.ts';
import { McpError } from './mcp-error.ts';
import { defaultRestartPolicy, type RestartPolicy, restartDelay } from './restart-backoff.ts';
import { callTimeoutOf, type McpServerConfig } from './server-config.ts';
import {
  type ContainmentHost,
  detectContainmentHost,
  planStdioSpawn,
} from './stdio-containment.ts';
import { StdioTransport, StdoutFloodError } from './stdio-transport.ts';
import { BoundedLines, type StdoutFlood } from './stdout-reader.ts';

export type McpToolDefinition = Tool;
export type McpListKind = 'tools' | 'prompts' | 'resources';

/** The requests a proxy hands on to a server as it got them (see {@link McpConnection.forward}). */
export type McpForwardMethod =
  | 'tools/call'
  | 'prompts/get'
  | 'resources/read'
  | 'completion/complete';

/** A progress notification for a request in flight. */
export interface McpProgress {
  progress: number;
  total?: number;
  message?: string;
}

export interface McpCallOptions {
  /** Aborting it cancels the request (the server is sent `notifications/cancelled`). */
  signal?: AbortSignal;
  onProgress?: (progress: McpProgress) => void;
  /** Overrides the server's call limit for this request. */
  timeoutMs?: number;
  /** `_meta` for the request (tool calls). */
  meta?: Record<string, unknown>;
}

export interface McpListOptions {
  signal?: AbortSignal;
  /** Ask the server even when a cached list is still fresh. */
  refresh?: boolean;
}

/** How to answer a server that asks the user for input (elicitation). */
export interface McpElicitation {
  handler: (request: ElicitRequestParams) => Promise<ElicitResult>;
  /** The SDK fills in the schema's defaults for fields an accepted answer leaves out. */
  applyDefaults?: boolean;
}

export interface McpConnectionOptions {
  /** The server's name: every error names it, and its tools are prefixed with it. */
  name: string;
  config: McpServerConfig;
  /** Folders offered to the server as roots when it asks (2025-11-25 `roots/list`). */
  roots?: readonly string[];
  /** Offered to servers only when given: answers their requests for user input. */
  elicitation?: McpElicitation;
  restart?: RestartPolicy;
  clientInfo?: Implementation;
  /** Each line the server writes to stderr (stdio); by default only the last few are kept, for errors. */
  onStderr?: (line: string) => void;
  /** What containment the machine offers; detected when not given. */
  host?: ContainmentHost;
}

type State = 'idle' | 'connected' | 'down' | 'closed';

const stderrTailLines = 40;
/** Longest stderr line handed on (the rest of a longer one is dropped). */
const stderrLineChars = 64_000;
/** On stdio, a server that does not answer `server/discover` this fast is treated as a 2025 server. */
const stdioProbeTimeoutMs = 10_000;

/**
 * One MCP server, reached over stdio (contained), streamable HTTP or in memory. Connects on
 * first use with protocol version negotiation (2026-07-28 with `server/discover`, else the
 * 2025-11-25 handshake); caches lists for as long as the server's hints allow (until its
 * `ttlMs` passes or it says the list changed); runs calls under the server's time limit and
 * the caller's abort signal. When the server dies mid-call the call fails with an error
 * naming the server, and the next use starts it again, waiting longer after each failure in
 * a row (bounded).
 */
export class McpConnection {
  readonly name: string;
  readonly config: McpServerConfig;
  readonly #options: McpConnectionOptions;
  #state: State = 'idle';
  #client: Client | undefined;
  #transport: Transport | undefined;
  #connecting: Promise<Client> | undefined;
  /** Incremented on every start, so events from an old process are recognised as old. */
  #generation = 0;
  #failures = 0;
  #lastFailureAt = 0;
  #starts = 0;
  /** Generations whose server was stopped for flooding stdout, and the limit it passed. */
  #flooded = new Map<number, StdoutFlood>();
  #prior: PriorDiscovery | undefined;
  #stderr: string[] = [];
  #listeners = new Set<(kind: McpListKind) => void>();
  /** Progress callbacks of forwarded requests, by the token sent with them. */
  #progress = new Map<string, (progress: McpProgress) => void>();

  constructor(options: McpConnectionOptions) {
    this.name = options.name;
    this.config = options.config;
    this.#options = options;
  }

  /** `connected` while a server is up; `down` after it died, until the next use starts it. */
  get state(): State {
    return this.#state;
  }

  /** How many times the server was started (more than once means it was restarted). */
  get starts(): number {
    return this.#starts;
  }

  /** The server process's id (stdio, while connected). */
  get pid(): number | undefined {
    return this.#transport instanceof StdioTransport
      ? (this.#transport.pid ?? undefined)
      : undefined;
  }

  get protocolVersion(): string | undefined {
    return this.#client?.getNegotiatedProtocolVersion();
  }

  get serverInfo(): Implementation | undefined {
    return this.#client?.getServerVersion();
  }

  get capabilities(): ServerCapabilities | undefined {
    return this.#client?.getServerCapabilities();
  }

  get instructions(): string | undefined {
    return this.#client?.getInstructions();
  }

  /** The last lines the server wrote to stderr. */
  get stderrTail(): string {
    return this.#stderr.join('\n');
  }

  /** Called when the server says a list changed (the cached list is already dropped). */
  onListChanged(listener: (kind: McpListKind) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts the server (if it is not up) and completes the handshake. */
  async connect(signal?: AbortSignal): Promise<void> {
    await this.#ensure(signal);
  }

  async listTools(options: McpListOptions = {}): Promise<McpToolDefinition[]> {
    return (
      await this.#request('tools/list', options, (client, request) =>
        client.listTools(undefined, { ...request, cacheMode: options.refresh ? 'refresh' : 'use' }),
      )
    ).tools;
  }

  async listPrompts(options: McpListOptions = {}): Promise<Prompt[]> {
    return (
      await this.#request('prompts/list', options, (client, request) =>
        client.listPrompts(undefined, {
          ...request,
          cacheMode: options.refresh ? 'refresh' : 'use',
        }),
      )
    ).prompts;
  }

  async listResources(options: McpListOptions = {}): Promise<Resource[]> {
    return (
      await this.#request('resources/list', options, (client, request) =>
        client.listResources(undefined, {
          ...request,
          cacheMode: options.refresh ? 'refresh' : 'use',
        }),
      )
    ).resources;
  }

  async listResourceTemplates(options: McpListOptions = {}): Promise<ResourceTemplateType[]> {
    return (
      await this.#request('resources/templates/list', options, (client, request) =>
        client.listResourceTemplates(undefined, {
          ...request,
          cacheMode: options.refresh ? 'refresh' : 'use',
        }),
      )
    ).resourceTemplates;
  }

  /** Calls a tool; a tool-level error comes back as a result with `isError`, not a throw. */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    options: McpCallOptions = {},
  ): Promise<CallToolResult> {
    return await this.#request(`tool "${name}"`, options, (client, request) =>
      client.callTool(
        { name, arguments: args, ...(options.meta ? { _meta: options.meta } : {}) },
        request,
      ),
    );
  }

  async readResource(uri: string, options: McpCallOptions = {}): Promise<ReadResourceResult> {
    return await this.#request(`resource ${uri}`, options, (client, request) =>
      client.readResource({ uri }, request),
    );
  }

  async getPrompt(
    name: string,
    args: Record<string, string> = {},
    options: McpCallOptions = {},
  ): Promise<GetPromptResult> {
    return await this.#request(`prompt "${name}"`, options, (client, request) =>
      client.getPrompt({ name, arguments: args }, request),
    );
  }

  /**
   * For a proxy: sends a request with the params as given (input responses, request state and
   * `_meta` included), and hands back an `input_required` result (2026-07-28) for the caller to
   * answer instead of answering it here. Resource reads bypass the response cache. Errors are
   * {@link McpError}s whose cause is the server's JSON-RPC error, when it sent one.
   */
  async forward(
    method: McpForwardMethod,
    params: Record<string, unknown>,
    options: McpCallOptions = {},
  ): Promise<Record<string, unknown>> {
    const what =
      method === 'tools/call'
        ? `tool "${String(params.name)}"`
        : method === 'prompts/get'
          ? `prompt "${String(params.name)}"`
          : method === 'resources/read'
            ? `resource ${String(params.uri)}`
            : 'completion';
    // Progress is matched here, as each message arrives: the SDK hands notifications on a turn
    // later, so one that came just before the result would be dropped with the request.
    const { onProgress, ...rest } = options;
    let token: string | undefined;
    if (onProgress) {
      token = `agentd-${randomUUID()}`;
      this.#progress.set(token, onProgress);
      const meta = (params._meta ?? {}) as Record<string, unknown>;
      params = { ...params, _meta: { ...meta, progressToken: token } };
    }
    try {
      return await this.#forwardRequest(method, what, params, rest);
    } finally {
      if (token) this.#progress.delete(token);
    }
  }

  async #forwardRequest(
    method: McpForwardMethod,
    what: string,
    params: Record<string, unknown>,
    options: McpCallOptions,
  ): Promise<Record<string, unknown>> {
    return await this.#request(what, options, async (client, request) => {
      const manual = { ...request, allowInputRequired: true };
      switch (method) {
        case 'tools/call':
          return await client.callTool(params as CallToolRequestParams, manual);
        case 'prompts/get':
          return await client.getPrompt(params as GetPromptRequest['params'], manual);
        case 'resources/read':
          return await client.readResource(params as ReadResourceRequest['params'], {
            ...manual,
            cacheMode: 'bypass',
          });
        case 'completion/complete':
          return await client.complete(params as CompleteRequest['params'], request);
      }
    });
  }

  /** Stops the server; later calls fail. */
  async close(): Promise<void> {
    this.#state = 'closed';
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    await closeQuietly(client, transport);
  }

  async #request<T>(
    what: string,
    options: McpCallOptions,
    run: (client: Client, request: RequestOptions) => Promise<T>,
  ): Promise<T> {
    const client = await this.#ensure(options.signal);
    const generation = this.#generation;
    const timeout = options.timeoutMs ?? callTimeoutOf(this.config);
    const onProgress = options.onProgress;
    const request: RequestOptions = {
      timeout,
      maxTotalTimeout: timeout,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProgress
        ? {
            onprogress: (p) =>
              onProgress({
                progress: p.progress,
                ...(p.total !== undefined ? { total: p.total } : {}),
                ...(p.message !== undefined ? { message: p.message } : {}),
              }),
          }
        : {}),
    };
    try {
      const result = await run(client, request);
      this.#failures = 0;
      return result;
    } catch (error) {
      throw this.#describeFailure(error, what, generation, timeout, options.signal);
    }
  }

  #describeFailure(
    error: unknown,
    what: string,
    generation: number,
    timeout: number,
    signal: AbortSignal | undefined,
  ): McpError {
    const server = `MCP server "${this.name}"`;
    if (error instanceof McpError) return error;
    if (signal?.aborted) {
      return new McpError(this.name, 'cancelled', `${server}: ${what} was cancelled`, {
        cause: error,
      });
    }
    const flood = this.#flooded.get(generation);
    if (flood) {
      const limit = flood.limit.toLocaleString('en-US');
      return flood.kind === 'line'
        ? new McpError(
            this.name,
            'output_limit',
            `${server}: ${what} sent a message over the output limit of ${limit} bytes; the server was stopped and starts again on the next call`,
            { cause: error },
          )
        : new McpError(
            this.name,
            'output_flood',
            `${server}: during ${what} it wrote more than ${limit} bytes to stdout that are not MCP messages; the server was stopped and starts again on the next call (a server must log to stderr, not stdout: fix or replace it, or raise the limit with agentd mcp add --max-output)`,
            { cause: error },
          );
    }
    if (error instanceof SdkError && error.code === SdkErrorCode.RequestTimeout) {
      return new McpError(
        this.name,
        'timeout',
        `${server}: ${what} took longer than the limit of ${timeout.toLocaleString('en-US')} ms and was cancelled`,
        { cause: error },
      );
    }
    const gone =
      generation !== this.#generation ||
      this.#state === 'down' ||
      (error instanceof SdkError &&
        (error.code === SdkErrorCode.ConnectionClosed || error.code === SdkErrorCode.NotConnected));
    if (gone) {
      const tail = telling(this.#stderr);
      return new McpError(
        this.name,
        'exited',
        `${server} exited during ${what}${tail ? ` (its stderr: ${tail})` : ''}; it starts again on the next call`,
        { cause: error },
      );
    }
    if (error instanceof ProtocolError) {
      return new McpError(
        this.name,
        'protocol',
        `${server}: ${what} failed: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    if (this.config.transport === 'http') {
      // The endpoint failed under us (network, lost session): reconnect on the next use.
      this.#markDown(generation);
    }
    return new McpError(
      this.name,
      'protocol',
      `${server}: ${what} failed: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }

  async #ensure(signal: AbortSignal | undefined): Promise<Client> {
    if (this.#state === 'closed') {
      throw new McpError(this.name, 'unavailable', `MCP server "${this.name}" was closed`);
    }
    if (this.#client && this.#state === 'connected') return this.#client;
    this.#connecting ??= this.#start().finally(() => {
      this.#connecting = undefined;
    });
    return await abortable(this.#connecting, signal, () => {
      return new McpError(
        this.name,
        'cancelled',
        `MCP server "${this.name}": cancelled while the server was starting`,
      );
    });
  }

  async #start(): Promise<Client> {
    const wait = restartDelay(this.#failures, this.#options.restart ?? defaultRestartPolicy);
    const remaining = this.#lastFailureAt + wait - Date.now();
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    if (this.#state === 'closed') {
      throw new McpError(this.name, 'unavailable', `MCP server "${this.name}" was closed`);
    }

    let generation = ++this.#generation;
    this.#starts++;
    let transport: Transport | undefined;
    let client = this.#newClient(generation);
    try {
      transport = await this.#openTransport(generation);
      this.#transport = transport;
      try {
        await client.connect(transport, this.#connectOptions());
      } catch (error) {
        const config = this.config;
        if (
          !(error instanceof UnauthorizedError) ||
          config.transport !== 'http' ||
          !config.authorizationCallback ||
          !(transport instanceof StreamableHTTPClientTransport)
        ) {
          throw error;
        }
        // The user authorized in a browser: redeem the code, then connect afresh.
        await transport.finishAuth(await config.authorizationCallback());
        await closeQuietly(client, transport);
        generation = ++this.#generation;
        client = this.#newClient(generation);
        transport = await this.#openTransport(generation);
        this.#transport = transport;
        await client.connect(transport, this.#connectOptions());
      }
    } catch (error) {
      this.#failures++;
      this.#lastFailureAt = Date.now();
      if (!this.#isClosed()) this.#state = 'down';
      this.#transport = undefined;
      await closeQuietly(client, transport);
      if (error instanceof McpError) throw error;
      const tail = telling(this.#stderr);
      throw new McpError(
        this.name,
        'unavailable',
        `MCP server "${this.name}" did not start: ${errorMessage(error)}${tail ? ` (its stderr: ${tail})` : ''}`,
        { cause: error },
      );
    }
    if (this.#isClosed()) {
      // closed while starting: stop what was just started
      await closeQuietly(client, transport);
      throw new McpError(this.name, 'unavailable', `MCP server "${this.name}" was closed`);
    }
    // Restarts skip the version probe: the same server speaks the same protocol.
    const discover = client.getDiscoverResult();
    this.#prior =
      client.getProtocolEra() === 'modern' && discover
        ? { kind: 'modern', discover }
        : { kind: 'legacy' };
    this.#client = client;
    this.#state = 'connected';
    return client;
  }

  /** Read afresh after an await (close() may have run meanwhile). */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #connectOptions() {
    return {
      timeout: callTimeoutOf(this.config),
      ...(this.#prior ? { prior: this.#prior } : {}),
    };
  }

  #newClient(generation: number): Client {
    const capabilities: ClientCapabilities = {};
    const roots = this.#options.roots;
    if (roots) capabilities.roots = {};
    const elicitation = this.#options.elicitation;
    if (elicitation) {
      capabilities.elicitation = {
        form: elicitation.applyDefaults ? { applyDefaults: true } : {},
      };
    }
    const changed = (kind: McpListKind) => ({
      autoRefresh: false,
      debounceMs: 50,
      onChanged: () => {
        if (generation !== this.#generation) return;
        for (const listener of this.#listeners) listener(kind);
      },
    });
    const client = new Client(this.#options.clientInfo ?? { name: 'agentd', version: '0.1.0' }, {
      capabilities,
      versionNegotiation: {
        mode: 'auto',
        ...(this.config.transport === 'stdio' ? { probe: { timeoutMs: stdioProbeTimeoutMs } } : {}),
      },
      // Lists without a hint stay cached until the server says they changed (or reconnects);
      // a server's own ttlMs (0 included) wins.
      defaultCacheTtlMs: MAX_CACHE_TTL_MS,
      listChanged: {
        tools: changed('tools'),
        prompts: changed('prompts'),
        resources: changed('resources'),
      },
    });
    if (roots) {
      client.setRequestHandler('roots/list', async () => ({
        roots: roots.map((path) => ({ uri: pathToFileURL(path).href, name: basename(path) })),
      }));
    }
    if (elicitation) {
      client.setRequestHandler('elicitation/create', (request) =>
        elicitation.handler(request.params),
      );
    }
    client.onclose = () => this.#markDown(generation);
    client.onerror = (error) => {
      if (error instanceof StdoutFloodError) this.#flooded.set(generation, error.flood);
    };
    return client;
  }

  #markDown(generation: number): void {
    if (generation !== this.#generation || this.#state !== 'connected') return;
    this.#state = 'down';
    this.#failures++;
    this.#lastFailureAt = Date.now();
    const client = this.#client;
    const transport = this.#transport;
    this.#client = undefined;
    this.#transport = undefined;
    void closeQuietly(client, transport);
  }

  async #openTransport(generation: number): Promise<Transport> {
    const transport = await this.#newTransport(generation);
    // Runs before the SDK's own handling (which chains it), in the order messages arrive.
    transport.onmessage = (message) => {
      if (!('method' in message) || message.method !== 'notifications/progress') return;
      const params = (message.params ?? {}) as Record<string, unknown>;
      const callback = this.#progress.get(String(params.progressToken));
      if (!callback || typeof params.progress !== 'number') return;
      callback({
        progress: params.progress,
        ...(typeof params.total === 'number' ? { total: params.total } : {}),
        ...(typeof params.message === 'string' ? { message: params.message } : {}),
      });
    };
    return transport;
  }

  async #newTransport(generation: number): Promise<Transport> {
    const config = this.config;
    switch (config.transport) {
      case 'in-memory':
        return await config.connect();
      case 'http':
        return new StreamableHTTPClientTransport(new URL(config.url), {
          requestInit: { headers: { ...config.headers } },
          ...(config.auth ? { authProvider: config.auth } : {}),
        });
      case 'stdio': {
        const plan = planStdioSpawn(
          this.name,
          config,
          this.#options.host ?? detectContainmentHost(),
        );
        mkdirSync(plan.cwd, { recursive: true });
        const transport = new StdioTransport({
          command: plan.command,
          args: plan.args,
          env: plan.env,
          cwd: plan.cwd,
          stderr: 'pipe',
          maxLineBytes: config.containment.maxOutputBytes,
          maxGarbageBytes: config.containment.maxOutputBytes,
        });
        this.#collectStderr(transport, generation);
        return transport;
      }
    }
  }

  #collectStderr(transport: StdioTransport, generation: number): void {
    const lines = new BoundedLines(stderrLineChars);
    transport.stderr?.on('data', (chunk: Buffer) => {
      for (const line of lines.push(chunk.toString('utf8'))) {
        const trimmed = line.trimEnd();
        if (!trimmed) continue;
        if (generation === this.#generation) {
          this.#stderr.push(trimmed.slice(0, 500));
          if (this.#stderr.length > stderrTailLines) this.#stderr.shift();
        }
        this.#options.onStderr?.(trimmed);
      }
    });
  }
}

async function closeQuietly(
  client: Client | undefined,
  transport: Transport | undefined,
): Promise<void> {
  try {
    await client?.close();
  } catch {
    // already gone
  }
  try {
    await transport?.close();
  } catch {
    // already gone
  }
}

function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: () => Error,
): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}

/**
 * The stderr line that says most about why a server stopped: the last one that names an
 * error, else the last one that is not Node's version banner (which a crash prints last).
 */
export function telling(lines: readonly string[]): string | undefined {
  const useful = lines.filter((line) => !/^Node\.js v\d+|^at |^\^+$/.test(line.trim()));
  return (
    useful.findLast((line) => /error|exception|cannot|failed|not found/i.test(line)) ??
    useful.at(-1)
  );
}

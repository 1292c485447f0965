import {
  CLIENT_CAPABILITIES_META_KEY,
  type Prompt,
  ProtocolError,
  ProtocolErrorCode,
  type Resource,
  type ResourceTemplateType,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { SecretBox } from '../config/secret-box.ts';
import { errorMessage } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { McpConnection, type McpForwardMethod } from '../tools/mcp/mcp-connection.ts';
import { Registry } from '../tools/registry/registry.ts';
import { serverConfigFor } from '../tools/registry/server-config.ts';
import { type ServerEntry, serverEntrySchema } from '../tools/registry/server-entry.ts';
import { callerCapabilities, exposedName, matches, shadowingReason } from './gateway-protocol.ts';

/**
 * The gateway's side towards the registered MCP servers: the enabled ones, a shared
 * connection to each (started on first use, with the registry's credentials), their
 * resources and prompts, and forwarding a caller's request to one of them.
 */
export class GatewayUpstreams {
  readonly #store: Store;
  readonly #home: string;
  readonly #registry: Registry;
  readonly #connections = new Map<string, Promise<McpConnection>>();
  readonly #log: (line: string) => void;
  /** Items left out for shadowing, each logged once. */
  readonly #leftOut = new Set<string>();

  constructor(options: {
    store: Store;
    home: string;
    secrets: SecretBox;
    log: (line: string) => void;
  }) {
    this.#store = options.store;
    this.#home = options.home;
    this.#registry = new Registry(options.store, options.secrets);
    this.#log = options.log;
  }

  /** Closes every connection started. */
  async close(): Promise<void> {
    const connections = await Promise.allSettled(this.#connections.values());
    await Promise.allSettled(
      connections.flatMap((c) => (c.status === 'fulfilled' ? [c.value.close()] : [])),
    );
  }

  /**
   * Hands a request to a registered server as the caller made it: the input responses and
   * request state of a multi-round-trip retry go along, and an `input_required` result comes
   * back for the caller to answer (2025-11-25 callers are asked by the SDK, over their
   * response stream). Progress the server reports is passed on under the caller's token.
   * Nothing of the caller's credentials is sent: the connection has the registry's own.
   */
  async forward(
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
  async enabled(): Promise<ServerEntry[]> {
    return (await this.#store.listServers())
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
    const entries = await this.enabled();
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
  async resourceCatalog(): Promise<
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
  async resourceOwner(uri: string, template = false): Promise<ServerEntry | undefined> {
    const catalog = await this.resourceCatalog();
    const listed =
      catalog.find((c) => c.resources.some((r) => r.uri === uri)) ??
      catalog.find((c) =>
        c.templates.some((t) => (template ? t.uriTemplate === uri : matches(t.uriTemplate, uri))),
      );
    if (listed) return listed.server;
    const bare = catalog.filter((c) => c.server.gateway?.prefix === false);
    return (bare.find((c) => c.offers) ?? bare[0])?.server;
  }

  /** Every server's prompts, named like its tools (`<server>__<prompt>` unless prefix: false). */
  async promptCatalog(): Promise<
    { name: string; server: ServerEntry; prompt: string; definition: Prompt }[]
  > {
    const taken = new Set<string>();
    const out: { name: string; server: ServerEntry; prompt: string; definition: Prompt }[] = [];
    for (const { server, value } of await this.#ask('prompts', (c) => c.listPrompts())) {
      for (const prompt of value) {
        if (this.shadows(server, 'prompt', prompt.name)) continue;
        const name = exposedName(server, prompt.name);
        if (taken.has(name)) continue;
        taken.add(name);
        out.push({ name, server, prompt: prompt.name, definition: { ...prompt, name } });
      }
    }
    return out;
  }

  /** True (with a line in the log, once) for an item that would shadow another's name. */
  shadows(entry: ServerEntry, kind: 'tool' | 'prompt', name: string): boolean {
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

  /** The shared connection to a registered server, started on first use. */
  #connection(server: string): Promise<McpConnection> {
    let connection = this.#connections.get(server);
    if (!connection) {
      connection = (async () => {
        const entry = await this.#registry.get(server);
        const secrets = await this.#registry.secretsOf(server);
        return new McpConnection({
          name: server,
          config: serverConfigFor(entry, secrets, this.#home),
          roots: entry.roots,
        });
      })();
      connection.catch(() => this.#connections.delete(server));
      this.#connections.set(server, connection);
    }
    return connection;
  }
}

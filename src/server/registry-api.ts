import { Hono } from 'hono';
import type { ServerRecord, Store, ToolRecord } from '../store/store.ts';
import { type ServerEntry, serverEntrySchema } from '../tools/registry/server-entry.ts';
import {
  authErrors as errors,
  jsonResponse,
  type OpenApiPart,
  problemResponse,
} from './openapi-parts.ts';
import { problem } from './problem.ts';

/**
 * The official MCP Registry read API (`GET /v0/servers`, `/v0/servers/{name}/versions`,
 * `/v0/servers/{name}/versions/{version}`, and the same under `/v0.1`), answered from this
 * machine's registry, so other tools can discover what it offers. Entries carry names of
 * secrets and whether they are set, never their values; URLs lose credentials and queries.
 */
export function registryApi(store: Store): Hono {
  const api = new Hono();

  api.get('/servers', async (c) => {
    const includeDisabled = c.req.query('include_deleted') === 'true';
    const search = c.req.query('search')?.toLowerCase();
    const version = c.req.query('version');
    const updatedSince = c.req.query('updated_since');
    const cursor = c.req.query('cursor');
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? 30 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return problem(c, 400, 'invalid_request', `limit: "${limitText}" is not 1 to 100`);
    }
    if (updatedSince !== undefined && Number.isNaN(Date.parse(updatedSince))) {
      return problem(
        c,
        400,
        'invalid_request',
        `updated_since: "${updatedSince}" is not an RFC 3339 time`,
      );
    }
    const tools = await toolsByServer(store);
    const all = (await store.listServers())
      .map((record) => ({ record, entry: serverEntrySchema.parse(record.entry) }))
      .filter(({ record, entry }) => {
        const detailName = registryName(entry);
        if (!includeDisabled && !updatedSince && !entry.enabled) return false;
        if (search && !detailName.toLowerCase().includes(search) && !entry.name.includes(search))
          return false;
        if (version && version !== 'latest' && version !== versionOf(entry)) return false;
        if (updatedSince && Date.parse(record.updatedAt) < Date.parse(updatedSince)) return false;
        return true;
      })
      .map(({ record, entry }) => serverResponse(record, entry, tools.get(entry.name) ?? []))
      .sort((a, b) => (a.server.name < b.server.name ? -1 : a.server.name > b.server.name ? 1 : 0));
    const start = cursor ? all.findIndex((s) => s.server.name > cursor) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const more = start >= 0 && start + limit < all.length;
    return c.json({
      servers: page,
      metadata: {
        count: page.length,
        ...(more ? { nextCursor: page[page.length - 1]!.server.name } : {}),
      },
    });
  });

  api.get('/servers/:name/versions', async (c) => {
    const found = await findServer(store, c.req.param('name'));
    if (!found || (!found.entry.enabled && c.req.query('include_deleted') !== 'true')) {
      return problem(c, 404, 'not_found', `no server "${c.req.param('name')}" on this machine`);
    }
    const tools = await store.listServerTools(found.entry.name);
    const response = serverResponse(found.record, found.entry, tools);
    return c.json({ servers: [response], metadata: { count: 1 } });
  });

  api.get('/servers/:name/versions/:version', async (c) => {
    const found = await findServer(store, c.req.param('name'));
    const version = c.req.param('version');
    if (!found || (!found.entry.enabled && c.req.query('include_deleted') !== 'true')) {
      return problem(c, 404, 'not_found', `no server "${c.req.param('name')}" on this machine`);
    }
    if (version !== 'latest' && version !== versionOf(found.entry)) {
      return problem(
        c,
        404,
        'not_found',
        `server "${c.req.param('name')}" has no version "${version}" here (it has ${versionOf(found.entry)})`,
      );
    }
    const tools = await store.listServerTools(found.entry.name);
    return c.json(serverResponse(found.record, found.entry, tools));
  });

  return api;
}

/**
 * agentd's own registry routes: `GET /registry/servers/{name}/tools` (tools with their input
 * schemas and annotations, as last listed) and `GET /registry/search?q=` (ranked tool search,
 * what the `registry:search` tool answers agents).
 */
export function registryToolsApi(store: Store): Hono {
  const api = new Hono();
  api.get('/servers/:name/tools', async (c) => {
    const found = await findServer(store, c.req.param('name'));
    if (!found) {
      return problem(c, 404, 'not_found', `no server "${c.req.param('name')}" on this machine`);
    }
    const tools = await store.listServerTools(found.entry.name);
    return c.json({
      server: found.entry.name,
      enabled: found.entry.enabled,
      tools: tools.map((t) => ({
        name: t.name,
        ref: `${found.entry.name}.${t.name}`,
        description: t.description,
        inputSchema: t.inputSchema,
        ...(t.annotations ? { annotations: t.annotations } : {}),
        listedAt: t.listedAt,
      })),
    });
  });
  api.get('/search', async (c) => {
    const query = c.req.query('q')?.trim();
    if (!query) return problem(c, 400, 'invalid_request', 'q: give the words to search for');
    const limit = Number(c.req.query('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 50) {
      return problem(c, 400, 'invalid_request', 'limit: give 1 to 50');
    }
    const found = await store.searchTools(query, limit);
    return c.json({
      tools: found.map((t) => ({
        ref: `${t.server}.${t.name}`,
        server: t.server,
        name: t.name,
        description: t.description,
        score: t.score,
      })),
    });
  });
  return api;
}

/** The reverse-DNS name the registry format wants: the server.json name, or a local one. */
function registryName(entry: ServerEntry): string {
  return entry.source.kind === 'server.json' ? entry.source.name : `local.agentd/${entry.name}`;
}

function versionOf(entry: ServerEntry): string {
  return (
    entry.version ?? (entry.source.kind === 'npm' ? entry.source.version : undefined) ?? '0.0.0'
  );
}

/** By the registry-format name or by the name the server has in agentd. */
async function findServer(
  store: Store,
  name: string,
): Promise<{ record: ServerRecord; entry: ServerEntry } | undefined> {
  const local = name.startsWith('local.agentd/') ? name.slice('local.agentd/'.length) : name;
  const direct = await store.getServer(local);
  if (direct) return { record: direct, entry: serverEntrySchema.parse(direct.entry) };
  for (const record of await store.listServers()) {
    const entry = serverEntrySchema.parse(record.entry);
    if (registryName(entry) === name) return { record, entry };
  }
  return undefined;
}

async function toolsByServer(store: Store): Promise<Map<string, ToolRecord[]>> {
  const map = new Map<string, ToolRecord[]>();
  for (const tool of await store.listServerTools()) {
    const list = map.get(tool.server) ?? [];
    list.push(tool);
    map.set(tool.server, list);
  }
  return map;
}

/** A URL without user, password or query (any of which may hold a credential). */
function publicUrl(text: string): string {
  try {
    const url = new URL(text);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString();
  } catch {
    return '';
  }
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function serverResponse(record: ServerRecord, entry: ServerEntry, tools: readonly ToolRecord[]) {
  const inputs = (names: string[], secret: boolean) =>
    names.map((name) => ({ name, isSecret: secret, isRequired: true }));
  const description = clip(entry.description || entry.title || `MCP server ${entry.name}`, 100);
  const server: Record<string, unknown> = {
    $schema: 'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
    name: registryName(entry),
    description,
    ...(entry.title ? { title: clip(entry.title, 100) } : {}),
    version: versionOf(entry),
  };
  if (entry.source.kind === 'npm') {
    server.packages = [
      {
        registryType: 'npm',
        identifier: entry.source.package,
        ...(entry.source.version ? { version: entry.source.version } : {}),
        transport: { type: 'stdio' },
        environmentVariables: [
          ...inputs(Object.keys(entry.env), false),
          ...inputs(entry.secrets, true),
        ],
      },
    ];
  }
  if (entry.transport.type === 'http') {
    server.remotes = [
      {
        type: 'streamable-http',
        url: publicUrl(entry.transport.url),
        headers: [
          ...inputs(Object.keys(entry.headers), false),
          ...inputs(entry.secretHeaders, true),
        ],
      },
    ];
  }
  return {
    server: server as { name: string } & Record<string, unknown>,
    _meta: {
      'io.modelcontextprotocol.registry/official': {
        status: entry.enabled ? 'active' : 'deleted',
        ...(entry.enabled ? {} : { statusMessage: 'disabled on this machine' }),
        publishedAt: record.createdAt,
        updatedAt: record.updatedAt,
        isLatest: true,
      },
      'dev.agentd/registry': {
        name: entry.name,
        enabled: entry.enabled,
        transport: entry.transport.type,
        containment: entry.containment,
        tools: tools.map((t) => ({ name: t.name, description: t.description })),
      },
    },
  };
}

const registryList = (summary: string, parameters: unknown[]) => ({
  get: {
    tags: ['registry'],
    summary,
    security: [{ apiKey: ['registry'] }],
    parameters,
    responses: {
      '200': { description: 'A list of servers (MCP Registry `ServerList`)' },
      '404': problemResponse,
      ...errors,
    },
  },
});
const nameParam = {
  name: 'serverName',
  in: 'path',
  required: true,
  description: 'URL-encoded registry name (`local.agentd/<name>` or the server.json name)',
  schema: { type: 'string' },
};

/** The registry routes' part of the OpenAPI document (server bodies are the MCP Registry's). */
export const registryOpenApi: OpenApiPart = {
  paths: {
    '/registry/servers/{serverName}/tools': {
      get: {
        tags: ['registry'],
        summary: "A registered server's tools with their input schemas",
        security: [{ apiKey: ['registry'] }],
        parameters: [nameParam],
        responses: {
          '200': jsonResponse("The server's tools", {
            type: 'object',
            required: ['server', 'enabled', 'tools'],
            properties: {
              server: { type: 'string' },
              enabled: { type: 'boolean' },
              tools: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name', 'ref', 'description', 'inputSchema', 'listedAt'],
                  properties: {
                    name: { type: 'string' },
                    ref: { type: 'string' },
                    description: { type: 'string' },
                    inputSchema: { type: 'object', additionalProperties: true },
                    annotations: { type: 'object', additionalProperties: true },
                    listedAt: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          }),
          '404': problemResponse,
          ...errors,
        },
      },
    },
    '/registry/search': {
      get: {
        tags: ['registry'],
        summary: 'Registered tools ranked by how well their names and descriptions match q',
        security: [{ apiKey: ['registry'] }],
        parameters: [
          { name: 'q', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 50 } },
        ],
        responses: {
          '200': jsonResponse('Tools, best match first', {
            type: 'object',
            required: ['tools'],
            properties: {
              tools: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['ref', 'server', 'name', 'description', 'score'],
                  properties: {
                    ref: { type: 'string' },
                    server: { type: 'string' },
                    name: { type: 'string' },
                    description: { type: 'string' },
                    score: { type: 'number' },
                  },
                },
              },
            },
          }),
          '400': problemResponse,
          ...errors,
        },
      },
    },
    '/v0/servers': registryList('MCP servers registered on this machine', [
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
      { name: 'search', in: 'query', schema: { type: 'string' } },
      { name: 'updated_since', in: 'query', schema: { type: 'string', format: 'date-time' } },
      { name: 'version', in: 'query', schema: { type: 'string' } },
      { name: 'include_deleted', in: 'query', schema: { type: 'boolean' } },
    ]),
    '/v0/servers/{serverName}/versions': registryList('The versions of one server', [nameParam]),
    '/v0/servers/{serverName}/versions/{version}': {
      get: {
        tags: ['registry'],
        summary: 'One version of a server (`latest` for the current one)',
        security: [{ apiKey: ['registry'] }],
        parameters: [
          nameParam,
          { name: 'version', in: 'path', required: true, schema: { type: 'string' } },
        ],
        responses: {
          '200': { description: 'MCP Registry `ServerResponse`' },
          '404': problemResponse,
          ...errors,
        },
      },
    },
  },
  schemas: {},
};

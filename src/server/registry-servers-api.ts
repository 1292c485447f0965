import { Hono } from 'hono';
import type { Config } from '../config/config.ts';
import { SecretBox } from '../config/secret-box.ts';
import { isAgentdError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { Registry } from '../tools/registry/registry.ts';
import { describeTransport } from '../tools/registry/server-entry.ts';
import { type AppEnv, scoped } from './app.ts';
import {
  jsonResponse,
  type OpenApiPart,
  operation,
  problemResponse,
  ref,
} from './openapi-parts.ts';
import { problem } from './problem.ts';

/**
 * The registry's servers as a person manages them: `GET /registry/servers` (scope
 * `registry`) lists every server, enabled or not, with how it runs and its tools; `POST
 * /registry/servers/{name}/enable` and `/disable` (scope `registry_admin` as well) change
 * whether agents and the gateway may use it, as `agentd mcp enable|disable` do. No secret value
 * is ever read for this: entries carry secret names only.
 */
export function registryServersApi(store: Store, config: Config): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  const registry = new Registry(store, SecretBox.forHome(config.home));

  api.get('/', async (c) => {
    const [records, tools] = await Promise.all([store.listServers(), store.listServerTools()]);
    const entries = await registry.list();
    const servers = entries.map((entry) => {
      const record = records.find((r) => r.name === entry.name)!;
      const own = tools.filter((t) => t.server === entry.name);
      return {
        name: entry.name,
        ...(entry.title ? { title: entry.title } : {}),
        ...(entry.description ? { description: entry.description } : {}),
        enabled: entry.enabled,
        transport: entry.transport.type,
        runs: describeTransport(entry),
        source: entry.source.kind,
        secrets: [...entry.secrets, ...entry.secretHeaders],
        containment: entry.containment,
        tools: own.map((t) => ({ name: t.name, description: t.description })),
        ...(own[0] ? { toolsListedAt: own[0].listedAt } : {}),
        updatedAt: record.updatedAt,
      };
    });
    return c.json({ servers });
  });

  const setEnabled = (enabled: boolean) =>
    api.post(`/:name/${enabled ? 'enable' : 'disable'}`, scoped('registry_admin'), async (c) => {
      try {
        const entry = await registry.update(c.req.param('name'), (e) => ({ ...e, enabled }));
        return c.json({ name: entry.name, enabled: entry.enabled });
      } catch (error) {
        if (isAgentdError(error) && error.code === 'registry_not_found') {
          return problem(c, 404, 'not_found', `no server "${c.req.param('name')}" on this machine`);
        }
        throw error;
      }
    });
  setEnabled(true);
  setEnabled(false);
  return api;
}

const change = (enabled: boolean) => ({
  post: {
    ...operation(
      'registry_admin',
      enabled
        ? 'Enable a server: agents and the gateway may use its tools again'
        : 'Disable a server: no agent or gateway caller gets its tools until it is enabled',
      {
        description: 'Needs the registry scope too (as every /registry route).',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': jsonResponse('The server, changed', {
            type: 'object',
            required: ['name', 'enabled'],
            properties: { name: { type: 'string' }, enabled: { type: 'boolean' } },
          }),
          '404': problemResponse,
        },
      },
    ),
    security: [{ apiKey: ['registry', 'registry_admin'] }],
  },
});

export const registryServersOpenApi: OpenApiPart = {
  schemas: {
    RegisteredServer: {
      type: 'object',
      required: [
        'name',
        'enabled',
        'transport',
        'runs',
        'source',
        'secrets',
        'containment',
        'tools',
        'updatedAt',
      ],
      properties: {
        name: { type: 'string' },
        title: { type: 'string' },
        description: { type: 'string' },
        enabled: { type: 'boolean' },
        transport: { enum: ['stdio', 'http'] },
        runs: { type: 'string', description: 'how it runs, in one line' },
        source: { enum: ['server.json', 'npm', 'command', 'url'] },
        secrets: { type: 'array', items: { type: 'string' }, description: 'names only' },
        containment: {
          type: 'object',
          required: ['sandbox', 'network', 'callTimeoutMs', 'maxOutputBytes'],
          properties: {
            sandbox: { enum: ['auto', 'bubblewrap', 'none'] },
            network: { type: 'boolean' },
            callTimeoutMs: { type: 'integer' },
            maxOutputBytes: { type: 'integer' },
          },
        },
        tools: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'description'],
            properties: { name: { type: 'string' }, description: { type: 'string' } },
          },
        },
        toolsListedAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
  paths: {
    '/registry/servers': {
      get: operation('registry', 'Every registered server, enabled or not, with its tools', {
        responses: {
          '200': jsonResponse('The servers', {
            type: 'object',
            required: ['servers'],
            properties: { servers: { type: 'array', items: ref('RegisteredServer') } },
          }),
        },
      }),
    },
    '/registry/servers/{name}/enable': change(true),
    '/registry/servers/{name}/disable': change(false),
  },
};

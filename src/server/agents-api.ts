import { Hono } from 'hono';
import type { Config } from '../config/config.ts';
import { listAgents } from '../definition/agent-catalog.ts';
import type { AppEnv } from './app.ts';
import { jsonResponse, type OpenApiPart, operation } from './openapi-parts.ts';

/**
 * The agents this machine has (scope `runs`, as starting one is): what `POST /runs` takes
 * by name, each with its model and description, or why its spec cannot run.
 */
export function agentsApi(config: Config): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  api.get('/', (c) => {
    const catalog = listAgents(config);
    return c.json({
      agents: catalog.agents.map((agent) => ({
        name: agent.name,
        valid: agent.valid,
        ...(agent.model ? { model: agent.model } : {}),
        ...(agent.description ? { description: agent.description } : {}),
        ...(agent.error ? { error: agent.error } : {}),
      })),
      dirs: catalog.dirs,
      notes: catalog.notes,
    });
  });
  return api;
}

export const agentsOpenApi: OpenApiPart = {
  schemas: {
    Agent: {
      type: 'object',
      required: ['name', 'valid'],
      properties: {
        name: { type: 'string' },
        valid: { type: 'boolean' },
        model: { type: 'string' },
        description: { type: 'string' },
        error: { type: 'string', description: 'why the spec cannot run, in one line' },
      },
    },
  },
  paths: {
    '/agents': {
      get: operation('runs', "This machine's agents (~/.agentd/agents and agent_dirs)", {
        responses: {
          '200': jsonResponse('The agents, and the folders looked in', {
            type: 'object',
            required: ['agents', 'dirs', 'notes'],
            properties: {
              agents: { type: 'array', items: { $ref: '#/components/schemas/Agent' } },
              dirs: { type: 'array', items: { type: 'string' } },
              notes: { type: 'array', items: { type: 'string' } },
            },
          }),
        },
      }),
    },
  },
};

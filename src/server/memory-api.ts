import { type Context, Hono } from 'hono';
import type { Config } from '../config/config.ts';
import { isAgentdError } from '../core/errors.ts';
import type { MemoryFilter } from '../core/memory.ts';
import type { MemoryBank } from '../memory/bank.ts';
import { memoryFilterOf } from '../memory/filter.ts';
import { memoryBankOf } from '../memory/open.ts';
import type { Store } from '../store/store.ts';
import type { AppEnv } from './app.ts';
import {
  jsonResponse,
  type OpenApiPart,
  operation,
  pathId,
  problemResponse,
  queryParam,
  ref,
} from './openapi-parts.ts';
import { problem } from './problem.ts';

/**
 * Long-term memory over HTTP (scope `memory`): list and search memories by actor, agent,
 * team, namespace and kind; one memory with its provenance (the run and events it came from,
 * who said it, its trust) and the versions it replaced; forget one (the store, both indexes
 * and exports lose it and every earlier version), as `agentd memory` does.
 */
export function memoryApi(store: Store, config: Config): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  let bank: Promise<MemoryBank> | undefined;
  const bankOf = () => {
    bank ??= memoryBankOf(store, config).then((opened) => opened.bank);
    return bank;
  };

  /** The filter of the query, or a problem naming the parameter. */
  const filterOf = (c: Context<AppEnv>): MemoryFilter | Response => {
    try {
      return memoryFilterOf({
        ...optional('actor', c.req.query('actor')),
        ...optional('agent', c.req.query('agent')),
        ...optional('team', c.req.query('team')),
        namespace: c.req.queries('namespace') ?? [],
        kind: c.req.queries('kind') ?? [],
      });
    } catch (error) {
      if (isAgentdError(error)) return problem(c, 400, 'invalid_request', error.message);
      throw error;
    }
  };
  const limitOf = (c: Context<AppEnv>, fallback: number): number | Response => {
    const limit = Number(c.req.query('limit') ?? fallback);
    return Number.isInteger(limit) && limit >= 1 && limit <= 1000
      ? limit
      : problem(c, 400, 'invalid_request', 'limit: give 1 to 1000');
  };

  api.get('/', async (c) => {
    const filter = filterOf(c);
    const limit = limitOf(c, 50);
    if (filter instanceof Response) return filter;
    if (limit instanceof Response) return limit;
    const memories = await store.memories.list({
      ...filter,
      ...(c.req.query('all') === 'true' ? { includeSuperseded: true } : {}),
      limit,
    });
    return c.json({ memories });
  });

  api.get('/search', async (c) => {
    const query = c.req.query('q')?.trim();
    if (!query) return problem(c, 400, 'invalid_request', 'q: say what to look for');
    const filter = filterOf(c);
    const limit = limitOf(c, 10);
    if (filter instanceof Response) return filter;
    if (limit instanceof Response) return limit;
    const result = await (await bankOf()).search(query, filter, limit);
    return c.json(result);
  });

  api.get('/:id', async (c) => {
    const memory = await store.memories.get(c.req.param('id'));
    if (!memory) return problem(c, 404, 'not_found', unknownMemory(c.req.param('id')));
    const [history, vectorModel] = await Promise.all([
      store.memories.history(memory.id),
      store.memories.vectorModelOf(memory.id),
    ]);
    return c.json({
      memory,
      history: history.slice(1),
      ...(vectorModel ? { vectorModel } : {}),
    });
  });

  api.delete('/:id', async (c) => {
    const memory = await store.memories.get(c.req.param('id'));
    if (!memory) return problem(c, 404, 'not_found', unknownMemory(c.req.param('id')));
    const forgotten = await (await bankOf()).forget(memory.id);
    return c.json({ forgotten });
  });
  return api;
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value ? { [key]: value } : {}) as { [P in K]?: string };
}

function unknownMemory(id: string): string {
  return `no memory "${id}" (or the prefix names more than one): see GET /memory`;
}

const filterParams = [
  queryParam('actor', { type: 'string' }, 'memories of this actor (provenance or /actor/{id})'),
  queryParam('agent', { type: 'string' }, 'under /agent/{agent}'),
  queryParam('team', { type: 'string' }, 'under /team/{team}'),
  {
    ...queryParam('namespace', { type: 'array', items: { type: 'string' } }, 'namespace roots'),
    explode: true,
  },
  {
    ...queryParam('kind', {
      type: 'array',
      items: { enum: ['fact', 'preference', 'summary', 'episode'] },
    }),
    explode: true,
  },
];

export const memoryOpenApi: OpenApiPart = {
  schemas: {
    Memory: {
      type: 'object',
      required: [
        'id',
        'namespace',
        'kind',
        'text',
        'trust',
        'provenance',
        'status',
        'createdAt',
        'updatedAt',
      ],
      properties: {
        id: { type: 'string' },
        namespace: { type: 'string' },
        kind: { enum: ['fact', 'preference', 'summary', 'episode'] },
        text: { type: 'string' },
        key: { type: 'string' },
        trust: { enum: ['trusted', 'untrusted'] },
        provenance: {
          type: 'object',
          required: ['events', 'source', 'via'],
          properties: {
            runId: { type: 'string' },
            events: { type: 'array', items: { type: 'integer' } },
            source: { enum: ['user', 'model', 'tool'] },
            via: { enum: ['extraction', 'tool'] },
            extractor: { type: 'string' },
            agent: { type: 'string' },
            actor: { type: 'string' },
            sessionId: { type: 'string' },
            tools: { type: 'array', items: { type: 'string' } },
            note: { type: 'string' },
            confirmedBy: { type: 'array', items: { type: 'string' } },
          },
        },
        status: { enum: ['active', 'superseded'] },
        supersedes: { type: 'string' },
        supersededBy: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
  paths: {
    '/memory': {
      get: operation('memory', 'Active memories, newest first (superseded too with all=true)', {
        parameters: [
          ...filterParams,
          queryParam('all', { type: 'boolean' }),
          queryParam('limit', { type: 'integer', minimum: 1, maximum: 1000 }),
        ],
        responses: {
          '200': jsonResponse('The memories', {
            type: 'object',
            required: ['memories'],
            properties: { memories: { type: 'array', items: ref('Memory') } },
          }),
          '400': problemResponse,
        },
      }),
    },
    '/memory/search': {
      get: operation('memory', 'Hybrid search (full-text and vectors, fused by rank)', {
        parameters: [
          { ...queryParam('q', { type: 'string' }), required: true },
          ...filterParams,
          queryParam('limit', { type: 'integer', minimum: 1, maximum: 1000 }),
        ],
        responses: {
          '200': jsonResponse('What matched, best first, and how it was searched', {
            type: 'object',
            required: ['memories', 'mode'],
            properties: {
              mode: { enum: ['hybrid', 'full-text', 'vector'] },
              note: { type: 'string' },
              memories: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['memory', 'score', 'ranks'],
                  properties: {
                    memory: ref('Memory'),
                    score: { type: 'number' },
                    ranks: {
                      type: 'object',
                      properties: { text: { type: 'integer' }, vector: { type: 'integer' } },
                    },
                  },
                },
              },
            },
          }),
          '400': problemResponse,
        },
      }),
    },
    '/memory/{id}': {
      get: operation('memory', 'A memory, its provenance and the earlier versions it replaced', {
        parameters: [pathId('a memory id (mem_...) or a unique prefix')],
        responses: {
          '200': jsonResponse('The memory', {
            type: 'object',
            required: ['memory', 'history'],
            properties: {
              memory: ref('Memory'),
              history: { type: 'array', items: ref('Memory') },
              vectorModel: { type: 'string' },
            },
          }),
          '404': problemResponse,
        },
      }),
      delete: operation('memory', 'Forget a memory and every earlier version it replaced', {
        parameters: [pathId('a memory id (mem_...) or a unique prefix')],
        responses: {
          '200': jsonResponse('The ids removed from the store and both indexes', {
            type: 'object',
            required: ['forgotten'],
            properties: { forgotten: { type: 'array', items: { type: 'string' } } },
          }),
          '404': problemResponse,
        },
      }),
    },
  },
};

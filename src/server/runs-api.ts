import { dirname } from 'node:path';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { isAgentdError } from '../core/errors.ts';
import { runStatuses } from '../core/events.ts';
import { foldRun } from '../core/run-state.ts';
import { maxTagsPerRun, tagPattern, tagRule } from '../core/run-tags.ts';
import { findAgent, listAgents, unknownAgent } from '../definition/agent-catalog.ts';
import { effortLevels } from '../models/catalog.ts';
import { tagRun } from '../runtime/run-tagging.ts';
import { BadCursorError, type Store } from '../store/store.ts';
import { parseTraceparent } from '../telemetry/trace-ids.ts';
import type { AppEnv } from './app.ts';
import { jsonBody } from './json-body.ts';
import type { OpenApiPart } from './openapi-parts.ts';
import { authErrors, jsonRequest, jsonResponse, problemResponse, ref } from './openapi-parts.ts';
import { problem } from './problem.ts';
import { streamRunEvents } from './run-event-stream.ts';
import type { RunManager } from './run-manager.ts';
import { runQueryOf } from './run-query.ts';

const tagSchema = z.string().regex(tagPattern, `a tag is ${tagRule}`);

const limitsSchema = z.strictObject({
  maxTurns: z.int().positive().optional(),
  maxTokens: z.int().positive().optional(),
  maxCostUsd: z.number().positive().optional(),
  maxTimeMs: z.int().positive().optional(),
});

const startSchema = z.strictObject({
  /** The name of an agent this machine has (see `agentd agents list`). */
  agent: z.string().min(1),
  task: z.string().min(1),
  model: z
    .string()
    .regex(/^[a-z-]+\/.+$/, 'provider/model-id')
    .optional(),
  effort: z.enum(effortLevels).optional(),
  limits: limitsSchema.optional(),
  /** The run's tags, after its agent spec's. */
  tags: z.array(tagSchema).max(maxTagsPerRun).optional(),
});

const tagChangeSchema = z
  .strictObject({
    add: z.array(tagSchema).max(maxTagsPerRun).optional(),
    remove: z.array(tagSchema).max(maxTagsPerRun).optional(),
  })
  .refine((change) => change.add?.length || change.remove?.length, {
    message: 'give add or remove (tags to put on or take off)',
  });

const resumeSchema = z.strictObject({
  limits: limitsSchema.optional(),
  inDoubt: z.enum(['rerun', 'skip']).optional(),
});

type RunsApiOptions = { store: Store; config: Config; manager: RunManager };

/**
 * Runs over HTTP: start one of this machine's agents, list, get, cancel, resume, and stream a
 * run's events as Server-Sent Events, resumable from any event id (`Last-Event-ID`).
 */
export function runsApi(options: RunsApiOptions): Hono<AppEnv> {
  const { store, manager } = options;
  const api = new Hono<AppEnv>();

  api.post('/', (c) => startRun(c, options));

  api.get('/', async (c) => {
    const query = runQueryOf(c.req.query(), c.req.queries('tag') ?? []);
    if ('error' in query) return problem(c, 400, 'invalid_request', query.error);
    try {
      return c.json(await store.queryRuns(query));
    } catch (error) {
      if (error instanceof BadCursorError) return problem(c, 400, 'invalid_request', error.message);
      throw error;
    }
  });

  api.get('/:id', async (c) => {
    const run = await store.getRun(c.req.param('id'));
    if (!run) return problem(c, 404, 'not_found', `no run "${c.req.param('id')}"`);
    return c.json(await runView(store, run.id));
  });

  api.post('/:id/tags', async (c) => {
    const run = await store.getRun(c.req.param('id'));
    if (!run) return problem(c, 404, 'not_found', `no run "${c.req.param('id')}"`);
    const parsed = await jsonBody(c, tagChangeSchema);
    if ('error' in parsed) return problem(c, 400, 'invalid_request', parsed.error!);
    try {
      const tags = await tagRun(store, run.id, { ...parsed.value!, by: c.get('caller').name });
      return c.json({ id: run.id, tags });
    } catch (error) {
      if (isAgentdError(error)) {
        return problem(c, error.code === 'run_busy' ? 409 : 422, 'invalid_request', error.message);
      }
      throw error;
    }
  });

  api.post('/:id/cancel', async (c) => {
    const run = await store.getRun(c.req.param('id'));
    if (!run) return problem(c, 404, 'not_found', `no run "${c.req.param('id')}"`);
    if (!manager.cancel(run.id) && !(await manager.cancelQueued(run.id, run.status))) {
      return problem(
        c,
        409,
        'invalid_request',
        `run ${run.id} is not running on this server (it is ${run.status})`,
      );
    }
    return c.json({ id: run.id, cancelling: true }, 202);
  });

  api.post('/:id/resume', (c) => resumeRun(c, options));

  api.get('/:id/events', async (c) => {
    const run = await store.getRun(c.req.param('id'));
    if (!run) return problem(c, 404, 'not_found', `no run "${c.req.param('id')}"`);
    // Events after this seq; -1 streams from the first (`run.started` is 0).
    const from = c.req.header('last-event-id') ?? c.req.query('after') ?? '-1';
    const after = Number(from);
    if (!Number.isInteger(after) || after < -1) {
      return problem(c, 400, 'invalid_request', `Last-Event-ID: "${from}" is not an event number`);
    }
    return streamSSE(c, (stream) => streamRunEvents(stream, run.id, after, store, manager));
  });

  return api;
}

/** `POST /runs`: starts a run of one of this machine's agents. */
async function startRun(c: Context<AppEnv>, options: RunsApiOptions): Promise<Response> {
  const { store, config, manager } = options;
  const parsed = await jsonBody(c, startSchema);
  if ('error' in parsed) return problem(c, 400, 'invalid_request', parsed.error!);
  const request = parsed.value!;
  const catalog = listAgents(config);
  const agent = findAgent(catalog, request.agent);
  if (!agent) return problem(c, 404, 'not_found', unknownAgent(catalog, request.agent).message);
  if (!agent.valid) return problem(c, 422, 'invalid_request', agent.error ?? 'invalid spec');
  // W3C trace context: the run joins the caller's trace (a malformed header is ignored).
  const header = c.req.header('traceparent');
  const traceparent = parseTraceparent(header) ? header!.trim() : undefined;
  try {
    const id = await manager.start({
      specPath: agent.path,
      cwd: dirname(agent.path),
      task: request.task,
      ...(request.model ? { model: request.model } : {}),
      ...(request.effort ? { effort: request.effort } : {}),
      ...(request.limits ? { limits: request.limits } : {}),
      ...(traceparent ? { traceparent } : {}),
      ...(request.tags?.length ? { tags: request.tags } : {}),
    });
    return c.json(await runView(store, id), 201, { location: `/runs/${id}` });
  } catch (error) {
    if (isAgentdError(error)) return problem(c, 422, 'invalid_request', error.message);
    throw error;
  }
}

/** `POST /runs/{id}/resume`: continues a run that is not running. */
async function resumeRun(
  c: Context<AppEnv, '/:id/resume'>,
  options: RunsApiOptions,
): Promise<Response> {
  const { store, manager } = options;
  const run = await store.getRun(c.req.param('id'));
  if (!run) return problem(c, 404, 'not_found', `no run "${c.req.param('id')}"`);
  const parsed = await jsonBody(c, resumeSchema);
  if ('error' in parsed) return problem(c, 400, 'invalid_request', parsed.error!);
  if (run.status === 'completed' || manager.isActive(run.id)) {
    return problem(
      c,
      409,
      'invalid_request',
      `run ${run.id} is ${manager.isActive(run.id) ? 'running' : run.status}; there is nothing to resume`,
    );
  }
  try {
    await manager.resume(run.id, {
      ...(parsed.value!.limits ? { limits: parsed.value!.limits } : {}),
      ...(parsed.value!.inDoubt ? { inDoubt: parsed.value!.inDoubt } : {}),
    });
  } catch (error) {
    if (isAgentdError(error)) return problem(c, 409, 'invalid_request', error.message);
    throw error;
  }
  return c.json(await runView(store, run.id), 202);
}

/** A run as the API shows it: its summary and what its events add up to. */
async function runView(store: Store, id: string) {
  const [summary, events] = await Promise.all([store.getRun(id), store.readEvents(id)]);
  const state = foldRun(id, events);
  return {
    ...summary,
    status: state.status,
    ...(state.detail ? { detail: state.detail } : {}),
    ...(state.output !== undefined ? { output: state.output } : {}),
    turns: state.turns,
    usage: state.usage,
    lastEventId: events.at(-1)?.seq ?? 0,
  };
}

/** A run tag (see src/core/run-tags.ts). */
const tagItem = { type: 'string', pattern: tagPattern.source };

const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

const runSummary = {
  type: 'object',
  required: ['id', 'agent', 'model', 'task', 'createdAt', 'status'],
  properties: {
    id: { type: 'string' },
    agent: { type: 'string' },
    model: { type: 'string' },
    task: { type: 'string' },
    parentRunId: { type: 'string' },
    actor: { type: 'string' },
    sessionId: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' }, description: 'sorted' },
    createdAt: { type: 'string', format: 'date-time' },
    status: { $ref: '#/components/schemas/RunStatus' },
    reason: { type: 'string' },
    turns: { type: 'integer' },
    usage: { $ref: '#/components/schemas/Usage' },
    costUsd: { type: ['number', 'null'] },
    finishedAt: { type: 'string', format: 'date-time' },
  },
};

/** The runs routes' part of the OpenAPI document, with the schemas of a run and its views. */
export const runsOpenApi: OpenApiPart = {
  paths: {
    '/runs': {
      post: {
        tags: ['runs'],
        summary: "Start a run of one of this machine's agents",
        security: [{ apiKey: ['runs'] }],
        parameters: [
          {
            name: 'traceparent',
            in: 'header',
            description:
              "W3C trace context: the run's spans join the caller's trace (with telemetry on; a malformed value is ignored)",
            schema: { type: 'string' },
          },
        ],
        requestBody: jsonRequest({
          type: 'object',
          required: ['agent', 'task'],
          additionalProperties: false,
          properties: {
            agent: { type: 'string', description: 'a name from agentd agents list' },
            task: { type: 'string' },
            model: { type: 'string', description: 'provider/model-id' },
            effort: { type: 'string' },
            limits: { $ref: '#/components/schemas/Limits' },
            tags: {
              type: 'array',
              maxItems: maxTagsPerRun,
              items: tagItem,
              description: "the run's tags, after its agent spec's tags:",
            },
          },
        }),
        responses: {
          '201': jsonResponse('The run, started (Location: /runs/{id})', ref('RunView')),
          '400': problemResponse,
          '404': problemResponse,
          '422': problemResponse,
          ...authErrors,
        },
      },
      get: {
        tags: ['runs'],
        summary: 'Runs, newest first, a page at a time (all filters given apply)',
        security: [{ apiKey: ['runs'] }],
        parameters: [
          { name: 'status', in: 'query', schema: ref('RunStatus') },
          { name: 'agent', in: 'query', schema: { type: 'string' } },
          { name: 'actor', in: 'query', schema: { type: 'string' } },
          { name: 'session', in: 'query', schema: { type: 'string' } },
          { name: 'team', in: 'query', schema: { type: 'string' }, description: 'a team id' },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'minCost', in: 'query', schema: { type: 'number' }, description: 'USD' },
          { name: 'maxCost', in: 'query', schema: { type: 'number' }, description: 'USD' },
          {
            name: 'q',
            in: 'query',
            schema: { type: 'string' },
            description: 'words in the task, or the start of the run id',
          },
          {
            name: 'tag',
            in: 'query',
            schema: { type: 'array', items: tagItem },
            style: 'form',
            explode: true,
            description: 'runs with this tag (repeat the parameter: every one must match)',
          },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        ],
        responses: {
          '200': jsonResponse('A page of runs', ref('RunPage')),
          '400': problemResponse,
          ...authErrors,
        },
      },
    },
    '/runs/{id}': {
      get: {
        tags: ['runs'],
        summary: 'A run: status, output, turns, usage, last event id',
        security: [{ apiKey: ['runs'] }],
        parameters: [runId],
        responses: {
          '200': jsonResponse('The run', ref('RunView')),
          '404': problemResponse,
          ...authErrors,
        },
      },
    },
    '/runs/{id}/tags': {
      post: {
        tags: ['runs'],
        summary:
          'Put tags on a run or take them off (a run.tagged event in its log); a run a process is driving is refused (409)',
        security: [{ apiKey: ['runs'] }],
        parameters: [runId],
        requestBody: jsonRequest({
          type: 'object',
          additionalProperties: false,
          properties: {
            add: { type: 'array', maxItems: maxTagsPerRun, items: tagItem },
            remove: { type: 'array', maxItems: maxTagsPerRun, items: tagItem },
          },
        }),
        responses: {
          '200': jsonResponse("The run's tags after the change", {
            type: 'object',
            required: ['id', 'tags'],
            properties: {
              id: { type: 'string' },
              tags: { type: 'array', items: { type: 'string' } },
            },
          }),
          '400': problemResponse,
          '404': problemResponse,
          '409': problemResponse,
          '422': problemResponse,
          ...authErrors,
        },
      },
    },
    '/runs/{id}/cancel': {
      post: {
        tags: ['runs'],
        summary: 'Cancel a run running on this server',
        security: [{ apiKey: ['runs'] }],
        parameters: [runId],
        responses: {
          '202': jsonResponse('Cancelling', {
            type: 'object',
            required: ['id', 'cancelling'],
            properties: { id: { type: 'string' }, cancelling: { type: 'boolean' } },
          }),
          '404': problemResponse,
          '409': problemResponse,
          ...authErrors,
        },
      },
    },
    '/runs/{id}/resume': {
      post: {
        tags: ['runs'],
        summary: 'Continue a run that is not running (suspended, failed, cancelled, interrupted)',
        security: [{ apiKey: ['runs'] }],
        parameters: [runId],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  limits: { $ref: '#/components/schemas/Limits' },
                  inDoubt: { enum: ['rerun', 'skip'] },
                },
              },
            },
          },
        },
        responses: {
          '202': jsonResponse('Resumed', ref('RunView')),
          '404': problemResponse,
          '409': problemResponse,
          ...authErrors,
        },
      },
    },
    '/runs/{id}/events': {
      get: {
        tags: ['runs'],
        summary: "A run's events as Server-Sent Events (id: seq, event: type, data: the event)",
        description:
          'Streams from the first event, or after the one named by the Last-Event-ID header (or ?after=); ends when the run stops.',
        security: [{ apiKey: ['runs'] }],
        parameters: [
          runId,
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'integer' } },
          { name: 'after', in: 'query', schema: { type: 'integer' } },
        ],
        responses: {
          '200': {
            description: 'text/event-stream: each message one event',
            content: { 'text/event-stream': { schema: ref('RunEvent') } },
          },
          '404': problemResponse,
          ...authErrors,
        },
      },
    },
  },
  schemas: {
    Limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxTurns: { type: 'integer' },
        maxTokens: { type: 'integer' },
        maxCostUsd: { type: 'number' },
        maxTimeMs: { type: 'integer' },
      },
    },
    RunStatus: { enum: [...runStatuses] },
    RunSummary: runSummary,
    RunPage: {
      type: 'object',
      required: ['runs'],
      properties: {
        runs: { type: 'array', items: { $ref: '#/components/schemas/RunSummary' } },
        nextCursor: { type: 'string', description: 'pass as cursor for the next page' },
      },
    },
    RunView: {
      allOf: [
        { $ref: '#/components/schemas/RunSummary' },
        {
          type: 'object',
          required: ['turns', 'usage', 'lastEventId'],
          properties: {
            detail: { type: 'string' },
            output: { type: 'string' },
            lastEventId: { type: 'integer' },
          },
        },
      ],
    },
  },
};

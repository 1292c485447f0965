import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { Store } from '../store/store.ts';
import { teamOverview } from '../teams/overview.ts';
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
import type { RunManager } from './run-manager.ts';

/** How often a team's stream looks for news: its members run in another process. */
const pollMs = 1000;

/**
 * Agent teams over HTTP (scope `teams`): recent teams, one team's board, members' runs and
 * messages (what `agentd team show` prints), and its log as Server-Sent Events while it runs.
 * Teams run in the process that started them (`agentd team run`); these routes read the store.
 */
export function teamsApi(store: Store, manager?: RunManager): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.get('/', async (c) => {
    const limit = Number(c.req.query('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return problem(c, 400, 'invalid_request', 'limit: give 1 to 1000');
    }
    const teams = await store.teams.listTeams(limit);
    const withCounts = await Promise.all(
      teams.map(async (team) => {
        const tasks = await store.teams.listTasks(team.id);
        return {
          ...team,
          tasks: tasks.length,
          tasksDone: tasks.filter((t) => t.status === 'done').length,
        };
      }),
    );
    return c.json({ teams: withCounts });
  });

  api.get('/:id', async (c) => {
    const team = await store.teams.getTeam(c.req.param('id'));
    if (!team) return problem(c, 404, 'not_found', `no team "${c.req.param('id')}"`);
    return c.json(await teamOverview(store, team));
  });

  api.get('/:id/events', async (c) => {
    const team = await store.teams.getTeam(c.req.param('id'));
    if (!team) return problem(c, 404, 'not_found', `no team "${c.req.param('id')}"`);
    const from = c.req.header('last-event-id') ?? c.req.query('after') ?? '0';
    let after = Number(from);
    if (!Number.isInteger(after) || after < 0) {
      return problem(c, 400, 'invalid_request', `Last-Event-ID: "${from}" is not an entry number`);
    }
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined;
      const stop = () => wake?.();
      manager?.events.on('closing', stop);
      stream.onAbort(stop);
      try {
        while (!stream.aborted && !manager?.closing) {
          const entries = await store.teams.readTeamEvents(team.id, { afterSeq: after });
          for (const entry of entries) {
            await stream.writeSSE({
              id: String(entry.seq),
              event: entry.type,
              data: JSON.stringify(entry),
            });
            after = entry.seq;
          }
          const now = await store.teams.getTeam(team.id);
          if (entries.length === 0 && now?.status !== 'running') break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      } finally {
        manager?.events.off('closing', stop);
      }
    });
  });
  return api;
}

const team = {
  type: 'object',
  required: ['id', 'name', 'task', 'leadRunId', 'status', 'budget', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    task: { type: 'string' },
    specPath: { type: 'string' },
    cwd: { type: 'string' },
    leadRunId: { type: 'string' },
    status: {
      enum: ['running', 'completed', 'failed', 'budget_exceeded', 'cancelled', 'needs_attention'],
    },
    result: { type: 'string' },
    detail: { type: 'string' },
    budget: { type: 'object', additionalProperties: { type: 'number' } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

export const teamsOpenApi: OpenApiPart = {
  schemas: {
    Team: team,
    TeamTask: {
      type: 'object',
      required: ['id', 'n', 'title', 'description', 'dependsOn', 'status', 'createdBy'],
      properties: {
        id: { type: 'string' },
        n: { type: 'integer' },
        title: { type: 'string' },
        description: { type: 'string' },
        dependsOn: { type: 'array', items: { type: 'string' } },
        assignee: { type: 'string' },
        status: { enum: ['pending', 'claimed', 'in_progress', 'blocked', 'done', 'failed'] },
        owner: { type: 'string' },
        runId: { type: 'string' },
        result: { type: 'string' },
        createdBy: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
      },
    },
    TeamEvent: {
      type: 'object',
      required: ['teamId', 'seq', 'at', 'type', 'data'],
      properties: {
        teamId: { type: 'string' },
        seq: { type: 'integer' },
        at: { type: 'string', format: 'date-time' },
        type: {
          enum: [
            'team.started',
            'team.resumed',
            'team.finished',
            'task.created',
            'task.changed',
            'message',
            'member.started',
            'member.finished',
          ],
        },
        data: { type: 'object', additionalProperties: true },
      },
    },
    TeamOverview: {
      type: 'object',
      required: ['team', 'usage', 'tasks', 'runs', 'messages', 'log'],
      properties: {
        team: ref('Team'),
        usage: {
          type: 'object',
          required: ['turns', 'tokens', 'costUsd', 'costKnown', 'activeMs'],
          properties: {
            turns: { type: 'integer' },
            tokens: { type: 'integer' },
            costUsd: { type: 'number' },
            costKnown: { type: 'boolean' },
            activeMs: { type: 'number' },
          },
        },
        tasks: { type: 'array', items: ref('TeamTask') },
        runs: {
          type: 'array',
          items: {
            type: 'object',
            required: ['member', 'runId', 'status', 'turns', 'tokens', 'costUsd'],
            properties: {
              member: { type: 'string' },
              runId: { type: 'string' },
              task: { type: 'string' },
              status: { type: 'string' },
              turns: { type: 'integer' },
              tokens: { type: 'integer' },
              costUsd: { type: ['number', 'null'] },
            },
          },
        },
        messages: {
          type: 'array',
          items: {
            type: 'object',
            required: ['seq', 'at', 'from', 'to', 'text'],
            properties: {
              seq: { type: 'integer' },
              at: { type: 'string', format: 'date-time' },
              from: { type: 'string' },
              to: { type: 'string' },
              text: { type: 'string' },
              auto: { type: 'boolean' },
            },
          },
        },
        log: { type: 'array', items: ref('TeamEvent') },
      },
    },
  },
  paths: {
    '/teams': {
      get: operation('teams', 'Recent teams, newest first, with how many tasks are done', {
        parameters: [queryParam('limit', { type: 'integer', minimum: 1, maximum: 1000 })],
        responses: {
          '200': jsonResponse('The teams', {
            type: 'object',
            required: ['teams'],
            properties: {
              teams: {
                type: 'array',
                items: {
                  allOf: [
                    ref('Team'),
                    {
                      type: 'object',
                      required: ['tasks', 'tasksDone'],
                      properties: { tasks: { type: 'integer' }, tasksDone: { type: 'integer' } },
                    },
                  ],
                },
              },
            },
          }),
          '400': problemResponse,
        },
      }),
    },
    '/teams/{id}': {
      get: operation('teams', "A team's board, members' runs with their usage, messages and log", {
        parameters: [pathId('a team id or a unique prefix of one')],
        responses: {
          '200': jsonResponse('The team', ref('TeamOverview')),
          '404': problemResponse,
        },
      }),
    },
    '/teams/{id}/events': {
      get: operation('teams', "A team's log as Server-Sent Events (id: seq, event: type)", {
        description:
          'From the first entry, or after the one named by Last-Event-ID (or ?after=); ends once the team has stopped and every entry was sent.',
        parameters: [
          pathId('a team id'),
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'integer' } },
          queryParam('after', { type: 'integer' }),
        ],
        responses: {
          '200': { description: 'text/event-stream of TeamEvent' },
          '400': problemResponse,
          '404': problemResponse,
        },
      }),
    },
  },
};

import { dirname } from 'node:path';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { isAgentdError } from '../core/errors.ts';
import { foldRun } from '../core/run-state.ts';
import { maxTagsPerRun, tagPattern, tagRule } from '../core/run-tags.ts';
import { findAgent, listAgents, unknownAgent } from '../definition/agent-catalog.ts';
import { effortLevels } from '../models/catalog.ts';
import { tagRun } from '../runtime/run-tagging.ts';
import { BadCursorError, type Store } from '../store/store.ts';
import { parseTraceparent } from '../telemetry/trace-ids.ts';
import type { AppEnv } from './app.ts';
import { jsonBody } from './json-body.ts';
import { problem } from './problem.ts';
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

/** How long a quiet event stream waits before sending a keep-alive comment. */
const keepAliveMs = 15_000;

/**
 * Runs over HTTP: start one of this machine's agents, list, get, cancel, resume, and stream a
 * run's events as Server-Sent Events, resumable from any event id (`Last-Event-ID`).
 */
export function runsApi(options: {
  store: Store;
  config: Config;
  manager: RunManager;
}): Hono<AppEnv> {
  const { store, config, manager } = options;
  const api = new Hono<AppEnv>();

  api.post('/', async (c) => {
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
  });

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

  api.post('/:id/resume', async (c) => {
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
  });

  api.get('/:id/events', async (c) => {
    const run = await store.getRun(c.req.param('id'));
    if (!run) return problem(c, 404, 'not_found', `no run "${c.req.param('id')}"`);
    // Events after this seq; -1 streams from the first (`run.started` is 0).
    const from = c.req.header('last-event-id') ?? c.req.query('after') ?? '-1';
    let after = Number(from);
    if (!Number.isInteger(after) || after < -1) {
      return problem(c, 400, 'invalid_request', `Last-Event-ID: "${from}" is not an event number`);
    }
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined;
      // Set by anything that happens while the loop is busy, so no news waits for a timer.
      let dirty = false;
      const poke = () => {
        dirty = true;
        wake?.();
      };
      const onEvent = (event: { runId: string }) => {
        if (event.runId === run.id) poke();
      };
      const onStopped = (id: string) => {
        if (id === run.id) poke();
      };
      manager.events.on('event', onEvent);
      manager.events.on('stopped', onStopped);
      manager.events.on('closing', poke);
      stream.onAbort(poke);
      // Runs driven elsewhere (workers): a store that tells of appends (Postgres) says when.
      const unsubscribe = await store
        .subscribe?.('events', (id) => {
          if (id === run.id) poke();
        })
        .catch(() => undefined);
      try {
        while (!stream.aborted) {
          dirty = false;
          const events = await store.readEvents(run.id, { afterSeq: after, limit: 500 });
          for (const event of events) {
            await stream.writeSSE({
              id: String(event.seq),
              event: event.type,
              data: JSON.stringify(event),
            });
            after = event.seq;
          }
          if (events.length === 500) {
            // let the page just written reach the socket before reading the next one
            await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          if (manager.closing) break;
          const active = manager.isActive(run.id);
          const latest = await store.getRun(run.id);
          // A run waiting for approval is still going: its stream stays open for the answer.
          const going = latest?.status === 'running' || latest?.status === 'awaiting_approval';
          if (!active && !going) break;
          if (dirty) continue;
          // Another process may be driving the run: look again now and then (SQLite).
          const told = active || unsubscribe !== undefined;
          const waited = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), told ? keepAliveMs : 1000);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          wake = undefined;
          if (!waited && told) await stream.write(': keep-alive\n\n');
        }
      } finally {
        unsubscribe?.();
        manager.events.off('event', onEvent);
        manager.events.off('stopped', onStopped);
        manager.events.off('closing', poke);
      }
    });
  });

  return api;
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

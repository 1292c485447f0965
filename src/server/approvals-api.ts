import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { ApprovalStatus } from '../core/approval.ts';
import type { Store } from '../store/store.ts';
import type { AppEnv } from './app.ts';
import { problem } from './problem.ts';

const statuses = [
  'pending',
  'approved',
  'denied',
  'timed_out',
  'cancelled',
  'withdrawn',
  'all',
] as const;

const answerSchema = z.strictObject({ reason: z.string().max(2000).optional() });

/**
 * Requests for approval over HTTP (scope `approvals`): list them, approve or deny one. The
 * caller (the API key's name, or the token's subject) is who answered; the first answer wins
 * (a later one is 409 with how the request was closed).
 */
export function approvalsApi(store: Store): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.get('/', async (c) => {
    const status = c.req.query('status') ?? 'pending';
    if (!(statuses as readonly string[]).includes(status)) {
      return problem(
        c,
        400,
        'invalid_request',
        `status: "${status}" is not one of ${statuses.join(', ')}`,
      );
    }
    const limit = Number(c.req.query('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return problem(c, 400, 'invalid_request', 'limit: give 1 to 1000');
    }
    const run = c.req.query('run');
    const approvals = await store.listApprovals({
      limit,
      ...(status === 'all' ? {} : { status: status as ApprovalStatus }),
      ...(run ? { runId: run } : {}),
    });
    return c.json({ approvals });
  });

  api.get('/:id', async (c) => {
    const record = await store.getApproval(c.req.param('id'));
    if (!record) return problem(c, 404, 'not_found', `no approval "${c.req.param('id')}"`);
    return c.json(record);
  });

  const answer = (status: 'approved' | 'denied') => async (c: Context<AppEnv>) => {
    let body: unknown = {};
    if (c.req.header('content-length') !== '0') {
      try {
        body = await c.req.json();
      } catch {
        body = c.req.header('content-type')?.includes('json') ? undefined : {};
        if (body === undefined) return problem(c, 400, 'invalid_request', 'the body is not JSON');
      }
    }
    const parsed = answerSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return problem(
        c,
        400,
        'invalid_request',
        `${issue.path.join('.') || 'body'}: ${issue.message}`,
      );
    }
    const reason = parsed.data.reason?.trim();
    if (status === 'denied' && !reason) {
      return problem(
        c,
        400,
        'invalid_request',
        'reason: say why the call is denied (the agent is told who denied it and why)',
      );
    }
    const found = await store.getApproval(c.req.param('id')!);
    if (!found) return problem(c, 404, 'not_found', `no approval "${c.req.param('id')}"`);
    const result = await store.answerApproval(found.id, {
      status,
      by: c.get('caller').name,
      ...(reason ? { reason } : {}),
      at: new Date().toISOString(),
    });
    if (!result) return problem(c, 404, 'not_found', `no approval "${c.req.param('id')}"`);
    if (!result.answered) {
      const closed = result.record;
      return problem(
        c,
        409,
        'already_answered',
        closed.status === 'timed_out'
          ? `approval ${closed.id} expired at ${closed.expiresAt}: the call was denied`
          : `approval ${closed.id} was already ${closed.status}${closed.answeredBy ? ` by ${closed.answeredBy}` : ''}`,
      );
    }
    return c.json(result.record);
  };

  api.post('/:id/approve', answer('approved'));
  api.post('/:id/deny', answer('denied'));
  return api;
}

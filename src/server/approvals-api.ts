import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { ApprovalStatus } from '../core/approval.ts';
import type { Store } from '../store/store.ts';
import type { AppEnv } from './app.ts';
import {
  authErrors as errors,
  jsonRequest,
  jsonResponse,
  type OpenApiPart,
  problemResponse,
} from './openapi-parts.ts';
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

const approvalId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'an approval id (apr_...) or a unique prefix of one',
  schema: { type: 'string' },
};
const answer = (verb: 'approve' | 'deny') => ({
  post: {
    tags: ['approvals'],
    summary:
      verb === 'approve'
        ? 'Approve a tool call: the waiting run goes on with it (the first answer wins)'
        : 'Deny a tool call: the agent is told who denied it and why (the first answer wins)',
    description:
      'The caller (the API key name, or the token subject) is recorded as who answered, in the request and in the audit log.',
    security: [{ apiKey: ['approvals'] }],
    parameters: [approvalId],
    requestBody: jsonRequest(
      {
        type: 'object',
        additionalProperties: false,
        ...(verb === 'deny' ? { required: ['reason'] } : {}),
        properties: { reason: { type: 'string', maxLength: 2000 } },
      },
      verb === 'deny',
    ),
    responses: {
      '200': {
        description: 'The request, answered',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Approval' } } },
      },
      '400': problemResponse,
      '404': problemResponse,
      '409': {
        ...problemResponse,
        description: 'Already answered, or expired (code `already_answered`)',
      },
      ...errors,
    },
  },
});

/** The approvals routes' part of the OpenAPI document. */
export const approvalsOpenApi: OpenApiPart = {
  paths: {
    '/approvals': {
      get: {
        tags: ['approvals'],
        summary: 'Requests for approval, newest first (pending ones unless status says otherwise)',
        security: [{ apiKey: ['approvals'] }],
        parameters: [
          {
            name: 'status',
            in: 'query',
            schema: {
              enum: ['pending', 'approved', 'denied', 'timed_out', 'cancelled', 'withdrawn', 'all'],
            },
          },
          { name: 'run', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        ],
        responses: {
          '200': jsonResponse('`{ approvals: [...] }`', {
            type: 'object',
            properties: {
              approvals: {
                type: 'array',
                items: { $ref: '#/components/schemas/Approval' },
              },
            },
          }),
          '400': problemResponse,
          ...errors,
        },
      },
    },
    '/approvals/{id}': {
      get: {
        tags: ['approvals'],
        summary: 'One request for approval',
        security: [{ apiKey: ['approvals'] }],
        parameters: [approvalId],
        responses: {
          '200': jsonResponse('The request', { $ref: '#/components/schemas/Approval' }),
          '404': problemResponse,
          ...errors,
        },
      },
    },
    '/approvals/{id}/approve': answer('approve'),
    '/approvals/{id}/deny': answer('deny'),
  },
  schemas: {
    Approval: {
      type: 'object',
      description: "A tool call waiting for (or given) a person's approval",
      required: [
        'id',
        'runId',
        'callId',
        'agent',
        'tool',
        'action',
        'resource',
        'input',
        'policies',
        'reason',
        'requestedAt',
        'expiresAt',
        'status',
      ],
      properties: {
        id: { type: 'string' },
        runId: { type: 'string' },
        callId: { type: 'string' },
        agent: { type: 'string' },
        tool: { type: 'string' },
        action: { type: 'string' },
        principal: { type: 'string' },
        user: { type: 'string' },
        resource: { type: 'string' },
        input: { description: "the call's arguments (secrets redacted)" },
        inputDigest: { type: 'string' },
        mode: { enum: ['enforce', 'log_only'] },
        policies: { type: 'array', items: { type: 'string' } },
        reason: { type: 'string' },
        requestedAt: { type: 'string', format: 'date-time' },
        expiresAt: { type: 'string', format: 'date-time' },
        auditSeq: { type: 'integer' },
        status: {
          enum: ['pending', 'approved', 'denied', 'timed_out', 'cancelled', 'withdrawn'],
        },
        answeredBy: { type: 'string' },
        answerReason: { type: 'string' },
        answeredAt: { type: 'string', format: 'date-time' },
        answerAuditSeq: { type: 'integer' },
      },
    },
  },
};

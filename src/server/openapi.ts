import { maxTagsPerRun, tagPattern } from '../core/run-tags.ts';
import { consoleOpenApiParts } from './console-routes.ts';
import { runEventSchemas } from './openapi-events.ts';
import { authErrors as errors, jsonResponse, problemResponse, ref } from './openapi-parts.ts';

/** A run tag (see src/core/run-tags.ts). */
const tagItem = { type: 'string', pattern: tagPattern.source };

/** The OpenAPI 3.1 document of agentd's HTTP API, served at `/openapi.json`. */
export function openApiDocument(version: string): Record<string, unknown> {
  const document = coreDocument(version) as {
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };
  for (const part of consoleOpenApiParts) {
    Object.assign(document.paths, part.paths);
    Object.assign(document.components.schemas, part.schemas);
  }
  Object.assign(document.components.schemas, runEventSchemas(), runSchemas);
  return document;
}

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

/** Runs, their views, and the audit log's records. */
const runSchemas = {
  RunStatus: {
    enum: [
      'running',
      'completed',
      'failed',
      'cancelled',
      'budget_exceeded',
      'needs_attention',
      'suspended',
      'awaiting_approval',
    ],
  },
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
  AuditRecord: {
    type: 'object',
    required: [
      'seq',
      'at',
      'runId',
      'callId',
      'principal',
      'user',
      'action',
      'resource',
      'inputDigest',
      'decision',
      'effect',
      'mode',
      'policies',
      'errors',
      'reason',
      'latencyUs',
      'prevHash',
      'hash',
    ],
    properties: {
      seq: { type: 'integer' },
      at: { type: 'string', format: 'date-time' },
      runId: { type: ['string', 'null'] },
      callId: { type: ['string', 'null'] },
      principal: { type: 'string' },
      user: { type: 'string' },
      action: { type: 'string' },
      resource: { type: 'string' },
      inputDigest: { type: 'string' },
      decision: { type: 'string' },
      effect: { enum: ['allow', 'deny', 'needs_approval'] },
      mode: { enum: ['enforce', 'log_only'] },
      policies: { type: 'array', items: { type: 'string' } },
      errors: { type: 'array', items: { type: 'string' } },
      reason: { type: 'string' },
      latencyUs: { type: 'number' },
      prevHash: { type: 'string' },
      hash: { type: 'string' },
    },
  },
  AuditVerification: {
    type: 'object',
    required: ['ok', 'entries'],
    properties: {
      ok: { type: 'boolean' },
      entries: { type: 'integer' },
      head: {
        type: 'object',
        required: ['seq', 'hash'],
        properties: { seq: { type: 'integer' }, hash: { type: 'string' } },
      },
      seq: { type: 'integer', description: 'the first broken entry' },
      problem: { type: 'string' },
    },
  },
  PolicyProblem: {
    type: 'object',
    required: ['file', 'line', 'column', 'message', 'severity'],
    properties: {
      file: { type: 'string' },
      line: { type: 'integer' },
      column: { type: 'integer' },
      message: { type: 'string' },
      severity: { enum: ['error', 'warning'] },
    },
  },
};

function coreDocument(version: string): Record<string, unknown> {
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
  const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
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
      requestBody: {
        required: verb === 'deny',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              additionalProperties: false,
              ...(verb === 'deny' ? { required: ['reason'] } : {}),
              properties: { reason: { type: 'string', maxLength: 2000 } },
            },
          },
        },
      },
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
  return {
    openapi: '3.1.0',
    info: {
      title: 'agentd',
      version,
      description:
        'The HTTP API of agentd serve. Every route but /health needs an API key with the scope it names.',
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key; or the console session cookie agentd_session (POST /session), with the x-agentd-csrf header on every change',
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
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string' },
            detail: { type: 'string' },
          },
        },
      },
    },
    paths: {
      '/health': {
        get: {
          summary: 'Whether the server is up',
          responses: { '200': { description: '`{ status: "ok", version }`' } },
        },
      },
      '/metrics': {
        get: {
          summary:
            'Metrics in Prometheus text format (gen_ai.client.*, runs, tool calls, cost, approval waits); only with telemetry on',
          security: [{ apiKey: ['metrics'] }],
          responses: {
            '200': { description: 'Prometheus text exposition format 0.0.4' },
            ...errors,
          },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          security: [{ apiKey: [] }],
          responses: { '200': { description: 'OpenAPI 3.1' }, ...errors },
        },
      },
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
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
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
                },
              },
            },
          },
          responses: {
            '201': jsonResponse('The run, started (Location: /runs/{id})', ref('RunView')),
            '400': problemResponse,
            '404': problemResponse,
            '422': problemResponse,
            ...errors,
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
            ...errors,
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
            ...errors,
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
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    add: { type: 'array', maxItems: maxTagsPerRun, items: tagItem },
                    remove: { type: 'array', maxItems: maxTagsPerRun, items: tagItem },
                  },
                },
              },
            },
          },
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
            ...errors,
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
            ...errors,
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
            ...errors,
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
            ...errors,
          },
        },
      },
      '/approvals': {
        get: {
          tags: ['approvals'],
          summary:
            'Requests for approval, newest first (pending ones unless status says otherwise)',
          security: [{ apiKey: ['approvals'] }],
          parameters: [
            {
              name: 'status',
              in: 'query',
              schema: {
                enum: [
                  'pending',
                  'approved',
                  'denied',
                  'timed_out',
                  'cancelled',
                  'withdrawn',
                  'all',
                ],
              },
            },
            { name: 'run', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: {
            '200': {
              description: '`{ approvals: [...] }`',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      approvals: {
                        type: 'array',
                        items: { $ref: '#/components/schemas/Approval' },
                      },
                    },
                  },
                },
              },
            },
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
            '200': {
              description: 'The request',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/Approval' } },
              },
            },
            '404': problemResponse,
            ...errors,
          },
        },
      },
      '/approvals/{id}/approve': answer('approve'),
      '/approvals/{id}/deny': answer('deny'),
      '/policies/validate': {
        post: {
          tags: ['policies'],
          summary:
            "Check policy texts (or an agent's own folder) against the agent's schema: problems with file, line and column",
          security: [{ apiKey: ['policies'] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['agent'],
                  properties: {
                    agent: { type: 'string' },
                    policies: { type: 'object', additionalProperties: { type: 'string' } },
                  },
                },
              },
            },
          },
          responses: {
            '200': jsonResponse('What the check found', {
              type: 'object',
              required: ['agent', 'valid', 'policies', 'actions', 'problems'],
              properties: {
                agent: { type: 'string' },
                valid: { type: 'boolean' },
                policies: { type: 'integer' },
                actions: { type: 'integer' },
                problems: { type: 'array', items: ref('PolicyProblem') },
              },
            }),
            '400': problemResponse,
            '404': problemResponse,
            ...errors,
          },
        },
      },
      '/policies/test': {
        post: {
          tags: ['policies'],
          summary: 'Decide test cases (as agentd policy test takes them) against policies',
          security: [{ apiKey: ['policies'] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['agent', 'cases'],
                  properties: {
                    agent: { type: 'string' },
                    mode: { enum: ['enforce', 'log_only'] },
                    policies: { type: 'object', additionalProperties: { type: 'string' } },
                    cases: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['tool', 'expect'],
                        properties: {
                          name: { type: 'string' },
                          tool: { type: 'string' },
                          input: { type: 'object', additionalProperties: true },
                          agent: { type: 'string' },
                          user: { type: 'string' },
                          expect: { enum: ['allow', 'deny', 'needs_approval'] },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          responses: {
            '200': jsonResponse('Each case and the decision it got', {
              type: 'object',
              required: ['valid', 'passed', 'failed', 'cases'],
              properties: {
                valid: { type: 'boolean' },
                passed: { type: 'integer' },
                failed: { type: 'integer' },
                cases: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['name', 'expect', 'decision', 'passed', 'reason', 'policies'],
                    properties: {
                      name: { type: 'string' },
                      expect: { type: 'string' },
                      decision: { type: 'string' },
                      passed: { type: 'boolean' },
                      reason: { type: 'string' },
                      policies: { type: 'array', items: { type: 'string' } },
                    },
                  },
                },
              },
            }),
            '400': problemResponse,
            '404': problemResponse,
            '422': {
              description: 'The policies are invalid (`{ valid: false, problems }`), or a case is',
            },
            ...errors,
          },
        },
      },
      '/audit': {
        get: {
          tags: ['audit'],
          summary: 'Audit entries in order (`limit`, `after` a seq, `run`)',
          security: [{ apiKey: ['audit'] }],
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 10000 } },
            { name: 'after', in: 'query', schema: { type: 'integer' } },
            { name: 'run', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': jsonResponse('The entries', {
              type: 'object',
              required: ['entries'],
              properties: { entries: { type: 'array', items: ref('AuditRecord') } },
            }),
            '400': problemResponse,
            ...errors,
          },
        },
      },
      '/audit/verify': {
        get: {
          tags: ['audit'],
          summary: 'Check the hash chain (`anchor=<seq>:<hash>` also checks a head kept elsewhere)',
          security: [{ apiKey: ['audit'] }],
          parameters: [{ name: 'anchor', in: 'query', schema: { type: 'string' } }],
          responses: {
            '200': jsonResponse(
              '`{ ok, entries, head }` or `{ ok: false, seq, problem }`',
              ref('AuditVerification'),
            ),
            '400': problemResponse,
            ...errors,
          },
        },
      },
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
  };
}

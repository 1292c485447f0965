import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { auditFields, verifyAudit } from '../core/audit.ts';
import { isAgentdError } from '../core/errors.ts';
import { findAgent, listAgents, unknownAgent } from '../definition/agent-catalog.ts';
import { type AgentSpec, loadAgentSpec } from '../definition/agent-spec.ts';
import { casesSchema, decideCases } from '../policy/cases.ts';
import {
  authorizerFor,
  type CheckedPolicySet,
  checkPolicySet,
  policySourceOf,
  runUser,
  specManifests,
} from '../policy/load.ts';
import { ResourceResolver } from '../policy/resources.ts';
import type { Store } from '../store/store.ts';
import type { AppEnv } from './app.ts';
import { jsonBody } from './json-body.ts';
import type { OpenApiPart } from './openapi-parts.ts';
import { authErrors, jsonRequest, jsonResponse, problemResponse, ref } from './openapi-parts.ts';
import { problem } from './problem.ts';

/** Policy texts by file name, as a request gives them (instead of a folder on the server). */
const policyFiles = z
  .record(z.string().regex(/^[\w.-]+\.cedar$/, 'a file name ending in .cedar'), z.string())
  .refine((files) => Object.keys(files).length > 0, 'give at least one .cedar file');

const validateSchema = z.strictObject({
  /** The agent whose tools make the schema (an agent of this machine, by name). */
  agent: z.string().min(1),
  /** The policies to check; the agent's own policy folder when left out. */
  policies: policyFiles.optional(),
});

const testSchema = casesSchema.extend({ policies: policyFiles.optional() });

type Checked = { spec: AgentSpec; checked: CheckedPolicySet; dir: string };

/**
 * Policy tooling and the audit log over HTTP: `POST /policies/validate` and
 * `POST /policies/test` (scope `policies`) check policy texts sent in the request (or an
 * agent's own folder) against the agent's schema, as `agentd policy validate` and
 * `agentd policy test` do; `GET /audit` and `GET /audit/verify` (scope `audit`) read and check
 * the hash-chained audit log. Nothing here activates a policy.
 */
export function policyApi(options: { store: Store; config: Config }): {
  policies: Hono<AppEnv>;
  audit: Hono<AppEnv>;
} {
  const { store, config } = options;

  /** Checks the given texts (or the agent's folder) against the agent's schema. */
  const check = async <R>(
    agentName: string,
    files: Record<string, string> | undefined,
    use: (checked: Checked) => R,
  ): Promise<R | { notFound: string }> => {
    const catalog = listAgents(config);
    const agent = findAgent(catalog, agentName);
    if (!agent?.valid) {
      return { notFound: agent?.error ?? unknownAgent(catalog, agentName).message };
    }
    const spec = loadAgentSpec(agent.path);
    const manifests = await specManifests(spec, config, dirname(agent.path));
    if (!files) {
      const dir = policySourceOf(spec)?.dir ?? join(dirname(agent.path), 'policies');
      return use({ spec, checked: await checkPolicySet(dir, manifests), dir });
    }
    const dir = mkdtempSync(join(tmpdir(), 'agentd-policies-'));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const checked = await checkPolicySet(dir, manifests);
      // Problems name the files as the request did, not the temporary folder.
      for (const p of checked.problems) p.file = p.file.replace(`${dir}/`, '');
      return use({ spec, checked, dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const policies = new Hono<AppEnv>();
  policies.post('/validate', async (c) => {
    const body = await jsonBody(c, validateSchema);
    if ('error' in body) return problem(c, 400, 'invalid_request', body.error!);
    try {
      const result = await check(body.value!.agent, body.value!.policies, ({ spec, checked }) => ({
        agent: spec.name,
        valid: !checked.problems.some((p) => p.severity === 'error'),
        policies: checked.policies.length,
        actions: checked.schema.actions.size,
        problems: checked.problems,
      }));
      if ('notFound' in result) return problem(c, 404, 'not_found', result.notFound);
      return c.json(result);
    } catch (error) {
      if (isAgentdError(error)) return problem(c, 422, 'invalid_request', error.message);
      throw error;
    }
  });

  policies.post('/test', async (c) => {
    const body = await jsonBody(c, testSchema);
    if ('error' in body) return problem(c, 400, 'invalid_request', body.error!);
    const cases = body.value!;
    try {
      const result = await check(cases.agent, cases.policies, ({ spec, checked, dir }) => {
        const errors = checked.problems.filter((p) => p.severity === 'error');
        if (errors.length) return { valid: false as const, problems: errors };
        const authorizer = authorizerFor(checked, {
          mode: cases.mode ?? policySourceOf(spec)?.mode ?? 'enforce',
          dir,
          agent: spec.name,
          user: runUser(config.env),
          resources: new ResourceResolver({ connectors: spec.connectors, cwd: dirname(spec.path) }),
        });
        const outcomes = decideCases(cases, {
          authorizer,
          schema: checked.schema,
          where: 'body',
          agent: spec.name,
        });
        return {
          valid: true as const,
          passed: outcomes.filter((o) => o.passed).length,
          failed: outcomes.filter((o) => !o.passed).length,
          cases: outcomes.map((o) => ({
            name: o.name,
            expect: o.expect,
            decision: o.decision.decision,
            passed: o.passed,
            reason: o.decision.reason,
            policies: o.decision.policies,
          })),
        };
      });
      if ('notFound' in result) return problem(c, 404, 'not_found', result.notFound);
      if (!result.valid) {
        return c.json({ valid: false, problems: result.problems }, 422);
      }
      return c.json(result);
    } catch (error) {
      if (isAgentdError(error)) return problem(c, 422, 'invalid_request', error.message);
      throw error;
    }
  });

  const audit = new Hono<AppEnv>();
  audit.get('/', async (c) => {
    const limit = Number(c.req.query('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      return problem(c, 400, 'invalid_request', 'limit: give 1 to 10000');
    }
    const after = c.req.query('after');
    const runId = c.req.query('run');
    const entries = await store.listAudit({
      limit,
      ...(after !== undefined ? { afterSeq: Number(after) } : {}),
      ...(runId ? { runId } : {}),
    });
    return c.json({ entries });
  });
  audit.get('/verify', async (c) => {
    const anchorText = c.req.query('anchor');
    let anchor: { seq: number; hash: string } | undefined;
    if (anchorText) {
      const match = /^(\d+):([0-9a-f]{64})$/.exec(anchorText);
      if (!match) {
        return problem(c, 400, 'invalid_request', 'anchor: give <seq>:<sha-256 hex>');
      }
      anchor = { seq: Number(match[1]), hash: match[2]! };
    }
    const result = verifyAudit(await store.listAudit(), await store.auditHead(), anchor);
    return c.json(result);
  });

  return { policies, audit };
}

/** The policy and audit routes' part of the OpenAPI document, with the audit log's records. */
export const policyOpenApi: OpenApiPart = {
  paths: {
    '/policies/validate': {
      post: {
        tags: ['policies'],
        summary:
          "Check policy texts (or an agent's own folder) against the agent's schema: problems with file, line and column",
        security: [{ apiKey: ['policies'] }],
        requestBody: jsonRequest({
          type: 'object',
          required: ['agent'],
          properties: {
            agent: { type: 'string' },
            policies: { type: 'object', additionalProperties: { type: 'string' } },
          },
        }),
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
          ...authErrors,
        },
      },
    },
    '/policies/test': {
      post: {
        tags: ['policies'],
        summary: 'Decide test cases (as agentd policy test takes them) against policies',
        security: [{ apiKey: ['policies'] }],
        requestBody: jsonRequest({
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
        }),
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
          ...authErrors,
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
          ...authErrors,
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
          ...authErrors,
        },
      },
    },
  },
  schemas: {
    AuditRecord: {
      type: 'object',
      required: ['seq', ...auditFields, 'prevHash', 'hash'],
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
  },
};

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { isAgentdError } from '../core/errors.ts';
import { findAgent, listAgents, unknownAgent } from '../definition/agent-catalog.ts';
import { type AgentSpec, loadAgentSpec } from '../definition/agent-spec.ts';
import { specManifests } from '../policy/load.ts';
import { activatePolicySet, policySetNamePattern, savePolicyFiles } from '../policy/policy-sets.ts';
import { sinceTime } from '../policy/what-if.ts';
import { whatIfReport } from '../policy/what-if-report.ts';
import type { PolicySetRecord, Store } from '../store/store.ts';
import type { AppEnv } from './app.ts';
import { jsonBody } from './json-body.ts';
import {
  jsonRequest,
  jsonResponse,
  type OpenApiPart,
  operation,
  problemResponse,
  ref,
} from './openapi-parts.ts';
import { problem } from './problem.ts';

const policyFiles = z
  .record(z.string().regex(/^[\w.-]+\.cedar$/, 'a file name ending in .cedar'), z.string())
  .refine((files) => Object.keys(files).length > 0, 'give at least one .cedar file');

const setName = z.string().regex(policySetNamePattern, 'lowercase letters, digits, - and _');

const saveSchema = z.strictObject({ name: setName, policies: policyFiles });
const activateSchema = z.strictObject({
  version: z.int().positive().optional(),
  /** An agent whose own tools (modules) the set must also fit. */
  agent: z.string().min(1).optional(),
});
const whatIfSchema = z
  .strictObject({
    /** Candidate policies as texts by file name... */
    policies: policyFiles.optional(),
    /** ...or a saved set's version: `name@3`, or `name` for its active one. */
    set: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*(@\d+)?$/, 'a set name, or name@version')
      .optional(),
    /** `7d`, `12h`, or a date: only runs started since. */
    since: z.string().optional(),
    /** Replay with this agent's tools, and only its runs. */
    agent: z.string().min(1).optional(),
  })
  .refine((body) => (body.policies === undefined) !== (body.set === undefined), {
    message: 'give the candidate policies, or the set to try (one of them)',
    path: ['policies'],
  });

/** A set's version as listed: its files by name, without their texts. */
function listed(set: PolicySetRecord) {
  return { ...set, files: set.files.map((f) => f.name) };
}

/** Writes `files` to a folder of their own for `fn`, and removes it after. */
async function withFolder<T>(
  files: readonly { name: string; text: string }[],
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-candidate-'));
  try {
    for (const file of files) writeFileSync(join(dir, file.name), file.text);
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Policy sets kept in the store, over HTTP (scope `policies`): their versions, saving a new
 * version from texts, activating one (checked against every tool this machine knows first:
 * an invalid set is never activated), and what-if: the recorded calls whose decision a
 * candidate (texts, or a saved version) would change.
 */
export function policySetsApi(store: Store, config: Config): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  const agentOf = (name: string): { spec: AgentSpec } | { error: string } => {
    const catalog = listAgents(config);
    const agent = findAgent(catalog, name);
    if (!agent?.valid) return { error: agent?.error ?? unknownAgent(catalog, name).message };
    return { spec: loadAgentSpec(agent.path) };
  };

  api.get('/sets', async (c) => {
    return c.json({ sets: (await store.listPolicySets()).map(listed) });
  });

  api.get('/sets/:name/versions/:version', async (c) => {
    const version = Number(c.req.param('version'));
    const set = Number.isInteger(version)
      ? await store.getPolicySet(c.req.param('name'), version)
      : undefined;
    if (!set) {
      return problem(
        c,
        404,
        'not_found',
        `no policy set ${c.req.param('name')}@${c.req.param('version')} (see GET /policies/sets)`,
      );
    }
    return c.json(set);
  });

  api.post('/sets', async (c) => {
    const body = await jsonBody(c, saveSchema);
    if ('error' in body) return problem(c, 400, 'invalid_request', body.error);
    const files = Object.entries(body.value.policies).map(([name, text]) => ({ name, text }));
    const saved = await savePolicyFiles(store, body.value.name, files);
    return c.json(listed(saved), 201);
  });

  api.post('/sets/:name/activate', async (c) => {
    const body = await jsonBody(c, activateSchema);
    if ('error' in body) return problem(c, 400, 'invalid_request', body.error);
    let manifests: Awaited<ReturnType<typeof specManifests>> = [];
    if (body.value.agent) {
      const found = agentOf(body.value.agent);
      if ('error' in found) return problem(c, 404, 'not_found', found.error);
      manifests = await specManifests(found.spec, config, dirname(found.spec.path));
    }
    try {
      const active = await activatePolicySet(
        store,
        config,
        c.req.param('name'),
        body.value.version,
        manifests,
      );
      return c.json(listed(active));
    } catch (error) {
      if (!isAgentdError(error)) throw error;
      if (error.code === 'policy_invalid') return problem(c, 422, 'invalid_request', error.message);
      return problem(c, 404, 'not_found', error.message);
    }
  });

  api.post('/what-if', async (c) => {
    const body = await jsonBody(c, whatIfSchema);
    if ('error' in body) return problem(c, 400, 'invalid_request', body.error);
    const request = body.value;
    let since: string | undefined;
    if (request.since !== undefined) {
      since = sinceTime(request.since);
      if (!since) {
        return problem(
          c,
          400,
          'invalid_request',
          `since: "${request.since}" is not a date or an age (write e.g. 7d, 12h, 30m or 2026-11-01)`,
        );
      }
    }
    let files: { name: string; text: string }[];
    let shown: string;
    if (request.set) {
      const [name, version] = request.set.split('@') as [string, string | undefined];
      const set = await store.getPolicySet(name, version ? Number(version) : undefined);
      if (!set) {
        return problem(
          c,
          404,
          'not_found',
          `set: no policy set ${request.set} is saved${version ? '' : ' and active'}`,
        );
      }
      files = set.files;
      shown = `${set.name}@${set.version}`;
    } else {
      files = Object.entries(request.policies!).map(([name, text]) => ({ name, text }));
      shown = 'the candidate policies';
    }
    let only: ReturnType<typeof loadAgentSpec> | undefined;
    if (request.agent) {
      const catalog = listAgents(config);
      const agent = findAgent(catalog, request.agent);
      if (!agent?.valid) {
        return problem(
          c,
          404,
          'not_found',
          agent?.error ?? unknownAgent(catalog, request.agent).message,
        );
      }
      only = loadAgentSpec(agent.path);
    }
    try {
      const report = await withFolder(files, (folder) =>
        whatIfReport({
          store,
          config,
          folder,
          shown,
          ...(since ? { since } : {}),
          ...(only ? { only } : {}),
        }),
      );
      return c.json({ changes: report.changes, summary: { ...report.summary, policies: shown } });
    } catch (error) {
      if (isAgentdError(error)) {
        return problem(
          c,
          422,
          'invalid_request',
          error.message.replaceAll(/\/\S*agentd-candidate-\w+\//g, ''),
        );
      }
      throw error;
    }
  });
  return api;
}

const files = {
  type: 'object',
  description: 'policy texts by file name (`*.cedar`)',
  additionalProperties: { type: 'string' },
};

export const policySetsOpenApi: OpenApiPart = {
  schemas: {
    PolicySetVersion: {
      type: 'object',
      required: ['name', 'version', 'files', 'digest', 'createdAt', 'active'],
      properties: {
        name: { type: 'string' },
        version: { type: 'integer' },
        files: { type: 'array', items: { type: 'string' }, description: 'file names' },
        digest: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
        active: { type: 'boolean' },
      },
    },
    ChangedDecision: {
      type: 'object',
      required: [
        'runId',
        'agent',
        'callId',
        'tool',
        'action',
        'resource',
        'at',
        'before',
        'after',
        'beforeReason',
        'afterReason',
        'policies',
      ],
      properties: {
        runId: { type: 'string' },
        agent: { type: 'string' },
        callId: { type: 'string' },
        tool: { type: 'string' },
        action: { type: 'string' },
        resource: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
        before: { enum: ['allow', 'deny', 'needs_approval'] },
        after: { enum: ['allow', 'deny', 'needs_approval'] },
        beforeReason: { type: 'string' },
        afterReason: { type: 'string' },
        policies: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  paths: {
    '/policies/sets': {
      get: operation('policies', 'Every saved version of every policy set, and which is active', {
        responses: {
          '200': jsonResponse('The versions, by name then version', {
            type: 'object',
            required: ['sets'],
            properties: { sets: { type: 'array', items: ref('PolicySetVersion') } },
          }),
        },
      }),
      post: operation(
        'policies',
        'Save policy texts as the next version of a set (activates nothing)',
        {
          requestBody: jsonRequest({
            type: 'object',
            required: ['name', 'policies'],
            additionalProperties: false,
            properties: { name: { type: 'string' }, policies: files },
          }),
          responses: {
            '201': jsonResponse(
              'The version saved (the same files saved again are the same version)',
              ref('PolicySetVersion'),
            ),
            '400': problemResponse,
          },
        },
      ),
    },
    '/policies/sets/{name}/versions/{version}': {
      get: operation('policies', 'One version of a set with its files', {
        parameters: [
          { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'version', in: 'path', required: true, schema: { type: 'integer' } },
        ],
        responses: {
          '200': jsonResponse('The version', {
            type: 'object',
            required: ['name', 'version', 'files', 'digest', 'createdAt', 'active'],
            properties: {
              name: { type: 'string' },
              version: { type: 'integer' },
              files: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name', 'text'],
                  properties: { name: { type: 'string' }, text: { type: 'string' } },
                },
              },
              digest: { type: 'string' },
              createdAt: { type: 'string', format: 'date-time' },
              active: { type: 'boolean' },
            },
          }),
          '404': problemResponse,
        },
      }),
    },
    '/policies/sets/{name}/activate': {
      post: operation(
        'policies',
        'Make a version the one in force (the latest when none is named)',
        {
          description:
            'The version is checked against the schema of every tool this machine knows first; an invalid one is refused (422) and nothing changes.',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: jsonRequest(
            {
              type: 'object',
              additionalProperties: false,
              properties: { version: { type: 'integer', minimum: 1 } },
            },
            false,
          ),
          responses: {
            '200': jsonResponse('The version now active', ref('PolicySetVersion')),
            '400': problemResponse,
            '404': problemResponse,
            '422': problemResponse,
          },
        },
      ),
    },
    '/policies/what-if': {
      post: operation(
        'policies',
        'Every recorded call whose decision candidate policies would change',
        {
          requestBody: jsonRequest({
            type: 'object',
            additionalProperties: false,
            description: 'the candidate: policies (texts) or set (a saved version), one of them',
            properties: {
              policies: files,
              set: { type: 'string', description: 'name@version, or name for its active version' },
              since: { type: 'string', description: '7d, 12h, 30m or a date' },
              agent: {
                type: 'string',
                description: "replay only this agent's runs, with its tools",
              },
            },
          }),
          responses: {
            '200': jsonResponse('The changes, and what was replayed', {
              type: 'object',
              required: ['changes', 'summary'],
              properties: {
                changes: { type: 'array', items: ref('ChangedDecision') },
                summary: {
                  type: 'object',
                  required: ['policies', 'runs', 'calls', 'changed', 'byChange'],
                  properties: {
                    policies: { type: 'string' },
                    runs: { type: 'integer' },
                    calls: { type: 'integer' },
                    changed: { type: 'integer' },
                    byChange: { type: 'object', additionalProperties: { type: 'integer' } },
                    skippedRuns: { type: 'object', additionalProperties: { type: 'integer' } },
                  },
                },
              },
            }),
            '400': problemResponse,
            '404': problemResponse,
            '422': problemResponse,
          },
        },
      ),
    },
  },
};

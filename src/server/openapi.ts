import { approvalsOpenApi } from './approvals-api.ts';
import { consoleOpenApiParts } from './console-routes.ts';
import { runEventSchemas } from './openapi-events.ts';
import { authErrors as errors, type OpenApiPart } from './openapi-parts.ts';
import { policyOpenApi } from './policy-api.ts';
import { registryOpenApi } from './registry-api.ts';
import { runsOpenApi } from './runs-api.ts';

/**
 * The groups of routes in the order the document lists their paths: the server's own, then
 * each route file's part (runs, approvals, policies and audit, the registry, the console's).
 */
const parts: readonly OpenApiPart[] = [
  { paths: serverPaths(), schemas: {} },
  runsOpenApi,
  approvalsOpenApi,
  policyOpenApi,
  registryOpenApi,
  ...consoleOpenApiParts,
];

/** The OpenAPI 3.1 document of agentd's HTTP API, served at `/openapi.json`. */
export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { Problem: problemSchema };
  for (const part of parts) {
    Object.assign(paths, part.paths);
    Object.assign(schemas, part.schemas);
  }
  Object.assign(schemas, runEventSchemas());
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
      schemas,
    },
    paths,
  };
}

/** The body of every error response (problem+json). */
const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
  },
};

/** The routes of the server itself: health, metrics and this document. */
function serverPaths(): Record<string, unknown> {
  return {
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
  };
}

/** The OpenAPI 3.1 document of agentd's HTTP API, served at `/openapi.json`. */
export function openApiDocument(version: string): Record<string, unknown> {
  const problemResponse = {
    description: 'An error: problem+json with a stable `code`',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
  const errors = {
    '401': problemResponse,
    '403': problemResponse,
    '429': problemResponse,
  };
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
  return {
    openapi: '3.1.0',
    info: {
      title: 'agentd',
      version,
      description:
        'The HTTP API of agentd serve. Every route but /health needs an API key with the scope it names.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
      schemas: {
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
      '/openapi.json': {
        get: {
          summary: 'This document',
          security: [{ apiKey: [] }],
          responses: { '200': { description: 'OpenAPI 3.1' }, ...errors },
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

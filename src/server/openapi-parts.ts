/** Pieces of the OpenAPI document that every group of routes uses. */

export const problemResponse = {
  description: 'An error: problem+json with a stable `code`',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/** What any route with an API key may answer: unauthenticated, out of scope, rate limited. */
export const authErrors = {
  '401': problemResponse,
  '403': problemResponse,
  '429': problemResponse,
};

/** A JSON response described by a schema (or a `$ref` to one of the components). */
export function jsonResponse(description: string, schema: Record<string, unknown>) {
  return { description, content: { 'application/json': { schema } } };
}

/** A reference to a component schema. */
export function ref(name: string): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}

/** A required JSON request body. */
export function jsonRequest(schema: Record<string, unknown>, required = true) {
  return { required, content: { 'application/json': { schema } } };
}

export const pathId = (description: string) => ({
  name: 'id',
  in: 'path',
  required: true,
  description,
  schema: { type: 'string' },
});

export const queryParam = (
  name: string,
  schema: Record<string, unknown>,
  description?: string,
) => ({ name, in: 'query', schema, ...(description ? { description } : {}) });

/** An operation: its tag, summary, the scope its key needs, and the rest. */
export function operation(
  scope: string,
  summary: string,
  rest: Record<string, unknown> & { responses: Record<string, unknown> },
) {
  return {
    tags: [scope],
    summary,
    security: [{ apiKey: [scope] }],
    ...rest,
    responses: { ...rest.responses, ...authErrors },
  };
}

/** The paths and component schemas a group of routes adds to the document. */
export interface OpenApiPart {
  paths: Record<string, unknown>;
  schemas: Record<string, unknown>;
}

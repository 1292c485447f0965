import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Stable codes of the HTTP API's errors; clients branch on these, people read `detail`. */
export type ProblemCode =
  | 'unauthenticated'
  | 'insufficient_scope'
  | 'host_not_allowed'
  | 'origin_not_allowed'
  | 'body_too_large'
  | 'rate_limited'
  | 'not_found'
  | 'invalid_request'
  | 'already_answered'
  | 'csrf_failed'
  | 'internal';

const titles: Record<ProblemCode, string> = {
  unauthenticated: 'Unauthenticated',
  insufficient_scope: 'Insufficient scope',
  host_not_allowed: 'Host not allowed',
  origin_not_allowed: 'Origin not allowed',
  body_too_large: 'Request body too large',
  rate_limited: 'Too many requests',
  not_found: 'Not found',
  invalid_request: 'Invalid request',
  already_answered: 'Already answered',
  csrf_failed: 'CSRF check failed',
  internal: 'Internal error',
};

/** An RFC 9457 problem+json response with agentd's stable `code`. */
export function problem(
  c: Context,
  status: ContentfulStatusCode,
  code: ProblemCode,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return c.body(
    JSON.stringify({
      type: `urn:agentd:problem:${code}`,
      title: titles[code],
      status,
      code,
      detail,
    }),
    status,
    { 'content-type': 'application/problem+json', ...headers },
  );
}

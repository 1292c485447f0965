import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

/** The types of the API, as the OpenAPI document of agentd serve defines them. */
export type Schemas = components['schemas'];
export type RunEvent = Schemas['RunEvent'];
export type Problem = Schemas['Problem'];

let csrfToken: string | undefined;

/** The session's CSRF token, sent with every change (the API refuses changes without it). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (csrfToken && !['GET', 'HEAD'].includes(request.method)) {
      request.headers.set('x-agentd-csrf', csrfToken);
    }
    return request;
  },
};

/** The API client: same origin, the session cookie, typed paths, bodies and answers. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

/** The line to show for a failed call: the problem's detail, or what went wrong. */
export function problemText(error: unknown): string {
  if (error && typeof error === 'object' && 'detail' in error) return String(error.detail);
  if (error instanceof Error) return error.message;
  return 'the request failed';
}

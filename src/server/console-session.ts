import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { ApiKeys, ApiScope } from './api-keys.ts';
import type { AppEnv, Caller } from './app.ts';
import { jsonBody } from './json-body.ts';
import {
  jsonRequest,
  jsonResponse,
  type OpenApiPart,
  problemResponse,
  ref,
} from './openapi-parts.ts';
import { problem } from './problem.ts';

/** The cookie that carries a console session (HttpOnly, SameSite=Strict, Path=/). */
export const sessionCookie = 'agentd_session';
/** The header every change made with a session must carry: the session's CSRF token. */
export const csrfHeader = 'x-agentd-csrf';

interface Session {
  keyId: string;
  /** The key's hash: each request checks the key is still live (a revoked key ends it). */
  keyHash: string;
  name: string;
  scopes: readonly ApiScope[];
  csrf: string;
  expiresAt: number;
}

const signInSchema = z.strictObject({ key: z.string().min(1) });

/** Methods that change nothing: the only ones a session may use without its CSRF token. */
const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Console sign-in: an API key is exchanged once for a session, kept in this process only
 * (a restart signs everyone out), carried by an HttpOnly, SameSite=Strict cookie that page
 * scripts cannot read. A session acts with its key's name and scopes; every request but GET
 * and HEAD must also send the session's CSRF token in `x-agentd-csrf` (the page learns it
 * from the sign-in answer or `GET /session`, which another site cannot read). Revoking the
 * key ends its sessions at their next request.
 */
export class ConsoleSessions {
  readonly #keys: ApiKeys;
  readonly #ttlMs: number;
  readonly #sessions = new Map<string, Session>();

  constructor(keys: ApiKeys, options: { ttlMs?: number } = {}) {
    this.#keys = keys;
    this.#ttlMs = options.ttlMs ?? 12 * 60 * 60 * 1000;
  }

  /** `POST /session` (sign in), `GET /session` (who, scopes, CSRF token), `DELETE /session`. */
  routes(): Hono<AppEnv> {
    const api = new Hono<AppEnv>();
    api.post('/', async (c) => {
      if (!c.req.header('content-type')?.includes('application/json')) {
        return problem(c, 400, 'invalid_request', 'send the key as JSON: {"key": "agentd_..."}');
      }
      const body = await jsonBody(c, signInSchema);
      if ('error' in body) return problem(c, 400, 'invalid_request', body.error);
      const record = await this.#keys.verify(body.value.key.trim());
      if (!record) {
        return problem(
          c,
          401,
          'unauthenticated',
          'the API key is unknown or revoked (create one with agentd keys create)',
        );
      }
      const id = randomBytes(32).toString('base64url');
      const session: Session = {
        keyId: record.id,
        keyHash: record.hash,
        name: record.name,
        scopes: record.scopes as ApiScope[],
        csrf: randomBytes(24).toString('base64url'),
        expiresAt: Date.now() + this.#ttlMs,
      };
      this.#sweep();
      this.#sessions.set(id, session);
      setCookie(c, sessionCookie, id, {
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
        secure: new URL(c.req.url).protocol === 'https:',
        maxAge: Math.floor(this.#ttlMs / 1000),
      });
      return c.json(view(session), 201);
    });
    api.get('/', async (c) => {
      const found = await this.#find(c);
      if (!found) return noSession(c);
      return c.json(view(found.session));
    });
    api.delete('/', async (c) => {
      const found = await this.#find(c);
      if (!found) return noSession(c);
      if (!this.#csrfOk(c, found.session)) return csrfFailed(c);
      this.#sessions.delete(found.id);
      deleteCookie(c, sessionCookie, { path: '/' });
      return c.body(null, 204);
    });
    return api;
  }

  /**
   * The caller of a request that carries a session cookie; a problem when the session is gone
   * or a change lacks its CSRF token; undefined when the request has no session cookie.
   */
  async callerOf(
    c: Context<AppEnv>,
  ): Promise<{ caller: Caller } | { refused: Response } | undefined> {
    if (getCookie(c, sessionCookie) === undefined) return undefined;
    const found = await this.#find(c);
    if (!found) return { refused: noSession(c) };
    if (!safeMethods.has(c.req.method) && !this.#csrfOk(c, found.session)) {
      return { refused: csrfFailed(c) };
    }
    const { session } = found;
    return { caller: { id: session.keyId, name: session.name, scopes: session.scopes } };
  }

  async #find(c: Context<AppEnv>): Promise<{ id: string; session: Session } | undefined> {
    const id = getCookie(c, sessionCookie);
    const session = id ? this.#sessions.get(id) : undefined;
    if (!id || !session) return undefined;
    if (session.expiresAt <= Date.now() || !(await this.#keys.verifyHash(session.keyHash))) {
      this.#sessions.delete(id);
      return undefined;
    }
    return { id, session };
  }

  #csrfOk(c: Context<AppEnv>, session: Session): boolean {
    const sent = c.req.header(csrfHeader);
    return sent !== undefined && sameToken(sent, session.csrf);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, session] of this.#sessions) {
      if (session.expiresAt <= now) this.#sessions.delete(id);
    }
  }
}

function view(session: Session) {
  return {
    name: session.name,
    keyId: session.keyId,
    scopes: session.scopes,
    csrfToken: session.csrf,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}

function noSession(c: Context): Response {
  deleteCookie(c, sessionCookie, { path: '/' });
  return problem(c, 401, 'unauthenticated', 'the session has ended: sign in again with an API key');
}

function csrfFailed(c: Context): Response {
  return problem(
    c,
    403,
    'csrf_failed',
    `a change made with a session must carry its CSRF token in the ${csrfHeader} header (reload the console)`,
  );
}

export const sessionOpenApi: OpenApiPart = {
  schemas: {
    Session: {
      type: 'object',
      required: ['name', 'keyId', 'scopes', 'csrfToken', 'expiresAt'],
      properties: {
        name: { type: 'string', description: "the key's name: who answers approvals" },
        keyId: { type: 'string' },
        scopes: { type: 'array', items: { type: 'string' } },
        csrfToken: { type: 'string', description: `send it in ${csrfHeader} with every change` },
        expiresAt: { type: 'string', format: 'date-time' },
      },
    },
  },
  paths: {
    '/session': {
      post: {
        tags: ['session'],
        summary: 'Sign in: exchange an API key for a session cookie (HttpOnly, SameSite=Strict)',
        requestBody: jsonRequest({
          type: 'object',
          required: ['key'],
          additionalProperties: false,
          properties: { key: { type: 'string' } },
        }),
        responses: {
          '201': jsonResponse('The session (Set-Cookie: agentd_session)', ref('Session')),
          '400': problemResponse,
          '401': problemResponse,
          '403': problemResponse,
        },
      },
      get: {
        tags: ['session'],
        summary: "The session's caller, scopes and CSRF token",
        responses: {
          '200': jsonResponse('The session', ref('Session')),
          '401': problemResponse,
        },
      },
      delete: {
        tags: ['session'],
        summary: 'Sign out: the session ends (needs its CSRF token)',
        responses: {
          '204': { description: 'Signed out' },
          '401': problemResponse,
          '403': problemResponse,
        },
      },
    },
  },
};

import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Config } from '../config/config.ts';
import type { TokenClaims } from '../policy/authorizer.ts';
import type { Store } from '../store/store.ts';
import type { ServerTelemetry } from '../telemetry/server-telemetry.ts';
import type { ApiKeys, ApiScope } from './api-keys.ts';
import { approvalsApi } from './approvals-api.ts';
import { consoleAssets } from './console-assets.ts';
import { registerConsoleRoutes } from './console-routes.ts';
import { ConsoleSessions } from './console-session.ts';
import type { Gateway } from './gateway.ts';
import type { OAuthVerifier } from './oauth.ts';
import { openApiDocument } from './openapi.ts';
import { policyApi } from './policy-api.ts';
import { problem } from './problem.ts';
import { RateLimiter } from './rate-limit.ts';
import { registryApi, registryToolsApi } from './registry-api.ts';
import type { RunManager } from './run-manager.ts';
import { runsApi } from './runs-api.ts';

export interface AppOptions {
  store: Store;
  keys: ApiKeys;
  /** The MCP gateway at `/mcp`. */
  gateway?: Gateway;
  /** Runs over HTTP: the agents of this config, driven by this manager. */
  runs?: { config: Config; manager: RunManager };
  /** Host names requests may be addressed to (DNS-rebinding defence); ports are not checked. */
  allowedHosts: readonly string[];
  /** Origins browsers may call from; a request with any other Origin is refused. */
  allowedOrigins?: readonly string[];
  /** Largest request body, in bytes. */
  maxBodyBytes?: number;
  /** Requests per minute per API key. */
  rateLimitPerMinute?: number;
  /** OAuth 2.1 resource-server mode: bearer JWTs of this issuer are accepted too. */
  oauth?: OAuthVerifier;
  /**
   * Test-only open profile (`agentd serve --gateway-open`, loopback only): `/mcp` requests
   * without an Authorization header are served as the caller `anonymous`.
   */
  gatewayOpen?: boolean;
  /** The built web console served at `/` (default: the package's console/dist). */
  consoleDir?: string;
  /** With telemetry on: request logs with trace ids, gateway server spans, `/metrics`. */
  telemetry?: ServerTelemetry;
  version: string;
}

/** Who a request is from: an API key, or the subject of a verified token. */
export interface Caller {
  /** `key_...` for an API key, `token:<sub>` for a token. */
  id: string;
  /** The key's name, or the token's subject: the user policies see. */
  name: string;
  scopes: readonly ApiScope[];
  /** A token's claims, as policies see them (`principal.claims` at the gateway). */
  claims?: TokenClaims;
}

export type AppEnv = { Variables: { caller: Caller } };

/** The localhost names every server answers to. */
export const loopbackHosts = ['127.0.0.1', 'localhost', '[::1]', '::1'];

/** The caller of `/mcp` under the open profile: no key, no scopes but `mcp`. */
export const anonymousCaller: Caller = { id: 'anonymous', name: 'anonymous', scopes: ['mcp'] };

/**
 * agentd's HTTP API. In order: Host and Origin checks (against DNS rebinding), the body
 * limit, then, for every route but `/health`, an API key (`Authorization: Bearer ...`) with
 * the route's scope and the key's rate limit. Every error is problem+json with a stable code.
 */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const telemetry = options.telemetry;

  if (telemetry) app.use(telemetry.requests);
  app.use(hostAndOrigin(options));
  app.use(
    bodyLimit({
      maxSize: options.maxBodyBytes ?? 1024 * 1024,
      onError: (c) =>
        problem(
          c,
          413,
          'body_too_large',
          `the request body is over ${options.maxBodyBytes ?? 1024 * 1024} bytes`,
        ),
    }),
  );

  app.get('/health', (c) => c.json({ status: 'ok', version: options.version }));
  // The console's files need no key; its sign-in trades a key for a session cookie.
  const sessions = new ConsoleSessions(options.keys);
  app.route('/', consoleAssets(options.consoleDir));
  app.route('/session', sessions.routes());

  const oauth = options.oauth;
  if (oauth) {
    // RFC 9728: where clients learn which authorization server issues tokens for this server.
    const metadata = (c: Context) => c.json(oauth.metadata());
    app.get('/.well-known/oauth-protected-resource', metadata);
    app.get('/.well-known/oauth-protected-resource/*', metadata);
  }
  app.use('*', authenticate(options, sessions));

  app.get('/openapi.json', (c) => c.json(openApiDocument(options.version)));
  registerRoutes(app, options);

  app.notFound((c) => problem(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    console.error(`agentd serve: ${c.req.method} ${c.req.path}: ${error.stack ?? error}`);
    return problem(c, 500, 'internal', 'the server failed to answer; its log has the cause');
  });
  return app;
}

/** Refuses a request addressed to a host this server does not answer to, or from another site. */
function hostAndOrigin(options: AppOptions): MiddlewareHandler<AppEnv> {
  const hosts = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const origins = new Set(options.allowedOrigins ?? []);
  return async (c, next) => {
    const host = hostName(c.req.header('host'));
    if (!host || !hosts.has(host)) {
      return problem(
        c,
        403,
        'host_not_allowed',
        `Host "${c.req.header('host') ?? ''}" is not one this server answers to (start it with --allowed-host to add one)`,
      );
    }
    const origin = c.req.header('origin');
    // A page of this server's own origin (the console) is no other site.
    const own = `http://${(c.req.header('host') ?? '').toLowerCase()}`;
    if (origin !== undefined && !origins.has(origin) && origin.toLowerCase() !== own) {
      return problem(
        c,
        403,
        'origin_not_allowed',
        `Origin "${origin}" may not call this server (start it with --allowed-origin to allow one)`,
      );
    }
    return next();
  };
}

/**
 * Sets the request's caller, from the console session cookie, an API key or (with OAuth) a
 * token, and takes one from its rate limit; the open profile's `/mcp` without a header is
 * the anonymous caller.
 */
function authenticate(options: AppOptions, sessions: ConsoleSessions): MiddlewareHandler<AppEnv> {
  const limiter = new RateLimiter(options.rateLimitPerMinute ?? 600);
  return async (c, next) => {
    const header = c.req.header('authorization');
    if (header === undefined && options.gatewayOpen && c.req.path === '/mcp') {
      const wait = limiter.take(anonymousCaller.id);
      if (wait > 0) {
        return problem(
          c,
          429,
          'rate_limited',
          `over the rate limit: retry in ${Math.ceil(wait / 1000)} s`,
          {
            'retry-after': String(Math.ceil(wait / 1000)),
          },
        );
      }
      c.set('caller', anonymousCaller);
      return next();
    }
    const session = header === undefined ? await sessions.callerOf(c) : undefined;
    if (session && 'refused' in session) return session.refused;
    const found = session ?? (await bearerCaller(c, header, options));
    if ('refused' in found) return found.refused;
    const caller = found.caller;
    const wait = limiter.take(caller.id);
    if (wait > 0) {
      return problem(
        c,
        429,
        'rate_limited',
        `${caller.id} is over its rate limit: retry in ${Math.ceil(wait / 1000)} s`,
        { 'retry-after': String(Math.ceil(wait / 1000)) },
      );
    }
    c.set('caller', caller);
    return next();
  };
}

/** The caller of an `Authorization: Bearer` header, or the 401 that refuses it. */
async function bearerCaller(
  c: Context,
  header: string | undefined,
  options: AppOptions,
): Promise<{ caller: Caller } | { refused: Response }> {
  const refused = (response: Response) => ({ refused: response });
  const oauth = options.oauth;
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) {
    return refused(
      problem(
        c,
        401,
        'unauthenticated',
        `this route needs an API key: send "Authorization: Bearer <key>" (create one with agentd keys create)${oauth ? ' or a token from the authorization server' : ''}`,
        { 'www-authenticate': challenge(c, oauth) },
      ),
    );
  }
  const key = await options.keys.verify(match[1]!);
  if (key) return { caller: { id: key.id, name: key.name, scopes: key.scopes as ApiScope[] } };
  if (oauth && !match[1]!.startsWith('agentd_')) {
    const verified = await oauth.verify(match[1]!);
    if ('error' in verified) {
      return refused(
        problem(c, 401, 'unauthenticated', verified.error, {
          'www-authenticate': challenge(c, oauth, 'invalid_token'),
        }),
      );
    }
    const caller: Caller = {
      id: `token:${verified.subject}`,
      name: verified.subject,
      scopes: verified.scopes,
      claims: verified.claims,
    };
    return { caller };
  }
  return refused(
    problem(c, 401, 'unauthenticated', 'the API key is unknown or revoked', {
      'www-authenticate': challenge(c, oauth, 'invalid_token'),
    }),
  );
}

/** The `WWW-Authenticate` value of a 401 (with OAuth, where its metadata is). */
function challenge(c: Context, oauth: OAuthVerifier | undefined, error?: string): string {
  const parts = ['Bearer realm="agentd"'];
  if (error) parts.push(`error="${error}"`);
  if (oauth) {
    parts.push(
      `resource_metadata="${new URL('/.well-known/oauth-protected-resource', c.req.url).href}"`,
    );
  }
  return parts.join(', ');
}

/** The routes behind a key, each group under the scope it needs. */
function registerRoutes(app: Hono<AppEnv>, options: AppOptions): void {
  const telemetry = options.telemetry;
  if (telemetry) {
    // Prometheus scrapes with the key as its bearer credentials.
    app.get('/metrics', scoped('metrics'), async (c) =>
      c.text(await telemetry.metrics(), 200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      }),
    );
  }

  if (options.gateway) {
    const gateway = options.gateway;
    app.all('/mcp', scoped('mcp'), telemetry?.mcpCalls ?? ((_, next) => next()), (c) => {
      const caller = c.get('caller');
      return gateway.fetch(c.req.raw, {
        id: caller.id,
        name: caller.name,
        ...(caller.claims ? { claims: caller.claims } : {}),
      });
    });
  }

  // Tool calls waiting for a person's approval, answered by whoever holds the scope.
  app.use('/approvals', scoped('approvals'));
  app.use('/approvals/*', scoped('approvals'));
  app.route('/approvals', approvalsApi(options.store));

  if (options.runs) {
    app.use('/runs', scoped('runs'));
    app.use('/runs/*', scoped('runs'));
    app.route('/runs', runsApi({ store: options.store, ...options.runs }));
  }

  if (options.runs) {
    const { policies, audit } = policyApi({ store: options.store, config: options.runs.config });
    app.use('/policies/*', scoped('policies'));
    app.route('/policies', policies);
    app.use('/audit', scoped('audit'));
    app.use('/audit/*', scoped('audit'));
    app.route('/audit', audit);
  }

  app.use('/registry/*', scoped('registry'));
  app.route('/registry', registryToolsApi(options.store));

  registerConsoleRoutes(app, {
    store: options.store,
    ...(options.runs ? { config: options.runs.config, manager: options.runs.manager } : {}),
  });

  const registry = registryApi(options.store);
  for (const base of ['/v0', '/v0.1']) {
    app.use(`${base}/*`, scoped('registry'));
    app.route(base, registry);
  }
}

/** Refuses a key without `scope`. */
export function scoped(scope: ApiScope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const caller = c.get('caller');
    if (!caller.scopes.includes(scope)) {
      return problem(
        c,
        403,
        'insufficient_scope',
        `${caller.id.startsWith('key_') ? `API key ${caller.id}` : caller.id} lacks the "${scope}" scope (it has: ${caller.scopes.join(', ') || 'none'})`,
        {
          'www-authenticate': `Bearer realm="agentd", error="insufficient_scope", scope="${scope}"`,
        },
      );
    }
    return next();
  };
}

/** The host name of a Host header, lowercased, without the port. */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    return new URL(`http://${header}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

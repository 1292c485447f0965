import { TextDecoder } from 'node:util';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { AddressGuard, type AllowPrivate } from './address-guard.ts';
import { looksBinary } from './binary-content.ts';
import { ConnectorError } from './connector-error.ts';
import { connectorServer } from './connector-server.ts';
import { type FetchOutcome, type Lookup, safeFetch, systemLookup } from './safe-fetch.ts';
import { guarded, textResult } from './tool-result.ts';

export interface HttpConnectorOptions {
  /** For a whole fetch, redirects included (default 30 s). */
  timeoutMs?: number;
  /** Body bytes returned; past it the body is cut (default 512 KiB). */
  maxBytes?: number;
  /**
   * Beyond the public internet: `true` for private, loopback and link-local addresses
   * (cloud metadata addresses must still be named), or host names, addresses and CIDRs.
   * Default: none.
   */
  allowPrivate?: AllowPrivate;
  /** Redirects followed, each checked like the first URL (default 5). */
  maxRedirects?: number;
  /** Resolves host names (default: the system resolver); every answer is checked. */
  lookup?: Lookup;
  /**
   * False: redirects come back as they are (status and location), to fetch as a new call;
   * agentd sets this when the agent's policies decide every URL. Default true.
   */
  followRedirects?: boolean;
}

const defaultTimeoutMs = 30_000;
const defaultMaxBytes = 512 * 1024;
const defaultMaxRedirects = 5;

/** Headers the connector sets itself. */
const reservedHeaders = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
]);

const textTypes =
  /^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript|ecmascript|x-www-form-urlencoded|yaml|x-yaml|toml|csv|graphql|sql)\b)/i;

const outputSchema = z.object({
  url: z.string(),
  status: z.number().int(),
  statusText: z.string(),
  headers: z.record(z.string(), z.string()),
  redirects: z.array(z.string()),
  body: z.string().nullable(),
  bodyBytes: z.number().int(),
  truncated: z.boolean(),
});

/**
 * The `http` connector: GET or HEAD a URL with size and time limits, refusing private,
 * loopback, link-local and metadata addresses unless allowed (checked on the resolved
 * address, for every redirect).
 */
export function createHttpServer(options: HttpConnectorOptions = {}): McpServer {
  const guard = new AddressGuard(options.allowPrivate ?? false);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const maxBytes = options.maxBytes ?? defaultMaxBytes;
  const maxRedirects = options.maxRedirects ?? defaultMaxRedirects;
  const lookup = options.lookup ?? systemLookup;
  const follow = options.followRedirects ?? true;
  const redirecting = follow
    ? `up to ${maxRedirects} redirects are followed`
    : 'redirects are not followed: a 3xx answer comes back with its location, to fetch as a new call';
  const limits = `At most ${maxBytes} bytes of body (the rest is cut) and ${timeoutMs} ms; ${redirecting}. Private, loopback, link-local and cloud metadata addresses are refused${allowsSome(options.allowPrivate) ? ' except those this connector allows' : ''}.`;
  const server = connectorServer(
    'http',
    `Fetches web pages and APIs over http and https. ${limits}`,
  );

  server.registerTool(
    'fetch',
    {
      title: 'Fetch a URL',
      description: `GET (or HEAD) an http or https URL and return the status, headers and body (text; binary bodies are described, not shown). ${limits}`,
      inputSchema: z.object({
        url: z.string().min(1).describe('Absolute http:// or https:// URL'),
        method: z.enum(['GET', 'HEAD']).default('GET'),
        headers: z
          .record(z.string(), z.string())
          .default({})
          .describe('Request headers, e.g. {"accept": "application/json"}'),
      }),
      outputSchema,
      annotations: {
        title: 'Fetch a URL',
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    ({ url, method, headers }, ctx) =>
      guarded(async () => {
        const outcome = await safeFetch(
          { url, method, headers: requestHeaders(headers) },
          {
            timeoutMs,
            maxBytes,
            maxRedirects,
            followRedirects: follow,
            guard,
            lookup,
            signal: ctx.mcpReq.signal,
          },
        );
        const body = bodyText(outcome);
        return textResult(describe(outcome, body), {
          url: outcome.url,
          status: outcome.status,
          statusText: outcome.statusText,
          headers: outcome.headers,
          redirects: outcome.redirects,
          body,
          bodyBytes: outcome.body.length,
          truncated: outcome.truncated,
        });
      }),
  );

  return server;
}

function allowsSome(allowPrivate: AllowPrivate | undefined): boolean {
  return allowPrivate === true || (Array.isArray(allowPrivate) && allowPrivate.length > 0);
}

function requestHeaders(given: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {
    'user-agent': 'agentd-http/0.1',
    accept: '*/*',
  };
  for (const [name, value] of Object.entries(given)) {
    const lower = name.toLowerCase();
    if (reservedHeaders.has(lower) || lower.startsWith('proxy-')) {
      throw new ConnectorError(`header "${name}" is set by the http connector; leave it out`);
    }
    headers[lower] = value;
  }
  // Bodies are counted as they arrive; a compressed one would not be.
  headers['accept-encoding'] = 'identity';
  return headers;
}

/** The body as text, or null when it is binary. */
function bodyText(outcome: FetchOutcome): string | null {
  const type = outcome.headers['content-type'] ?? '';
  if (type && !textTypes.test(type)) return null;
  if (looksBinary(outcome.body)) return null;
  return decoder(type).decode(outcome.body);
}

function decoder(contentType: string): TextDecoder {
  const charset = /charset="?([\w-]+)/i.exec(contentType)?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8');
  } catch {
    return new TextDecoder('utf-8');
  }
}

function describe(outcome: FetchOutcome, body: string | null): string {
  const lines = [`HTTP ${outcome.status} ${outcome.statusText} ${outcome.url}`.replace(/ +/g, ' ')];
  if (outcome.redirects.length > 0) lines.push(`redirected ${outcome.redirects.length} times`);
  for (const name of ['content-type', 'content-length', 'last-modified', 'location']) {
    const value = outcome.headers[name];
    if (value !== undefined) lines.push(`${name}: ${value}`);
  }
  if (outcome.truncated) {
    lines.push(`[body cut at ${outcome.body.length} bytes; the response was longer]`);
  }
  lines.push('');
  if (body !== null) lines.push(body);
  else {
    const type = outcome.headers['content-type'] ?? 'unknown type';
    lines.push(`[binary body: ${outcome.body.length} bytes of ${type}, not shown]`);
  }
  return lines.join('\n');
}

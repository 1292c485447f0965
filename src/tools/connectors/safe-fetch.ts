import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { AddressGuard } from './address-guard.ts';
import { ConnectorError, oneLine } from './connector-error.ts';
import { parseIp } from './ip-address.ts';
import { OutputLimit } from './output-limit.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (the system resolver by default). */
export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

export interface FetchLimits {
  /** For the whole fetch: resolving, connecting, every redirect and the body. */
  timeoutMs: number;
  /** Body bytes kept; past it the body is cut and the connection closed. */
  maxBytes: number;
  maxRedirects: number;
  /**
   * False: a redirect is returned as it came (status and location), not followed, so that
   * whoever asked decides on the next URL (agentd does this when a policy set applies:
   * each hop is then a call its policies decide). Default true.
   */
  followRedirects?: boolean;
  guard: AddressGuard;
  lookup: Lookup;
  signal?: AbortSignal;
}

export interface FetchRequest {
  url: string;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
}

export interface FetchOutcome {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes the server sent, when it sent more than was kept. */
  truncated: boolean;
  /** Every URL redirected to, in order. */
  redirects: string[];
}

/** Headers that carry credentials: not sent on to another origin after a redirect. */
const credentialHeaders = ['authorization', 'cookie', 'proxy-authorization'];
const redirectStatuses = new Set([301, 302, 303, 307, 308]);

/** The system resolver: every address, in the order the system gives them. */
export const systemLookup: Lookup = async (hostname) => {
  const addresses = await dnsLookup(hostname, { all: true, order: 'verbatim' });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/**
 * GET or HEAD a URL without letting it reach an address the guard refuses. The host is
 * resolved here and every address it resolves to is checked; the connection then goes to
 * the checked address (the HTTP stack gets a lookup that can only answer with it), so a
 * second resolution cannot swap in another (DNS rebinding). Redirects are followed by hand,
 * each hop checked the same way; credentials are dropped when the origin changes. The time
 * limit covers everything, and the body is cut at the size limit as it streams.
 */
export async function safeFetch(request: FetchRequest, limits: FetchLimits): Promise<FetchOutcome> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const signal = limits.signal ? AbortSignal.any([limits.signal, timeout]) : timeout;
  let url = parseUrl(request.url, request.url);
  let headers = { ...request.headers };
  const redirects: string[] = [];
  try {
    for (;;) {
      const address = await raced(pin(url, limits), signal);
      const response = await send(url, address, request.method, headers, signal);
      const location = response.headers.location;
      const status = response.statusCode ?? 0;
      if (
        !redirectStatuses.has(status) ||
        location === undefined ||
        limits.followRedirects === false
      ) {
        return await readResponse(url, response, limits.maxBytes, redirects);
      }
      response.destroy();
      if (redirects.length >= limits.maxRedirects) {
        throw new ConnectorError(
          `URL "${request.url}" redirected more than ${limits.maxRedirects} times; stopped at "${url.href}"`,
        );
      }
      const next = parseUrl(location, request.url, url);
      if (next.origin !== url.origin) headers = withoutCredentials(headers);
      redirects.push(next.href);
      url = next;
    }
  } catch (error) {
    if (timeout.aborted) {
      throw new ConnectorError(
        `URL "${url.href}" took longer than ${limits.timeoutMs} ms; stopped`,
        { cause: error },
      );
    }
    if (limits.signal?.aborted) throw new ConnectorError(`fetching "${url.href}" was cancelled`);
    if (error instanceof ConnectorError) throw error;
    throw new ConnectorError(`URL "${url.href}" failed: ${describeNetworkError(error)}`, {
      cause: error,
    });
  }
}

function parseUrl(text: string, original: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new ConnectorError(`"${text}" is not a URL; give an absolute http:// or https:// URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    const what = base ? `URL "${original}" redirected to "${url.href}"` : `URL "${url.href}"`;
    throw new ConnectorError(`${what}: only http and https are fetched`);
  }
  return url;
}

/** Resolves the URL's host and checks every address; returns the one to connect to. */
async function pin(url: URL, limits: FetchLimits): Promise<ResolvedAddress> {
  const host = url.hostname;
  const literal = parseIp(host);
  if (literal !== undefined) {
    const address = host.replace(/^\[|\]$/g, '');
    limits.guard.check(url.href, host, address);
    return { address, family: literal.length === 4 ? 4 : 6 };
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await limits.lookup(host);
  } catch (error) {
    throw new ConnectorError(
      `URL "${url.href}": host "${host}" could not be resolved (${oneLine(error)})`,
    );
  }
  if (addresses.length === 0) {
    throw new ConnectorError(`URL "${url.href}": host "${host}" has no addresses`);
  }
  for (const { address } of addresses) limits.guard.check(url.href, host, address);
  return addresses[0]!;
}

/** A lookup for the HTTP stack that can only answer with the address already checked. */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

function send(
  url: URL,
  address: ResolvedAddress,
  method: FetchRequest['method'],
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const auth = url.username
      ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
      : undefined;
    const outgoing = request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        auth,
        agent: false,
        lookup: pinnedLookup(address),
        signal,
      },
      resolve,
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function readResponse(
  url: URL,
  response: IncomingMessage,
  maxBytes: number,
  redirects: string[],
): Promise<FetchOutcome> {
  const body = new OutputLimit(maxBytes);
  for await (const chunk of response) {
    if (!body.push(chunk as Buffer)) {
      response.destroy();
      break;
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    url: url.href,
    status: response.statusCode ?? 0,
    statusText: response.statusMessage ?? '',
    headers,
    body: body.bytes(),
    truncated: body.truncated,
    redirects,
  };
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !credentialHeaders.includes(name.toLowerCase())),
  );
}

/** Resolves with `work`, or rejects when `signal` fires first (a DNS lookup cannot be aborted). */
function raced<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describeNetworkError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      return oneLine(error);
  }
}

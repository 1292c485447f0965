import { execFileSync } from 'node:child_process';
import { lookup as systemLookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import {
  createHttpServer,
  type HttpConnectorOptions,
  type Lookup,
} from '../../src/tools/connectors/index.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connect } from './connect.ts';

interface LocalServer {
  port: number;
  /** `http://127.0.0.1:<port><path>` */
  url(path: string, host?: string): string;
  /** Every request it received: path, host header and authorization. */
  requests: Array<{ path: string; host: string; authorization: string | undefined }>;
}

/** A real HTTP server on a loopback address, closed after the test. */
async function localServer(
  handle: (request: IncomingMessage, response: ServerResponse, self: LocalServer) => void,
  address = '127.0.0.1',
): Promise<LocalServer> {
  const self: LocalServer = {
    port: 0,
    url: (path, host = '127.0.0.1') => `http://${host}:${self.port}${path}`,
    requests: [],
  };
  const server = createServer((request, response) => {
    self.requests.push({
      path: request.url ?? '',
      host: request.headers.host ?? '',
      authorization: request.headers.authorization,
    });
    handle(request, response, self);
  });
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  self.port = (server.address() as AddressInfo).port;
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return self;
}

/** Serves a few paths; anything else is 404. */
function site(request: IncomingMessage, response: ServerResponse) {
  switch (request.url) {
    case '/hello':
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('hi there');
      return;
    case '/hop':
      response.writeHead(301, { location: '/hello' }).end();
      return;
    case '/loop':
      response.writeHead(302, { location: '/loop' }).end();
      return;
    case '/to-file':
      response.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return;
    case '/big':
      response.writeHead(200, { 'content-type': 'text/plain' });
      for (let i = 0; i < 100; i++) response.write('a'.repeat(1000));
      response.end();
      return;
    case '/slow':
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('partial');
      return; // never ends
    case '/hang':
      return; // never answers
    case '/binary':
      response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([137, 80, 0, 1]));
      return;
    default:
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
}

/** Answers from a table instead of DNS, counting calls: no real name is ever resolved. */
function fakeDns(table: Record<string, string[]>): Lookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
    return addresses.map(
      (address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const,
    );
  };
  return Object.assign(lookup, { calls });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function expectOneLine(text: string) {
  expect(text.split('\n')).toHaveLength(1);
}

async function httpClient(options: HttpConnectorOptions = {}) {
  return connect(createHttpServer(options));
}

const refusal =
  /refused \(private, loopback, link-local and metadata addresses need the http connector's allowPrivate\)$/;

describe('http connector', () => {
  test('lists fetch as read-only, idempotent and open-world', async () => {
    const { client } = await httpClient();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['fetch']);
    expect(tools[0]!.annotations).toMatchObject({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    });
  });

  test('refuses 127.0.0.1 by default, without sending it anything', async () => {
    const server = await localServer(site);
    const http = await httpClient();
    const outcome = await http.call('fetch', { url: server.url('/hello') });
    expect(outcome.isError).toBe(true);
    expect(outcome.text).toBe(
      `URL "${server.url('/hello')}" goes to 127.0.0.1, a loopback address; refused (private, loopback, link-local and metadata addresses need the http connector's allowPrivate)`,
    );
    expect(server.requests).toEqual([]);
  });

  test('reaches 127.0.0.1 only when allowed, by address, network or true', async () => {
    const server = await localServer(site);
    for (const allowPrivate of [['127.0.0.1'], ['127.0.0.0/8'], true]) {
      const http = await httpClient({ allowPrivate });
      const outcome = await http.call('fetch', { url: server.url('/hello') });
      expect(outcome.isError, JSON.stringify(allowPrivate)).toBe(false);
      expect(outcome.text).toBe(
        `HTTP 200 OK ${server.url('/hello')}\ncontent-type: text/plain; charset=utf-8\n\nhi there`,
      );
      expect(outcome.structured).toMatchObject({ status: 200, body: 'hi there', truncated: false });
    }
    const other = await httpClient({ allowPrivate: ['10.0.0.0/8'] });
    expect((await other.call('fetch', { url: server.url('/hello') })).isError).toBe(true);
    expect(server.requests).toHaveLength(3);
  });

  test('refuses the cloud metadata address, literal or through DNS', async () => {
    const http = await httpClient({
      lookup: fakeDns({ 'metadata.google.internal': ['169.254.169.254'] }),
    });
    const literal = await http.call('fetch', { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(literal.isError).toBe(true);
    expect(literal.text).toMatch(/goes to 169\.254\.169\.254, a cloud metadata address; refused/);
    const named = await http.call('fetch', {
      url: 'http://metadata.google.internal/computeMetadata/v1/',
    });
    expect(named.text).toMatch(/resolves to 169\.254\.169\.254, a cloud metadata address; refused/);
  });

  test('refuses localhost through the real resolver, and reaches it when the name is allowed', async () => {
    const [first] = await systemLookup('localhost', { all: true, order: 'verbatim' });
    const server = await localServer(site, first!.address);
    const refused = await (await httpClient()).call('fetch', {
      url: server.url('/hello', 'localhost'),
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(
      /^URL "http:\/\/localhost:\d+\/hello" resolves to \S+, a loopback address; refused/,
    );
    expect(server.requests).toEqual([]);

    const allowed = await (await httpClient({ allowPrivate: ['localhost'] })).call('fetch', {
      url: server.url('/hello', 'localhost'),
    });
    expect(allowed.structured).toMatchObject({ status: 200, body: 'hi there' });
  });

  test('refuses a public-looking name that resolves to a private address', async () => {
    const dns = fakeDns({
      'www.public-looking.test': ['10.0.0.7'],
      'mixed.test': ['127.0.0.1', '10.1.2.3'],
    });
    const http = await httpClient({ lookup: dns, allowPrivate: ['127.0.0.1'] });
    const outcome = await http.call('fetch', { url: 'http://www.public-looking.test/' });
    expect(outcome.text).toMatch(
      /^URL "http:\/\/www\.public-looking\.test\/" resolves to 10\.0\.0\.7, a private address; refused/,
    );
    // Every address a name resolves to is checked, not just the first.
    const server = await localServer(site);
    const mixed = await http.call('fetch', { url: server.url('/hello', 'mixed.test') });
    expect(mixed.text).toMatch(/resolves to 10\.1\.2\.3, a private address; refused/);
    expect(server.requests).toEqual([]);
  });

  test('connects to the address it checked: the name is resolved once, never again by the HTTP stack', async () => {
    const server = await localServer(site);
    let answers = 0;
    const calls: string[] = [];
    // A rebinding resolver: the first answer is allowed, every later one is not.
    const rebinding: Lookup = async (hostname) => {
      calls.push(hostname);
      return [{ address: answers++ === 0 ? '127.0.0.1' : '10.66.0.1', family: 4 }];
    };
    const http = await httpClient({ lookup: rebinding, allowPrivate: ['127.0.0.1'] });
    const outcome = await http.call('fetch', { url: server.url('/hello', 'app.test') });
    expect(outcome.structured).toMatchObject({ status: 200, body: 'hi there' });
    expect(calls).toEqual(['app.test']);
    expect(server.requests).toEqual([
      { path: '/hello', host: `app.test:${server.port}`, authorization: undefined },
    ]);
  });

  test('refuses a redirect from an allowed server to a private one', async () => {
    const internal = await localServer(site);
    const allowed = await localServer((request, response) => {
      const targets: Record<string, string> = {
        '/to-ip': internal.url('/secret'),
        '/to-name': internal.url('/secret', 'internal.test'),
        '/to-localhost': internal.url('/secret', 'localhost'),
        '/to-mapped': `http://[::ffff:127.0.0.1]:${internal.port}/secret`,
      };
      response.writeHead(302, { location: targets[request.url ?? ''] ?? '/' }).end();
    });
    const dns = fakeDns({
      'app.test': ['127.0.0.1'],
      'internal.test': ['127.0.0.1'],
      localhost: ['127.0.0.1'],
    });
    const http = await httpClient({ lookup: dns, allowPrivate: ['app.test'] });
    for (const path of ['/to-ip', '/to-name', '/to-localhost', '/to-mapped']) {
      const outcome = await http.call('fetch', { url: allowed.url(path, 'app.test') });
      expect(outcome.isError, path).toBe(true);
      expect(outcome.text).toMatch(
        /^URL "http:\/\/[^"]+\/secret" (goes|resolves) to \S+, a loopback address; refused/,
      );
    }
    expect(allowed.requests.map((r) => r.path)).toEqual([
      '/to-ip',
      '/to-name',
      '/to-localhost',
      '/to-mapped',
    ]);
    expect(internal.requests).toEqual([]);
  });

  test('follows redirects it may, re-checking each hop and dropping credentials across origins', async () => {
    const second = await localServer(site);
    const first = await localServer((request, response) => {
      if (request.url === '/away') {
        response.writeHead(307, { location: second.url('/hello', 'second.test') }).end();
      } else site(request, response);
    });
    const dns = fakeDns({ 'first.test': ['127.0.0.1'], 'second.test': ['127.0.0.1'] });
    const http = await httpClient({ lookup: dns, allowPrivate: ['first.test', 'second.test'] });

    const same = await http.call('fetch', { url: first.url('/hop', 'first.test') });
    expect(same.structured).toMatchObject({
      status: 200,
      url: first.url('/hello', 'first.test'),
      redirects: [first.url('/hello', 'first.test')],
    });
    expect(same.text.split('\n').slice(0, 2)).toEqual([
      `HTTP 200 OK ${first.url('/hello', 'first.test')}`,
      'redirected 1 times',
    ]);

    const across = await http.call('fetch', {
      url: first.url('/away', 'first.test'),
      headers: { Authorization: 'Bearer secret-token' },
    });
    expect(across.structured).toMatchObject({ status: 200, body: 'hi there' });
    expect(first.requests.at(-1)?.authorization).toBe('Bearer secret-token');
    expect(second.requests.at(-1)?.authorization).toBeUndefined();
    expect(dns.calls).toEqual(['first.test', 'first.test', 'first.test', 'second.test']);
  });

  test('stops after too many redirects and refuses redirects to other schemes', async () => {
    const server = await localServer(site);
    const http = await httpClient({ allowPrivate: ['127.0.0.1'], maxRedirects: 3 });
    const loop = await http.call('fetch', { url: server.url('/loop') });
    expect(loop).toMatchObject({
      isError: true,
      text: `URL "${server.url('/loop')}" redirected more than 3 times; stopped at "${server.url('/loop')}"`,
    });
    expect(server.requests).toHaveLength(4);
    const file = await http.call('fetch', { url: server.url('/to-file') });
    expect(file.text).toBe(
      `URL "${server.url('/to-file')}" redirected to "file:///etc/passwd": only http and https are fetched`,
    );
  });

  test('cuts a body past the size limit while streaming', async () => {
    const server = await localServer(site);
    const http = await httpClient({ allowPrivate: true, maxBytes: 1000 });
    const outcome = await http.call('fetch', { url: server.url('/big') });
    expect(outcome.isError).toBe(false);
    expect(outcome.structured).toMatchObject({
      truncated: true,
      bodyBytes: 1000,
      body: 'a'.repeat(1000),
    });
    expect(outcome.text).toContain('[body cut at 1000 bytes; the response was longer]');
  });

  test('stops a response that takes longer than the time limit', async () => {
    const server = await localServer(site);
    const http = await httpClient({ allowPrivate: true, timeoutMs: 300 });
    for (const path of ['/hang', '/slow']) {
      const outcome = await http.call('fetch', { url: server.url(path) });
      expect(outcome).toMatchObject({
        isError: true,
        text: `URL "${server.url(path)}" took longer than 300 ms; stopped`,
      });
    }
  });

  test('refuses loopback in every spelling of the address', async () => {
    const server = await localServer(site);
    const http = await httpClient();
    for (const host of [
      '[::1]',
      '[::ffff:127.0.0.1]',
      '2130706433',
      '0x7f.0.0.1',
      '127.1',
      '0.0.0.0',
      '[::]',
    ]) {
      const outcome = await http.call('fetch', { url: `http://${host}:${server.port}/hello` });
      expect(outcome.isError, host).toBe(true);
      expect(outcome.text, host).toMatch(refusal);
    }
    expect(server.requests).toEqual([]);
  });

  test('describes binary bodies, answers HEAD, reports statuses and refuses bad input in one line', async () => {
    const server = await localServer(site);
    const http = await httpClient({ allowPrivate: true });
    const binary = await http.call('fetch', { url: server.url('/binary') });
    expect(binary.structured).toMatchObject({ body: null, bodyBytes: 4 });
    expect(binary.text).toContain('[binary body: 4 bytes of image/png, not shown]');
    const head = await http.call('fetch', { url: server.url('/hello'), method: 'HEAD' });
    expect(head.structured).toMatchObject({ status: 200, body: '', bodyBytes: 0 });
    const missing = await http.call('fetch', { url: server.url('/nope') });
    expect(missing).toMatchObject({ isError: false });
    expect(missing.structured).toMatchObject({ status: 404, body: 'not found' });

    expect((await http.call('fetch', { url: 'ftp://127.0.0.1/' })).text).toBe(
      'URL "ftp://127.0.0.1/": only http and https are fetched',
    );
    expect((await http.call('fetch', { url: 'not a url' })).text).toBe(
      '"not a url" is not a URL; give an absolute http:// or https:// URL',
    );
    const host = await http.call('fetch', { url: server.url('/hello'), headers: { Host: 'x' } });
    expect(host.text).toBe('header "Host" is set by the http connector; leave it out');
  });

  test('says when the connection is refused', async () => {
    const port = await closedPort();
    const http = await httpClient({ allowPrivate: true });
    const outcome = await http.call('fetch', { url: `http://127.0.0.1:${port}/` });
    expect(outcome).toMatchObject({
      isError: true,
      text: `URL "http://127.0.0.1:${port}/" failed: connection refused`,
    });
  });

  test('verifies https certificates against the URL host over the pinned connection', async () => {
    const dir = tempDir('agentd-tls-');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=secure.test',
        '-addext',
        'subjectAltName=DNS:secure.test',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_request, response) => response.end('secret'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const http = await httpClient({
      lookup: fakeDns({ 'secure.test': ['127.0.0.1'] }),
      allowPrivate: ['secure.test'],
    });
    const outcome = await http.call('fetch', { url: `https://secure.test:${port}/` });
    expect(outcome.isError).toBe(true);
    expect(outcome.text).toMatch(
      new RegExp(`^URL "https://secure\\.test:${port}/" failed: self-signed certificate`),
    );
    expectOneLine(outcome.text);
  });

  test('says when a host cannot be resolved', async () => {
    const http = await httpClient({ lookup: fakeDns({}) });
    const outcome = await http.call('fetch', { url: 'http://nowhere.test/' });
    expect(outcome).toMatchObject({
      isError: true,
      text: 'URL "http://nowhere.test/": host "nowhere.test" could not be resolved (getaddrinfo ENOTFOUND nowhere.test)',
    });
  });
});

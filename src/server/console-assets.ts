import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

/** The folder of agentd's package.json: above this file in a checkout, above dist/ when built. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'bin', 'agentd.js'))) {
    const up = dirname(dir);
    if (up === dir) return dirname(fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/**
 * Where the built console is: `console/dist/` of the package (`npm run console:build` writes
 * it; the package ships it, see `files` in package.json).
 */
export const consoleDistDir = join(packageRoot(), 'console', 'dist');

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * What every console file is sent with: scripts and styles from this server only, no framing
 * by other sites, nothing leaked in Referer headers.
 */
const pageHeaders = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const notBuilt = `<!doctype html><meta charset="utf-8"><title>agentd</title>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>agentd</h1><p>This copy of agentd has no built console. In a checkout, build it with
<code>npm run console:build</code> and restart <code>agentd serve</code>; the HTTP API works
without it (<a href="/openapi.json">/openapi.json</a>).</p></body>`;

/**
 * The web console's files, served without a key (they hold no data: every page asks the API,
 * which needs a session or a key): `/` is the app, `/assets/*` its hashed scripts and styles,
 * cached for good. Pages are addressed with the hash (`/#/runs/<id>`), so no API path is
 * ever shadowed.
 */
export function consoleAssets(dir: string = consoleDistDir): Hono {
  const app = new Hono();
  const cache = new Map<string, Buffer>();
  const read = (relative: string): Buffer | undefined => {
    const path = normalize(join(dir, relative));
    if (!path.startsWith(normalize(dir))) return undefined;
    let body = cache.get(path);
    if (!body) {
      if (!existsSync(path)) return undefined;
      body = readFileSync(path);
      cache.set(path, body);
    }
    return body;
  };

  app.get('/', (c) => {
    const index = read('index.html');
    return c.body(index ? new Uint8Array(index) : notBuilt, index ? 200 : 503, {
      ...pageHeaders,
      'content-type': types['.html']!,
      'cache-control': 'no-cache',
    });
  });
  for (const route of ['/assets/:file', '/favicon.svg']) {
    app.get(route, (c, next) => {
      const relative = c.req.path.slice(1);
      const body = read(relative);
      if (!body) return next();
      return c.body(new Uint8Array(body), 200, {
        ...pageHeaders,
        'content-type': types[extname(relative)] ?? 'application/octet-stream',
        'cache-control': relative.startsWith('assets/')
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
      });
    });
  }
  return app;
}

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * The HTTP API, in process, fed random and hostile requests: JSON of any shape, bodies that
 * are not JSON or not UTF-8, wrong content types, huge and odd headers, bad traceparent, odd
 * paths and queries. Property: never a 5xx; every 4xx is a problem document whose detail is
 * one line; the server still answers afterwards. AGENTD_FUZZ_RUNS for a longer budget,
 * AGENTD_FUZZ_SEED to replay one.
 */
const runs = Number(process.env.AGENTD_FUZZ_RUNS ?? 150);
const seed = process.env.AGENTD_FUZZ_SEED ? Number(process.env.AGENTD_FUZZ_SEED) : 20261207;

let server: RunningServer;
let store: SqliteStore;
let key: string;
const home0 = process.env.AGENTD_HOME;

beforeAll(async () => {
  const dir = tempDir();
  process.env.AGENTD_HOME = dir;
  const config = loadConfig({ AGENTD_HOME: dir });
  store = new SqliteStore({ path: config.dbPath });
  server = await startServer({
    store,
    config,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
  });
  key = (await new ApiKeys(store).create('fuzzer', ['runs', 'approvals', 'policies'])).key;
});
afterAll(async () => {
  await server?.close();
  await store?.close();
  if (home0 === undefined) delete process.env.AGENTD_HOME;
  else process.env.AGENTD_HOME = home0;
});

const route = fc.constantFrom(
  ['POST', '/runs'],
  ['GET', '/runs'],
  ['GET', '/runs/run_nope'],
  ['POST', '/runs/run_nope/tags'],
  ['POST', '/runs/run_nope/cancel'],
  ['POST', '/runs/run_nope/resume'],
  ['GET', '/runs/run_nope/events'],
  ['GET', '/approvals'],
  ['POST', '/approvals/appr_nope/answer'],
  ['POST', '/policies/validate'],
  ['POST', '/policies/test'],
  ['GET', '/audit'],
  ['GET', '/audit/verify'],
  ['GET', '/registry/tools'],
);
const json = fc.jsonValue({ maxDepth: 5 });
const body = fc.oneof(
  json.map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        agent: fc.oneof(fc.string(), json),
        task: fc.oneof(fc.string(), json),
        model: fc.oneof(fc.string(), json),
        limits: json,
        tags: json,
        add: json,
        remove: json,
        answer: json,
        dir: json,
        policies: json,
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300 }),
  fc.integer({ min: 1000, max: 3000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc
    .integer({ min: 100_000, max: 2_000_000 })
    .map((n) => JSON.stringify({ agent: 'a', task: 'x'.repeat(n) })),
  fc.constantFrom(
    '',
    '{',
    '{"agent":',
    'null',
    '[]',
    '"x"',
    '{"__proto__":{"polluted":1}}',
    '{"agent":"../../etc/passwd","task":"x"}',
    '{"agent":"\u0000","task":"\uD800"}',
  ),
);
const bytes = fc.oneof(
  body.map((b) => new TextEncoder().encode(b)),
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  '',
  'application/json'.repeat(200),
);
const headers = fc.record(
  {
    traceparent: fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constantFrom(
        '00-00000000000000000000000000000000-0000000000000000-01',
        `ff-${'a'.repeat(500)}`,
        '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      ),
    ),
    'x-big': fc.integer({ min: 1000, max: 40_000 }).map((n) => 'h'.repeat(n)),
    'last-event-id': fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('-1', '1e400', '99999999999999999999'),
    ),
    accept: fc.constantFrom('text/event-stream', '*/*', 'application/xml'),
  },
  { requiredKeys: [] },
);
const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom(
    '?limit=-1',
    '?limit=1e9',
    '?status=nope',
    '?tag=%FF',
    '?cursor=%00',
    '?limit=abc&limit=2',
    `?tag=${'t'.repeat(5000)}`,
  ),
);

const clean = (value: string) => /^[\t\x20-\x7e\u0080-\uffff]*$/.test(value);

describe('fuzzing the HTTP API', () => {
  it('never answers 5xx; every 4xx is a problem of one line; it still answers after', async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        route,
        bytes,
        contentType,
        headers,
        query,
        fc.boolean(),
        async ([method, path], payload, type, extra, q, auth) => {
          const sent: Record<string, string> = {};
          for (const [name, value] of Object.entries(extra)) if (clean(value)) sent[name] = value;
          if (type) sent['content-type'] = type;
          if (auth) sent.authorization = `Bearer ${key}`;
          const controller = new AbortController();
          const response = await fetch(`${server.url}${path}${q}`, {
            method,
            headers: sent,
            ...(method === 'POST' ? { body: payload } : {}),
            signal: controller.signal,
          });
          seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
          expect(response.status, `${method} ${path}${q}`).toBeLessThan(500);
          if (response.headers.get('content-type')?.includes('text/event-stream')) {
            controller.abort();
            return;
          }
          const text = await response.text();
          if (response.status >= 400 && response.status !== 431) {
            const problem = JSON.parse(text) as { detail?: unknown };
            expect(typeof problem.detail).toBe('string');
            expect(problem.detail as string).not.toContain('\n');
          }
        },
      ),
      { numRuns: runs, seed },
    );
    expect([...seen.keys()].some((s) => s >= 400)).toBe(true);
    const after = await fetch(`${server.url}/runs`, {
      headers: { authorization: `Bearer ${key}` },
    });
    // It still answers: the runs, or (past a long budget) its rate limit, as a problem.
    expect([200, 429]).toContain(after.status);
  }, 120_000);
});

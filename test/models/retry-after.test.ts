import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { retryAfter } from '../../src/models/ai-sdk-model.ts';
import { type Model, ModelCallError, type ModelRequest } from '../../src/models/model.ts';
import { type RetryNotice, streamWithRetry } from '../../src/models/retry.ts';
import { FakeProvider, type Reply, reply } from '../support/fake-provider.ts';
import { type Api, modelOn, rejection, run, simpleRequest } from '../support/provider-models.ts';

describe('retryAfter', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  test('retry-after in seconds', () => {
    expect(retryAfter({ 'retry-after': '3' })).toBe(3000);
    expect(retryAfter({ 'retry-after': '0' })).toBe(0);
    expect(retryAfter({ 'retry-after': '1.5' })).toBe(1500);
  });

  test('retry-after-ms, which wins over retry-after', () => {
    expect(retryAfter({ 'retry-after-ms': '250' })).toBe(250);
    expect(retryAfter({ 'retry-after-ms': '250', 'retry-after': '30' })).toBe(250);
  });

  test('retry-after as an HTTP date', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-22T10:00:00Z'));
    expect(retryAfter({ 'retry-after': new Date('2026-11-22T10:00:07Z').toUTCString() })).toBe(
      7000,
    );
    expect(retryAfter({ 'retry-after': 'Sun, 22 Nov 2026 10:01:00 GMT' })).toBe(60_000);
    // A date already past means: now.
    expect(retryAfter({ 'retry-after': 'Sun, 22 Nov 2026 09:59:00 GMT' })).toBe(0);
  });

  test('nothing usable: undefined', () => {
    expect(retryAfter(undefined)).toBeUndefined();
    expect(retryAfter({})).toBeUndefined();
    expect(retryAfter({ 'retry-after': 'soon' })).toBeUndefined();
    expect(retryAfter({ 'retry-after-ms': 'soon' })).toBeUndefined();
  });
});

describe('retry delays over HTTP', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await FakeProvider.start();
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  /**
   * Streams until the first retry notice, then aborts so the test does not sleep through a
   * long retry-after. Returns that notice.
   */
  async function firstNotice(
    model: Model,
    request: ModelRequest = simpleRequest(),
  ): Promise<RetryNotice> {
    const controller = new AbortController();
    let notice: RetryNotice | undefined;
    const stream = streamWithRetry(model, request, {
      signal: controller.signal,
      // backoff stays around a millisecond; a provider may ask for up to a minute
      policy: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 60_000 },
    });
    await expect(
      (async () => {
        for await (const part of stream) {
          if (part.type === 'retry') {
            notice = part;
            controller.abort(new Error('test stops here'));
          }
        }
      })(),
    ).rejects.toThrow('test stops here');
    expect(notice).toBeDefined();
    return notice!;
  }

  test.each<Api>(['anthropic', 'openai-responses', 'openai-chat', 'openai-compatible'])(
    '%s: retry-after-ms is waited for, at least',
    async (api) => {
      fake.enqueue(reply.rateLimited(0, { 'retry-after-ms': '40' }), reply.text('ok'));
      const out = await run(await modelOn(fake, api), undefined, {
        random: () => 1,
        policy: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 100 },
      });

      expect(out.text).toBe('ok');
      expect(out.retries).toHaveLength(1);
      expect(out.retries[0]!.error.retryAfterMs).toBe(40);
      expect(out.retries[0]!.delayMs).toBeGreaterThanOrEqual(40);
    },
  );

  test('retry-after in seconds sets the delay even when backoff is shorter', async () => {
    fake.enqueue(reply.rateLimited(2));
    const notice = await firstNotice(await modelOn(fake, 'openai-responses'));

    expect(notice.error.status).toBe(429);
    expect(notice.error.retryAfterMs).toBe(2000);
    expect(notice.delayMs).toBeGreaterThanOrEqual(2000);
  });

  test('retry-after as an HTTP date sets the delay', async () => {
    // HTTP dates have whole seconds: 3 s ahead is more than 2 s ahead once truncated.
    fake.enqueue(
      reply.rateLimited(0, { 'retry-after': new Date(Date.now() + 3000).toUTCString() }),
    );
    const notice = await firstNotice(await modelOn(fake, 'anthropic'));

    expect(notice.error.retryAfterMs).toBeGreaterThan(1000);
    expect(notice.error.retryAfterMs).toBeLessThanOrEqual(3000);
    expect(notice.delayMs).toBeGreaterThanOrEqual(notice.error.retryAfterMs!);
  });

  test('a retry-after longer than agentd waits fails at once, saying so', async () => {
    fake.enqueue(reply.rateLimited(3600), reply.text('never served'));
    const error = await rejection(
      run(await modelOn(fake, 'anthropic'), undefined, {
        policy: { maxRetries: 5, baseDelayMs: 1, maxDelayMs: 30_000 },
      }),
    );
    expect(error).toBeInstanceOf(ModelCallError);
    expect((error as ModelCallError).retryable).toBe(false);
    expect((error as ModelCallError).message).toMatch(
      /^anthropic returned 429: .*\(the provider asks to retry after 3600 s, longer than the 30 s agentd waits\)$/,
    );
    expect(fake.requests).toHaveLength(1);
  });

  test('x-should-retry: false from the provider stops retries of a 500', async () => {
    fake.enqueue(
      reply.error(500, {
        message: 'Internal server error',
        anthropicType: 'api_error',
        openaiType: 'server_error',
        headers: { 'x-should-retry': 'false' },
      }),
      reply.text('never served'),
    );
    const error = await rejection(run(await modelOn(fake, 'anthropic')));
    expect((error as ModelCallError).status).toBe(500);
    expect((error as ModelCallError).retryable).toBe(false);
    expect(fake.requests).toHaveLength(1);
  });

  test('backoff longer than retry-after wins', async () => {
    fake.enqueue(reply.rateLimited(0, { 'retry-after-ms': '5' }), reply.text('ok'));
    const out = await run(await modelOn(fake, 'openai-chat'), undefined, {
      policy: { maxRetries: 1, baseDelayMs: 30, maxDelayMs: 100 },
      random: () => 1,
    });
    expect(out.retries[0]!.delayMs).toBe(30);
  });

  test("Anthropic's documented 429 (body and headers) asks for 20 s", async () => {
    const fixture = fileURLToPath(
      new URL('../fixtures/providers/anthropic-error-rate-limit.json', import.meta.url),
    );
    const rateLimited: Reply = reply.raw(fixture, 'application/json', {
      status: 429,
      headers: {
        'retry-after': '20',
        'anthropic-ratelimit-input-tokens-limit': '20000',
        'anthropic-ratelimit-input-tokens-remaining': '0',
      },
    });
    fake.enqueue(rateLimited);
    const notice = await firstNotice(await modelOn(fake, 'anthropic'));

    expect(notice.error.retryAfterMs).toBe(20_000);
    expect(notice.delayMs).toBeGreaterThanOrEqual(20_000);
    expect(notice.error.message).toMatch(
      /^anthropic returned 429: This request would exceed the rate limit for your organization/,
    );
  });
});

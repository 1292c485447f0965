import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { ModelCallError } from '../../src/models/model.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { type Api, apis, modelOn, rejection, run, testKeys } from '../support/provider-models.ts';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await FakeProvider.start();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

const providerOf = {
  anthropic: 'anthropic',
  'openai-responses': 'openai',
  'openai-chat': 'openai',
  'openai-compatible': 'openai-compatible',
} as const;

function asModelCallError(error: unknown): ModelCallError {
  expect(error).toBeInstanceOf(ModelCallError);
  return error as ModelCallError;
}

describe.each(apis)('%s errors', (api) => {
  const provider = providerOf[api];

  test('400 fails at once with the provider message', async () => {
    const message = 'messages.1.content.0: unexpected `tool_use_id` found in `tool_result` blocks';
    fake.enqueue(reply.badRequest(message), reply.text('never served'));
    const error = asModelCallError(await rejection(run(await modelOn(fake, api))));

    expect(error.status).toBe(400);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(`${provider} returned 400: ${message}`);
    expect(fake.requests).toHaveLength(1);
    expect(fake.pending).toBe(1);
  });

  test('401 fails at once and says to check the key', async () => {
    fake.enqueue(reply.unauthorized(), reply.text('never served'));
    const error = asModelCallError(await rejection(run(await modelOn(fake, api))));

    expect(error.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^\S+ returned 401: /);
    const keyHints: Record<Api, RegExp> = {
      anthropic: /\(check ANTHROPIC_API_KEY\)$/,
      'openai-responses': /\(check providers\.openai\.api_key in .+\)$/,
      'openai-chat': /\(check OPENAI_API_KEY\)$/,
      'openai-compatible': /\(check VLLM_API_KEY\)$/,
    };
    expect(error.message).toMatch(keyHints[api]);
    expect(fake.requests).toHaveLength(1);
    const headers = fake.requests[0]!.headers;
    if (api === 'anthropic') expect(headers['x-api-key']).toBe(testKeys[api]);
    else expect(headers.authorization).toBe(`Bearer ${testKeys[api]}`);
  });

  test('429 with retry-after: 0 is retried once, then succeeds', async () => {
    fake.enqueue(reply.rateLimited(0), reply.text('Back in business.'));
    const out = await run(await modelOn(fake, api));

    expect(out.text).toBe('Back in business.');
    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]).toMatchObject({ type: 'retry', attempt: 1 });
    expect(out.retries[0]!.error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 0 });
    expect(out.retries[0]!.error.message).toMatch(/^\S+ returned 429: \S/);
    expect(fake.requests).toHaveLength(2);
  });

  test('500 is retried, then succeeds', async () => {
    fake.enqueue(reply.serverError(), reply.text('Recovered.'));
    const out = await run(await modelOn(fake, api));

    expect(out.text).toBe('Recovered.');
    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]!.error).toMatchObject({ status: 500, retryable: true });
    expect(out.finish?.stopReason).toBe('end_turn');
  });

  test('a connection dropped mid-stream is retried, and the retry starts over', async () => {
    fake.enqueue(
      reply.drop(reply.text('This first attempt never finishes because the line is cut.'), 5),
      reply.text('Second attempt.'),
    );
    const out = await run(await modelOn(fake, api));

    const firstRetry = out.parts.findIndex((part) => part.type === 'retry');
    const beforeRetry = out.parts.slice(0, firstRetry);
    expect(beforeRetry.some((part) => part.type === 'text-delta')).toBe(true);
    expect(beforeRetry.some((part) => part.type === 'finish')).toBe(false);
    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]!.error.retryable).toBe(true);
    expect(out.retries[0]!.error.status).toBeUndefined();
    expect(out.retries[0]!.error.message).toMatch(
      new RegExp(`^${provider}: the response stream broke off: terminated`),
    );
    expect(out.text).toBe('Second attempt.');
    expect(fake.requests).toHaveLength(2);
  });

  test('a connection dropped before any event is retried', async () => {
    fake.enqueue(reply.drop(reply.text('unused'), 0), reply.text('Fine now.'));
    const out = await run(await modelOn(fake, api));

    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]!.error.retryable).toBe(true);
    expect(out.text).toBe('Fine now.');
  });

  test('a stream that ends cleanly before it finished is retried, not taken as an answer', async () => {
    fake.enqueue(
      reply.truncate(
        reply.toolCalls([{ name: 'write_file', input: { path: 'a', text: 'b' } }], {
          text: 'Writing the file now.',
        }),
        6,
      ),
      reply.text('Complete answer.'),
    );
    const out = await run(await modelOn(fake, api));

    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]!.error.retryable).toBe(true);
    expect(out.text).toBe('Complete answer.');
    expect(out.calls).toEqual([]);
    expect(out.finish?.stopReason).toBe('end_turn');
  });

  test('an error event in the stream after some output is retried with its message', async () => {
    fake.enqueue(
      reply.streamError(
        reply.serverError('The server had an error while processing your request.'),
        reply.text('Partial answer that stops here'),
        6,
      ),
      reply.text('Whole answer.'),
    );
    const out = await run(await modelOn(fake, api));

    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]!.error.retryable).toBe(true);
    expect(out.retries[0]!.error.message).toContain(
      'The server had an error while processing your request.',
    );
    expect(out.text).toBe('Whole answer.');
  });

  // OpenAI-compatible servers' in-stream errors carry no status, so agentd cannot tell
  // (see the openai-compatible test below).
  const statusInStream = api !== 'openai-compatible';
  if (statusInStream)
    test('an error event in the stream that will not pass is not retried', async () => {
      fake.enqueue(
        reply.streamError(
          reply.badRequest('Prompt is too long: 210000 tokens > 200000 maximum'),
          reply.text('Some text that stops'),
          6,
        ),
        reply.text('never served'),
      );
      const error = asModelCallError(await rejection(run(await modelOn(fake, api))));

      expect(error.retryable).toBe(false);
      expect(error.message).toContain('Prompt is too long: 210000 tokens > 200000 maximum');
      expect(fake.requests).toHaveLength(1);
    });

  test('a permanent 500 gives up after maxRetries with the provider message', async () => {
    const message = 'The server had an error while processing your request. Sorry about that!';
    fake.enqueue(
      reply.serverError(message),
      reply.serverError(message),
      reply.serverError(message),
    );
    const error = asModelCallError(
      await rejection(
        run(await modelOn(fake, api), undefined, {
          policy: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
        }),
      ),
    );

    expect(error.status).toBe(500);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(`${provider} returned 500: ${message} (gave up after 3 attempts)`);
    expect(fake.requests).toHaveLength(3);
  });

  test('no reply queued: the fake says so in the error', async () => {
    const error = asModelCallError(
      await rejection(
        run(await modelOn(fake, api), undefined, {
          policy: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
        }),
      ),
    );
    expect(error.message).toContain('fake provider: no reply queued');
  });
});

test('openai-compatible: an in-stream error has no status, so it is retried with its message', async () => {
  fake.enqueue(
    reply.streamError(
      reply.badRequest('context length exceeded'),
      reply.text('Some text that stops'),
      3,
    ),
    reply.text('Shorter answer.'),
  );
  const out = await run(await modelOn(fake, 'openai-compatible'));

  expect(out.retries).toHaveLength(1);
  expect(out.retries[0]!.error.message).toBe(
    'openai-compatible reported an error mid-stream: context length exceeded',
  );
  expect(out.text).toBe('Shorter answer.');
});

describe('anthropic only', () => {
  test('the documented 529 overloaded body is retried', async () => {
    fake.enqueue(
      reply.raw(
        fileURLToPath(
          new URL('../fixtures/providers/anthropic-error-overloaded.json', import.meta.url),
        ),
        'application/json',
        { status: 529, headers: { 'x-should-retry': 'true' } },
      ),
      reply.text('ok'),
    );
    const out = await run(await modelOn(fake, 'anthropic'));

    expect(out.retries[0]!.error).toMatchObject({
      status: 529,
      retryable: true,
      message: 'anthropic returned 529: Overloaded',
    });
    expect(out.text).toBe('ok');
  });

  test('529 overloaded is retried, then succeeds', async () => {
    fake.enqueue(reply.overloaded(), reply.text('Capacity came back.'));
    const out = await run(await modelOn(fake, 'anthropic'));

    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]!.error).toMatchObject({ status: 529, retryable: true });
    expect(out.retries[0]!.error.message).toBe('anthropic returned 529: Overloaded');
    expect(out.text).toBe('Capacity came back.');
    expect(fake.requests.map((r) => r.headers['x-api-key'])).toEqual([
      testKeys.anthropic,
      testKeys.anthropic,
    ]);
  });

  test.each([
    ['as the first event', 0, 'anthropic returned 529: Overloaded'],
    ['after message_start', 2, 'anthropic reported an error mid-stream (529): Overloaded'],
    ['after some text', 5, 'anthropic reported an error mid-stream (529): Overloaded'],
  ])('an overloaded_error event %s is retried as a 529', async (_, afterEvents, message) => {
    fake.enqueue(
      reply.streamError(
        reply.overloaded(),
        reply.text('Some words before the error.'),
        afterEvents,
      ),
      reply.text('Second try.'),
    );
    const out = await run(await modelOn(fake, 'anthropic'));

    expect(out.retries).toHaveLength(1);
    expect(out.retries[0]!.error).toMatchObject({ status: 529, retryable: true, message });
    expect(out.text).toBe('Second try.');
  });
});

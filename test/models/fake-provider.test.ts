import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FakeProvider, reply } from '../support/fake-provider.ts';

/** The fake server itself, checked with plain fetch: framing rules the real APIs follow. */
let fake: FakeProvider;
beforeAll(async () => {
  fake = await FakeProvider.start();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

interface SseEvent {
  event: string | undefined;
  data: string;
}

async function post(path: string, body: object): Promise<Response> {
  return fetch(`${fake.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** An error body in either provider's shape. */
interface ErrorBody {
  type?: string;
  error: { message: string; type?: string };
  request_id?: string;
}

async function errorBody(res: Response): Promise<ErrorBody> {
  return (await res.json()) as ErrorBody;
}

function parseSse(text: string): SseEvent[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6) ?? '';
      return { event, data };
    });
}

const usage = { inputTokens: 50, outputTokens: 7, cachedInputTokens: 30 };
const both = reply.toolCalls(
  [
    { name: 'a', input: { x: 1 } },
    { name: 'b', input: { y: 'two' } },
  ],
  { text: 'Calling two tools.', usage },
);

describe('framing', () => {
  test('anthropic: named events equal to their type, a ping, no [DONE], request-id', async () => {
    fake.enqueue(both);
    const res = await post('/v1/messages', { model: 'claude-x', stream: true, messages: [] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const events = parseSse(await res.text());

    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('message_start');
    expect(names).toContain('ping');
    expect(names.at(-1)).toBe('message_stop');
    expect(events.some((e) => e.data === '[DONE]')).toBe(false);
    const start = JSON.parse(events[0]!.data);
    expect(start.message.model).toBe('claude-x');
    expect(start.message.usage).toMatchObject({ input_tokens: 20, cache_read_input_tokens: 30 });
  });

  test('responses: named events, dense sequence numbers, ends with response.completed', async () => {
    fake.enqueue(both);
    const res = await post('/v1/responses', { model: 'gpt-x', stream: true, input: [] });
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const events = parseSse(await res.text());

    events.forEach((e, i) => {
      const data = JSON.parse(e.data);
      expect(data.type).toBe(e.event);
      expect(data.sequence_number).toBe(i);
    });
    const last = JSON.parse(events.at(-1)!.data);
    expect(last.type).toBe('response.completed');
    expect(last.response.usage).toEqual({
      input_tokens: 50,
      input_tokens_details: { cache_write_tokens: 0, cached_tokens: 30 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 57,
    });
    expect(last.response.output.map((item: { type: string }) => item.type)).toEqual([
      'message',
      'function_call',
      'function_call',
    ]);
  });

  test('chat: data only, usage chunk with no choices when asked, then [DONE]', async () => {
    fake.enqueue(both);
    const res = await post('/v1/chat/completions', {
      model: 'gpt-x',
      stream: true,
      stream_options: { include_usage: true },
      messages: [],
    });
    const events = parseSse(await res.text());

    expect(events.every((e) => e.event === undefined)).toBe(true);
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({
      prompt_tokens: 50,
      completion_tokens: 7,
      prompt_tokens_details: { cached_tokens: 30 },
    });
    expect(chunks.at(-2).choices[0].finish_reason).toBe('tool_calls');
    const firstFragments = chunks
      .flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])
      .filter((f: { id?: string }) => f.id);
    expect(firstFragments.map((f: { index: number }) => f.index)).toEqual([0, 1]);
  });

  test('chat without include_usage sends no usage chunk', async () => {
    fake.enqueue(reply.text('hi'));
    const res = await post('/v1/chat/completions', { model: 'm', stream: true, messages: [] });
    const chunks = parseSse(await res.text())
      .slice(0, -1)
      .map((e) => JSON.parse(e.data));
    expect(chunks.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true);
  });
});

describe('housekeeping', () => {
  test('records path, headers and the parsed body', async () => {
    fake.enqueue(reply.text('hi'));
    await (await post('/v1/messages', { model: 'm', stream: true, system: 'S' })).text();
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/messages',
      route: 'anthropic-messages',
      body: { model: 'm', stream: true, system: 'S' },
    });
    expect(fake.requests[0]!.headers['content-type']).toBe('application/json');
  });

  test('no reply queued: 500 in the provider shape with a clear message', async () => {
    const res = await post('/v1/messages', { stream: true });
    expect(res.status).toBe(500);
    const body = await errorBody(res);
    expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(body.error.message).toMatch(/^fake provider: no reply queued for POST \/v1\/messages/);
  });

  test('errors carry provider bodies and extra headers', async () => {
    fake.enqueue(reply.rateLimited(7), reply.rateLimited(7));
    const anthropic = await post('/v1/messages', { stream: true });
    expect(anthropic.status).toBe(429);
    expect(anthropic.headers.get('retry-after')).toBe('7');
    expect(await anthropic.json()).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error' },
      request_id: anthropic.headers.get('request-id'),
    });
    const openai = await post('/v1/responses', { stream: true });
    expect(await openai.json()).toEqual({
      error: {
        message: expect.any(String),
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
  });

  test('unknown routes are refused plainly', async () => {
    const notFound = await post('/v1/embeddings', {});
    expect(notFound.status).toBe(404);
    expect((await errorBody(notFound)).error.message).toContain('no route for POST /v1/embeddings');
  });

  test('a request without stream gets the whole reply as one JSON body', async () => {
    const calls = [{ name: 'lookup', input: { key: 'a' }, id: 'call_1' }];
    fake.enqueue(reply.toolCalls(calls, { text: 'let me look' }));
    const chat = await post('/v1/chat/completions', { model: 'm', messages: [] });
    expect(chat.headers.get('content-type')).toBe('application/json');
    expect(await chat.json()).toMatchObject({
      object: 'chat.completion',
      choices: [
        {
          message: {
            role: 'assistant',
            content: 'let me look',
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'lookup', arguments: '{"key":"a"}' },
              },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 100, completion_tokens: 20 },
    });

    fake.enqueue(reply.toolCalls(calls, { text: 'let me look' }));
    const anthropic = await post('/v1/messages', { model: 'claude-sonnet-4-5', messages: [] });
    expect(await anthropic.json()).toMatchObject({
      type: 'message',
      content: [
        { type: 'text', text: 'let me look' },
        { type: 'tool_use', id: 'call_1', name: 'lookup', input: { key: 'a' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 100, output_tokens: 20 },
    });

    fake.enqueue(reply.text('done', { stop: 'max-tokens' }));
    const responses = await post('/v1/responses', { model: 'gpt-5', input: [] });
    expect(await responses.json()).toMatchObject({
      object: 'response',
      status: 'incomplete',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'done' }] }],
      usage: { input_tokens: 100, output_tokens: 20 },
    });
  });

  test('close() ends open connections', async () => {
    const server = await FakeProvider.start();
    server.enqueue(reply.text('hello there'));
    const res = await fetch(`${server.origin}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ stream: true }),
    });
    await res.text();
    // The keep-alive socket is still open here; close must not wait for it.
    await server.close();
    await expect(fetch(`${server.origin}/v1/messages`, { method: 'POST' })).rejects.toThrow();
  });
});

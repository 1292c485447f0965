import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { modelOn, run } from '../support/provider-models.ts';

/** Recorded / documented provider streams, served byte for byte (see test/fixtures/providers). */
function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/providers/${name}`, import.meta.url));
}

let fake: FakeProvider;
beforeAll(async () => {
  fake = await FakeProvider.start();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

const zeroExtras = { cacheWriteTokens: 0, reasoningTokens: 0 };

describe('verbatim provider streams', () => {
  test('Anthropic Messages: text, then a tool_use block streamed as partial JSON', async () => {
    fake.enqueue(reply.raw(fixture('anthropic-messages-stream-tool-use.sse')));
    const out = await run(await modelOn(fake, 'anthropic'));

    expect(out.text).toBe("Okay, let's check the weather for San Francisco, CA:");
    expect(out.textDeltas).toBe(13);
    expect(out.calls).toEqual([
      {
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        name: 'get_weather',
        input: { location: 'San Francisco, CA', unit: 'fahrenheit' },
      },
    ]);
    expect(out.starts).toEqual([{ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather' }]);
    expect(out.finish).toEqual({
      type: 'finish',
      usage: { inputTokens: 472, outputTokens: 89, cachedInputTokens: 0, ...zeroExtras },
      stopReason: 'tool_calls',
      rawStopReason: 'tool_use',
    });
    expect(out.retries).toEqual([]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/messages']);
  });

  test('OpenAI Responses: a function call whose arguments arrive in five deltas', async () => {
    fake.enqueue(reply.raw(fixture('openai-responses-stream-function-call.sse')));
    const out = await run(await modelOn(fake, 'openai-responses'));

    expect(out.text).toBe('');
    expect(out.calls).toEqual([
      { id: 'call_2FQdm3Br7Qb35YUBSkDR7kue', name: 'get_weather', input: { city: 'Beijing' } },
    ]);
    expect(out.finish?.usage).toEqual({
      inputTokens: 45,
      outputTokens: 25,
      cachedInputTokens: 0,
      ...zeroExtras,
    });
    expect(out.finish?.stopReason).toBe('tool_calls');
    expect(out.retries).toEqual([]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/responses']);
  });

  test.each(['openai-chat', 'openai-compatible'] as const)(
    'Chat Completions (%s): two parallel tool calls rebuilt from fragments by index',
    async (api) => {
      fake.enqueue(reply.raw(fixture('openai-chat-stream-tool-calls.sse')));
      const out = await run(await modelOn(fake, api));

      expect(out.text).toBe('');
      expect(out.calls).toEqual([
        {
          id: 'call_JMW1whyEaYG438VE1OIflxA2',
          name: 'GetWeatherArgs',
          input: { city: 'Edinburgh', country: 'GB', units: 'c' },
        },
        {
          id: 'call_DNYTawLBoN8fj3KN6qU9N1Ou',
          name: 'get_stock_price',
          input: { ticker: 'AAPL', exchange: 'NASDAQ' },
        },
      ]);
      expect(out.finish).toEqual({
        type: 'finish',
        usage: { inputTokens: 149, outputTokens: 60, cachedInputTokens: 0, ...zeroExtras },
        stopReason: 'tool_calls',
        rawStopReason: 'tool_calls',
      });
      expect(fake.requests.map((r) => r.path)).toEqual(['/v1/chat/completions']);
    },
  );
});

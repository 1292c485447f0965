import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { ToolCall } from '../../src/core/messages.ts';
import type { Usage } from '../../src/core/usage.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { type Api, apis, modelOn, run } from '../support/provider-models.ts';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await FakeProvider.start();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

/** Cache writes are reported by Anthropic and the Responses API only. */
const writesCache: Record<Api, boolean> = {
  anthropic: true,
  'openai-responses': true,
  'openai-chat': false,
  'openai-compatible': false,
};

describe.each(apis)('%s streams', (api) => {
  test('text arrives in several deltas, with usage including cached tokens', async () => {
    const usage: Usage = {
      inputTokens: 5200,
      outputTokens: 41,
      cachedInputTokens: 4096,
      cacheWriteTokens: writesCache[api] ? 512 : 0,
      reasoningTokens: 12,
    };
    fake.enqueue(reply.text('The build passes and all 212 tests are green.', { usage }));
    const out = await run(await modelOn(fake, api));

    expect(out.text).toBe('The build passes and all 212 tests are green.');
    expect(out.textDeltas).toBeGreaterThanOrEqual(5);
    expect(out.calls).toEqual([]);
    expect(out.finish?.usage).toEqual(usage);
    expect(out.finish?.stopReason).toBe('end_turn');
    expect(out.retries).toEqual([]);
  });

  test('parallel tool calls after leading text, arguments in several chunks', async () => {
    const calls: ToolCall[] = [
      { id: 'call_read', name: 'read_file', input: { path: 'src/models/retry.ts' } },
      {
        id: 'call_grep',
        name: 'grep',
        input: { pattern: 'retry-after', paths: ['src', 'test'], ignoreCase: true },
      },
      { id: 'call_ls', name: 'list_dir', input: {} },
    ];
    fake.enqueue(
      reply.toolCalls(calls, {
        text: 'I will read the file and search.',
        usage: { inputTokens: 900, outputTokens: 77, cachedInputTokens: 800 },
      }),
    );
    const out = await run(await modelOn(fake, api));

    expect(out.text).toBe('I will read the file and search.');
    expect(out.calls).toEqual(calls);
    expect(out.starts).toEqual(calls.map(({ id, name }) => ({ id, name })));
    expect(out.finish).toMatchObject({
      stopReason: 'tool_calls',
      usage: { inputTokens: 900, outputTokens: 77, cachedInputTokens: 800 },
    });
  });

  test('a tool call with no text', async () => {
    fake.enqueue(reply.toolCalls([{ name: 'finish', input: { summary: 'done' } }]));
    const out = await run(await modelOn(fake, api));

    expect(out.text).toBe('');
    expect(out.calls).toHaveLength(1);
    expect(out.calls[0]).toMatchObject({ name: 'finish', input: { summary: 'done' } });
    expect(out.calls[0]?.id).toMatch(/\S/);
    expect(out.finish?.stopReason).toBe('tool_calls');
  });

  test('hitting the output limit stops with max_tokens', async () => {
    fake.enqueue(reply.text('This answer was cut', { stop: 'max-tokens' }));
    const out = await run(await modelOn(fake, api));

    expect(out.text).toBe('This answer was cut');
    expect(out.finish?.stopReason).toBe('max_tokens');
  });
});

describe.each(['openai-chat', 'openai-compatible'] as const)('%s tool-call fragments', (api) => {
  test('interleaved fragments of parallel calls are put together by index', async () => {
    const calls = [
      { id: 'call_a', name: 'read_file', input: { path: 'a/very/long/path/to/some/file.ts' } },
      { id: 'call_b', name: 'read_file', input: { path: 'another/long/path/to/a/file.ts' } },
    ];
    fake.enqueue(reply.toolCalls(calls, { interleave: true }));
    const out = await run(await modelOn(fake, api));

    expect(out.calls).toEqual(calls);
    expect(out.finish?.stopReason).toBe('tool_calls');
  });
});

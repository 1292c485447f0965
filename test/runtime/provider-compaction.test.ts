import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import { createModel } from '../../src/models/providers.ts';
import { runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';

const step = defineTool({
  name: 'step',
  description: 'a step',
  input: z.object({}),
  execute: () => 'stepped',
});
const fastRetry = { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 5 };
type Body = Record<string, unknown>;

describe('provider-native compaction', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await FakeProvider.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  async function run(
    provider: 'anthropic' | 'openai',
    id: string,
    mode: 'provider' | 'auto',
    window?: number,
  ) {
    const model = await createModel({
      provider,
      id,
      apiKey: 'sk-test-compaction-0123456789',
      baseUrl: provider === 'anthropic' ? fake.origin : fake.baseUrl,
    });
    const store = new SqliteStore({ path: ':memory:' });
    const result = await runAgent({
      store,
      agent: {
        name: 'c',
        instructions: 'Be thorough.',
        model,
        tools: [step],
        compaction: { mode, ...(window ? { contextWindow: window } : {}) },
      },
      task: 'Refactor the billing module. Pinned: never touch legacy/.',
      retryPolicy: fastRetry,
    });
    const events = await store.readEvents(result.runId);
    return { result, events };
  }

  it('Anthropic: asks for compact_20260112, keeps the compaction block, sends it back first, drops what it replaced', async () => {
    fake.enqueue(
      reply.toolCalls([{ name: 'step', input: {} }]),
      {
        ...reply.toolCalls([{ name: 'step', input: {} }], { text: 'Continuing.' }),
        compaction: 'Summary: steps 1-40 done; legacy/ untouched.',
      },
      reply.text('Finished.'),
    );
    const { result, events } = await run('anthropic', 'claude-sonnet-4-6', 'auto');
    expect(result.state.status).toBe('completed');

    const first = fake.requests[0]!;
    expect(first.headers['anthropic-beta']).toContain('compact-2026-01-12');
    // 80% of the 1M window the catalog gives claude-sonnet-4-6
    expect((first.body as Body).context_management).toEqual({
      edits: [{ type: 'compact_20260112', trigger: { type: 'input_tokens', value: 800_000 } }],
    });

    const compacted = events.find((e) => e.type === 'context.compacted');
    expect(compacted?.type === 'context.compacted' && compacted.data).toMatchObject({
      mode: 'provider',
      removedMessages: 2,
      summary: 'Summary: steps 1-40 done; legacy/ untouched.',
    });
    expect(compacted?.type === 'context.compacted' && compacted.data.removedEvents.length).toBe(2);

    // the third request: the task, then the answer that carries the compaction block (first),
    // then its tool result; the earlier turn is gone, the task pinned in the system prompt too
    const third = fake.requests[2]!.body as {
      system: { text: string }[];
      messages: { role: string; content: { type: string; content?: string }[] }[];
    };
    expect(third.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(third.messages[1]!.content[0]).toMatchObject({
      type: 'compaction',
      content: 'Summary: steps 1-40 done; legacy/ untouched.',
    });
    expect(JSON.stringify(third.system)).toContain('never touch legacy/');
    expect(foldRun(result.runId, events)).toEqual(result.state);
  });

  it('OpenAI Responses: asks for compaction at the threshold, and sends the compaction item back', async () => {
    fake.enqueue(
      {
        ...reply.toolCalls([{ name: 'step', input: {} }], { text: 'Working.' }),
        compaction: 'gAAAAB-encrypted',
      },
      reply.text('Done.'),
    );
    const { result, events } = await run('openai', 'gpt-5.1', 'provider', 100_000);
    expect(result.state.status).toBe('completed');
    expect((fake.requests[0]!.body as Body).context_management).toEqual([
      { type: 'compaction', compact_threshold: 80_000 },
    ]);
    const compacted = events.find(
      (e): e is Extract<RunEvent, { type: 'context.compacted' }> => e.type === 'context.compacted',
    );
    expect(compacted?.data.summary).toBe('(encrypted by the provider)');
    const input = JSON.stringify((fake.requests[1]!.body as Body).input);
    expect(input).toMatch(/"type":"(compaction|item_reference)"/);
    expect(input).toContain('cmp_');
  });

  it('auto falls back to runtime compaction where the catalog does not list it', async () => {
    fake.enqueue(reply.text('ok'));
    await run('openai', 'gpt-5.1', 'auto', 100_000);
    expect((fake.requests[0]!.body as Body).context_management).toBeUndefined();
  });
});
